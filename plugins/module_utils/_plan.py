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

Each kind of object is planned in a file of its own under ``_planners/``
(namespaces with their files, links with their ends, ports, addresses and
fdb entries, routes, NAT tables), each a part of ``_Planner`` that calls
only the shared ``PlannerBase``; here is the order they run in, the purge
that calls each one's, the marks a killed run left, and the reader.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.netvirt.linux.plugins.module_utils._journal import (
    claims_of, empty_claims, merge_claims, read_claims,
)
from ansible_collections.netvirt.linux.plugins.module_utils._kinds import kind_of
from ansible_collections.netvirt.linux.plugins.module_utils._model import link_ends, where
from ansible_collections.netvirt.linux.plugins.module_utils._ops import SET_LINK
from ansible_collections.netvirt.linux.plugins.module_utils._planners._base import (
    LEADING_REMOVALS, PHASES, TRAILING_REMOVALS, field_path,
)
from ansible_collections.netvirt.linux.plugins.module_utils._planners.link import LinkPlanning
from ansible_collections.netvirt.linux.plugins.module_utils._planners.namespace import NamespacePlanning
from ansible_collections.netvirt.linux.plugins.module_utils._planners.nat import NatPlanning
from ansible_collections.netvirt.linux.plugins.module_utils._planners.persist import PersistPlanning
from ansible_collections.netvirt.linux.plugins.module_utils._planners.route import RoutePlanning


class PlanError(Exception):
    """The document cannot be reached from the current state; one line per problem."""

    def __init__(self, errors):
        self.errors = list(errors)
        super(PlanError, self).__init__('; '.join(self.errors))


class _Planner(NamespacePlanning, LinkPlanning, RoutePlanning, NatPlanning, PersistPlanning):
    """The whole document, in order: each kind of object is planned by its own part (_planners)."""

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
        if not self.errors:
            self.plan_persist()
        self.warn_of_stale_namespaces()
        if not self.errors:
            self.plan_restored_routes()
            self.plan_marks()
        if self.errors:
            raise PlanError(self.errors)
        recorded = set(key for key in self.recorded if key[0] not in self.gone_namespaces)
        if recorded != set(self.route_records.get(self.owner, ())):
            self.plan.route_record = (self.owner, sorted(recorded, key=lambda key: tuple(map(str, key))))
            self.plan.route_record_before = sorted(self.route_records.get(self.owner, ()),
                                                   key=lambda key: tuple(map(str, key)))
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
        """What planning a whole lab reads: (netns, addresses, route_keys, owner, qdiscs) per existing namespace.

        Every namespace the document names, with its addresses and the route
        tables its routes are in, and its root qdiscs where an end in it has
        tc or tc_ingress; with purge also every other namespace, for its links and, where
        this owner made it, its routes.
        """
        doc = self.doc
        named = set(ns['name'] for ns in doc['namespaces'])
        shaped = set()
        for link in doc['links']:
            named.update(end['netns'] for end in link_ends(link))
            shaped.update(end['netns'] for end in link_ends(link)
                          if end.get('tc') is not None or end.get('tc_ingress') is not None)
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
        return [(netns, netns in named, sorted(route_keys.get(netns, ())), owner, netns in shaped)
                for netns in sorted((named & existing) | scanned | (named & set([None])), key=lambda n: n or '')]

    # --- purge: what this owner made that the document no longer has --------------------

    def plan_purge(self):
        """Remove this owner's namespaces, links, NAT tables and routes that the document does not list.

        Every namespace is entered once: its loopback tells its owner, one dump
        lists its links and, in this owner's namespaces, one its routes.
        Links inside a namespace that goes are not removed one by one: they
        go with it.
        """
        self.purge_namespaces()
        scanned = [None] + [netns for netns in self.reader.namespace_names() if netns not in self.gone_namespaces]
        self.purge_links(scanned)
        self.purge_nat(scanned)
        self.purge_routes(scanned)


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
        self._qdiscs = {}
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
            if state.get('qdiscs') is not None:
                self._qdiscs[netns] = state['qdiscs']

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

    def root_qdisc(self, netns, name):
        """The root qdisc of a link (Kernel.read_root_qdiscs), None for the kernel's default; one dump a
        namespace."""
        link = self.link(netns, name)
        if link is None:
            return None
        return self._root_qdiscs(netns).get(link['index'])

    def _root_qdiscs(self, netns):
        if netns not in self._qdiscs:
            self._qdiscs[netns] = self.kernel.read_root_qdiscs(netns)
        return self._qdiscs[netns]

    def ingress(self, netns, name):
        """What shapes what arrives at a link (Kernel.read_ingress): {'device', 'params'}, or None."""
        link = self.link(netns, name)
        if link is None:
            return None
        return self.kernel.read_ingress(netns, link['index'], self._root_qdiscs(netns))

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

    def files_under(self, directory):
        return self.kernel.list_files(directory)

    def path_type(self, path):
        return self.kernel.path_type(path)

    def path_state(self, path):
        return self.kernel.read_path(path)

    def systemd_running(self):
        return self.kernel.systemd_running()

    def nat_table(self, netns, table):
        return self.kernel.read_nat_table(netns, table)

    def nat_table_names(self, netns):
        return self.kernel.read_nat_table_names(netns)
