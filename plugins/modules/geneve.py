#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: geneve
short_description: Manage a GENEVE tunnel link
version_added: 0.1.0
description:
  - Creates a GENEVE device, as seed 000's C(ip link add geneve0 type geneve id 100 remote 192.168.1.2).
  - The VNI, remote and port cannot change on an existing device; the module fails with a message saying so,
    or replaces the link when O(recreate=true).
  - Needs a kernel with GENEVE (Debian's has it; the project's VM lane tests it).
author: netvirt.linux contributors (@netvirt-linux)
requirements:
  - pyroute2 >= 0.7.2 on the managed node (Debian and Ubuntu package C(python3-pyroute2))
options:
  vni:
    description: Virtual network identifier, 1 to 16777215.
    type: int
  remote:
    description: Address of the other end.
    type: str
  port:
    description: UDP destination port.
    type: int
    default: 6081
  recreate:
    description: Replace the link when the VNI, remote or port differs.
    type: bool
    default: false
extends_documentation_fragment:
  - netvirt.linux.link
  - netvirt.linux.link.OWNERSHIP
  - netvirt.linux.link.ATTRIBUTES
'''

EXAMPLES = r'''
- name: Seed 000 - geneve0
  netvirt.linux.geneve:
    name: geneve0
    vni: 100
    remote: 192.168.1.2
    addresses: [10.60.0.1/24]
'''

RETURN = r'''
actions:
  description: The actions taken, in order (in check mode, the actions that would be taken).
  returned: always
  type: list
  elements: str
  sample: ['add geneve geneve0 in the current namespace (vni 100, remote 192.168.1.2)']
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netvirt.linux.plugins.module_utils._runner import link_module_arguments, run_link_module


def main():
    # The argument spec is made from the kind's option schema (plugins/module_utils/_kinds/geneve.py).
    run_link_module(AnsibleModule(**link_module_arguments('geneve')), 'geneve')


if __name__ == '__main__':
    main()
