#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: macvlan
short_description: Manage a MACVLAN link on a parent interface, living in any namespace
version_added: 0.1.0
description:
  - Creates a macvlan on its parent (O(link) in O(link_netns)) directly inside O(netns), as seed 000 does with
    C(ip link add macvlan0 link eth0 type macvlan mode bridge) and C(ip link set macvlan0 netns netns1).
  - The parent and the mode cannot change on an existing macvlan; the module fails with a message saying so,
    or replaces the link when O(recreate=true).
author: netvirt.linux contributors (@netvirt-linux)
requirements:
  - pyroute2 >= 0.7.2 on the managed node (Debian and Ubuntu package C(python3-pyroute2))
options:
  link:
    description: The parent interface.
    type: str
  link_netns:
    description: Namespace of the parent; omitted means the namespace the module runs in.
    type: str
  mode:
    description: MACVLAN mode. In C(bridge) mode macvlans on one parent reach each other.
    type: str
    choices: [private, vepa, bridge, passthru, source]
    default: bridge
  recreate:
    description: Replace the link when an option that cannot change in place differs.
    type: bool
    default: false
extends_documentation_fragment:
  - netvirt.linux.link
  - netvirt.linux.link.OWNERSHIP
  - netvirt.linux.link.ATTRIBUTES
'''

EXAMPLES = r'''
- name: Seed 000 - macvlan0 on the host's eth0, inside netns1
  netvirt.linux.macvlan:
    name: macvlan0
    link: eth0
    mode: bridge
    netns: netns1
    addresses: [192.168.1.50/24]
'''

RETURN = r'''
actions:
  description: The actions taken, in order (in check mode, the actions that would be taken).
  returned: always
  type: list
  elements: str
  sample: ['add macvlan macvlan0 in netns1 (parent eth0 in the current namespace, mode bridge)']
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netvirt.linux.plugins.module_utils._runner import link_module_arguments, run_link_module


def main():
    # The argument spec is made from the kind's option schema (plugins/module_utils/_kinds/macvlan.py).
    run_link_module(AnsibleModule(**link_module_arguments('macvlan')), 'macvlan')


if __name__ == '__main__':
    main()
