# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""geneve: a point-to-point tunnel over UDP (6081) to one remote.

PRIVATE: not a public API of the collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.netvirt.linux.plugins.module_utils._kinds._base import LinkKind, Option
from ansible_collections.netvirt.linux.plugins.module_utils._values import check_int, join_path, normalise_ip, where

MAX_VNI = 2 ** 24 - 1


class Geneve(LinkKind):
    name = 'geneve'
    options = (
        Option('vni', 'int', 'Virtual network identifier (1-16777215).', required=True),
        Option('remote', 'str', 'Address of the other end.', required=True),
        Option('port', 'int', 'UDP port.', default=6081),
    )
    immutable = ('vni', 'remote', 'port')
    reported = immutable
    add_options = (('vni', 'remote', 'port'), ('index',))

    def normalise(self, c, entry, path, state, link):
        options = {'vni': None, 'remote': None,
                   'port': c.check(join_path(path, 'port'), check_int, entry.get('port', self.defaults['port']),
                                   1, 65535, 'port')}
        if entry.get('vni') is not None:
            options['vni'] = c.check(join_path(path, 'vni'), check_int, entry['vni'], 1, MAX_VNI, 'vni')
        elif state == 'present':
            c.add(join_path(path, 'vni'), 'a geneve needs vni (1-%d)' % MAX_VNI)
        if entry.get('remote') is not None:
            options['remote'] = c.check(join_path(path, 'remote'), normalise_ip, entry['remote'])
        elif state == 'present':
            c.add(join_path(path, 'remote'), 'a geneve needs remote: the address of the other end')
        return options

    def create_text(self, link, verb):
        return '%s geneve %s%s (vni %d, remote %s)' % (verb, link['name'], where(link['netns']), link['vni'],
                                                       link['remote'])

    def create_options(self, link):
        return {'vni': link['vni'], 'remote': link['remote'], 'port': link['port']}

    def encode(self, options, request):
        return {'kind': 'geneve', 'geneve_id': options['vni'], 'geneve_remote': options['remote'],
                'geneve_port': options['port']}

    def decode(self, link, data, attrs, name_of):
        link.update(vni=data.get_attr('IFLA_GENEVE_ID'),
                    remote=data.get_attr('IFLA_GENEVE_REMOTE') or data.get_attr('IFLA_GENEVE_REMOTE6'),
                    port=data.get_attr('IFLA_GENEVE_PORT'))


KIND = Geneve()
