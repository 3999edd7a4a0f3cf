#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: macvtap
short_description: Manage a MACVTAP link on a parent interface, living in any namespace
version_added: 0.3.0
description:
  - Creates a macvtap on its parent (O(link) in O(link_netns)) directly inside O(netns), as
    C(ip link add macvtap0 link eth0 type macvtap mode bridge) and C(ip link set macvtap0 netns ns1) do.
  - A macvtap is a macvlan with a character device, C(/dev/tapN) where N is its ifindex, that a virtual machine
    (QEMU's C(-netdev tap,fd=...)) or another program reads and writes frames through. The module manages the
    link; the device node is made by udev, or by hand with C(mknod) from C(/sys/class/net/NAME/macvtap/).
  - The parent and the mode cannot change on an existing macvtap; the module fails with a message saying so,
    or replaces the link when O(recreate=true).
author: netvirt.linux contributors (@netvirt-linux)
requirements:
  - pyroute2 >= 0.7.2 on the managed node (Debian and Ubuntu package C(python3-pyroute2))
  - The kernel's C(macvtap) module (C(CONFIG_MACVTAP)).
options:
  link:
    description: The parent interface.
    type: str
  link_netns:
    description: Namespace of the parent; omitted means the namespace the module runs in.
    type: str
  mode:
    description: MACVLAN mode of the tap. In C(bridge) mode macvtaps and macvlans on one parent reach each other.
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
- name: A tap for a VM on the host's eth0, in namespace vm1
  netvirt.linux.macvtap:
    name: macvtap0
    link: eth0
    mode: bridge
    netns: vm1
    addresses: [192.168.1.60/24]
'''

RETURN = r'''
actions:
  description: The actions taken, in order (in check mode, the actions that would be taken).
  returned: always
  type: list
  elements: str
  sample: ['add macvtap macvtap0 in vm1 (parent eth0 in the current namespace, mode bridge)']
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netvirt.linux.plugins.module_utils._runner import link_module_arguments, run_link_module


def main():
    # The argument spec is made from the kind's option schema (plugins/module_utils/_kinds/macvtap.py).
    run_link_module(AnsibleModule(**link_module_arguments('macvtap')), 'macvtap')


if __name__ == '__main__':
    main()
