# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation and normalisation of the desired state.

PRIVATE: not a public API of the collection.

Every front end (a module, a role through the topology module) turns its
parameters into one *document* of the shape ``{"namespaces": [...],
"links": [...], "routes": [...]}``.  This module checks that document and
returns a normalised copy: names validated, CIDRs and MACs in canonical form,
defaults filled in.  Nothing here touches the kernel, so every rule is a pure
function with a table of unit tests.

A field left out (``None``) is not managed: the plan never changes it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.netvirt.linux.plugins.module_utils._values import (
    MAX_U32, ModelError, join_path, Collector, check_name, check_interface_name, check_owner, normalise_network,
    network_family, normalise_ip, normalise_gateway, check_int, check_bool, normalise_table, sysctl_path_parts,
    normalise_sysctl_value, entry_normaliser, check_state, check_unknown_keys, check_host_name, check_nat_name,
    route_family, ns_name, where,
)
from ansible_collections.netvirt.linux.plugins.module_utils._kinds import KINDS, LINK_KINDS, kind_of
from ansible_collections.netvirt.linux.plugins.module_utils._kinds._base import ENTRY_OPTIONS, normalise_end
from ansible_collections.netvirt.linux.plugins.module_utils._persist import (
    DEFAULT_TIMEOUT as DEFAULT_PERSIST_TIMEOUT, MAX_TIMEOUT as MAX_PERSIST_TIMEOUT,
)
from ansible_collections.netvirt.linux.plugins.module_utils._tc import expand_profiles

DEFAULT_OWNER = 'netvirt'


# --- objects ---------------------------------------------------------------

@entry_normaliser('link')
def normalise_link(entry, path, c):
    """Validate one link entry; returns the normalised dict (raises ModelError).

    The options of every link are checked here, the kind's own by its kind (_kinds).
    """
    kind = entry.get('kind')
    found = KINDS.get(kind) if isinstance(kind, str) else None
    if found is None:
        c.add(join_path(path, 'kind'), 'kind %r is not one of %s' % (kind, ', '.join(LINK_KINDS)))
    state = check_state(c, entry, path)
    link = normalise_end(c, entry, path)
    link['kind'] = kind
    link['state'] = state
    link['recreate'] = c.check(join_path(path, 'recreate'), check_bool, entry.get('recreate', False), 'recreate')
    allowed = ENTRY_OPTIONS
    if found is not None:
        allowed = ENTRY_OPTIONS + found.option_names
        link.update(found.normalise(c, entry, path, state, link))
    check_unknown_keys(c, entry, allowed, path)
    return link


@entry_normaliser('namespace')
def normalise_namespace(entry, path, c):
    check_unknown_keys(c, entry, ('name', 'state', 'loopback', 'sysctls', 'nameservers', 'hosts'), path)
    state = check_state(c, entry, path)
    ns = {
        'name': c.check(join_path(path, 'name'), check_name, entry.get('name'), 'namespace name'),
        'state': state,
        'loopback': None,
        'sysctls': None,
        'nameservers': None,
        'hosts': None,
    }
    loopback = entry.get('loopback', True)
    if loopback is not None:
        ns['loopback'] = c.check(join_path(path, 'loopback'), check_bool, loopback, 'loopback')
    sysctls = entry.get('sysctls')
    if sysctls is not None:
        if not isinstance(sysctls, dict):
            c.add(join_path(path, 'sysctls'), 'must be a dictionary of net.* keys, got %r' % (sysctls,))
        else:
            ns['sysctls'] = {}
            for key in sorted(sysctls):
                kpath = join_path(path, 'sysctls.%s' % key)
                if c.check(kpath, sysctl_path_parts, key) is not None:
                    value = c.check(kpath, normalise_sysctl_value, sysctls[key], key)
                    if value is not None:
                        ns['sysctls'][key] = value
    nameservers = entry.get('nameservers')
    if nameservers is not None:
        if not isinstance(nameservers, list):
            c.add(join_path(path, 'nameservers'), 'must be a list of IP addresses, got %r' % (nameservers,))
        else:
            ns['nameservers'] = [c.check(join_path(path, 'nameservers[%d]' % i), normalise_ip, v)
                                 for i, v in enumerate(nameservers)]
    hosts = entry.get('hosts')
    if hosts is not None:
        if not isinstance(hosts, dict):
            c.add(join_path(path, 'hosts'), 'must map addresses to host names, got %r' % (hosts,))
        else:
            ns['hosts'] = {}
            for address in sorted(hosts, key=str):
                hpath = join_path(path, 'hosts.%s' % address)
                ip = c.check(hpath, normalise_ip, address)
                names = hosts[address]
                if isinstance(names, str):
                    names = [names]
                if not isinstance(names, list) or not names:
                    c.add(hpath, 'must be a host name or a list of host names, got %r' % (names,))
                    continue
                checked = [c.check('%s[%d]' % (hpath, k), check_host_name, name) for k, name in enumerate(names)]
                if ip is not None and None not in checked:
                    ns['hosts'][ip] = checked
    return ns


@entry_normaliser('route')
def normalise_route(entry, path, c):
    check_unknown_keys(c, entry, ('netns', 'dest', 'via', 'dev', 'metric', 'table', 'state'), path)
    state = check_state(c, entry, path)
    route = {
        'netns': None,
        'dest': c.check(join_path(path, 'dest'), normalise_network, entry.get('dest')),
        'family': None,
        'via': None,
        'dev': None,
        'metric': 0,
        'table': c.check(join_path(path, 'table'), normalise_table, entry.get('table')),
        'state': state,
    }
    if entry.get('netns') is not None:
        route['netns'] = c.check(join_path(path, 'netns'), check_name, entry['netns'], 'netns')
    if entry.get('via') is not None:
        route['via'] = c.check(join_path(path, 'via'), normalise_gateway, entry['via'])
    if entry.get('dev') is not None:
        route['dev'] = c.check(join_path(path, 'dev'), check_interface_name, entry['dev'], 'dev')
    if entry.get('metric') is not None:
        route['metric'] = c.check(join_path(path, 'metric'), check_int, entry['metric'], 0, MAX_U32, 'metric')
    if state == 'present' and entry.get('via') is None and entry.get('dev') is None:
        c.add(path or 'route', 'a route needs via, dev, or both')
    if route['dest'] is not None and route['via'] is not None:
        # 'default' written as ::/0 or 0.0.0.0/0 keeps the family it was written in.
        route['family'] = route_family(route['dest'], route['via'], network_family(entry.get('dest')))
        if route['family'] is None:
            c.add(join_path(path, 'via'), 'via %s is not of the same IP family as dest %s'
                  % (route['via'], entry.get('dest')))
    elif route['dest'] is not None:
        route['family'] = route_family(route['dest'], None, network_family(entry.get('dest')))
    return route


NAT_PROTOCOLS = ('tcp', 'udp')


def check_interface_spec(value, what):
    """An interface name, or '!name' for every interface but that one (iptables' `! -o br0`)."""
    if not isinstance(value, str):
        raise ValueError('%s must be an interface name, got %r' % (what, value))
    check_interface_name(value[1:] if value.startswith('!') else value, what)
    return value


def normalise_ipv4_network(value, what):
    if not isinstance(value, str):
        raise ValueError('%s %r must be an IPv4 address or CIDR' % (what, value))
    try:
        net = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise ValueError('%s %r is not a valid IPv4 address or CIDR' % (what, value))
    if net.version != 4:
        raise ValueError('%s %r is IPv6; NAT rules are IPv4' % (what, value))
    return str(net)


def normalise_ipv4_address(value, what):
    try:
        address = ipaddress.ip_address(str(value).strip())
    except ValueError:
        raise ValueError('%s %r is not a valid IPv4 address' % (what, value))
    if address.version != 4:
        raise ValueError('%s %r is IPv6; NAT rules are IPv4' % (what, value))
    return str(address)


def _nat_rules(c, entry, key, path, fields):
    rules = entry.get(key)
    if rules is None:
        return []
    if not isinstance(rules, list):
        c.add(join_path(path, key), 'must be a list of rules, got %r' % (rules,))
        return []
    out = []
    for i, rule in enumerate(rules):
        rpath = join_path(path, '%s[%d]' % (key, i))
        if not isinstance(rule, dict):
            c.add(rpath, 'must be a dictionary, got %r' % (rule,))
            continue
        check_unknown_keys(c, rule, fields, rpath)
        out.append((rpath, rule))
    return out


@entry_normaliser('nat')
def normalise_nat(entry, path, c):
    """A NAT table: masquerade, snat and dnat rules for one namespace."""
    check_unknown_keys(c, entry, ('netns', 'name', 'state', 'masquerade', 'snat', 'dnat'), path)
    state = check_state(c, entry, path)
    nat = {'netns': None, 'name': c.check(join_path(path, 'name'), check_nat_name, entry.get('name') or 'nat'),
           'state': state, 'masquerade': [], 'snat': [], 'dnat': []}
    if entry.get('netns') is not None:
        nat['netns'] = c.check(join_path(path, 'netns'), check_name, entry['netns'], 'netns')

    def optional(rpath, rule, key, func, *args):
        if rule.get(key) is None:
            return None
        return c.check(join_path(rpath, key), func, rule[key], *args)

    for rpath, rule in _nat_rules(c, entry, 'masquerade', path, ('source', 'out_interface')):
        nat['masquerade'].append({
            'source': optional(rpath, rule, 'source', normalise_ipv4_network, 'source'),
            'out_interface': optional(rpath, rule, 'out_interface', check_interface_spec, 'out_interface')})
    for rpath, rule in _nat_rules(c, entry, 'snat', path, ('source', 'to', 'out_interface')):
        if rule.get('to') is None:
            c.add(join_path(rpath, 'to'), 'snat needs to: the address to rewrite the source to')
        nat['snat'].append({
            'source': optional(rpath, rule, 'source', normalise_ipv4_network, 'source'),
            'to': optional(rpath, rule, 'to', normalise_ipv4_address, 'to'),
            'out_interface': optional(rpath, rule, 'out_interface', check_interface_spec, 'out_interface')})
    for rpath, rule in _nat_rules(c, entry, 'dnat', path, ('proto', 'port', 'to', 'in_interface', 'source', 'hairpin')):
        proto = rule.get('proto', 'tcp')
        if proto not in NAT_PROTOCOLS:
            c.add(join_path(rpath, 'proto'), 'proto %r is not one of %s' % (proto, ', '.join(NAT_PROTOCOLS)))
        port = c.check(join_path(rpath, 'port'), check_int, rule.get('port'), 1, 65535, 'port')
        to_addr = to_port = None
        to = rule.get('to')
        if not isinstance(to, str) or ':' not in to:
            c.add(join_path(rpath, 'to'), 'to %r must be ADDRESS:PORT, e.g. 172.17.0.2:80' % (to,))
        else:
            address, _sep, number = to.rpartition(':')
            to_addr = c.check(join_path(rpath, 'to'), normalise_ipv4_address, address, 'to')
            to_port = c.check(join_path(rpath, 'to'), check_int, number, 1, 65535, 'port of to')
        nat['dnat'].append({
            'proto': proto, 'port': port, 'to_addr': to_addr, 'to_port': to_port,
            'in_interface': optional(rpath, rule, 'in_interface', check_interface_spec, 'in_interface'),
            'source': optional(rpath, rule, 'source', normalise_ipv4_network, 'source'),
            'hairpin': optional(rpath, rule, 'hairpin', normalise_ipv4_network, 'hairpin')})
    return nat


def normalise_document(doc, owner=DEFAULT_OWNER, single=False):
    """Validate a whole desired-state document; one error per problem, each with its path.

    ``single``: the document holds the one object of a per-object module, so
    errors name the option (``peer.netns``) rather than ``links[0].peer.netns``.
    """
    c = Collector()
    if not isinstance(doc, dict):
        raise ModelError(['document: must be a dictionary'])
    owner = c.check('owner', check_owner, owner)
    out = {'owner': owner, 'namespaces': [], 'links': [], 'routes': [], 'nat': []}
    given = dict(doc, links=expand_profiles(c, doc.get('links') or [], doc.get('tc_profiles'),
                                            '' if single else 'links'))
    for section, func in (('namespaces', normalise_namespace), ('links', normalise_link),
                          ('routes', normalise_route), ('nat', normalise_nat)):
        entries = given.get(section) or []
        if not isinstance(entries, list):
            c.add(section, 'must be a list')
            continue
        for i, entry in enumerate(entries):
            out[section].append(func(entry, '' if single else '%s[%d]' % (section, i), c))
    out['persist'] = _normalise_persist(c, doc)
    if not c.errors:
        _check_cross_references(c, out)
    if c.errors:
        raise ModelError(c.errors)
    return out


LAB_SECTIONS = ('namespaces', 'links', 'routes', 'nat', 'tc_profiles')


def _normalise_persist(c, doc):
    """None (not managed), False (not persisted) or what to save: the lab as given, which the engine
    validates again at boot (the normalised form is the engine's, not a document's), and the timeout."""
    timeout = doc.get('persist_timeout')
    if timeout is not None:
        timeout = c.check('persist_timeout', check_int, timeout, 1, MAX_PERSIST_TIMEOUT, 'persist_timeout')
    persist = doc.get('persist')
    if persist is None:
        return None
    persist = c.check('persist', check_bool, persist, 'persist')
    if not persist:
        return persist
    return {'document': dict((key, doc[key]) for key in LAB_SECTIONS if doc.get(key)),
            'timeout': DEFAULT_PERSIST_TIMEOUT if timeout is None else timeout}


def link_ends(link):
    """The ends of a link: the link itself, plus the peer of a veth."""
    ends = [link]
    if link.get('peer'):  # only a paired kind (veth) has one
        ends.append(link['peer'])
    return ends


def _check_cross_references(c, doc):
    """Checks that need the whole document: duplicates and references within it."""
    seen = {}
    for i, link in enumerate(doc['links']):
        for j, end in enumerate(link_ends(link)):
            path = 'links[%d]%s' % (i, '.peer' if j else '')
            key = (end['netns'], end['name'])
            if key in seen:
                c.add(join_path(path, 'name'), 'link %s%s is also defined at %s'
                      % (end['name'], where(end['netns']), seen[key]))
            else:
                seen[key] = path
    names = {}
    for i, ns in enumerate(doc['namespaces']):
        if ns['name'] in names:
            c.add('namespaces[%d].name' % i, 'namespace %s is also defined at %s'
                  % (ns['name'], names[ns['name']]))
        names[ns['name']] = 'namespaces[%d]' % i
    ports_of = {}
    for i, link in enumerate(doc['links']):
        if link.get('ports') is not None:
            for port in link['ports']:
                ports_of[(link['netns'], port)] = link['name']
    for i, link in enumerate(doc['links']):
        for j, end in enumerate(link_ends(link)):
            path = 'links[%d]%s' % (i, '.peer' if j else '')
            bridge = ports_of.get((end['netns'], end['name']))
            if end['master'] is not None and bridge is not None and bridge != end['master']:
                c.add(join_path(path, 'master'), 'master %s conflicts with bridge %s, whose ports list %s'
                      % (end['master'], bridge, end['name']))
    _check_namespaces_of_references(c, doc)
    tables = {}
    for i, nat in enumerate(doc['nat']):
        key = (nat['netns'], nat['name'])
        if key in tables:
            c.add('nat[%d].name' % i, 'NAT table %s%s is also defined at %s'
                  % (nat['name'], where(nat['netns']), tables[key]))
        tables[key] = 'nat[%d]' % i
    keys = {}
    for i, route in enumerate(doc['routes']):
        key = (route['netns'], route['table'], route['dest'], route['metric'], route['family'])
        if key in keys:
            c.add('routes[%d].dest' % i, 'route %s is also defined at %s' % (route['dest'], keys[key]))
        keys[key] = 'routes[%d]' % i


def _check_namespaces_of_references(c, doc):
    """Ports and masters live in their bridge's namespace; a gateway is on a link's subnet."""
    defined = {}
    for link in doc['links']:
        if link['state'] == 'present':
            for end in link_ends(link):
                defined.setdefault(end['name'], {})[end['netns']] = link['kind']
    for i, link in enumerate(doc['links']):
        if link['state'] != 'present':
            continue
        if link.get('ports'):
            for k, port in enumerate(link['ports']):
                elsewhere = sorted(ns_name(n) for n in defined.get(port, {}) if n != link['netns'])
                if link['netns'] not in defined.get(port, {}) and elsewhere:
                    c.add('links[%d].ports[%d]' % (i, k), 'port %s is defined in %s, not in the namespace of '
                          'bridge %s (%s)' % (port, ', '.join(elsewhere), link['name'], ns_name(link['netns'])))
        for j, end in enumerate(link_ends(link)):
            master = end['master']
            if master is None or end['netns'] in defined.get(master, {}):
                continue
            elsewhere = sorted(ns_name(n) for n, kind in defined.get(master, {}).items()
                               if kind_of(kind).takes_ports)
            if elsewhere:
                c.add('links[%d]%s.master' % (i, '.peer' if j else ''), 'bridge %s is defined in %s; a master '
                      'must be in the namespace of its port (%s)' % (master, ', '.join(elsewhere), ns_name(end['netns'])))
    subnets = {}
    for link in doc['links']:
        for end in link_ends(link):
            for cidr in end['addresses'] or []:
                subnets.setdefault(end['netns'], []).append(ipaddress.ip_interface(cidr).network)
    for i, route in enumerate(doc['routes']):
        if route['state'] != 'present' or route['via'] is None or route['netns'] not in subnets:
            continue
        via = ipaddress.ip_address(route['via'])
        if not any(via in net for net in subnets[route['netns']] if net.version == via.version):
            c.add('routes[%d].via' % i, 'no link%s has an address on the subnet of gateway %s'
                  % (where(route['netns']), route['via']))
