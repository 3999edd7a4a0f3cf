#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: dummy
short_description: Manage a dummy link, in any namespace
version_added: 0.3.0
description:
  - Creates a dummy link, as C(ip link add dummy0 type dummy) does, directly inside O(netns).
  - A dummy link sends nothing anywhere. It holds addresses a host or a namespace answers on whatever its
    other links do (a router's loopback-like address, a service address announced by routing), and it is a
    stand-in for a device in a lab.
  - It has no options of its own; the options every link takes (addresses, MTU, MAC, up, master) apply.
author: netvirt.linux contributors (@netvirt-linux)
requirements:
  - pyroute2 >= 0.7.2 on the managed node (Debian and Ubuntu package C(python3-pyroute2))
  - The kernel's C(dummy) module (C(CONFIG_DUMMY)); Debian's kernel has it, some minimal kernels do not.
extends_documentation_fragment:
  - netvirt.linux.link
  - netvirt.linux.link.OWNERSHIP
  - netvirt.linux.link.ATTRIBUTES
'''

EXAMPLES = r'''
- name: A service address of the router namespace, up whichever uplink is
  netvirt.linux.dummy:
    name: svc0
    netns: router
    addresses: [10.255.0.1/32]
'''

RETURN = r'''
actions:
  description: The actions taken, in order (in check mode, the actions that would be taken).
  returned: always
  type: list
  elements: str
  sample: ['add dummy svc0 in router', 'add address 10.255.0.1/32 to svc0 in router', 'bring svc0 in router up']
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netvirt.linux.plugins.module_utils._runner import link_module_arguments, run_link_module


def main():
    # The argument spec is made from the kind's option schema (plugins/module_utils/_kinds/dummy.py).
    run_link_module(AnsibleModule(**link_module_arguments('dummy')), 'dummy')


if __name__ == '__main__':
    main()
