# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning links: each link and its ends through its kind (_kinds), a veth's peer moved
or renamed, attributes, bridge ports and masters, addresses, VXLAN fdb entries, removal
with an undo that brings the link back, and the purge of this owner's links.

PRIVATE: not a public API of the collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.netvirt.linux.plugins.module_utils._diff import ObjectDiff, link_key
from ansible_collections.netvirt.linux.plugins.module_utils._kinds import kind_of
from ansible_collections.netvirt.linux.plugins.module_utils._model import link_ends, route_family, where
from ansible_collections.netvirt.linux.plugins.module_utils._ops import (
    ADD_ADDRESS, ADD_FDB, DELETE_ADDRESS, DELETE_FDB, DELETE_INGRESS, DELETE_LINK, DELETE_QDISC, MOVE_LINK,
    RESTORE_LINK, SET_INGRESS, SET_LINK, SET_QDISC,
)
from ansible_collections.netvirt.linux.plugins.module_utils._tc import HANDLE, describe, params_of, text_of
from ansible_collections.netvirt.linux.plugins.module_utils._planners._base import PlannerBase, field_path
from ansible_collections.netvirt.linux.plugins.module_utils._values import ns_label


class Start:
    """Where a link end starts when the plan sets its attributes: as the kernel has it (``state``,
    read), or as an earlier step of the same plan leaves it: made (down, bare) or moved (down,
    without master, with the addresses the kernel keeps).  What the plan expects is kept here,
    apart from what it read."""

    __slots__ = ('state', 'made', 'moved_from', 'was_up', 'addresses')

    def __init__(self, state, made=False, moved_from=None, was_up=None, addresses=None):
        self.state = state
        self.made = made
        self.moved_from = moved_from  # (netns, name) it had before the move
        self.was_up = state['up'] if was_up is None else was_up  # the diff's before
        self.addresses = addresses  # None: as the kernel has them

    @classmethod
    def made_for(cls, end):
        """An end right after we create it: down, bare, with the mtu and mac we gave."""
        return cls({'name': end['name'], 'netns': end['netns'], 'up': False, 'mtu': end['mtu'],
                    'mac': end['mac'], 'master': None}, made=True, addresses=[])


class LinkPlanning(PlannerBase):
    """Links, their ends and what hangs on them (ports, addresses, fdb entries)."""

    def plan_link(self, link, path):
        netns, name, kind = link['netns'], link['name'], link['kind']
        handler = kind_of(kind)
        key = link_key(kind, netns, name)
        p = field_path(path)
        if link['state'] == 'absent':
            self.plan_link_removal(link, key, p)
            return
        if not self.namespace_ready(netns, p('netns')):
            return
        current = self.read_link(netns, name)
        if current is not None and current['kind'] != kind and link['recreate'] and not handler.paired:
            # The kind is the one attribute nothing can change: with recreate, the old link goes first.
            self.plan_link_removal(dict(link, kind=current['kind'], state='absent', peer=None), key, p,
                                   replacing=True)
            current = None
        if current is not None and current['kind'] != kind:
            self.error(p('name'), 'a link named %s already exists%s and is a %s, not a %s%s'
                       % (name, where(netns), current['kind'], kind,
                          '' if handler.paired else '; set recreate: true to replace it'))
            return
        ends = link_ends(link)
        if handler.paired and not self.namespace_ready(link['peer']['netns'], p('peer.netns')):
            return
        if current is None:
            currents = self.plan_link_creation(link, p)
            if currents is None:
                return
        else:
            currents = [Start(current)]
            if handler.paired:
                peer_current = self.plan_veth_peer(link, current, p)
                if peer_current is None:
                    return
                currents.append(peer_current)
            if handler.changeable:
                self.plan_kind_options(link, current, handler)
            if handler.immutable:
                differences = handler.immutable_differences(link, current, self.reader)
                if differences and not link['recreate']:
                    self.error(p(differences[0][0]), '%s of %s %s%s is %s, not %s: the kernel cannot change it in '
                               'place; set recreate: true to replace the link' % (
                                   differences[0][0], kind, name, where(netns), differences[0][2],
                                   differences[0][1]))
                    return
                if differences:
                    self.plan_link_removal(dict(link, state='absent'), key, p, replacing=True)
                    current = None
                    currents = self.plan_link_creation(link, p, replacing=True)
                    if currents is None:
                        return
        diffs = [self.plan_end(end, start, p, label) for end, start, label in zip(ends, currents, ('', 'peer.'))]
        if link.get('ports') is not None:
            self.plan_ports(link, current, p, diffs[0])
        if link.get('fdb') is not None:
            self.plan_fdb(link, current, diffs[0])
        handler.diff_immutable(link, current, self.reader, diffs[0])
        if handler.paired:
            diffs[0].nest('peer', diffs[1])
        self.diff.record(key, diffs[0])

    def check_link_unchanged_unless_ours(self, link, path, mark):
        """A link that existed before this plan and that another owner, or nobody we know, made:
        the steps planned for it since ``mark`` are refused without force (its bridge ports too)."""
        for end in link_ends(link):
            current = self.read_link(end['netns'], end['name'])
            if current is not None and current['owner'] != self.owner:
                self.check_unchanged_unless_ours(field_path(path)('name'), '%s %s%s' % (
                    current['kind'], current['name'], where(current['netns'])), current['owner'], mark)
                return

    def plan_link_creation(self, link, p, replacing=False):
        """Add the create action; returns where each new end starts (a Start)."""
        netns, name = link['netns'], link['name']
        handler = kind_of(link['kind'])
        for other_netns, option in handler.namespaces(link):
            if not self.namespace_ready(other_netns, p(option)):
                return None
        for ref_netns, ref_name, option, what in handler.references(link):
            if not self.check_reference(ref_netns, ref_name, p(option), what):
                return None
        ends = link_ends(link)
        for end in ends[1:]:  # a veth's peer: the kernel would refuse the pair
            other = self.read_link(end['netns'], end['name'])
            if other is not None:
                self.error(p('peer.name'), 'a link named %s already exists%s (a %s); choose another peer name'
                           % (end['name'], where(end['netns']), other['kind']))
                return None
        options = dict(handler.create_options(link), mtu=link['mtu'], mac=link['mac'])
        self.add('link', handler.create_text(link, 'recreate' if replacing else 'add'),
                 handler.add_step(netns, name, self.owner, options), DELETE_LINK(netns=netns, name=name))
        return [Start.made_for(end) for end in ends]

    def check_reference(self, netns, name, path, what):
        """A parent or underlay link must exist (or be defined in this document) in ``netns``."""
        if (netns, name) in self.doc_links:
            return True
        return self.refer(path, what, netns, name, '%s %s does not exist%s' % (what, name, where(netns)))[0]

    def plan_fdb(self, link, current, diff):
        """The static forwarding entries of a VXLAN are an exact set: head-end replication to each remote."""
        netns, name = link['netns'], link['name']
        have = self.reader.fdb(netns, name) if current is not None else []
        diff.field('fdb', have, link['fdb'])
        for entry in have:
            if entry not in link['fdb']:
                self.add('addr', 'remove fdb entry %s -> %s from %s%s' % (entry['mac'], entry['dst'], name, where(netns)),
                         DELETE_FDB(netns=netns, name=name, **entry), ADD_FDB(netns=netns, name=name, **entry))
        for entry in link['fdb']:
            if entry not in have:
                self.add('addr', 'add fdb entry %s -> %s to %s%s' % (entry['mac'], entry['dst'], name, where(netns)),
                         ADD_FDB(netns=netns, name=name, **entry), DELETE_FDB(netns=netns, name=name, **entry))

    def plan_veth_peer(self, link, current, p):
        peer = link['peer']
        found = self.reader.veth_peer(current, peer['netns'])
        if found is None:
            self.error(p('peer'), 'the peer of veth %s%s is in a namespace other than %s; '
                       'remove the pair or move its peer back first'
                       % (link['name'], where(link['netns']), ns_label(peer['netns'])))
            return None
        if (found['netns'], found['name']) != (peer['netns'], peer['name']):
            clash = self.read_link(peer['netns'], peer['name'])
            if clash is not None:
                self.error(p('peer.name'), 'cannot rename the peer %s to %s%s: a %s of that name exists there'
                           % (found['name'], peer['name'], where(peer['netns']), clash['kind']))
                return None
            verb = 'move' if found['netns'] != peer['netns'] else 'rename'
            addresses = self.reader.addresses(found['netns'], found['name'])
            restore = {}
            qdisc = self.reader.root_qdisc(found['netns'], found['name']) if verb == 'move' else None
            if qdisc is not None and qdisc['params'] is not None:  # a move takes it; moving back puts it back
                restore['qdisc'] = {'handle': qdisc['handle'], 'params': qdisc['params']}
            ingress = self.reader.ingress(found['netns'], found['name']) if verb == 'move' else None
            if ingress is not None and ingress['params'] is not None:
                restore['ingress'] = ingress['params']
            self.add('move', '%s veth peer %s%s to %s%s' % (verb, found['name'], where(found['netns']),
                                                            peer['name'], where(peer['netns'])),
                     MOVE_LINK(netns=found['netns'], name=found['name'], to_netns=peer['netns'], to_name=peer['name']),
                     MOVE_LINK(netns=peer['netns'], name=peer['name'], to_netns=found['netns'], to_name=found['name'],
                               up=found['up'], master=found['master'], addresses=addresses,
                               routes=self.reader.routes_via(found['netns'], found['name']), **restore))
            # What the kernel leaves: a moved link loses every address, a renamed
            # one (down for the rename) its IPv6 ones; both lose their routes.
            kept = [] if verb == 'move' else [a for a in addresses if ':' not in a]
            self.dropped_families[(found['netns'], found['name'])] = (4, 6)
            return Start(dict(found, netns=peer['netns'], name=peer['name'], up=False, master=None),
                         moved_from=(found['netns'], found['name']), was_up=found['up'], addresses=kept)
        return Start(found)

    def plan_kind_options(self, link, current, handler):
        """The kind's options that change in place (a bridge's stp and forward_delay)."""
        changes, undo = {}, {}
        for option in handler.changeable:
            if link[option] is not None and link[option] != current[option]:
                changes[option] = link[option]
                undo[option] = current[option]
        if changes:
            text = ', '.join('%s %s' % (k, v) for k, v in sorted(changes.items()))
            self.add('attr', 'set %s on %s %s%s' % (text, handler.name, link['name'], where(link['netns'])),
                     SET_LINK(netns=link['netns'], name=link['name'], **changes),
                     SET_LINK(netns=link['netns'], name=link['name'], **undo))

    def addresses_of(self, start):
        if start.addresses is not None:
            return list(start.addresses)
        return self.reader.addresses(start.state['netns'], start.state['name'])

    def plan_end(self, end, start, p, label):
        """Attributes of one end, from where it starts (a Start); returns its diff (an ObjectDiff)
        over the options the user set."""
        netns, name = end['netns'], end['name']
        loc = '%s%s' % (name, where(netns))
        cur = start.state
        was_netns, was_name = start.moved_from or (cur['netns'], cur['name'])
        diff = ObjectDiff(None if start.made else {'name': was_name, 'netns': ns_label(was_netns)},
                          {'name': name, 'netns': ns_label(netns)})
        changes, undo = {}, {}
        for option in ('mtu', 'mac'):
            if end[option] is None:
                continue
            diff.field(option, cur[option], end[option])
            if not start.made and cur[option] != end[option]:
                changes[option] = end[option]
                undo[option] = cur[option]
        if changes:
            text = ', '.join('%s %s' % (k, v) for k, v in sorted(changes.items()))
            self.add('attr', 'set %s on %s' % (text, loc), SET_LINK(netns=netns, name=name, **changes),
                     SET_LINK(netns=netns, name=name, **undo))
        if end['master'] is not None:
            diff.field('master', cur['master'], end['master'])
            if self.check_master(end, p(label + 'master')):
                self.plan_master(netns, name, end['master'], cur['master'])
        if end['addresses'] is not None:
            have = self.addresses_of(start)
            want = end['addresses']
            diff.field('addresses', have, list(want))
            dropped = self.routes_dropped_with_addresses(start, have, want)
            for cidr in have:
                if cidr not in want:
                    restored = {}
                    if dropped and ':' not in cidr and not dropped[1]['in_undo']:
                        # The first IPv4 removal's undo runs last, when the other old
                        # addresses are back and the gateways reachable again.
                        restored['routes'] = dropped[0]
                        dropped[1]['in_undo'] = True
                    self.add('addr', 'remove address %s from %s' % (cidr, loc),
                             DELETE_ADDRESS(netns=netns, name=name, cidr=cidr),
                             ADD_ADDRESS(netns=netns, name=name, cidr=cidr, **restored))
            for cidr in want:
                if cidr not in have:
                    self.add('addr', 'add address %s to %s' % (cidr, loc),
                             ADD_ADDRESS(netns=netns, name=name, cidr=cidr),
                             DELETE_ADDRESS(netns=netns, name=name, cidr=cidr))
        if end['tc'] is not None:
            self.plan_tc(end, start, p(label + 'tc'), diff)
        if end['tc_ingress'] is not None:
            self.plan_tc_ingress(end, start, diff)
        if end['up'] is not None:
            diff.field('up', start.was_up, end['up'])
            if cur['up'] != end['up']:
                # Down before addresses change: the kernel flushes IPv6 addresses when a link goes down.
                self.add('up' if end['up'] else 'attr', 'bring %s %s' % (loc, 'up' if end['up'] else 'down'),
                         SET_LINK(netns=netns, name=name, up=end['up']), SET_LINK(netns=netns, name=name, up=cur['up']))
        return diff

    def plan_tc(self, end, start, path, diff):
        """The end's root qdisc (_tc): set, replaced or removed as one whole qdisc, never changed in part.
        A made end, or one moved to another namespace, has the kernel's default (a move takes the qdisc);
        a renamed one keeps its own."""
        netns, name = end['netns'], end['name']
        loc = '%s%s' % (name, where(netns))
        have = None
        if start.moved_from is not None and start.moved_from[0] == netns:  # renamed: its qdisc stays
            have = self.reader.root_qdisc(*start.moved_from)
        elif not start.made and start.moved_from is None:
            have = self.reader.root_qdisc(netns, name)
        want = params_of(end['tc'])
        units = end['tc']['units']
        ours = have is not None and have['handle'] == HANDLE
        before = (describe(have['params'], units) if have['params'] is not None else {'qdisc': have['kind']}) \
            if have is not None else None
        diff.field('tc', before, describe(want, units))
        if have is not None and not ours:
            if want is None:
                return  # nothing of ours to remove; somebody's qdisc stays
            what = 'the %s qdisc %x: on %s' % (have['kind'], have['handle'] >> 16, loc)
            if have['params'] is None:
                self.error(path, '%s was not set by netvirt.linux, and a %s qdisc is not one it can put back '
                           'if the run is undone; remove it first (tc qdisc del dev %s root)'
                           % (what, have['kind'], name))
                return
            if not self.force:
                self.error(path, '%s was not set by netvirt.linux; set force: true to replace it; without force '
                           'this task would not: set tc %s on %s' % (what, text_of(want), loc))
                return
        if ours and have['params'] == want:
            return
        if want is None:
            if ours:
                self.add('attr', 'remove tc from %s' % loc, DELETE_QDISC(netns=netns, name=name, handle=HANDLE),
                         SET_QDISC(netns=netns, name=name, handle=HANDLE, params=have['params']))
            return
        if have is None:
            undo = DELETE_QDISC(netns=netns, name=name, handle=HANDLE)
        elif ours:
            undo = SET_QDISC(netns=netns, name=name, handle=HANDLE, params=have['params'])
        else:  # forced: ours goes, and somebody's comes back under its own handle
            undo = SET_QDISC(netns=netns, name=name, handle=have['handle'], params=have['params'])
        self.add('attr', 'set tc %s on %s' % (text_of(want), loc),
                 SET_QDISC(netns=netns, name=name, handle=HANDLE, params=want), undo)

    def plan_tc_ingress(self, end, start, diff):
        """What arrives at the end (_tc), shaped through an ifb device of its own (SET_INGRESS).  A made end,
        or one moved to another namespace, has none (a move takes the redirect, and the device goes); a
        renamed one keeps its own.  Nothing of somebody's is in the way: the device and filter are ours."""
        netns, name = end['netns'], end['name']
        loc = '%s%s' % (name, where(netns))
        have = None
        if start.moved_from is not None and start.moved_from[0] == netns:
            have = self.reader.ingress(*start.moved_from)
        elif not start.made and start.moved_from is None:
            have = self.reader.ingress(netns, name)
        had = have['params'] if have is not None else None
        want = params_of(end['tc_ingress'])
        units = end['tc_ingress']['units']
        diff.field('tc_ingress', describe(had, units) if had is not None else None, describe(want, units))
        if have is not None and had == want:
            return
        if had is not None:
            undo = SET_INGRESS(netns=netns, name=name, params=had)
        else:
            undo = DELETE_INGRESS(netns=netns, name=name)
        if want is None:
            if have is not None:
                self.add('attr', 'remove tc_ingress from %s' % loc, DELETE_INGRESS(netns=netns, name=name),
                         undo if had is not None else None)
            return
        self.add('attr', 'set tc_ingress %s on %s' % (text_of(want), loc),
                 SET_INGRESS(netns=netns, name=name, params=want), undo)

    def routes_dropped_with_addresses(self, start, have, want):
        """(routes, record) the kernel drops when the addresses of a link go from ``have`` to ``want``.

        Removals run before additions (a removed IPv4 primary takes its
        secondaries with it).  When the last IPv4 address of a link goes, the
        kernel drops every IPv4 route through the link, in every table, and
        nothing brings them back.  Removing IPv6 addresses, or some of the IPv4
        ones, leaves them (only the prefix route goes, and comes back with the
        new address).  None when nothing is dropped.
        """
        if start.made or start.moved_from:
            return None  # nothing is routed through it yet, or the move flushed it already
        old4 = [cidr for cidr in have if ':' not in cidr]
        if not old4 or any(cidr in want for cidr in old4):
            return None
        netns, name = start.state['netns'], start.state['name']
        routes = [r for r in self.reader.routes_via(netns, name)
                  if (r.get('family') or route_family(r['dest'], r['via'])) == 4]
        if not routes:
            return None
        routes = self.record_dropped_routes(netns, name, (4,), routes, want,
                                            'with the last IPv4 address of %s%s' % (name, where(netns)))
        return routes, self.dropped[-1]

    def check_master(self, end, path):
        """The master must be a bridge in the same namespace (existing, or in this document)."""
        netns, master = end['netns'], end['master']
        planned = self.doc_links.get((netns, master))
        if planned is not None:
            if not kind_of(planned[0]['kind']).takes_ports:
                self.error(path, 'master %s%s is a %s, not a bridge' % (master, where(netns), planned[0]['kind']))
                return False
            return True
        ok, found = self.refer(path, 'bridge', netns, master, 'master %s does not exist%s (a master must be a '
                               'bridge in the same namespace)' % (master, where(netns)))
        if found is None:
            return ok
        if not kind_of(found['kind']).takes_ports:
            self.error(path, 'master %s%s is a %s, not a bridge' % (master, where(netns), found['kind']))
            return False
        return True

    def plan_master(self, netns, name, master, current_master):
        key = (netns, name)
        if key in self.planned_master:
            return
        self.planned_master[key] = master
        if (current_master or '') == master:
            return
        text = 'attach %s%s to bridge %s' % (name, where(netns), master) if master else \
            'detach %s%s from bridge %s' % (name, where(netns), current_master)
        self.add('port', text, SET_LINK(netns=netns, name=name, master=master),
                 SET_LINK(netns=netns, name=name, master=current_master or ''))

    def plan_ports(self, link, current, p, diff):
        if link['ports'] is None:
            return
        netns, name = link['netns'], link['name']
        have = self.reader.ports(netns, name) if current is not None else []
        diff.field('ports', have, list(link['ports']))
        for i, port in enumerate(link['ports']):
            if port in have:
                continue
            if (netns, port) in self.doc_links:
                if kind_of(self.doc_links[(netns, port)][0]['kind']).takes_ports:
                    self.error(p('ports[%d]' % i), 'port %s is a bridge; a bridge cannot be a port' % port)
                    continue
                self.plan_master(netns, port, name, None)
                continue
            ok, found = self.refer(p('ports[%d]' % i), 'port', netns, port, 'port %s does not exist%s (ports must '
                                   'be in the bridge\'s namespace)' % (port, where(netns)))
            if found is None:
                if ok:
                    self.plan_master(netns, port, name, None)
                continue
            if kind_of(found['kind']).takes_ports:
                self.error(p('ports[%d]' % i), 'port %s is a bridge; a bridge cannot be a port' % port)
                continue
            # Any link may be enslaved (a NIC someone else set up, most often); taking it
            # from a bridge this owner did not make changes that bridge.
            other = self.read_link(netns, found['master']) if found['master'] else None
            if other is not None and other['owner'] != self.owner and not self.check_ours(
                    p('ports[%d]' % i), 'bridge %s%s, which has port %s,' % (other['name'], where(netns), port),
                    other['owner'], ['attach %s%s to bridge %s' % (port, where(netns), name)]):
                continue
            self.plan_master(netns, port, name, found['master'])
        for port in have:
            if port not in link['ports']:
                self.plan_master(netns, port, '', name)

    def plan_link_removal(self, link, key, p, replacing=False):
        netns, name, kind = link['netns'], link['name'], link['kind']
        current = self.read_link(netns, name) if netns is None or self.reader.namespace_exists(netns) else None
        if current is None:
            self.diff.track(key, None, None)
            return
        if current['kind'] != kind:
            self.error(p('name'), 'link %s%s is a %s, not a %s; nothing removed'
                       % (name, where(netns), current['kind'], kind))
            return
        if not self.check_ours(p('name'), '%s %s%s' % (kind, name, where(netns)), current['owner']):
            return
        snapshot = dict(current, addresses=self.reader.addresses(netns, name))
        extra = kind_of(kind).snapshot(current, link, self.reader)
        snapshot.update(extra or {})
        if replacing:
            # The routes through the old link go with it; the new one has the same name.
            snapshot['routes'] = self.record_dropped_routes(
                netns, name, (4, 6), self.reader.routes_via(netns, name), link.get('addresses') or [],
                'when %s %s%s is recreated' % (kind, name, where(netns)))
        devices = []  # the ifb devices of its ends' tc_ingress, which the kernel leaves behind
        for end in kind_of(kind).snapshot_ends(snapshot) if extra is not None else [dict(netns=netns, name=name)]:
            # Its shaping goes with a link, and comes back with it (one a kind we can set).
            qdisc = self.reader.root_qdisc(end['netns'], end['name'])
            if qdisc is not None and qdisc['params'] is not None:
                end['qdisc'] = {'handle': qdisc['handle'], 'params': qdisc['params']}
            ingress = self.reader.ingress(end['netns'], end['name'])
            if ingress is not None:
                devices.append([end['netns'], ingress['device']])
                if ingress['params'] is not None:
                    end['ingress'] = ingress['params']
        undo = RESTORE_LINK(snapshot=snapshot) if extra is not None else None
        self.add('unlink', '%s %s %s%s' % ('remove, to recreate,' if replacing else 'remove', kind, name, where(netns)),
                 DELETE_LINK(netns=netns, name=name, **({'ingress': devices} if devices else {})), undo)
        if not replacing:
            self.diff.track(key, {'name': name, 'netns': ns_label(netns)}, None)

    def purge_links(self, scanned):
        """This owner's links the document no longer lists, in the namespaces that stay (``scanned``):
        a link in a namespace that goes goes with it, and so does a veth whose peer is there."""
        handled = set(self.doc_links)
        for named in self.doc['links']:  # one the document names absent is removed by its entry, once
            if named['state'] == 'absent':
                handled.add((named['netns'], named['name']))
                current = self.read_link(named['netns'], named['name'])
                peer = self.reader.veth_peer(current, None) if current and kind_of(current['kind']).paired else None
                if peer is not None:
                    handled.add((peer['netns'], peer['name']))
        for netns in scanned:
            for link in self.reader.links(netns):
                key = (netns, link['name'])
                if link['owner'] != self.owner or key in handled or link['kind'] == 'loopback':
                    continue  # a namespace's own lo carries the namespace's mark
                handled.add(key)
                entry = {'kind': link['kind'], 'name': link['name'], 'netns': netns, 'state': 'absent'}
                if kind_of(link['kind']).paired:
                    peer = self.reader.veth_peer(link, None)
                    if peer is not None:
                        handled.add((peer['netns'], peer['name']))
                        if peer['netns'] in self.gone_namespaces:
                            continue  # removed with its namespace
                        entry['peer'] = {'netns': peer['netns']}
                self.plan_link_removal(entry, link_key(link['kind'], netns, link['name']), field_path(''))
