# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ipvlan: links that share their parent's MAC address, told apart by IP address.

PRIVATE: not a public API of the collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.netvirt.linux.plugins.module_utils._kinds._base import PARENT_OPTIONS, Option, ParentKind

IPVLAN_MODES = ('l2', 'l3', 'l3s')


class Ipvlan(ParentKind):
    name = 'ipvlan'
    options = PARENT_OPTIONS + (
        Option('mode', 'str', 'IPVLAN mode.', default='l2', choices=IPVLAN_MODES),
    )
    modes = IPVLAN_MODES
    mode_attr = 'IFLA_IPVLAN_MODE'
    mode_numbers = {'l2': 0, 'l3': 1, 'l3s': 2}
    mode_by_number = True


KIND = Ipvlan()
