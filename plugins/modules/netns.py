#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: netns
short_description: Manage a named network namespace
version_added: 0.1.0
description:
  - Creates or removes a named network namespace under C(/run/netns), as C(ip netns add) does, without forking.
  - Brings its loopback up, sets per-namespace C(net.*) sysctls, and writes C(/etc/netns/NAME/resolv.conf)
    and C(/etc/netns/NAME/hosts), which C(ip netns exec) and the C(netvirt.linux.netns) become plugin use.
  - A stale C(/run/netns/NAME) that is not a namespace (a plain file, as a process killed while it created or
    removed a namespace leaves; entering it fails with C(Invalid argument)) is removed and the namespace made
    again, as C(ip netns del) and C(ip netns add) would; check mode reports it as an action. With
    O(state=absent) the stale entry is removed. Other tasks leave stale entries they do not name alone and
    warn of them by name.
author: netvirt.linux contributors (@netvirt-linux)
requirements:
  - pyroute2 >= 0.7.2 on the managed node (Debian and Ubuntu package C(python3-pyroute2))
options:
  name:
    description:
      - Namespace name. At most 15 bytes; no C(/), C(:), whitespace, C(.) or C(..), so it never names a path
        outside C(/run/netns).
    type: str
    required: true
  state:
    description:
      - C(absent) removes the namespace, with everything in it, and the files this collection wrote for it.
        Only namespaces created for O(owner) are removed, unless O(force=true).
    type: str
    choices: [present, absent]
    default: present
  loopback:
    description:
      - Whether C(lo) is up. A new namespace starts with it down.
    type: bool
    default: true
  sysctls:
    description:
      - C(net.*) sysctls to set inside the namespace, for example C(net.ipv4.ip_forward=1).
      - As in sysctl(8), C(/) in a key stands for a C(.) inside a component (C(net.ipv4.conf.eth0/100.rp_filter)).
      - Keys not listed are left alone.
      - A value is one line of text. Spaces or tabs may separate its fields, any other control character
        (a newline, a NUL) is refused.
    type: dict
  nameservers:
    description:
      - Addresses written to C(/etc/netns/NAME/resolv.conf).
    type: list
    elements: str
  hosts:
    description:
      - Entries of C(/etc/netns/NAME/hosts), mapping an address to a host name or a list of names.
        C(localhost) entries are always included.
      - A host name is labels of letters, digits, C(-) and C(_) joined by C(.), each 1-63 characters and not
        starting or ending with C(-), at most 253 characters in all.
    type: dict
extends_documentation_fragment:
  - netvirt.linux.link.OWNERSHIP
  - netvirt.linux.link.ATTRIBUTES
notes:
  - Enabling forwarding for routing or NAT is done here, with O(sysctls).
'''

EXAMPLES = r'''
- name: A router namespace that forwards IPv4
  netvirt.linux.netns:
    name: router
    sysctls:
      net.ipv4.ip_forward: 1

- name: A client with its own resolver and hosts file
  netvirt.linux.netns:
    name: client
    nameservers: [10.0.2.2]
    hosts:
      10.0.2.2: server

- name: Remove the namespace and what is in it
  netvirt.linux.netns:
    name: client
    state: absent
'''

RETURN = r'''
actions:
  description: The actions taken, in order (in check mode, the actions that would be taken).
  returned: always
  type: list
  elements: str
  sample: ['create netns router', 'bring lo up in router', 'set sysctl net.ipv4.ip_forward=1 in router']
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netvirt.linux.plugins.module_utils._runner import OWNERSHIP_OPTIONS, run_module


def main():
    argument_spec = dict(
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        loopback=dict(type='bool', default=True),
        sysctls=dict(type='dict'),
        nameservers=dict(type='list', elements='str'),
        hosts=dict(type='dict'),
    )
    argument_spec.update(OWNERSHIP_OPTIONS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    namespace = dict((key, params[key]) for key in ('name', 'state', 'loopback', 'sysctls', 'nameservers', 'hosts'))
    run_module(module, {'namespaces': [namespace]})


if __name__ == '__main__':
    main()
