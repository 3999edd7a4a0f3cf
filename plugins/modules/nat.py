#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: nat
short_description: Masquerade, source NAT and port forwarding in a namespace, in a table of its own
version_added: 0.1.0
description:
  - Keeps one nftables table, C(ip netvirt_NAME), inside a namespace (or the namespace the module runs in)
    with exactly the rules given. It is compared with the kernel's actual ruleset on every run, so a hand
    edit of the table is detected and put right.
  - The whole table is replaced in one transaction (C(nft -j -f -), JSON on standard input, run inside the
    namespace), and it is read the same way, with JSON C(list) commands, so a table's name is never text that
    nft parses. No other table is read or written, so the user's own tables, Docker's, and those of another
    task with a different O(name) are never touched.
  - Forwarding is not enabled here; set C(net.ipv4.ip_forward) with M(netvirt.linux.netns) O(netvirt.linux.netns#module:sysctls).
author: netvirt.linux contributors (@netvirt-linux)
requirements:
  - nftables (C(nft)) and util-linux (C(nsenter)) on the managed node, and a kernel with nf_tables NAT
  - pyroute2 >= 0.7.2 on the managed node (Debian and Ubuntu package C(python3-pyroute2))
options:
  netns:
    description:
      - Namespace the table lives in; omitted means the namespace the module runs in.
    type: str
  name:
    description:
      - Name of the table, after the C(netvirt_) prefix. Tasks with different names keep separate tables.
      - 1-32 characters of letters, digits, C(_), C(.) and C(-), starting with a letter or digit.
    type: str
    default: nat
  state:
    description:
      - C(absent) removes this table, and nothing else.
    type: str
    choices: [present, absent]
    default: present
  masquerade:
    description:
      - Rewrite the source of outgoing packets to the address of the outgoing interface, like
        C(iptables -t nat -A POSTROUTING -s SOURCE ! -o br0 -j MASQUERADE).
    type: list
    elements: dict
    default: []
    suboptions:
      source:
        description: IPv4 address or CIDR the packets come from; omitted matches all.
        type: str
      out_interface:
        description: Outgoing interface; C(!br0) means every interface but C(br0).
        type: str
  snat:
    description:
      - Rewrite the source of outgoing packets to a fixed address.
    type: list
    elements: dict
    default: []
    suboptions:
      source:
        description: IPv4 address or CIDR the packets come from.
        type: str
      to:
        description: Address to rewrite the source to.
        type: str
        required: true
      out_interface:
        description: Outgoing interface, or C(!NAME) for all but one.
        type: str
  dnat:
    description:
      - Port forwarding, like Docker's C(-p PORT:TO_PORT).
    type: list
    elements: dict
    default: []
    suboptions:
      proto:
        description: Transport protocol.
        type: str
        choices: [tcp, udp]
        default: tcp
      port:
        description: Destination port the packets arrive on.
        type: int
        required: true
      to:
        description: C(ADDRESS:PORT) to forward to.
        type: str
        required: true
      in_interface:
        description: Incoming interface, or C(!NAME) for all but one.
        type: str
      source:
        description: IPv4 address or CIDR the packets come from.
        type: str
      hairpin:
        description:
          - CIDR of the network the target itself is on (for example the bridge's subnet). Clients on that
            network can then use the forwarded port too; their source is rewritten so the replies come back
            through the NAT.
        type: str
extends_documentation_fragment:
  - netvirt.linux.link.OWNERSHIP
  - netvirt.linux.link.ATTRIBUTES
notes:
  - The table's C(netvirt_) name is its mark; a table has nowhere to record an owner's name, so O(owner) and
    O(force) do not change what this module touches. They are accepted so that C(module_defaults) can set
    them for every module of the collection.
'''

EXAMPLES = r'''
- name: Seed 001, experiment 4 - the containers reach out through the host
  netvirt.linux.nat:
    masquerade:
      - {source: 10.0.0.0/24, out_interface: "!br0"}

- name: Forwarding is the job of the netns module
  netvirt.linux.netns:
    name: gateway
    sysctls:
      net.ipv4.ip_forward: 1

- name: Docker's -p 8080:80 for a container on docker0, inside a gateway namespace
  netvirt.linux.nat:
    netns: gateway
    name: web
    dnat:
      - {proto: tcp, port: 8080, to: 172.17.0.2:80, in_interface: eth0, hairpin: 172.17.0.0/16}
'''

RETURN = r'''
actions:
  description: The actions taken, in order (in check mode, the actions that would be taken).
  returned: always
  type: list
  elements: str
  sample: ['load NAT table netvirt_nat in the current namespace (1 rules)']
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netvirt.linux.plugins.module_utils._runner import OWNERSHIP_OPTIONS, run_module


def main():
    argument_spec = dict(
        netns=dict(type='str'),
        name=dict(type='str', default='nat'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        masquerade=dict(type='list', elements='dict', default=[],
                        options=dict(source=dict(type='str'), out_interface=dict(type='str'))),
        snat=dict(type='list', elements='dict', default=[],
                  options=dict(source=dict(type='str'), to=dict(type='str', required=True),
                               out_interface=dict(type='str'))),
        dnat=dict(type='list', elements='dict', default=[],
                  options=dict(proto=dict(type='str', default='tcp', choices=['tcp', 'udp']),
                               port=dict(type='int', required=True), to=dict(type='str', required=True),
                               in_interface=dict(type='str'), source=dict(type='str'), hairpin=dict(type='str'))),
    )
    argument_spec.update(OWNERSHIP_OPTIONS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    nat = dict((key, module.params[key]) for key in ('netns', 'name', 'state', 'masquerade', 'snat', 'dnat'))
    run_module(module, {'nat': [nat]})


if __name__ == '__main__':
    main()
