#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: netns_info
short_description: Read the namespaces of a host, their links, addresses, routes, sysctls and NAT
version_added: 0.1.0
description:
  - Reads, without changing anything, the named namespaces of the host (all, or those matching
    O(namespaces)) and the namespace the module runs in.
  - The result has the shape of a M(netvirt.linux.topology) document where the fields overlap, so it can be
    edited and given back as a lab, and drawn with the C(netvirt.linux.topology_graph) filter.
  - An entry of C(/run/netns) that is not a namespace (a plain file, as a process killed while it created or
    removed a namespace leaves) is not read and not returned; a warning names it. M(netvirt.linux.netns) or
    M(netvirt.linux.topology) with that namespace repairs it, or removes it with C(state=absent).
author: netvirt.linux contributors (@netvirt-linux)
requirements:
  - pyroute2 >= 0.7.2 on the managed node (Debian and Ubuntu package C(python3-pyroute2))
options:
  namespaces:
    description:
      - Names or shell patterns (C(lab-*)) of the namespaces to read. Omitted means all; an empty list means
        none (with O(host=true), only the namespace the module runs in).
      - The entries that match no namespace are returned in RV(unmatched). A pattern among them also gives a
        warning (likely a typo, or a lab not built there); a name does not, since asking whether a namespace
        exists yet is an ordinary question.
    type: list
    elements: str
  host:
    description:
      - Whether to include the namespace the module runs in (C(netns) is null there).
    type: bool
    default: true
extends_documentation_fragment:
  - netvirt.linux.link.READ_ONLY_ATTRIBUTES
'''

EXAMPLES = r'''
- name: Read the lab
  netvirt.linux.netns_info:
    namespaces: ['lab-*']
  register: lab

- name: Draw it
  ansible.builtin.copy:
    content: "{{ lab.topology | netvirt.linux.topology_graph('dot') }}"
    dest: lab.dot
    mode: '0644'
'''

RETURN = r'''
unmatched:
  description: The entries of O(namespaces), names or patterns, that match no namespace on the host.
  returned: always
  type: list
  elements: str
  sample: ['lab-*']
topology:
  description: What exists, in the shape of a topology document.
  returned: always
  type: dict
  contains:
    namespaces:
      description: Each namespace with C(name), C(loopback) (lo is up) and C(sysctls) (the forwarding sysctls).
      type: list
      elements: dict
    links:
      description:
        - Each link once, with C(kind), C(name), C(netns), C(up), C(mtu), C(mac), C(addresses) and C(master).
        - A veth pair appears once, its other end under C(peer); a bridge lists its C(ports), C(stp) and C(forward_delay).
        - An end with shaping this collection set has C(tc), in the shape the link modules take (C(rate), C(delay),
          C(loss), ...); an end without it has no C(tc), so fed back the shaping is not managed there.
        - Other kinds carry their own fields, as their modules name them, for example C(vni), C(remote), C(local),
          C(dev), C(port) and C(fdb) of a VXLAN, C(id) and C(protocol) of a VLAN, C(link), C(link_netns) and C(mode)
          of a MACVLAN, MACVTAP or IPVLAN.
      type: list
      elements: dict
    routes:
      description: Routes that a person or program added (not the ones the kernel makes for addresses).
      type: list
      elements: dict
    nat_tables:
      description:
        - The collection's NAT tables, each with C(netns), C(name), C(owner) and the table in nft syntax (C(rules)).
      type: list
      elements: dict
    owners:
      description: For each owner, the namespaces, links and NAT tables (C(netns/name)) recorded for it.
      type: dict
  sample:
    namespaces: [{name: lab-c1, loopback: true, sysctls: {net.ipv4.ip_forward: '0'}}]
    links:
      - {kind: veth, name: veth0, netns: lab-host, up: true, mtu: 1500, mac: '02:00:00:00:00:01',
         addresses: [], master: docker0,
         peer: {name: eth0, netns: lab-c1, up: true, mtu: 1500, mac: '02:00:00:00:00:02',
                addresses: [172.17.0.101/16], master: null}}
    routes: [{netns: lab-c1, dest: default, via: 172.17.0.1, dev: eth0, metric: 0, table: 254}]
    nat_tables: []
    owners: {lab: {namespaces: [lab-c1], links: [lab-host/veth0], nat_tables: []}}
'''

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.netvirt.linux.plugins.module_utils import _kernel
from ansible_collections.netvirt.linux.plugins.module_utils._inventory import read_inventory, select_namespaces


def main():
    module = AnsibleModule(
        argument_spec=dict(
            namespaces=dict(type='list', elements='str'),
            host=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    if not _kernel.HAS_PYROUTE2:
        module.fail_json(msg=missing_required_lib('pyroute2 (Debian: python3-pyroute2)'),
                         exception=repr(_kernel.PYROUTE2_IMPORT_ERROR))
    try:
        with _kernel.Kernel() as kernel:
            topology = read_inventory(kernel, module.params['namespaces'], module.params['host'])
            stale = select_namespaces(sorted(kernel.stale_namespaces()), module.params['namespaces'])
    except _kernel.KernelError as e:
        module.fail_json(msg=str(e))
    except Exception as e:
        module.fail_json(msg='unexpected error (%s): %s' % (type(e).__name__, e), exception=traceback.format_exc())
    for name in stale:
        module.warn('/run/netns/%s is not a namespace but a stale entry (a plain file, as a run or `ip netns add` '
                    'killed while creating or removing a namespace leaves); it was not read. netvirt.linux.netns '
                    'or topology with namespace %s repairs it, or removes it with state: absent' % (name, name))
    found = [ns['name'] for ns in topology['namespaces']]
    unmatched = [entry for entry in module.params['namespaces'] or [] if not select_namespaces(found, [entry])]
    for pattern in unmatched:
        if any(c in pattern for c in '*?['):
            module.warn('namespaces: no namespace on this host matches the pattern %r' % pattern)
    module.exit_json(changed=False, topology=topology, unmatched=unmatched)


if __name__ == '__main__':
    main()
