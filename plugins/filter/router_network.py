# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: router_network
short_description: Namespaces joined by one router namespace, as a topology document
version_added: 0.2.0
description:
  - The document that the M(netvirt.linux.topology) task of the C(netvirt.linux.router_lab) role applies. It has
    one namespace per segment, each joined to the router namespace by a veth pair, with addresses, routes via the
    router, and forwarding on the router (seed 000's lab).
  - Every problem in the input is reported at once, each named by the role variable it comes from.
author: netvirt.linux contributors (@netvirt-linux)
options:
  _input:
    description:
      - The role's variables without the C(router_lab_) prefix (C(router), C(segments)).
    type: dict
    required: true
  report:
    description:
      - Return the problems as C(problems), a list of lines, instead of failing; a role then fails with just them.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Seed 000's client and server behind a router
  ansible.builtin.set_fact:
    lab: "{{ {'router': 'router', 'segments': [{'name': 'client', 'subnet': '10.0.1.0/24'},
                                               {'name': 'server', 'subnet': '10.0.2.0/24'}]}
             | netvirt.linux.router_network }}"
'''

RETURN = r'''
_value:
  description:
    - A topology document (C(namespaces), C(links), C(routes), C(nat)) and C(facts) with each segment's C(subnet),
      C(address) and C(router_address).
    - With O(report=true) and bad input, only C(problems).
  type: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.netvirt.linux.plugins.plugin_utils._labs import RoleInputError, router_network as _build


def router_network(settings, report=False):
    try:
        return _build(settings)
    except RoleInputError as e:
        if report:
            return {'problems': e.problems}
        raise AnsibleFilterError('\n'.join(e.problems))


class FilterModule(object):
    def filters(self):
        return {'router_network': router_network}
