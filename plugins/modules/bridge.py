#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: bridge
short_description: Manage a Linux bridge and its ports
version_added: 0.1.0
description:
  - Creates a bridge in any namespace (C(ip link add br0 type bridge)), sets STP and forward delay,
    its addresses (the gateway of a container network), and the exact set of its ports.
  - A bridge made without O(mac) gets a random one and keeps it as ports come and go. (The kernel's own bridge
    takes its lowest port's MAC, and another one's when that port leaves, which leaves every neighbour's ARP entry
    for the gateway pointing at nobody.)
author: netvirt.linux contributors (@netvirt-linux)
requirements:
  - pyroute2 >= 0.7.2 on the managed node (Debian and Ubuntu package C(python3-pyroute2))
options:
  ports:
    description:
      - The exact set of interfaces, in the bridge's namespace, attached to it. Ports not listed are detached.
      - Omitted means ports are not managed; links can also join with their own O(master).
    type: list
    elements: str
  stp:
    description:
      - Whether the bridge runs the Spanning Tree Protocol.
    type: bool
  forward_delay:
    description:
      - Forward delay in seconds, 0 to 30 (2 to 30 with STP on).
    type: int
  master:
    description:
      - Not valid for a bridge; a bridge cannot be a port of another bridge.
    type: str
extends_documentation_fragment:
  - netvirt.linux.link
  - netvirt.linux.link.OWNERSHIP
  - netvirt.linux.link.ATTRIBUTES
'''

EXAMPLES = r'''
- name: Seed 002's docker0, the gateway of 172.17.0.0/16
  netvirt.linux.bridge:
    name: docker0
    addresses: [172.17.0.1/16]

- name: A bridge inside a namespace, with exactly these ports
  netvirt.linux.bridge:
    name: br0
    netns: host1
    stp: false
    forward_delay: 0
    ports: [veth1-br, veth2-br, veth3-br]
'''

RETURN = r'''
actions:
  description: The actions taken, in order (in check mode, the actions that would be taken).
  returned: always
  type: list
  elements: str
  sample: ['add bridge docker0 in the current namespace', 'add address 172.17.0.1/16 to docker0 in the current namespace']
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netvirt.linux.plugins.module_utils._runner import link_module_arguments, run_link_module


def main():
    # The argument spec is made from the kind's option schema (plugins/module_utils/_kinds/bridge.py).
    run_link_module(AnsibleModule(**link_module_arguments('bridge')), 'bridge')


if __name__ == '__main__':
    main()
