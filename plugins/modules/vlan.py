#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: vlan
short_description: Manage an 802.1Q or 802.1ad VLAN sub-interface
version_added: 0.1.0
description:
  - Creates a VLAN sub-interface on a parent in the same namespace, as seed 000's
    C(ip link add link eth0 name eth0.100 type vlan id 100).
  - The parent, the id and the protocol cannot change on an existing VLAN; the module fails with a message
    saying so, or replaces the link when O(recreate=true).
  - Needs a kernel with 802.1Q (module C(8021q); Debian's has it; the project's VM lane tests it).
author: netvirt.linux contributors (@netvirt-linux)
requirements:
  - pyroute2 >= 0.7.2 on the managed node (Debian and Ubuntu package C(python3-pyroute2))
options:
  link:
    description: The parent interface, in the same namespace.
    type: str
  id:
    description: VLAN id, 1 to 4094.
    type: int
  protocol:
    description: Tag protocol.
    type: str
    choices: [802.1Q, 802.1ad]
    default: 802.1Q
  recreate:
    description: Replace the link when the parent, id or protocol differs.
    type: bool
    default: false
extends_documentation_fragment:
  - netvirt.linux.link
  - netvirt.linux.link.OWNERSHIP
  - netvirt.linux.link.ATTRIBUTES
'''

EXAMPLES = r'''
- name: Seed 000 - eth0.100
  netvirt.linux.vlan:
    name: eth0.100
    link: eth0
    id: 100
    addresses: [192.168.100.1/24]
'''

RETURN = r'''
actions:
  description: The actions taken, in order (in check mode, the actions that would be taken).
  returned: always
  type: list
  elements: str
  sample: ['add vlan eth0.100 in the current namespace (id 100 on eth0, 802.1Q)']
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netvirt.linux.plugins.module_utils._runner import link_module_arguments, run_link_module


def main():
    # The argument spec is made from the kind's option schema (plugins/module_utils/_kinds/vlan.py).
    run_link_module(AnsibleModule(**link_module_arguments('vlan')), 'vlan')


if __name__ == '__main__':
    main()
