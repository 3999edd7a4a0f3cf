# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vlan: an 802.1Q or 802.1ad sub-interface of a parent in the same namespace.

PRIVATE: not a public API of the collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.netvirt.linux.plugins.module_utils._kinds._base import LinkKind, Option
from ansible_collections.netvirt.linux.plugins.module_utils._values import (
    check_int, check_interface_name, join_path, where,
)

VLAN_PROTOCOLS = ('802.1Q', '802.1ad')
PROTOCOL_NUMBERS = {'802.1Q': 0x8100, '802.1ad': 0x88a8}
PROTOCOL_NAMES = dict((v, k) for k, v in PROTOCOL_NUMBERS.items())


class Vlan(LinkKind):
    name = 'vlan'
    options = (
        Option('link', 'str', 'The parent interface, in the same namespace.', required=True),
        Option('id', 'int', 'VLAN id (1-4094).', required=True),
        Option('protocol', 'str', 'The tag protocol.', default='802.1Q', choices=VLAN_PROTOCOLS),
    )
    immutable = ('link', 'id', 'protocol')
    reported = immutable
    add_options = (('link', 'vlan_id', 'protocol'), ('index',))

    def normalise(self, c, entry, path, state, link):
        options = {'link': None, 'id': None, 'protocol': entry.get('protocol') or self.defaults['protocol']}
        if entry.get('link') is not None:
            options['link'] = c.check(join_path(path, 'link'), check_interface_name, entry['link'], 'link')
        elif state == 'present':
            c.add(join_path(path, 'link'), 'a vlan needs link: the parent interface, in the same namespace')
        if entry.get('id') is not None:
            options['id'] = c.check(join_path(path, 'id'), check_int, entry['id'], 1, 4094, 'id')
        elif state == 'present':
            c.add(join_path(path, 'id'), 'a vlan needs id (1-4094)')
        if options['protocol'] not in VLAN_PROTOCOLS:
            c.add(join_path(path, 'protocol'), 'protocol %r is not one of %s'
                  % (options['protocol'], ', '.join(VLAN_PROTOCOLS)))
        return options

    def references(self, link):
        return [(link['netns'], link['link'], 'link', 'parent')]

    def create_text(self, link, verb):
        return '%s vlan %s%s (id %d on %s, %s)' % (verb, link['name'], where(link['netns']), link['id'],
                                                   link['link'], link['protocol'])

    def create_options(self, link):
        return {'link': link['link'], 'vlan_id': link['id'], 'protocol': link['protocol']}

    def parent(self, netns, options):
        return netns, options['link']

    def encode(self, options, request):
        return {'kind': 'vlan', 'vlan_id': options['vlan_id'], 'vlan_protocol': PROTOCOL_NUMBERS[options['protocol']]}

    def decode(self, link, data, attrs, name_of):
        protocol = data.get_attr('IFLA_VLAN_PROTOCOL')
        link['id'] = data.get_attr('IFLA_VLAN_ID')
        link['protocol'] = PROTOCOL_NAMES.get(protocol, protocol)
        parent = attrs.get('IFLA_LINK')
        link['link'] = name_of(parent) if parent else None


KIND = Vlan()
