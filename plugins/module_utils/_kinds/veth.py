# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""veth: a pair of ends, the peer made straight in its own namespace.

PRIVATE: not a public API of the collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.netvirt.linux.plugins.module_utils._kinds._base import (
    END_OPTIONS, END_SCHEMA, LinkKind, Option, normalise_end,
)
from ansible_collections.netvirt.linux.plugins.module_utils._values import check_unknown_keys, join_path, where


class Veth(LinkKind):
    name = 'veth'
    options = (Option('peer', 'dict', 'The other end: name, netns, addresses, mtu, mac, up, master.', required=True,
                      suboptions=END_SCHEMA),)
    add_options = (('peer_netns', 'peer_name'), ('peer_mtu', 'peer_mac', 'index', 'peer_index'))
    paired = True

    def normalise(self, c, entry, path, state, link):
        peer = entry.get('peer')
        if state != 'present':
            return {'peer': None}
        if not isinstance(peer, dict):
            c.add(join_path(path, 'peer'), 'a veth needs peer: {name: ..., netns: ...}')
            return {'peer': None}
        check_unknown_keys(c, peer, END_OPTIONS, join_path(path, 'peer'))
        p = normalise_end(c, peer, join_path(path, 'peer'))
        if p['name'] is not None and p['name'] == link['name'] and p['netns'] == link['netns']:
            c.add(join_path(path, 'peer.name'),
                  'peer %r has the same name as the link in the same namespace' % p['name'])
        return {'peer': p}

    def create_text(self, link, verb):
        peer = link['peer']
        return '%s veth %s%s (peer %s%s)' % (verb, link['name'], where(link['netns']), peer['name'],
                                             where(peer['netns']))

    def create_options(self, link):
        peer = link['peer']
        return {'peer_netns': peer['netns'], 'peer_name': peer['name'], 'peer_mtu': peer['mtu'],
                'peer_mac': peer['mac']}

    def snapshot(self, current, link, reader):
        peer = reader.veth_peer(current, (link.get('peer') or {}).get('netns'))
        if peer is None:
            return None  # in no namespace we can name: the pair cannot be made again
        peer['addresses'] = reader.addresses(peer['netns'], peer['name'])
        return {'peer': peer}

    def encode(self, options, request):
        # IFLA_LINKINFO is spelled out because pyroute2's ``peer`` shortcut cannot
        # carry the peer's ifindex, which an undo needs to bring a deleted pair
        # back exactly as it was.  Index 0 lets the kernel choose.
        peer = {'attrs': [['IFLA_IFNAME', options['peer_name']],
                          ['IFLA_NET_NS_FD', request.namespace_fd(options['peer_netns'])]],
                'index': options.get('peer_index') or 0}
        if options.get('peer_mtu'):
            peer['attrs'].append(['IFLA_MTU', options['peer_mtu']])
        if options.get('peer_mac'):
            peer['attrs'].append(['IFLA_ADDRESS', options['peer_mac']])
        return {'IFLA_LINKINFO': {'attrs': [['IFLA_INFO_KIND', 'veth'],
                                            ['IFLA_INFO_DATA', {'attrs': [['VETH_INFO_PEER', peer]]}]]}}

    def marked_ends(self, netns, name, options):
        return [(netns, name), (options['peer_netns'], options['peer_name'])]

    def decode(self, link, data, attrs, name_of):
        link['peer_index'] = attrs.get('IFLA_LINK')
        link['peer_netnsid'] = attrs.get('IFLA_LINK_NETNSID')
        link['peer_elsewhere'] = link['peer_netnsid'] is not None

    def restore_options(self, snapshot):
        peer = snapshot['peer']
        return {'peer_netns': peer['netns'], 'peer_name': peer['name'], 'peer_mtu': peer['mtu'],
                'peer_mac': peer['mac'], 'peer_index': peer['index']}

    def snapshot_ends(self, snapshot):
        return [snapshot, snapshot['peer']]


KIND = Veth()
