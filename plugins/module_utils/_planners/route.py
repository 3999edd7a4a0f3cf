# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning routes: each route (ours by its protocol, and by the owner's record on the host),
the routes the kernel drops while a plan runs and that the plan puts back, and the purge of
this owner's routes.

PRIVATE: not a public API of the collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.netvirt.linux.plugins.module_utils._diff import route_fields, route_key as route_diff_key
from ansible_collections.netvirt.linux.plugins.module_utils._model import route_family, where
from ansible_collections.netvirt.linux.plugins.module_utils._ops import ADD_ROUTE, DELETE_ROUTE, REPLACE_ROUTE
from ansible_collections.netvirt.linux.plugins.module_utils._planners._base import PlannerBase, field_path

IPV6_DEFAULT_METRIC = 1024


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


class RoutePlanning(PlannerBase):
    """Routes, and the routes the kernel drops as links change."""

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

    @staticmethod
    def route_key(route):
        family = route.get('family') or route_family(route['dest'], route['via'])
        metric = route['metric'] if 'proto' in route else effective_metric(route)
        return (route['netns'], route['table'], route['dest'], metric, family)

    def route_owner(self, netns, route):
        """The owner whose record names a route that carries our protocol; None for anyone else's."""
        return self.route_owners.get(self.route_key(dict(route, netns=netns))) if route['ours'] else None

    def check_route_ours(self, path, what, netns, route):
        owner = self.route_owner(netns, route)
        if route['ours'] and owner is None:
            what += (" (it carries the mark of netvirt.linux, but no owner's record on this host names it: "
                     "a reboot, or routes added before records were kept, leave none)")
        return self.check_ours(path, what, owner)

    def plan_restored_routes(self):
        """Put back the routes the kernel drops (see record_dropped_routes) that the document does not plan.

        A document's own routes are planned as missing (plan_route); routes
        made by an earlier task, another owner or by hand come back here, as
        they were, when their gateway is on the link's new addresses.  Routes
        this plan removes are neither put back nor part of an undo.
        """
        removed = self.routes_removed()
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

    def routes_removed(self):
        """The keys (route_key) of the routes this plan removes so far."""
        return set(self.route_key(dict(a.args['route'], netns=a.args['netns'])) for a in self.buckets['unroute'])

    def purge_routes(self, scanned):
        """This owner's routes the document no longer lists: those its record names, in the namespaces that stay
        (not again those a `state: absent` entry already removes)."""
        wanted_routes = set(self.route_key(r) for r in self.doc['routes'] if r['state'] == 'present')
        wanted_routes |= self.routes_removed()
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
