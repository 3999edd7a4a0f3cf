#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: route
short_description: Manage a route inside a network namespace
version_added: 0.1.0
description:
  - Adds, replaces or removes one unicast route (C(ip route add)) in a namespace.
  - A route is identified by O(dest), O(metric) and O(table). Routes this collection adds carry the
    protocol number 245 (C(proto 245) in C(ip route)); a route with the same key that someone else
    added is only replaced or removed with O(force=true).
author: netvirt.linux contributors (@netvirt-linux)
requirements:
  - pyroute2 >= 0.7.2 on the managed node (Debian and Ubuntu package C(python3-pyroute2))
options:
  netns:
    description:
      - Namespace of the route; omitted means the namespace the module runs in.
    type: str
  dest:
    description:
      - C(default), or a network in CIDR form without host bits (C(10.0.0.0/8), C(fd00::/64)).
      - C(0.0.0.0/0) and C(::/0) are C(default) of that family; C(::/0) with only O(dev) is the IPv6 default
        route. A bare C(default) takes the family of O(via), and is IPv4 without one.
    type: str
    required: true
  via:
    description:
      - Gateway address, of the same family as O(dest). A unicast address, without a zone; for a
        link-local gateway (C(fe80::1)) name the interface with O(dev), not as C(fe80::1%eth0).
    type: str
  dev:
    description:
      - Outgoing interface.
    type: str
  metric:
    description:
      - Route metric (priority). IPv6 routes with metric 0 get the kernel's 1024.
    type: int
    default: 0
  table:
    description:
      - Routing table, by number or as C(main), C(local), C(default).
    type: str
    default: main
  state:
    description:
      - Whether the route exists.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - netvirt.linux.link.OWNERSHIP
  - netvirt.linux.link.ATTRIBUTES
notes:
  - A route has nowhere to record an owner's name, so any route with protocol 245 counts as this
    collection's, whatever O(owner) says. O(owner) is accepted so that C(module_defaults) can set it for
    every module of the collection.
'''

EXAMPLES = r'''
- name: The client's default route through the router (seed 000)
  netvirt.linux.route:
    netns: client
    dest: default
    via: 10.0.1.1

- name: The internet namespace reaches the lab's networks back
  netvirt.linux.route:
    netns: internet
    dest: 10.0.0.0/8
    via: 192.168.3.1
'''

RETURN = r'''
actions:
  description: The actions taken, in order (in check mode, the actions that would be taken).
  returned: always
  type: list
  elements: str
  sample: ['add route default via 10.0.1.1 in client']
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netvirt.linux.plugins.module_utils._runner import OWNERSHIP_OPTIONS, run_module


def main():
    module = AnsibleModule(
        argument_spec=dict(
            netns=dict(type='str'),
            dest=dict(type='str', required=True),
            via=dict(type='str'),
            dev=dict(type='str'),
            metric=dict(type='int', default=0),
            table=dict(type='str', default='main'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            **OWNERSHIP_OPTIONS
        ),
        supports_check_mode=True,
    )
    params = module.params
    table = params['table']
    if table is not None and table.isdigit():
        table = int(table)
    route = dict((key, params[key]) for key in ('netns', 'dest', 'via', 'dev', 'metric', 'state'))
    route['table'] = table
    run_module(module, {'routes': [route]})


if __name__ == '__main__':
    main()
