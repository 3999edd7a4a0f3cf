# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: container_network
short_description: A Docker-style bridge network as a topology document
version_added: 0.2.0
description:
  - The document that the M(netvirt.linux.topology) task of the C(netvirt.linux.container_bridge_net) role
    applies. Containers are namespaces, each with a veth into one bridge, an address from the subnet (given or
    assigned in order), C(lo) up and a default route via the bridge's address.
  - Every problem in the input is reported at once, each named by the role variable it comes from.
author: netvirt.linux contributors (@netvirt-linux)
positional: existing
options:
  _input:
    description:
      - The role's variables without the C(container_bridge_net_) prefix (C(owner), C(host_netns), C(bridge),
        C(subnet), C(gateway), C(ifname), C(containers), C(masquerade), C(ports), C(forwarding), C(mtu)).
    type: dict
    required: true
  report:
    description:
      - Return the problems as C(problems), a list of lines, instead of failing; a role then fails with just them.
    type: bool
    default: false
  existing:
    description:
      - The C(topology) that M(netvirt.linux.netns_info) returned for the host namespace. A subnet that overlaps
        an address there on a link this owner did not make is refused.
    type: dict
'''

EXAMPLES = r'''
- name: Two containers on br0 in the host namespace
  ansible.builtin.set_fact:
    network: "{{ {'owner': 'web', 'bridge': 'br0', 'subnet': '10.10.0.0/24', 'ifname': 'eth0',
                  'containers': ['web1', 'web2']} | netvirt.linux.container_network }}"
'''

RETURN = r'''
_value:
  description:
    - A topology document (C(namespaces), C(links), C(routes), C(nat)) and C(facts) with the C(gateway), the
      address of every container, and whether forwarding must be enabled on the host itself (C(forwarding_on_host)).
    - With O(report=true) and bad input, only C(problems).
  type: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.netvirt.linux.plugins.plugin_utils._labs import RoleInputError, container_network as _build


def container_network(settings, existing=None, report=False):
    try:
        return _build(settings, existing)
    except RoleInputError as e:
        if report:
            return {'problems': e.problems}
        raise AnsibleFilterError('\n'.join(e.problems))


class FilterModule(object):
    def filters(self):
        return {'container_network': container_network}
