# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' builders as filters: container_network, router_network and vxlan_network.

Their documentation is in the YAML file of the same name beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.netvirt.linux.plugins.plugin_utils import _labs


def _reporting(build):
    """A filter that fails with the problems, or with report=true returns them as data."""
    def run(*args, **kwargs):
        report = kwargs.pop('report', False)
        try:
            return build(*args, **kwargs)
        except _labs.RoleInputError as e:
            if report:
                return {'problems': e.problems}
            raise AnsibleFilterError('\n'.join(e.problems))
    run.__name__ = build.__name__
    return run


class FilterModule(object):
    def filters(self):
        return {
            'container_network': _reporting(_labs.container_network),
            'router_network': _reporting(_labs.router_network),
            'vxlan_network': _reporting(_labs.vxlan_network),
        }
