# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vxlan: an L2 segment over UDP (4789), to a remote, a multicast group, or the remotes of its fdb.

PRIVATE: not a public API of the collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.netvirt.linux.plugins.module_utils._kinds._base import LinkKind, Option
from ansible_collections.netvirt.linux.plugins.module_utils._ops import ADD_FDB
from ansible_collections.netvirt.linux.plugins.module_utils._values import (
    check_bool, check_int, check_interface_name, join_path, normalise_ip, normalise_mac, where,
)

MAX_VNI = 2 ** 24 - 1


class Vxlan(LinkKind):
    name = 'vxlan'
    options = (
        Option('vni', 'int', 'Virtual network identifier (1-16777215).', required=True),
        Option('remote', 'str', 'Address of the one other end (unicast).'),
        Option('group', 'str', 'Multicast group of the segment; needs dev.'),
        Option('local', 'str', 'Source address of the tunnel.'),
        Option('dev', 'str', 'The underlay interface.'),
        Option('port', 'int', 'UDP port.', default=4789),
        Option('learning', 'bool', 'Learn remote MAC addresses from the packets received.'),
        Option('ttl', 'int', 'TTL of the outer packets (0-255).'),
        Option('fdb', 'list', 'Static forwarding entries {mac, dst}: head-end replication to each remote.',
               elements='dict', suboptions=(Option('mac', 'str', 'The MAC address.', default='00:00:00:00:00:00'),
                                            Option('dst', 'str', 'The remote end.', required=True))),
    )
    immutable = ('vni', 'remote', 'group', 'local', 'dev', 'port', 'learning', 'ttl')
    exclusive = (('remote', 'group'),)
    reported = immutable
    add_options = (('vni', 'port'), ('remote', 'group', 'local', 'dev', 'learning', 'ttl', 'index'))

    def normalise(self, c, entry, path, state, link):
        options = {'vni': None, 'remote': None, 'group': None, 'local': None, 'dev': None,
                   'port': c.check(join_path(path, 'port'), check_int, entry.get('port', self.defaults['port']),
                                   1, 65535, 'port'),
                   'learning': None, 'ttl': None, 'fdb': None}
        if entry.get('vni') is not None:
            options['vni'] = c.check(join_path(path, 'vni'), check_int, entry['vni'], 1, MAX_VNI, 'vni')
        elif state == 'present':
            c.add(join_path(path, 'vni'), 'a vxlan needs vni (1-%d)' % MAX_VNI)
        for key in ('remote', 'group', 'local'):
            if entry.get(key) is not None:
                options[key] = c.check(join_path(path, key), normalise_ip, entry[key])
        if options['remote'] and options['group']:
            c.add(join_path(path, 'group'), 'remote and group are mutually exclusive')
        far = options['remote'] or options['group']
        if far and options['local'] and ipaddress.ip_address(far).version != ipaddress.ip_address(options['local']).version:
            c.add(join_path(path, 'local'), 'local %s and %s %s are of different IP families; a VXLAN speaks one'
                  % (options['local'], 'remote' if options['remote'] else 'group', far))
        if options['group'] and not ipaddress.ip_address(options['group']).is_multicast:
            c.add(join_path(path, 'group'), 'group %s is not a multicast address' % options['group'])
        if entry.get('dev') is not None:
            options['dev'] = c.check(join_path(path, 'dev'), check_interface_name, entry['dev'], 'dev')
        if options['group'] and options['dev'] is None:
            c.add(join_path(path, 'dev'), 'a multicast group needs dev, the underlay interface')
        if entry.get('learning') is not None:
            options['learning'] = c.check(join_path(path, 'learning'), check_bool, entry['learning'], 'learning')
        if entry.get('ttl') is not None:
            options['ttl'] = c.check(join_path(path, 'ttl'), check_int, entry['ttl'], 0, 255, 'ttl')
        fdb = entry.get('fdb')
        if fdb is not None:
            if not isinstance(fdb, list):
                c.add(join_path(path, 'fdb'), 'must be a list of {mac, dst}, got %r' % (fdb,))
            else:
                options['fdb'] = _normalise_fdb(c, fdb, path)
        return options

    def references(self, link):
        return [(link['netns'], link['dev'], 'dev', 'underlay device')] if link['dev'] is not None else []

    def create_text(self, link, verb):
        remote = ', remote %s' % link['remote'] if link['remote'] else ''
        return '%s vxlan %s%s (vni %d%s)' % (verb, link['name'], where(link['netns']), link['vni'], remote)

    def create_options(self, link):
        return dict((k, link[k]) for k in ('vni', 'port', 'remote', 'group', 'local', 'dev', 'learning', 'ttl'))

    def snapshot(self, current, link, reader):
        return {'fdb': reader.fdb(current['netns'], current['name'])}

    def encode(self, options, request):
        kwargs = {'kind': 'vxlan', 'vxlan_id': options['vni'], 'vxlan_port': options['port']}
        if options.get('remote') or options.get('group'):
            kwargs['vxlan_group'] = options.get('remote') or options.get('group')
        if options.get('local'):
            kwargs['vxlan_local'] = options['local']
        if options.get('dev'):
            kwargs['vxlan_link'] = request.index(options['dev'])
        if options.get('learning') is not None:
            kwargs['vxlan_learning'] = 1 if options['learning'] else 0
        if options.get('ttl') is not None:
            kwargs['vxlan_ttl'] = options['ttl']
        return kwargs

    def decode(self, link, data, attrs, name_of):
        far = data.get_attr('IFLA_VXLAN_GROUP') or data.get_attr('IFLA_VXLAN_GROUP6')
        multicast = far is not None and ipaddress.ip_address(far).is_multicast
        dev = data.get_attr('IFLA_VXLAN_LINK')
        link.update(vni=data.get_attr('IFLA_VXLAN_ID'), remote=None if multicast else far,
                    group=far if multicast else None,
                    local=data.get_attr('IFLA_VXLAN_LOCAL') or data.get_attr('IFLA_VXLAN_LOCAL6'),
                    port=data.get_attr('IFLA_VXLAN_PORT'), learning=bool(data.get_attr('IFLA_VXLAN_LEARNING')),
                    ttl=data.get_attr('IFLA_VXLAN_TTL'), dev=None)
        if dev:
            link['dev'] = name_of(dev)

    def restore_steps(self, snapshot):
        return [ADD_FDB(netns=snapshot['netns'], name=snapshot['name'], mac=entry['mac'], dst=entry['dst'])
                for entry in snapshot.get('fdb') or []]

    def far_ends(self, link):
        remotes = [link.get('remote')] + [entry.get('dst') for entry in link.get('fdb') or []]
        return [remote for remote in remotes if remote], 'vxlan %s' % link.get('vni', '')

    def report(self, link, kernel):
        entry = LinkKind.report(self, link, kernel)
        entry['fdb'] = kernel.read_fdb(link['netns'], link['name'])
        return entry


def _normalise_fdb(c, fdb, path):
    entries = []
    for i, item in enumerate(fdb):
        fpath = join_path(path, 'fdb[%d]' % i)
        if not isinstance(item, dict) or set(item) - {'mac', 'dst'}:
            c.add(fpath, 'must be {mac: ..., dst: ...}, got %r' % (item,))
            continue
        mac = item.get('mac') or '00:00:00:00:00:00'
        if mac != '00:00:00:00:00:00':
            mac = c.check(join_path(fpath, 'mac'), normalise_mac, mac)
        dst = c.check(join_path(fpath, 'dst'), normalise_ip, item.get('dst'))
        if mac and dst and (mac, dst) in [(e['mac'], e['dst']) for e in entries]:
            c.add(fpath, 'entry %s -> %s is listed twice' % (mac, dst))
        elif mac and dst:
            entries.append({'mac': mac, 'dst': dst})
    entries.sort(key=lambda e: (e['mac'], e['dst']))
    return entries


KIND = Vxlan()
