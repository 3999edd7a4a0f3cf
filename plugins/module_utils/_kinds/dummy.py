# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dummy: a link that goes nowhere, for addresses a host owns whatever its other links do.

PRIVATE: not a public API of the collection.

It has no options of its own: everything it carries is a link end's
(addresses, mtu, mac, up, master).  Its kernel module is dummy
(CONFIG_DUMMY); the kernel loads it on the first request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.netvirt.linux.plugins.module_utils._kinds._base import LinkKind


class Dummy(LinkKind):
    name = 'dummy'
    add_options = ((), ('index',))


KIND = Dummy()
