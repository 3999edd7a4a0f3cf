# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What exists, in the shape of a topology document: the reader behind netvirt.linux.netns_info.

PRIVATE: not a public API of the collection.

Each namespace is entered once.  The result can be edited and given back to
netvirt.linux.topology: namespaces, links (a veth pair once, with its peer),
routes and NAT tables use the same fields.  What the topology module does not
take sits beside the document, never inside an entry: ``owners`` (who made
what) and ``nat_tables`` (our NAT tables, in nft syntax).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch

from ansible_collections.netvirt.linux.plugins.module_utils._kinds import kind_of
from ansible_collections.netvirt.linux.plugins.module_utils._nft import TABLE_PREFIX, table_owner
from ansible_collections.netvirt.linux.plugins.module_utils._tc import HANDLE, describe

MANAGED_SYSCTLS = ('net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding')
LINK_FIELDS = ('name', 'netns', 'up', 'mtu', 'mac', 'addresses', 'master')


def select_namespaces(names, wanted):
    """Names matching any of ``wanted`` (exact names or shell patterns); all when wanted is None."""
    if wanted is None:
        return list(names)
    return [n for n in names if any(fnmatch.fnmatchcase(n, pattern) for pattern in wanted)]


def owned_key(netns, name):
    """How ``owners`` names an object: NETNS/NAME, with (current) for the namespace the module runs in."""
    return '%s/%s' % (netns or '(current)', name)


def _owned(doc, owner):
    return doc['owners'].setdefault(owner, {'namespaces': [], 'links': [], 'nat_tables': []})


def read_inventory(kernel, namespaces=None, include_host=True):
    """A topology-shaped description of the host's namespaces, plus who owns what."""
    names = select_namespaces(kernel.list_namespaces(), namespaces)
    scopes = ([None] if include_host else []) + names
    doc = {'namespaces': [], 'links': [], 'routes': [], 'nat_tables': [], 'owners': {}}
    described = {}
    for netns in scopes:
        links = kernel.read_links(netns)
        addresses = kernel.read_all_addresses(netns)
        qdiscs = kernel.read_root_qdiscs(netns)
        ingresses = kernel.read_ingresses(netns, qdiscs)
        for link in links:
            link['addresses'] = addresses.get(link['index'], [])
            qdisc = qdiscs.get(link['index'])
            # Only the shaping this collection set is the end's tc: fed back, it plans nothing.
            if qdisc is not None and qdisc['handle'] == HANDLE and qdisc['params'] is not None:
                link['tc'] = describe(qdisc['params'])
            ingress = ingresses.get(link['index'])
            if ingress is not None and ingress['params'] is not None:
                link['tc_ingress'] = describe(ingress['params'])
        described[netns] = links
        if netns is not None:
            lo = [link for link in links if link['name'] == 'lo']
            owner = lo[0]['owner'] if lo else None
            sysctls = dict((key, kernel.read_sysctl(netns, key)) for key in MANAGED_SYSCTLS)
            doc['namespaces'].append({'name': netns, 'loopback': bool(lo and lo[0]['up']),
                                      'sysctls': dict((k, v) for k, v in sysctls.items() if v is not None)})
            if owner:
                _owned(doc, owner)['namespaces'].append(netns)
        for route in kernel.read_all_routes(netns):
            if route['proto'] in (2, 9):  # made by the kernel or router advertisements
                continue
            doc['routes'].append(dict((k, route[k]) for k in ('netns', 'dest', 'via', 'dev', 'metric', 'table')))
        for table in kernel.read_nat_table_names(netns):
            if table.startswith(TABLE_PREFIX):
                state, lines = kernel.read_nat_table(netns, table)
                name = table[len(TABLE_PREFIX):]
                owner = table_owner(state)
                doc['nat_tables'].append({'netns': netns, 'name': name, 'owner': owner, 'rules': lines})
                if owner:
                    _owned(doc, owner)['nat_tables'].append(owned_key(netns, name))
    by_index = dict((netns, dict((link['index'], link) for link in links)) for netns, links in described.items())
    seen = set()
    # A pair is reported from its busier side (the host of a bridge, say), as a person would write it.
    for netns in sorted(scopes, key=lambda n: (n is not None, -len(described[n]), n or '')):
        for link in described[netns]:
            key = (netns, link['name'])
            if key in seen or link['kind'] == 'loopback':
                continue
            seen.add(key)
            entry = link_entry(kernel, link)
            handler = kind_of(link['kind'])
            if handler.paired:
                peer = _find_peer(kernel, by_index, link)
                if peer is not None:
                    seen.add((peer['netns'], peer['name']))
                    entry['peer'] = _end_fields(peer)
            if handler.takes_ports:
                entry['ports'] = sorted(other['name'] for other in described[netns]
                                        if other['master'] == link['name'])
            doc['links'].append(entry)
            if link['owner']:
                _owned(doc, link['owner'])['links'].append(owned_key(netns, link['name']))
    return doc


def link_entry(kernel, link):
    """A link as the topology document writes it, with its kind's own fields (VLAN id, VNI, remotes, fdb...)."""
    entry = {'kind': link['kind']}
    entry.update(_end_fields(link))
    entry.update(kind_of(link['kind']).report(link, kernel))
    return entry


def _end_fields(link):
    end = dict((k, link[k]) for k in LINK_FIELDS)
    for field in ('tc', 'tc_ingress'):
        if link.get(field):
            end[field] = link[field]
    return end


def _find_peer(kernel, by_index, link):
    """The other end, from the dumps already made, when they name exactly one.

    Ifindexes repeat across namespaces, so the link whose ifindex this one
    names, and that names this one back, is taken only when no other
    namespace holds such a pair too; otherwise the kernel is asked, by the
    peer's namespace id, which one it is.
    """
    candidates = [link['netns']] if not link['peer_elsewhere'] else [n for n in by_index if n != link['netns']]
    found = [by_index[netns][link['peer_index']] for netns in candidates
             if _names_back(by_index[netns].get(link['peer_index']), link)]
    if len(found) == 1:
        return found[0]
    peer = kernel.read_veth_peer(link, None)
    if peer is None:
        return None
    described = by_index.get(peer['netns'], {}).get(peer['index'])
    if described is not None:
        return described
    peer['addresses'] = []
    return peer


def _names_back(other, link):
    return other is not None and kind_of(other['kind']).paired and other.get('peer_index') == link['index'] \
        and other.get('peer_elsewhere') == link['peer_elsewhere']
