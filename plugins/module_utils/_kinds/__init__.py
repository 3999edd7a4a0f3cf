# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The link kinds, one file each: KINDS maps a document's kind to it.

PRIVATE: not a public API of the collection.

Each kind file is imported by name here, not found at run time: AnsiballZ
bundles only the module_utils a module imports statically.  A new kind is
a file beside these and one line in each list below (see docs/architecture.md).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.netvirt.linux.plugins.module_utils._kinds._base import LinkKind
from ansible_collections.netvirt.linux.plugins.module_utils._kinds import (
    bridge, dummy, geneve, ipvlan, macvlan, macvtap, tuntap, veth, vlan, vxlan,
)

KINDS = dict((module.KIND.name, module.KIND) for module in (
    veth, bridge, macvlan, ipvlan, vlan, vxlan, geneve, tuntap, dummy, macvtap,
))
LINK_KINDS = tuple(KINDS)
# Option -> the kind whose encode sets it on an existing link (SET_LINK's stp, say).
CHANGEABLE = dict((option, kind) for kind in KINDS.values() for option in kind.changeable)
# IFLA_INFO_KIND -> kind, for what the kernel reports.
BY_KERNEL_KIND = dict((kind.kernel_kind or kind.name, kind) for kind in KINDS.values())
# A link of a kind we do not make (a device, lo, a bond): the defaults of LinkKind.
OTHER = LinkKind()


def kind_of(name):
    """The kind of a link named in a document or read from the kernel (OTHER when we make no such kind)."""
    return KINDS.get(name, OTHER) if isinstance(name, str) else OTHER
