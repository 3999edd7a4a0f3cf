# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""macvtap: a macvlan with a character device (/dev/tapN) that a VM or a program reads and writes.

PRIVATE: not a public API of the collection.

The kernel makes it like a macvlan: on a parent, in one of the same modes
(IFLA_MACVLAN_MODE), and udev names its device after the ifindex.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.netvirt.linux.plugins.module_utils._kinds._base import (
    MACVLAN_MODES, MACVLAN_MODE_NUMBERS, PARENT_OPTIONS, Option, ParentKind,
)


class Macvtap(ParentKind):
    name = 'macvtap'
    options = PARENT_OPTIONS + (
        Option('mode', 'str', 'MACVLAN mode of the tap.', default='bridge', choices=MACVLAN_MODES),
    )
    modes = MACVLAN_MODES
    # pyroute2 decodes it as IFLA_MACVTAP_MODE (the kernel's number is IFLA_MACVLAN_MODE's).
    mode_attr = 'IFLA_MACVTAP_MODE'
    mode_numbers = MACVLAN_MODE_NUMBERS


KIND = Macvtap()
