#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: vxlan
short_description: Manage a VXLAN link and its forwarding entries
version_added: 0.1.0
description:
  - Creates a VXLAN device (C(ip link add vxlan0 type vxlan id 100 remote 192.168.1.2 dstport 4789 dev eth0)) in any
    namespace, with unicast O(remote) or multicast O(group), and keeps its static forwarding entries.
  - "With O(fdb) entries such as C({mac: 00:00:00:00:00:00, dst: A}), one VXLAN floods to several remotes (head-end
    replication, no multicast needed). The entries are an exact set when given."
  - The VNI, remote, group, local address, underlay device, port, learning and TTL cannot change on an existing
    VXLAN; the module fails with a message saying so, or replaces the link when O(recreate=true).
author: netvirt.linux contributors (@netvirt-linux)
requirements:
  - pyroute2 >= 0.7.2 on the managed node (Debian and Ubuntu package C(python3-pyroute2))
options:
  vni:
    description: VXLAN network identifier, 1 to 16777215.
    type: int
  remote:
    description: Unicast address of the other end. Mutually exclusive with O(group).
    type: str
  group:
    description: Multicast group; needs O(dev).
    type: str
  local:
    description: Local source address.
    type: str
  dev:
    description: Underlay interface, in the same namespace.
    type: str
  port:
    description: UDP destination port.
    type: int
    default: 4789
  learning:
    description: Whether the device learns remote MAC addresses from traffic.
    type: bool
  ttl:
    description: TTL of the outer packets, 0 to 255 (0 inherits).
    type: int
  fdb:
    description: The exact set of static forwarding entries.
    type: list
    elements: dict
    suboptions:
      mac:
        description:
          - MAC address. C(00:00:00:00:00:00), the default, floods unknown and broadcast traffic to O(fdb[].dst).
        type: str
        default: '00:00:00:00:00:00'
      dst:
        description: Underlay address of a remote.
        type: str
        required: true
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
- name: Seed 000 - vxlan0 to one remote
  netvirt.linux.vxlan:
    name: vxlan0
    vni: 100
    remote: 192.168.1.2
    dev: eth0
    addresses: [10.100.0.1/24]

- name: One segment to several hosts, without multicast
  netvirt.linux.vxlan:
    name: vx100
    vni: 100
    dev: eth0
    master: br100
    fdb:
      - {dst: 192.168.1.2}
      - {dst: 192.168.1.3}
'''

RETURN = r'''
actions:
  description: The actions taken, in order (in check mode, the actions that would be taken).
  returned: always
  type: list
  elements: str
  sample: ['add vxlan vx100 in the current namespace (vni 100)', 'add fdb entry 00:00:00:00:00:00 -> 192.168.1.2 to vx100 in the current namespace']
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netvirt.linux.plugins.module_utils._runner import link_module_arguments, run_link_module


def main():
    # The argument spec is made from the kind's option schema (plugins/module_utils/_kinds/vxlan.py).
    run_link_module(AnsibleModule(**link_module_arguments('vxlan')), 'vxlan')


if __name__ == '__main__':
    main()
