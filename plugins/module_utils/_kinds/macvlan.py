# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""macvlan: a link with its own MAC address on a parent interface, made straight in its namespace.

PRIVATE: not a public API of the collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.netvirt.linux.plugins.module_utils._kinds._base import (
    MACVLAN_MODES, MACVLAN_MODE_NUMBERS, PARENT_OPTIONS, Option, ParentKind,
)


class Macvlan(ParentKind):
    name = 'macvlan'
    options = PARENT_OPTIONS + (
        Option('mode', 'str', 'MACVLAN mode.', default='bridge', choices=MACVLAN_MODES),
    )
    modes = MACVLAN_MODES
    mode_attr = 'IFLA_MACVLAN_MODE'
    mode_numbers = MACVLAN_MODE_NUMBERS


KIND = Macvlan()
