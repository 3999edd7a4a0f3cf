#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: tuntap
short_description: Manage a persistent TUN or TAP device
version_added: 0.1.0
description:
  - Creates a persistent TUN or TAP device in any namespace, as C(ip tuntap add dev tap0 mode tap user U) makes it
    (no packet information header), for a program such as a VM or a VPN to attach to later.
  - The mode and the owner cannot change on an existing device; the module fails with a message saying so,
    or replaces the device when O(recreate=true).
author: netvirt.linux contributors (@netvirt-linux)
requirements:
  - pyroute2 >= 0.7.2 on the managed node (Debian and Ubuntu package C(python3-pyroute2))
options:
  mode:
    description: C(tun) (layer 3) or C(tap) (layer 2).
    type: str
    choices: [tun, tap]
  user:
    description: User (name or uid) allowed to attach to the device.
    type: str
  group:
    description: Group (name or gid) allowed to attach to the device.
    type: str
  recreate:
    description: Replace the device when its mode or owner differs.
    type: bool
    default: false
extends_documentation_fragment:
  - netvirt.linux.link
  - netvirt.linux.link.OWNERSHIP
  - netvirt.linux.link.ATTRIBUTES
'''

EXAMPLES = r'''
- name: Seed 000 - tun0
  netvirt.linux.tuntap:
    name: tun0
    mode: tun
    addresses: [10.8.0.1/24]

- name: A tap for a VM run by a user
  netvirt.linux.tuntap:
    name: tap-vm1
    mode: tap
    user: qemu
    master: br0
'''

RETURN = r'''
actions:
  description: The actions taken, in order (in check mode, the actions that would be taken).
  returned: always
  type: list
  elements: str
  sample: ['add tap tap-vm1 in the current namespace', 'attach tap-vm1 in the current namespace to bridge br0']
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netvirt.linux.plugins.module_utils._runner import link_module_arguments, run_link_module


def main():
    # The argument spec is made from the kind's option schema (plugins/module_utils/_kinds/tuntap.py).
    run_link_module(AnsibleModule(**link_module_arguments('tuntap')), 'tuntap')


if __name__ == '__main__':
    main()
