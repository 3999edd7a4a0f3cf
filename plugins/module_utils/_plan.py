# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan: compare the desired state with what exists, and list ordered actions.

PRIVATE: not a public API of the collection.

``plan_document`` reads the current state through a *reader* (the kernel
layer behind a cache, or a table of dicts in unit tests) and returns a
``Plan``: the actions in the order they will run, each with its undo, plus
the diff and any warnings.  Check mode reports this plan; the real run runs
exactly it.

Only options the user set are compared.  Dependencies are ordered by phase,
whatever order the document lists things in: namespaces, links, moves and
renames, link attributes, bridge ports, addresses, up, routes, sysctls,
files.  Removals of routes, ports and links come first, in the reverse
order; removals of namespaces come last.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os

from ansible_collections.netvirt.linux.plugins.module_utils._diff import (
    DiffTracker, ObjectDiff, link_key, nat_key, netns_key, route_fields, route_key as route_diff_key,
)
from ansible_collections.netvirt.linux.plugins.module_utils._journal import (
    claims_of, empty_claims, merge_claims, read_claims,
)
from ansible_collections.netvirt.linux.plugins.module_utils._kinds import kind_of
from ansible_collections.netvirt.linux.plugins.module_utils._model import link_ends, route_family, where
from ansible_collections.netvirt.linux.plugins.module_utils._values import ns_label
from ansible_collections.netvirt.linux.plugins.module_utils._nft import (
    desired_state, nat_rules, replace_payload, rules_from_state, table_name, table_owner, text_lines, TABLE_PREFIX,
)
from ansible_collections.netvirt.linux.plugins.module_utils._ops import (
    ADD_ADDRESS, ADD_FDB, ADD_ROUTE, CREATE_NAMESPACE, DELETE_ADDRESS, DELETE_FDB, DELETE_LINK, DELETE_NAMESPACE,
    DELETE_NAT_TABLE, DELETE_ROUTE, LOAD_NAT_TABLE, MOVE_LINK, PARTIAL_FILE_SUFFIX, REMOVE_STALE_NAMESPACE,
    REPLACE_ROUTE, RESTORE_LINK, RESTORE_STALE_NAMESPACE, SET_LINK, SET_SYSCTL, WRITE_FILE,
)

PHASES = ('netns', 'link', 'move', 'attr', 'port', 'addr', 'up', 'route', 'sysctl', 'file', 'nat')
# Removals free names before anything is created; a namespace cannot be
# brought back with its contents, so removing one is always the last step.
LEADING_REMOVALS = ('unnat', 'unroute', 'unport', 'unlink')
TRAILING_REMOVALS = ('unnetns',)
NETNS_ETC_DIR = '/etc/netns'
STALE_CAUSE = 'a plain file, as a run or `ip netns add` killed while creating or removing a namespace leaves'
MANAGED_FILE_HEADER = '# Managed by netvirt.linux; changes here are overwritten.\n'
IPV6_DEFAULT_METRIC = 1024


class PlanError(Exception):
    """The document cannot be reached from the current state; one line per problem."""

    def __init__(self, errors):
        self.errors = list(errors)
        super(PlanError, self).__init__('; '.join(self.errors))


class Action:
    """One step: what it says, the kernel operation that does it, and its undo.

    ``op`` and ``undo_op`` name operations of _ops, ``args`` and ``undo_args`` are their
    arguments: plain data, which check mode reports and the real run hands to the kernel.
    """

    __slots__ = ('phase', 'text', 'op', 'args', 'undo_op', 'undo_args')

    def __init__(self, phase, text, op, args, undo_op=None, undo_args=None):
        self.phase = phase
        self.text = text
        self.op = op
        self.args = args
        self.undo_op = undo_op
        self.undo_args = undo_args

    def __repr__(self):
        return 'Action(%r)' % self.text


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


class Plan:
    def __init__(self, owner=None):
        self.owner = owner
        self.actions = []
        self.warnings = []
        self.differences = DiffTracker()
        # (owner, {netns: [route key, ...]}) to write once every action has run; None: unchanged
        self.route_record = None
        # The journal (see _journal): what an interrupted run of the owner had
        # claimed, what this plan claims with it, and what it leaves unresolved.
        self.old_claims = empty_claims()
        self.claims = empty_claims()
        self.leftover_claims = empty_claims()

    @property
    def changed(self):
        return bool(self.actions)

    @property
    def texts(self):
        return [a.text for a in self.actions]

    def diff(self):
        return self.differences.result()


def field_path(path):
    """A function naming a field of the entry at ``path`` (bare for a single-object module)."""
    def name(field):
        return '%s.%s' % (path, field) if path else field
    return name


def stale_entry(netns):
    """How messages name an entry of /run/netns (the kernel layer's NETNS_RUN_DIR) that is not a namespace."""
    return '/run/netns/' + netns


def _ns_dir(netns):
    return os.path.join(NETNS_ETC_DIR, netns)


def render_resolv_conf(nameservers):
    return MANAGED_FILE_HEADER + ''.join('nameserver %s\n' % ip for ip in nameservers)


def render_hosts(hosts):
    lines = ['127.0.0.1\tlocalhost\n', '::1\tlocalhost ip6-localhost ip6-loopback\n']
    lines.extend('%s\t%s\n' % (ip, ' '.join(names)) for ip, names in sorted(hosts.items()))
    return MANAGED_FILE_HEADER + ''.join(lines)


def effective_metric(route):
    if route['metric'] == 0 and (route.get('family') or route_family(route['dest'], route['via'])) == 6:
        return IPV6_DEFAULT_METRIC
    return route['metric']


def describe_route(route):
    text = 'route %s' % route['dest']
    if route.get('via'):
        text += ' via %s' % route['via']
    if route.get('dev'):
        text += ' dev %s' % route['dev']
    if route.get('metric'):
        text += ' metric %d' % route['metric']
    if route.get('table', 254) != 254:
        text += ' table %d' % route['table']
    return text + where(route['netns'])


class _Planner:
    def __init__(self, doc, reader, check_mode, force=False, single=False, purge=False):
        self.doc = doc
        self.single = single
        self.purge = purge
        self.owner = doc['owner']
        self.reader = reader
        self.check_mode = check_mode
        self.force = force
        self.plan = Plan(self.owner)
        self.diff = self.plan.differences
        # Unmarked objects that an interrupted run of this owner made read as the owner's from here on.
        self.plan.old_claims = reader.claims(self.owner)
        self.errors = []
        self.buckets = dict((phase, []) for phase in LEADING_REMOVALS + PHASES + TRAILING_REMOVALS)
        self.new_namespaces = set()
        self.gone_namespaces = set()
        self.assumed_namespaces = set()
        self.assumed = set()  # (name, place) of what check mode has warned of
        self.stale_named = set()  # stale entries of /run/netns this plan repairs or removes
        # (netns, name) -> desired end, for links this document defines
        self.doc_links = {}
        for link in doc['links']:
            if link['state'] == 'present':
                for end in link_ends(link):
                    self.doc_links[(end['netns'], end['name'])] = (link, end)
        # (netns, name) -> master planned for it, so a port is set once
        self.planned_master = {}
        # (netns, link) -> address families whose routes through the link the
        # kernel drops while the plan runs: a move or rename takes the link
        # down and a recreated link is a new one (both families), removing
        # its last IPv4 address flushes IPv4.
        self.dropped_families = {}
        # Routes the kernel drops (an address change, a recreated link), with
        # the link's addresses after the plan; an undo holds each list.
        self.dropped = []
        # A route has no place for a mark but its protocol (ours: RTPROT_NETVIRT); which
        # owner added it is in each owner's record on the host.  Keys are route_key's.
        self.route_records = reader.route_records()
        self.route_owners = dict((key, owner) for owner, keys in self.route_records.items() for key in keys)
        self.recorded = set(self.route_records.get(self.owner, ()))

    # --- helpers -----------------------------------------------------------

    def add(self, phase, text, do, undo=None):
        """Plan a step; ``do`` and ``undo`` are steps made by operations of _ops (undo None: none)."""
        op, args = do
        undo_op, undo_args = undo or (None, None)
        self.buckets[phase].append(Action(phase, text, op, args, undo_op, undo_args))

    def error(self, path, message):
        self.errors.append('%s: %s' % (path, message) if path else message)

    def namespace_ready(self, netns, path):
        """True when the namespace exists or will; otherwise an error, or in check mode a warning."""
        if netns is None or netns in self.new_namespaces:
            return True
        if netns in self.gone_namespaces:
            self.error(path, 'namespace %s is being removed by this same request' % netns)
            return False
        if self.reader.namespace_exists(netns):
            return True
        if netns in self.reader.stale_namespaces():
            self.error(path, '%s is not a namespace but a stale entry (%s); name namespace %s in a task or lab to '
                       'repair it' % (stale_entry(netns), STALE_CAUSE, netns))
            return False
        if self.single:
            if self.missing(path, 'namespace', netns, '', 'namespace %s does not exist' % netns):
                self.assumed_namespaces.add(netns)
                return True
            return False
        self.error(path, 'namespace %s is not defined in namespaces and does not exist' % netns)
        return False

    def missing(self, path, what, name, place, message):
        """``what`` ``name`` (``place``: ' in NETNS') is referred to and does not exist: True when the plan may go on.

        The one policy for it.  Check mode assumes an earlier task of the play makes it (a module
        task, a role, another lab: what this plan reads cannot show their work) and warns once for
        each thing; the real run refuses with ``message``, when the plan is made."""
        if self.check_mode:
            if (name, place) not in self.assumed:
                self.assumed.add((name, place))
                self.plan.warnings.append('%s %s does not exist%s; check mode assumes an earlier task creates it. '
                                          'It must exist when the play really runs.' % (what, name, place))
            return True
        self.error(path, message)
        return False

    def refer(self, path, what, netns, name, message):
        """A link the document refers to in ``netns`` and does not define (a parent, a master, a port, a
        route's dev): (True, the link as read), or, where there is none, (whether missing() lets the plan
        go on, None).  In a namespace check mode assumes, the link is assumed too."""
        if self.is_assumed(netns):
            return True, None
        found = self.read_link(netns, name)
        if found is not None:
            return True, found
        return self.missing(path, what, name, where(netns), message), None

    def is_assumed(self, netns):
        """A namespace that check mode assumes an earlier task makes: what is in it is assumed too."""
        return netns in self.assumed_namespaces

    def exists_now(self, netns):
        """Whether there is anything to read in the namespace right now."""
        return netns is None or (netns not in self.new_namespaces and netns not in self.assumed_namespaces
                                 and self.reader.namespace_exists(netns))

    def read_link(self, netns, name):
        return self.reader.link(netns, name) if self.exists_now(netns) else None

    def check_ours(self, path, what, owner, changes=None):
        """Removing, replacing or changing something is allowed when this owner made it, or with force.

        ``changes``: the steps planned on it, named in the refusal so that the
        user sees what force would do.
        """
        if self.force or owner == self.owner:
            return True
        would = '; without force this task would not: %s' % '; '.join(changes) if changes else ''
        if owner is None:
            self.error(path, '%s was not created by netvirt.linux; set force: true to change or remove it%s'
                       % (what, would))
        else:
            self.error(path, '%s belongs to owner %s, not %s; set force: true to change or remove it%s'
                       % (what, owner, self.owner, would))
        return False

    def route_owner(self, netns, route):
        """The owner whose record names a route that carries our protocol; None for anyone else's."""
        return self.route_owners.get(self.route_key(dict(route, netns=netns))) if route['ours'] else None

    def check_route_ours(self, path, what, netns, route):
        owner = self.route_owner(netns, route)
        if route['ours'] and owner is None:
            what += (" (it carries the mark of netvirt.linux, but no owner's record on this host names it: "
                     "a reboot, or routes added before records were kept, leave none)")
        return self.check_ours(path, what, owner)

    def mark(self):
        """Where each phase's list of steps ends now (see planned_since)."""
        return dict((phase, len(steps)) for phase, steps in self.buckets.items())

    def planned_since(self, mark, phases=None):
        """The texts of the steps planned after ``mark`` (in ``phases`` only, when given)."""
        return [action.text for phase, steps in self.buckets.items() if phases is None or phase in phases
                for action in steps[mark[phase]:]]

    def check_unchanged_unless_ours(self, path, what, owner, mark, phases=None):
        """An object another owner, or nobody we know, made may be named and read, never changed without force."""
        changes = self.planned_since(mark, phases)
        if changes:
            self.check_ours(path, what, owner, changes)

    def check_link_unchanged_unless_ours(self, link, path, mark):
        """A link that existed before this plan and that another owner, or nobody we know, made:
        the steps planned for it since ``mark`` are refused without force (its bridge ports too)."""
        for end in link_ends(link):
            current = self.read_link(end['netns'], end['name'])
            if current is not None and current['owner'] != self.owner:
                self.check_unchanged_unless_ours(field_path(path)('name'), '%s %s%s' % (
                    current['kind'], current['name'], where(current['netns'])), current['owner'], mark)
                return

    # --- namespaces ----------------------------------------------------------

    def plan_namespace(self, ns, path):
        name = ns['name']
        exists = self.reader.namespace_exists(name)
        stale_mode = self.reader.stale_namespaces().get(name)
        if stale_mode is not None:
            # Not a namespace: a killed run's file, which holds nothing and makes
            # every entry fail.  It is removed as `ip netns del` would, and made
            # again as a namespace if the document wants one.
            self.stale_named.add(name)
            self.add('unnetns' if ns['state'] == 'absent' else 'netns',
                     'remove the stale entry %s (not a namespace: %s)' % (stale_entry(name), STALE_CAUSE),
                     REMOVE_STALE_NAMESPACE(netns=name), RESTORE_STALE_NAMESPACE(netns=name, mode=stale_mode))
        if ns['state'] == 'absent':
            if not exists:
                self.diff.track(netns_key(name), {'name': name, 'stale': True} if stale_mode is not None else None, None)
                if stale_mode is not None:
                    self.gone_namespaces.add(name)
                    self.plan_managed_files_removal(name)
                return
            if not self.check_ours(path + '.name' if path else 'name', 'namespace %s' % name,
                                   self.reader.namespace_owner(name)):
                return
            foreign = ['%s %s (%s)' % (link['kind'], link['name'], 'owner %s' % link['owner'] if link['owner']
                                       else 'not made by netvirt.linux')
                       for link in sorted(self.reader.links(name), key=lambda link: link['name'])
                       if link['owner'] != self.owner and link['kind'] != 'loopback']
            if foreign and not self.force:
                # Their links, and the other ends of their veth pairs, would go with it.
                self.error(path + '.name' if path else 'name', 'namespace %s holds links owner %s did not create: '
                           '%s; set force: true to remove it with them' % (name, self.owner, ', '.join(foreign)))
                return
            self.diff.track(netns_key(name), {'name': name}, None)
            self.gone_namespaces.add(name)
            self.plan_managed_files_removal(name)
            # A namespace cannot be brought back with its contents: it is removed last.
            self.add('unnetns', 'remove netns %s' % name, DELETE_NAMESPACE(netns=name))
            return
        before = {'name': name} if exists else None
        if stale_mode is not None:
            before = {'name': name, 'stale': True}
        diff = self.diff.track(netns_key(name), before, {'name': name})
        if not exists:
            self.new_namespaces.add(name)
            self.add('netns', 'create netns %s' % name, CREATE_NAMESPACE(netns=name, owner=self.owner),
                     DELETE_NAMESPACE(netns=name))
        if ns['loopback'] is not None:
            current = False
            if exists:
                lo = self.reader.link(name, 'lo')
                current = bool(lo and lo['up'])
            diff.field('loopback', current, ns['loopback'], known=exists)
            if current != ns['loopback']:
                self.add('up', 'bring lo %s in %s' % ('up' if ns['loopback'] else 'down', name),
                         SET_LINK(netns=name, name='lo', up=ns['loopback']),
                         SET_LINK(netns=name, name='lo', up=current))
        if ns['sysctls'] is not None:
            sysctls_before = {}
            diff.field('sysctls', sysctls_before, dict(ns['sysctls']), known=exists)
            for key, value in sorted(ns['sysctls'].items()):
                current = self.reader.sysctl(name, key) if exists else None
                if exists:
                    if current is None:
                        self.error('%s.sysctls.%s' % (path, key) if path else 'sysctls.%s' % key,
                                   'no such sysctl in namespace %s' % name)
                        continue
                    sysctls_before[key] = current
                if current != value:
                    self.add('sysctl', 'set sysctl %s=%s in %s' % (key, value, name),
                             SET_SYSCTL(netns=name, key=key, value=value),
                             SET_SYSCTL(netns=name, key=key, value=current) if current else None)
        for option, filename, render in (('nameservers', 'resolv.conf', render_resolv_conf),
                                         ('hosts', 'hosts', render_hosts)):
            if ns[option] is None:
                continue
            filepath = os.path.join(_ns_dir(name), filename)
            content = render(ns[option])
            old = self.reader.file(filepath)
            if old is not None and old != content and not old.startswith(MANAGED_FILE_HEADER) and \
                    not self.check_ours('%s.%s' % (path, option) if path else option, 'file %s' % filepath, None,
                                        ['write %s' % filepath]):
                continue
            diff.field(option, parse_managed_file(option, old) if old is not None else None, ns[option])
            if old != content:
                self.add('file', 'write %s' % filepath, WRITE_FILE(path=filepath, content=content),
                         WRITE_FILE(path=filepath, content=old))

    def plan_managed_files_removal(self, name):
        for filename in ('resolv.conf', 'hosts'):
            filepath = os.path.join(_ns_dir(name), filename)
            old = self.reader.file(filepath)
            if old is not None and old.startswith(MANAGED_FILE_HEADER):
                self.add('unnetns', 'remove %s' % filepath, WRITE_FILE(path=filepath, content=None),
                         WRITE_FILE(path=filepath, content=old))
            partial_path = filepath + PARTIAL_FILE_SUFFIX
            partial = self.reader.file(partial_path)
            if partial is not None and (old is None or old.startswith(MANAGED_FILE_HEADER)):
                # What a run killed while it wrote the file left behind.
                self.add('unnetns', 'remove %s (a killed run was writing it)' % partial_path,
                         WRITE_FILE(path=partial_path, content=None), WRITE_FILE(path=partial_path, content=partial))

    def warn_of_stale_namespaces(self):
        """The stale entries the document does not name: left alone, and named, so none goes unseen."""
        for name in sorted(set(self.reader.stale_namespaces()) - self.stale_named):
            self.plan.warnings.append(
                '%s is not a namespace but a stale entry (%s); it was left alone. Name namespace %s in a task or '
                'lab to repair it, or with state: absent to remove it' % (stale_entry(name), STALE_CAUSE, name))

    # --- links ------------------------------------------------------------------

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
            self.add('move', '%s veth peer %s%s to %s%s' % (verb, found['name'], where(found['netns']),
                                                            peer['name'], where(peer['netns'])),
                     MOVE_LINK(netns=found['netns'], name=found['name'], to_netns=peer['netns'], to_name=peer['name']),
                     MOVE_LINK(netns=peer['netns'], name=peer['name'], to_netns=found['netns'], to_name=found['name'],
                               up=found['up'], master=found['master'], addresses=addresses,
                               routes=self.reader.routes_via(found['netns'], found['name'])))
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
        if end['up'] is not None:
            diff.field('up', start.was_up, end['up'])
            if cur['up'] != end['up']:
                # Down before addresses change: the kernel flushes IPv6 addresses when a link goes down.
                self.add('up' if end['up'] else 'attr', 'bring %s %s' % (loc, 'up' if end['up'] else 'down'),
                         SET_LINK(netns=netns, name=name, up=end['up']), SET_LINK(netns=netns, name=name, up=cur['up']))
        return diff

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

    def record_dropped_routes(self, netns, name, families, routes, after, reason):
        """Note routes through a link that the kernel drops while the plan runs; returns them
        (the list an undo holds, which plan_restored_routes trims).

        ``after``: the link's addresses once the plan has run, which tell
        whether a gateway can be reached again.
        """
        routes = [dict(r, netns=netns, family=r.get('family') or route_family(r['dest'], r['via'])) for r in routes]
        known = self.dropped_families.get((netns, name), ())
        self.dropped_families[(netns, name)] = tuple(sorted(set(known) | set(families)))
        self.dropped.append({'netns': netns, 'name': name, 'routes': routes, 'after': list(after),
                             'reason': reason, 'in_undo': False})
        return routes

    def plan_restored_routes(self):
        """Put back the routes the kernel drops (see record_dropped_routes) that the document does not plan.

        A document's own routes are planned as missing (plan_route); routes
        made by an earlier task, another owner or by hand come back here, as
        they were, when their gateway is on the link's new addresses.  Routes
        this plan removes are neither put back nor part of an undo.
        """
        removed = set(self.route_key(dict(a.args['route'], netns=a.args['netns'])) for a in self.buckets['unroute'])
        planned = set(self.route_key(r) for r in self.doc['routes'])
        for record in self.dropped:
            kept = [r for r in record['routes'] if self.route_key(r) not in removed]
            record['routes'][:] = kept  # the undo holds this list
            networks = [ipaddress.ip_interface(cidr).network for cidr in record['after']]
            for route in kept:
                if self.route_key(route) in planned:
                    continue
                if route['via'] and not any(ipaddress.ip_address(route['via']) in net for net in networks):
                    self.plan.warnings.append(
                        'the kernel drops %s %s, and it cannot be put back: its gateway is not on the new '
                        'addresses of %s (%s)' % (describe_route(route), record['reason'], record['name'],
                                                  ', '.join(record['after']) or 'none'))
                    continue
                self.add('route', 'restore %s' % describe_route(route), ADD_ROUTE(netns=route['netns'], route=route),
                         DELETE_ROUTE(netns=route['netns'], route=route))

    def route_dropped(self, netns, route):
        family = route.get('family') or route_family(route['dest'], route['via'])
        return family in self.dropped_families.get((netns, route['dev']), ())

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
        undo = RESTORE_LINK(snapshot=snapshot) if extra is not None else None
        self.add('unlink', '%s %s %s%s' % ('remove, to recreate,' if replacing else 'remove', kind, name, where(netns)),
                 DELETE_LINK(netns=netns, name=name), undo)
        if not replacing:
            self.diff.track(key, {'name': name, 'netns': ns_label(netns)}, None)

    # --- routes ------------------------------------------------------------------

    def plan_route(self, route, path):
        netns = route['netns']
        p = field_path(path)
        family = route['family']
        metric = effective_metric(route)
        key = route_diff_key(netns, dict(route, metric=metric))
        if route['state'] == 'present' and not self.namespace_ready(netns, p('netns')):
            return
        routes = self.reader.routes(netns, route['table'], family) if self.exists_now(netns) else []
        same_key = [r for r in routes if r['dest'] == route['dest'] and r['metric'] == metric]
        found = same_key[0] if same_key else None
        # A route the kernel drops while the plan runs is planned as missing; the diff shows it as it is.
        same_key = [r for r in same_key if not self.route_dropped(netns, r)]
        current = same_key[0] if same_key else None
        spec = {'netns': netns, 'dest': route['dest'], 'via': route['via'], 'dev': route['dev'],
                'metric': metric, 'table': route['table'], 'family': family}
        label = describe_route(dict(spec, metric=route['metric']))
        before = route_fields(found) if found is not None else None
        if route['state'] == 'absent':
            self.diff.track(key, before, None)
            if current is None:
                return
            if route['via'] is not None and current['via'] != route['via'] or \
                    route['dev'] is not None and current['dev'] != route['dev']:
                return  # a different route has this destination: not the one named
            if not self.check_route_ours(p('dest'), 'route %s%s' % (route['dest'], where(netns)), netns, current):
                return
            self.add('unroute', 'remove %s' % label, DELETE_ROUTE(netns=netns, route=current),
                     ADD_ROUTE(netns=netns, route=current))
            self.recorded.discard(self.route_key(dict(current, netns=netns)))
            return
        # Every namespace has its lo, a new one too (which cannot be read before it is made).
        if route['dev'] not in (None, 'lo') and (netns, route['dev']) not in self.doc_links and not self.refer(
                p('dev'), 'dev', netns, route['dev'], 'dev %s does not exist%s' % (route['dev'], where(netns)))[0]:
            return
        diff = self.diff.track(key, before, route_fields(spec))
        if current is None:
            self.add('route', 'add %s' % label, ADD_ROUTE(netns=netns, route=spec),
                     DELETE_ROUTE(netns=netns, route=spec))
            self.recorded.add(self.route_key(spec))
            return
        if (route['via'] is None or current['via'] == route['via']) and \
                (route['dev'] is None or current['dev'] == route['dev']):
            # What the route goes through, where the task left it to the kernel.
            diff.after.update(via=current['via'] if route['via'] is None else route['via'],
                              dev=current['dev'] if route['dev'] is None else route['dev'])
            if current['ours'] and self.route_key(dict(current, netns=netns)) not in self.route_owners:
                self.recorded.add(self.route_key(dict(current, netns=netns)))  # ours as the document says, nobody else's
            return
        if not self.check_route_ours(p('dest'), 'the existing route %s%s (via %s dev %s)'
                                     % (route['dest'], where(netns), current['via'], current['dev']), netns, current):
            return
        self.add('route', 'replace %s' % label, REPLACE_ROUTE(netns=netns, route=spec),
                 REPLACE_ROUTE(netns=netns, route=current))
        self.recorded.add(self.route_key(spec))

    # --- NAT ------------------------------------------------------------------------------

    def plan_nat(self, nat, path):
        """Our NAT table is compared with the kernel's ruleset and, when it differs, replaced whole."""
        netns = nat['netns']
        table = table_name(nat['name'])
        p = field_path(path)
        key = nat_key(netns, nat['name'])
        if nat['state'] == 'absent':
            current = self.reader.nat_table(netns, table) if self.exists_now(netns) else None
            self.diff.track(key, current[1] if current else None, None)
            if current is not None and self.check_ours(p('name'), 'NAT table %s%s' % (table, where(netns)),
                                                       table_owner(current[0])):
                self.remove_nat_table(netns, table, current)
            return
        if not self.namespace_ready(netns, p('netns')):
            return
        current = self.reader.nat_table(netns, table) if self.exists_now(netns) else None
        rules = nat_rules(nat)
        diff = self.diff.track(key, current[1] if current else None, text_lines(table, rules, self.owner))
        if current is None:
            self.add('nat', 'load NAT table %s%s (%d rules)' % (table, where(netns), len(rules)),
                     LOAD_NAT_TABLE(netns=netns, table=table, payload=replace_payload(table, rules, self.owner)),
                     DELETE_NAT_TABLE(netns=netns, table=table))
        elif current[0] != desired_state(rules, self.owner):
            if not self.check_ours(p('name'), 'NAT table %s%s' % (table, where(netns)), table_owner(current[0])):
                return
            self.add('nat', 'replace NAT table %s%s (%d rules)' % (table, where(netns), len(rules)),
                     LOAD_NAT_TABLE(netns=netns, table=table, payload=replace_payload(table, rules, self.owner)),
                     LOAD_NAT_TABLE(netns=netns, table=table, payload=self.restore_payload(table, current)))
        else:
            diff.after = current[1]  # the kernel's text of the same rules

    @staticmethod
    def restore_payload(table, current):
        return replace_payload(table, rules_from_state(current[0]), table_owner(current[0]))

    def remove_nat_table(self, netns, table, current):
        self.add('unnat', 'remove NAT table %s%s' % (table, where(netns)), DELETE_NAT_TABLE(netns=netns, table=table),
                 LOAD_NAT_TABLE(netns=netns, table=table, payload=self.restore_payload(table, current)))

    # --- whole document --------------------------------------------------------------

    def run(self):
        # Entries are planned in a fixed order (by namespace, then name), so
        # the same lab gives the same plan however its document is ordered.
        doc = self.doc
        self.reader.prefetch(self.reads())
        namespaces = sorted(enumerate(doc['namespaces']), key=lambda e: e[1]['name'])
        for i, ns in namespaces:
            if ns['state'] == 'absent':
                self.plan_namespace(ns, self.path('namespaces', i))
        for i, ns in namespaces:
            if ns['state'] == 'present':
                path, existed = self.path('namespaces', i), self.reader.namespace_exists(ns['name'])
                mark, errors = self.mark(), len(self.errors)
                self.plan_namespace(ns, path)
                if existed and len(self.errors) == errors:
                    owner = self.reader.namespace_owner(ns['name'])
                    # A lab may put its links in another lab's namespace and needs forwarding
                    # there (the default lab's containers in the routers' dockerhost): its
                    # sysctls may be set; its loopback and files are the namespace owner's.
                    phases = None if owner is None else [phase for phase in self.buckets if phase != 'sysctl']
                    self.check_unchanged_unless_ours(field_path(path)('name'), 'namespace %s' % ns['name'],
                                                     owner, mark, phases)
        for i, link in sorted(enumerate(doc['links']), key=lambda e: (e[1]['netns'] or '', e[1]['name'])):
            mark, errors = self.mark(), len(self.errors)
            self.plan_link(link, self.path('links', i))
            if link['state'] == 'present' and len(self.errors) == errors:
                self.check_link_unchanged_unless_ours(link, self.path('links', i), mark)
        for i, route in sorted(enumerate(doc['routes']),
                               key=lambda e: (e[1]['netns'] or '', e[1]['table'], e[1]['dest'], e[1]['metric'])):
            self.plan_route(route, self.path('routes', i))
        for i, nat in sorted(enumerate(doc.get('nat', [])), key=lambda e: (e[1]['netns'] or '', e[1]['name'])):
            self.plan_nat(nat, self.path('nat', i))
        if self.purge and not self.errors:
            self.plan_purge()
        self.warn_of_stale_namespaces()
        if not self.errors:
            self.plan_restored_routes()
            self.plan_marks()
        if self.errors:
            raise PlanError(self.errors)
        recorded = set(key for key in self.recorded if key[0] not in self.gone_namespaces)
        if recorded != set(self.route_records.get(self.owner, ())):
            self.plan.route_record = (self.owner, sorted(recorded, key=lambda key: tuple(map(str, key))))
        for phase in LEADING_REMOVALS + PHASES + TRAILING_REMOVALS:
            self.plan.actions.extend(self.buckets[phase])
        self.plan.claims = merge_claims(self.plan.old_claims, claims_of(self.plan.actions))
        return self.plan

    def plan_marks(self):
        """Mark what an interrupted run of this owner made but did not live to mark, where it stays.

        Its journal names it (the reader then reads it as this owner's); what
        the document no longer wants is removed like any object of the owner.
        The journal's claims this plan does not settle stay in it.
        """
        wanted_ns = set(ns['name'] for ns in self.doc['namespaces'] if ns['state'] == 'present')
        for netns in sorted(self.plan.old_claims['namespaces'] & wanted_ns):
            if self.exists_now(netns):
                self.reader.namespace_owner(netns)  # a plan that leaves lo alone has not read it yet
        marked = set()
        for netns, name in sorted(self.reader.unmarked, key=lambda k: (k[0] or '', k[1])):
            if netns in self.gone_namespaces:
                continue
            if name == 'lo' and netns in wanted_ns:
                text = 'mark netns %s as owner %s\'s (a killed run made it and did not mark it)' % (netns, self.owner)
            elif (netns, name) in self.doc_links:
                text = 'mark %s%s as owner %s\'s (a killed run made it and did not mark it)' % (
                    name, where(netns), self.owner)
            else:
                continue
            marked.add((netns, name))
            self.add('attr', text, SET_LINK(netns=netns, name=name, owner=self.owner),
                     SET_LINK(netns=netns, name=name, owner=''))
        old = self.plan.old_claims
        settled_ns = self.gone_namespaces | self.stale_named | set(
            netns for netns, name in marked if name == 'lo')
        unsettled = self.reader.unmarked - marked
        stale = self.reader.stale_namespaces()

        def may_be_left(key):
            """Whether the object may still be there unmarked after this plan: not found gone or marked."""
            netns = key[0]
            if netns in settled_ns and key[1] == 'lo' or netns in self.gone_namespaces:
                return False
            if netns is not None and not self.reader.namespace_exists(netns):
                return key[1] == 'lo' and netns in stale  # nothing can be in a namespace that is not there
            return key in unsettled or key not in self.reader.claims_looked
        self.plan.leftover_claims = {
            'namespaces': set(netns for netns in old['namespaces'] if may_be_left((netns, 'lo'))),
            'links': set(key for key in old['links'] if may_be_left(key)),
        }

    def reads(self):
        """What planning a whole lab reads: (netns, addresses, route_keys, owner) per existing namespace.

        Every namespace the document names, with its addresses and the route
        tables its routes are in; with purge also every other namespace, for
        its links and, where this owner made it, its routes.
        """
        doc = self.doc
        named = set(ns['name'] for ns in doc['namespaces'])
        for link in doc['links']:
            named.update(end['netns'] for end in link_ends(link))
            if link.get('link_netns'):
                named.add(link['link_netns'])
        named.update(nat['netns'] for nat in doc.get('nat', []))
        route_keys = {}
        for route in doc['routes']:
            named.add(route['netns'])
            route_keys.setdefault(route['netns'], set()).add(
                (route['table'], route['family']))
        existing = set(self.reader.namespace_names())
        scanned = (existing | set([None])) if self.purge else set()
        owner = self.owner if self.purge else None
        return [(netns, netns in named, sorted(route_keys.get(netns, ())), owner)
                for netns in sorted((named & existing) | scanned | (named & set([None])), key=lambda n: n or '')]

    # --- purge: what this owner made that the document no longer has --------------------

    def plan_purge(self):
        """Remove this owner's namespaces, links and routes that the document does not list.

        Every namespace is entered once: its loopback tells its owner, one dump
        lists its links and, in this owner's namespaces, one its routes.
        Links inside a namespace that goes are not removed one by one: they
        go with it.
        """
        wanted_ns = set(ns['name'] for ns in self.doc['namespaces'] if ns['state'] == 'present')
        existing = self.reader.namespace_names()
        owners = dict((netns, self.reader.namespace_owner(netns)) for netns in existing)
        for netns in existing:
            if owners[netns] == self.owner and netns not in wanted_ns:
                self.plan_namespace({'name': netns, 'state': 'absent'}, '')
        for netns in sorted(self.reader.stale_namespaces()):
            # A killed run of this owner left it, creating or removing the namespace (its journal says so).
            if netns in self.plan.old_claims['namespaces'] and netns not in wanted_ns and \
                    netns not in self.stale_named:
                self.plan_namespace({'name': netns, 'state': 'absent'}, '')
        scanned = [None] + [netns for netns in existing if netns not in self.gone_namespaces]
        handled = set(self.doc_links)
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
        wanted_tables = set((n['netns'], table_name(n['name'])) for n in self.doc.get('nat', [])
                            if n['state'] == 'present')
        for netns in scanned:
            # Each table records its owner, so this owner's tables are found in any namespace.
            for table in self.reader.nat_table_names(netns):
                if not table.startswith(TABLE_PREFIX) or (netns, table) in wanted_tables:
                    continue
                current = self.reader.nat_table(netns, table)
                if current is not None and table_owner(current[0]) == self.owner:
                    self.remove_nat_table(netns, table, current)
        wanted_routes = set(self.route_key(r) for r in self.doc['routes'] if r['state'] == 'present')
        recorded_in = set(key[0] for key in self.route_records.get(self.owner, ()))
        for netns in scanned:
            if netns not in recorded_in:
                continue  # only routes this owner's record names are its own
            for route in self.reader.all_routes(netns):
                key = self.route_key(dict(route, netns=netns))
                if route['ours'] and self.route_owners.get(key) == self.owner and key not in wanted_routes:
                    self.recorded.discard(key)
                    self.add('unroute', 'remove %s' % describe_route(route), DELETE_ROUTE(netns=netns, route=route),
                             ADD_ROUTE(netns=netns, route=route))
                    self.diff.track(route_diff_key(netns, route), route_fields(route), None)

    @staticmethod
    def route_key(route):
        family = route.get('family') or route_family(route['dest'], route['via'])
        metric = route['metric'] if 'proto' in route else effective_metric(route)
        return (route['netns'], route['table'], route['dest'], metric, family)

    def path(self, section, i):
        """Entries of a single-object module are reported without a section path."""
        if self.single:
            return ''
        return '%s[%d]' % (section, i)


def plan_document(doc, reader, check_mode=False, force=False, single=False, purge=False):
    """The ordered plan that takes the current state to ``doc`` (raises PlanError).

    ``single``: the document holds the one object of a per-object module, so
    errors name the option (``peer.netns``) rather than a document path, and
    in check mode a missing namespace is a warning (an earlier task may make it).
    ``purge``: also remove what the document's owner made that it no longer lists.
    """
    return _Planner(doc, reader, check_mode, force, single, purge).run()


class StateReader:
    """The planner's view of the kernel: reads on demand, each at most once.

    A single-object module looks its link up by name with one request.  A
    whole lab (``bulk``) reads each namespace it touches once: one dump of
    its links and one of its addresses, instead of a request per object.
    """

    def __init__(self, kernel, bulk=False):
        self.kernel = kernel
        self.bulk = bulk
        self._links = {}
        self._addresses = {}
        self._routes = {}
        self._all_routes = {}
        self._dumps = {}
        self._address_dumps = {}
        self._exists = {}
        self._stale = None
        self._claims = empty_claims()
        self._claim_owner = None
        self.unmarked = set()  # (netns, name) of unmarked objects read as the claim owner's (lo: the namespace)
        self.claims_looked = set()  # (netns, name) of claimed objects the plan looked for, found or not

    def prefetch(self, requests):
        """Read many namespaces up front (see Kernel.read_namespaces); later reads come from here.

        A single-object module reads only the few objects it names, one request each.
        """
        if not self.bulk:
            return
        for netns, state in self.kernel.read_namespaces(requests).items():
            self._dumps[netns] = dict((link['name'], link) for link in state['links'])
            if state['addresses'] is not None:
                self._address_dumps[netns] = state['addresses']
            for (table, family), routes in state['routes'].items():
                self._routes[(netns, table, family)] = routes
            if state['all_routes'] is not None:
                self._all_routes[netns] = state['all_routes']

    def _dump(self, netns):
        if netns not in self._dumps:
            self._dumps[netns] = dict((link['name'], link) for link in self.kernel.read_links(netns))
        return self._dumps[netns]

    def claims(self, owner):
        """The journal of an interrupted run of ``owner`` (see _journal).

        From here on, an unmarked link or namespace it names reads as owner's
        (and is noted in ``unmarked``): the killed run made it.
        """
        self._claims = read_claims(owner)
        self._claim_owner = owner
        return self._claims

    def _claimed(self, netns, name, link):
        claims = self._claims
        if (netns, name) not in claims['links'] and not (name == 'lo' and netns in claims['namespaces']):
            return link
        self.claims_looked.add((netns, name))
        if link is None or link['owner'] is not None:
            return link
        self.unmarked.add((netns, name))
        return dict(link, owner=self._claim_owner)

    def namespace_exists(self, netns):
        if not self.bulk:
            return self.kernel.namespace_exists(netns)
        if netns not in self._exists:  # a plan changes nothing while it is made
            self._exists[netns] = self.kernel.namespace_exists(netns)
        return self._exists[netns]

    def namespace_owner(self, netns):
        lo = self.link(netns, 'lo')
        return lo['owner'] if lo else None

    def link(self, netns, name):
        if self.bulk:
            return self._claimed(netns, name, self._dump(netns).get(name))
        key = (netns, name)
        if key not in self._links:
            self._links[key] = self.kernel.read_link(netns, name)
        return self._claimed(netns, name, self._links[key])

    def namespace_names(self):
        return self.kernel.list_namespaces()

    def stale_namespaces(self):
        if self._stale is None:  # a plan changes nothing while it is made
            self._stale = self.kernel.stale_namespaces()
        return self._stale

    def links(self, netns):
        found = self._dump(netns).values() if self.bulk else self.kernel.read_links(netns)
        return [self._claimed(netns, link['name'], link) for link in found]

    def route_records(self):
        """{owner: set of route keys} from the records of every owner on this host."""
        return self.kernel.read_route_records()

    def all_routes(self, netns):
        if netns not in self._all_routes:
            self._all_routes[netns] = self.kernel.read_all_routes(netns)
        return self._all_routes[netns]

    def addresses(self, netns, name):
        if self.bulk:
            if netns not in self._address_dumps:
                self._address_dumps[netns] = self.kernel.read_all_addresses(netns)
            link = self._dump(netns).get(name)
            return list(self._address_dumps[netns].get(link['index'], [])) if link else []
        key = (netns, name)
        if key not in self._addresses:
            self._addresses[key] = self.kernel.read_addresses(netns, name)
        return list(self._addresses[key])

    def veth_peer(self, link, hint_netns):
        """In bulk, the expected namespace's dump answers when the two ends point at each other."""
        if self.bulk and link.get('peer_elsewhere') and hint_netns != link['netns'] and \
                self.namespace_exists(hint_netns):
            for other in self._dump(hint_netns).values():
                if other['index'] == link['peer_index'] and kind_of(other['kind']).paired and \
                        other.get('peer_index') == link['index'] and other.get('peer_elsewhere'):
                    return self._claimed(hint_netns, other['name'], dict(other))
        peer = self.kernel.read_veth_peer(link, hint_netns)
        return self._claimed(peer['netns'], peer['name'], peer) if peer else None

    def routes_via(self, netns, name):
        return self.kernel.read_routes_via(netns, name)

    def macvlan_parent(self, link, parent_netns):
        return self.kernel.read_macvlan_parent(link, parent_netns)

    def fdb(self, netns, name):
        return self.kernel.read_fdb(netns, name)

    def numeric_id(self, option, value):
        return self.kernel.user_id(value) if option == 'user' else self.kernel.group_id(value)

    def ports(self, netns, bridge):
        if self.bulk:
            return sorted(link['name'] for link in self._dump(netns).values() if link['master'] == bridge)
        return self.kernel.read_ports(netns, bridge)

    def routes(self, netns, table, family):
        key = (netns, table, family)
        if key not in self._routes:
            self._routes[key] = self.kernel.read_routes(netns, table, family)
        return self._routes[key]

    def sysctl(self, netns, key):
        return self.kernel.read_sysctl(netns, key)

    def file(self, path):
        return self.kernel.read_file(path)

    def nat_table(self, netns, table):
        return self.kernel.read_nat_table(netns, table)

    def nat_table_names(self, netns):
        return self.kernel.read_nat_table_names(netns)


def parse_managed_file(option, content):
    """Read back what render_resolv_conf/render_hosts wrote, for the diff's before."""
    if option == 'nameservers':
        return [line.split()[1] for line in content.splitlines()
                if line.startswith('nameserver') and len(line.split()) > 1]
    hosts = {}
    for line in content.splitlines():
        fields = line.split()
        if not fields or fields[0].startswith('#') or fields[0] in ('127.0.0.1', '::1'):
            continue
        hosts[fields[0]] = fields[1:]
    return hosts
