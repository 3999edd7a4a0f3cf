# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every part of planning shares: the plan being made, its steps, and the policies
that hold for every kind of object (a missing reference, ownership, a namespace that must
exist).

``PlannerBase`` holds the state of one plan and the helpers the planning of each kind of
object calls (``_planners/namespace.py``, ``link.py``, ``route.py``, ``nat.py``); those
call nothing of each other's, only what is here, and ``_plan._Planner`` runs them in order.

PRIVATE: not a public API of the collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.netvirt.linux.plugins.module_utils._diff import DiffTracker
from ansible_collections.netvirt.linux.plugins.module_utils._journal import empty_claims
from ansible_collections.netvirt.linux.plugins.module_utils._model import link_ends, route_family, where

PHASES = ('netns', 'link', 'move', 'attr', 'port', 'addr', 'up', 'route', 'sysctl', 'file', 'nat', 'persist')
# Removals free names before anything is created; a namespace cannot be
# brought back with its contents, so removing one is always the last step.
LEADING_REMOVALS = ('unnat', 'unroute', 'unport', 'unlink')
TRAILING_REMOVALS = ('unnetns',)
STALE_CAUSE = 'a plain file, as a run or `ip netns add` killed while creating or removing a namespace leaves'


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


class Plan:
    def __init__(self, owner=None):
        self.owner = owner
        self.actions = []
        self.warnings = []
        self.differences = DiffTracker()
        # (owner, {netns: [route key, ...]}) to write once every action has run; None: unchanged.
        # The keys the record held before, for a rollback after the record was written.
        self.route_record = None
        self.route_record_before = []
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


class PlannerBase:
    """One plan in the making: the document, the reader, the steps so far, and what every kind of
    object's planning shares."""

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

    def route_dropped(self, netns, route):
        family = route.get('family') or route_family(route['dest'], route['via'])
        return family in self.dropped_families.get((netns, route['dev']), ())

    def path(self, section, i):
        """Entries of a single-object module are reported without a section path."""
        if self.single:
            return ''
        return '%s[%d]' % (section, i)
