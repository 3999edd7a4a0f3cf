# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: turn a role's variables into one topology document.

The roles (container_bridge_net, router_lab, vxlan_overlay) are front ends like
the modules: their variables become one document for netvirt.linux.topology.
These functions are pure, run on the controller, and report every problem at
once, each named by the role variable it comes from (for example
``container_bridge_net_containers[3].name``), before anything changes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.netvirt.linux.plugins.module_utils._inventory import owned_key
from ansible_collections.netvirt.linux.plugins.module_utils._probe import ProbeError, normalise_probes
from ansible_collections.netvirt.linux.plugins.module_utils._tc import normalise_tc
from ansible_collections.netvirt.linux.plugins.module_utils._values import (
    MAX_MTU, MIN_MTU, Collector, check_int, check_interface_name, check_name,
)


class RoleInputError(ValueError):
    """One or more problems in a role's variables, one line each."""

    def __init__(self, problems):
        self.problems = problems
        super(RoleInputError, self).__init__('; '.join(problems))


class _Problems(Collector):
    """The model's collector of every problem, raising the roles' error."""

    @property
    def problems(self):
        return self.errors

    def raise_any(self):
        if self.problems:
            raise RoleInputError(self.problems)


def _flag(p, path, value, default=False):
    """A boolean variable, given as a boolean or as the words Ansible reads as one
    (`-e name=false` on the command line gives the string)."""
    if value is None:
        return default
    try:
        return boolean(value, strict=True)
    except TypeError:
        p.add(path, '%r is not a boolean (true or false)' % (value,))
        return default


def _probes(p, path, value):
    """A role's own probes (its ``*_probes`` variable), checked as netvirt.linux.probe checks them and named
    by the variable; they join the default probes in the topology task's ``verify``."""
    if value is None or value == []:
        return []
    try:
        normalise_probes(value, path)
    except ProbeError as e:
        p.errors.extend(e.errors)
        return []
    return list(value)


def _verify(p, pre, settings, defaults):
    """The topology task's ``verify``: the role's default probes unless ``*_verify`` is false, then the user's."""
    wanted = _flag(p, pre + 'verify', settings.get('verify'), default=True)
    return (defaults if wanted else []) + _probes(p, pre + 'probes', settings.get('probes'))


def _tc(p, path, value):
    """A link end's shaping given in a role's variables, checked as the link modules check tc and named by
    the variable; None when not given."""
    if value is None:
        return None
    if normalise_tc(p, value, path) is None:
        return None
    return value


def _network(p, path, value):
    try:
        net = ipaddress.ip_network(str(value), strict=True)
    except ValueError as e:
        if 'host bits set' in str(e):
            p.add(path, '%r has host bits set; did you mean %s?' % (value, ipaddress.ip_network(str(value), strict=False)))
        else:
            p.add(path, '%r is not a network in CIDR form, such as 10.0.1.0/24' % (value,))
        return None
    if net.version != 4:
        p.add(path, '%r: only IPv4 subnets are supported' % (value,))
        return None
    if net.num_addresses < 4:
        p.add(path, '%s is too small: it needs room for at least two hosts' % net)
        return None
    return net


def _host(p, path, value, net, what='address'):
    """An address inside ``net`` that is neither its network nor its broadcast address."""
    try:
        addr = ipaddress.ip_address(str(value).split('/', maxsplit=1)[0])
    except ValueError:
        p.add(path, '%r is not an IPv4 address' % (value,))
        return None
    if net is not None:
        if addr not in net:
            p.add(path, '%s %s is outside the subnet %s' % (what, addr, net))
            return None
        if addr in (net.network_address, net.broadcast_address):
            p.add(path, '%s %s is the %s address of %s' % (
                what, addr, 'network' if addr == net.network_address else 'broadcast', net))
            return None
    return addr


def _mtu(p, path, value):
    """An MTU the kernel takes on a bridge and a veth, or None (the kernel's default)."""
    if value is None:
        return None
    return p.check(path, check_int, value, MIN_MTU, MAX_MTU, 'mtu')


def _name(p, path, value, what, interface=False):
    return p.check(path, check_interface_name if interface else check_name, value, what)


def _interface_name(p, path, item, key, prefix, name, what):
    """item[key] when given, else PREFIX + name; a made-up name the kernel cannot take is reported as such."""
    if item.get(key) is not None:
        return _name(p, '%s.%s' % (path, key), item[key], key, interface=True)
    if name is None:
        return None
    derived = prefix + name
    if '%' in derived:
        p.add(path + '.name', "the %s name %r must not contain '%%': the kernel would make a name of its own "
              "from it; rename, or set %s" % (what, derived, key))
        return None
    if len(derived.encode('utf-8')) > 15:
        p.add(path + '.name', 'the %s name %r would be longer than 15 bytes; shorten the name or set %s'
              % (what, derived, key))
        return None
    return derived


def _as_entries(p, path, value, key='name'):
    """A list of dicts; a plain string stands for {key: string}."""
    if value is None:
        return []
    if not isinstance(value, list):
        p.add(path, 'must be a list, got %r' % (value,))
        return []
    entries = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            item = {key: item}
        if not isinstance(item, dict):
            p.add('%s[%d]' % (path, i), 'must be a name or a dictionary, got %r' % (item,))
            continue
        entries.append((i, item))
    return entries


def _unknown(p, path, item, allowed):
    for key in sorted(set(item) - set(allowed)):
        p.add(path, 'unknown key %r (expected one of: %s)' % (key, ', '.join(allowed)))


def _duplicates(p, path, named, what):
    """``named`` is [(index, name)]; every repeat is an error naming both places."""
    first = {}
    for index, name in named:
        if name is None:
            continue
        if name in first:
            p.add('%s[%d]' % (path, index), '%s %r is already used by %s[%d]' % (what, name, path, first[name]))
        else:
            first[name] = index


def foreign_networks(info, netns, owner):
    """Subnets of the addresses in ``netns`` on links that ``owner`` did not make.

    ``info`` is the topology that netvirt.linux.netns_info returns; the result
    lets a role refuse a subnet that is already in use there, as Docker does.
    """
    if not info:
        return []
    ours = set((info.get('owners') or {}).get(owner, {}).get('links', []))
    found = []
    for link in info.get('links', []):
        for end in (link, link.get('peer') or {}):
            if end.get('netns') != netns or not end.get('name'):
                continue
            if owned_key(netns, end['name']) in ours:
                continue
            for cidr in end.get('addresses') or []:
                iface = ipaddress.ip_interface(cidr)
                if iface.version == 4:
                    found.append((iface.network, cidr, end['name']))
    return found


def current_address(info, netns, ifname, net):
    """The address in ``net`` that interface ``ifname`` in ``netns`` has now, per netns_info."""
    for link in (info or {}).get('links', []):
        for end in (link, link.get('peer') or {}):
            if end.get('netns') == netns and end.get('name') == ifname:
                for cidr in end.get('addresses') or []:
                    iface = ipaddress.ip_interface(cidr)
                    if iface.version == 4 and iface.ip in net and iface.network.prefixlen == net.prefixlen:
                        return iface.ip
    return None


def _where(netns):
    return 'namespace %s' % netns if netns else 'the host namespace'


def mac_of(address):
    """The MAC address of a container's interface, made from its IPv4 address as Docker's bridge does.

    A new container may take the address of one that left; with a MAC of its own, the others would
    send to the old one's MAC until their ARP entry went stale (up to 30 s).  The same address
    always has the same MAC, so that never happens."""
    return '02:4e:' + ':'.join('%02x' % octet for octet in ipaddress.ip_address(address).packed)


def container_network(settings, existing=None):
    """container_bridge_net's variables -> a topology document.

    ``settings`` holds the role's variables without their prefix; ``existing``
    is netns_info's topology of the host namespace and the containers' (to
    refuse a subnet in use, and to keep each container's current address).
    """
    pre = 'container_bridge_net_'
    p = _Problems()
    host = settings.get('host_netns') or None
    if host is not None:
        _name(p, pre + 'host_netns', host, 'namespace name')
    bridge = _name(p, pre + 'bridge', settings.get('bridge'), 'bridge name', interface=True)
    ifname = _name(p, pre + 'ifname', settings.get('ifname'), 'interface name', interface=True)
    net = _network(p, pre + 'subnet', settings.get('subnet'))
    gateway = None
    if net is not None:
        if settings.get('gateway'):
            gateway = _host(p, pre + 'gateway', settings['gateway'], net, 'gateway')
        else:
            gateway = net.network_address + 1
        owner = settings.get('owner')
        for other, cidr, link in foreign_networks(existing, host, owner):
            if other.overlaps(net):
                p.add(pre + 'subnet', '%s overlaps %s on %s in %s, which is not part of this network'
                      % (net, cidr, link, _where(host)))
    mtu = _mtu(p, pre + 'mtu', settings.get('mtu'))

    containers = []
    explicit = {}
    entries = _as_entries(p, pre + 'containers', settings.get('containers'))
    for i, item in entries:
        path = '%s[%d]' % (pre + 'containers', i)
        _unknown(p, path, item, ('name', 'address', 'host_veth', 'tc', 'host_tc'))
        name = _name(p, path + '.name', item.get('name'), 'container name')
        if name is not None and name == host:
            p.add(path + '.name', 'container %r has the name of the host namespace' % name)
        veth = _interface_name(p, path, item, 'host_veth', 've-', name, 'host-side veth')
        address = None
        if item.get('address') is not None and net is not None:
            address = _host(p, path + '.address', item['address'], net)
            if address is not None and address == gateway:
                p.add(path + '.address', 'address %s is the gateway' % address)
                address = None
            elif address is not None and address in explicit:
                p.add(path + '.address', 'address %s is already given to %s[%d]'
                      % (address, pre + 'containers', explicit[address]))
            elif address is not None:
                explicit[address] = i
        containers.append({'index': i, 'name': name, 'veth': veth, 'address': address,
                           'tc': _tc(p, path + '.tc', item.get('tc')),
                           'host_tc': _tc(p, path + '.host_tc', item.get('host_tc'))})
    _duplicates(p, pre + 'containers', [(c['index'], c['name']) for c in containers], 'container name')
    first = dict((c['name'], c['index']) for c in reversed(containers))
    _duplicates(p, pre + 'containers', [(c['index'], c['veth']) for c in containers
                                        if c['veth'] != bridge and first[c['name']] == c['index']],
                'host-side veth name')  # a repeated container is reported once, as a repeated name
    for c in containers:
        if c['veth'] is not None and c['veth'] == bridge:
            p.add('%s[%d].host_veth' % (pre + 'containers', c['index']), '%r is the bridge name' % bridge)

    if net is not None and gateway is not None:
        # A container that exists keeps its address, so that removing one
        # container never renumbers the others; new ones take free addresses in order.
        taken = set(explicit) | set([gateway])
        for c in containers:
            kept = current_address(existing, c['name'], ifname, net) if c['address'] is None else None
            if kept is not None and kept not in taken:
                c['address'] = kept
                taken.add(kept)
        free = (a for a in net.hosts() if a not in taken)
        wanting = [c for c in containers if c['address'] is None]
        room = net.num_addresses - 2 - len(taken)
        if len(wanting) > room:
            p.add(pre + 'containers', '%d containers do not fit in %s: it has room for %d besides the gateway'
                  % (len(containers), net, net.num_addresses - 3))
        else:
            for c in wanting:
                c['address'] = next(free)

    by_name = dict((c['name'], c) for c in containers)
    nat = {'netns': host, 'name': bridge, 'masquerade': [], 'dnat': []}
    if _flag(p, pre + 'masquerade', settings.get('masquerade')):
        nat['masquerade'].append({'source': str(net), 'out_interface': '!%s' % bridge})
    for i, item in _as_entries(p, pre + 'ports', settings.get('ports'), key='container'):
        path = '%s[%d]' % (pre + 'ports', i)
        _unknown(p, path, item, ('container', 'port', 'to_port', 'proto'))
        target = by_name.get(item.get('container'))
        if target is None:
            p.add(path + '.container', '%r is not one of %scontainers' % (item.get('container'), pre))
            continue
        port, to_port = item.get('port'), item.get('to_port', item.get('port'))
        for key, value in (('port', port), ('to_port', to_port)):
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
                p.add('%s.%s' % (path, key), '%r is not a port number (1-65535)' % (value,))
        proto = item.get('proto', 'tcp')
        if proto not in ('tcp', 'udp'):
            p.add(path + '.proto', '%r must be tcp or udp' % (proto,))
        if target['address'] is not None:
            nat['dnat'].append({'proto': proto, 'port': port, 'to': '%s:%s' % (target['address'], to_port),
                                'in_interface': '!%s' % bridge})
    # Each container reaches its gateway: the bridge, its veth and its address, proven by one echo each.
    verify = _verify(p, pre, settings, [{'from': c['name'], 'to': str(gateway)} for c in containers])
    p.raise_any()

    forwarding = settings.get('forwarding')
    if forwarding is None:
        forwarding = bool(nat['masquerade'] or nat['dnat'])
    namespaces = [{'name': c['name'], 'loopback': True} for c in containers]
    if host is not None:
        # Listed so that the document is whole: the namespace is adopted when
        # it exists (for example a router_lab segment), and made otherwise.
        namespaces.append({'name': host, 'sysctls': {'net.ipv4.ip_forward': '1'}} if forwarding else {'name': host})
    prefix = net.prefixlen
    bridge_link = {'kind': 'bridge', 'name': bridge, 'netns': host, 'addresses': ['%s/%d' % (gateway, prefix)]}
    links = [bridge_link]
    for c in containers:
        links.append({'kind': 'veth', 'name': c['veth'], 'netns': host, 'master': bridge,
                      'peer': {'name': ifname, 'netns': c['name'], 'addresses': ['%s/%d' % (c['address'], prefix)],
                               'mac': mac_of(c['address'])}})
        # tc shapes what the container sends; host_tc, on the host's end, what it receives.
        if c['tc'] is not None:
            links[-1]['peer']['tc'] = c['tc']
        if c['host_tc'] is not None:
            links[-1]['tc'] = c['host_tc']
    if mtu is not None:
        for link in links:
            link['mtu'] = mtu
            if 'peer' in link:
                link['peer']['mtu'] = mtu
    routes = [{'netns': c['name'], 'dest': 'default', 'via': str(gateway)} for c in containers]
    return {
        'namespaces': namespaces,
        'links': links,
        'routes': routes,
        'nat': [nat] if nat['masquerade'] or nat['dnat'] else [],
        'verify': verify,
        # What the role's own tasks need besides the document.
        'facts': {
            'gateway': str(gateway),
            'forwarding_on_host': bool(host is None and forwarding),
            'containers': dict((c['name'], str(c['address'])) for c in containers),
        },
    }


def router_network(settings):
    """router_lab's variables -> a topology document (seed 000's lab)."""
    pre = 'router_lab_'
    p = _Problems()
    router = _name(p, pre + 'router', settings.get('router'), 'namespace name')
    segments = []
    for i, item in _as_entries(p, pre + 'segments', settings.get('segments')):
        path = '%s[%d]' % (pre + 'segments', i)
        _unknown(p, path, item, ('name', 'subnet', 'address', 'router_address', 'interface',
                                 'router_interface', 'routes', 'masquerade', 'tc', 'router_tc'))
        name = _name(p, path + '.name', item.get('name'), 'namespace name')
        if name is not None and name == router:
            p.add(path + '.name', '%r is the router namespace (%srouter)' % (name, pre))
        interface = _interface_name(p, path, item, 'interface', 'veth-', name, 'interface')
        router_interface = _name(p, path + '.router_interface',
                                 item.get('router_interface', 'veth-router%d' % (i + 1)), 'router_interface', interface=True)
        net = _network(p, path + '.subnet', item.get('subnet'))
        router_address = address = None
        if net is not None:
            router_address = _host(p, path + '.router_address',
                                   item.get('router_address', net.network_address + 1), net, 'router_address')
            address = _host(p, path + '.address', item.get('address', net.network_address + 2), net)
            if address is not None and address == router_address:
                p.add(path + '.address', 'address %s is also the router_address' % address)
        routes = []
        for j, dest in enumerate(item.get('routes', ['default'])):
            if dest == 'default':
                routes.append('default')
            else:
                dnet = _network(p, '%s.routes[%d]' % (path, j), dest)
                if dnet is not None:
                    routes.append(str(dnet))
        segments.append({'index': i, 'name': name, 'interface': interface, 'router_interface': router_interface,
                         'net': net, 'address': address, 'router_address': router_address, 'routes': routes,
                         'masquerade': _flag(p, path + '.masquerade', item.get('masquerade')),
                         'tc': _tc(p, path + '.tc', item.get('tc')),
                         'router_tc': _tc(p, path + '.router_tc', item.get('router_tc'))})
    if not segments:
        p.add(pre + 'segments', 'give at least one segment')
    # Each segment reaches the router's address on it.
    verify = _verify(p, pre, settings, [{'from': s['name'], 'to': str(s['router_address'])}
                                        for s in segments if s['router_address'] is not None])
    _duplicates(p, pre + 'segments', [(s['index'], s['name']) for s in segments], 'segment name')
    _duplicates(p, pre + 'segments', [(s['index'], s['router_interface']) for s in segments], 'router_interface')
    for a in segments:
        for b in segments:
            if a['index'] < b['index'] and a['net'] is not None and b['net'] is not None \
                    and a['net'].overlaps(b['net']):
                p.add('%s[%d].subnet' % (pre + 'segments', b['index']), '%s overlaps %s of %s[%d]'
                      % (b['net'], a['net'], pre + 'segments', a['index']))
    p.raise_any()

    namespaces = [{'name': router, 'loopback': True, 'sysctls': {'net.ipv4.ip_forward': '1'}}]
    links, routes = [], []
    masquerade = []
    for s in segments:
        prefix = s['net'].prefixlen
        namespaces.append({'name': s['name'], 'loopback': True})
        links.append({'kind': 'veth', 'name': s['interface'], 'netns': s['name'],
                      'addresses': ['%s/%d' % (s['address'], prefix)],
                      'peer': {'name': s['router_interface'], 'netns': router,
                               'addresses': ['%s/%d' % (s['router_address'], prefix)]}})
        # tc shapes what the segment sends; router_tc, on the router's end, what it receives.
        if s['tc'] is not None:
            links[-1]['tc'] = s['tc']
        if s['router_tc'] is not None:
            links[-1]['peer']['tc'] = s['router_tc']
        for dest in s['routes']:
            routes.append({'netns': s['name'], 'dest': dest, 'via': str(s['router_address'])})
        if s['masquerade']:
            masquerade.append({'out_interface': s['router_interface']})
    return {
        'namespaces': namespaces,
        'links': links,
        'routes': routes,
        'nat': [{'netns': router, 'name': 'router_lab', 'masquerade': masquerade}] if masquerade else [],
        'verify': verify,
        'facts': {
            'segments': dict((s['name'], {'address': str(s['address']), 'router_address': str(s['router_address']),
                                          'subnet': str(s['net'])}) for s in segments),
        },
    }


VXLAN_OVERHEAD = 50  # outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8


def vxlan_network(settings, existing=None):
    """vxlan_overlay's variables, for one host of the group -> a topology document.

    Every host gets, per segment, a bridge with a VXLAN port whose fdb sends
    broadcast and unknown traffic to every other host (head-end replication), and
    its own containers on that bridge. Host number ``position`` (from 1) owns one
    slice of each segment's subnet, so addresses never collide across hosts.
    """
    pre = 'vxlan_overlay_'
    p = _Problems()
    position = settings.get('position')
    local = _host(p, pre + 'local', settings.get('local'), None, 'local')
    dev = settings.get('dev')
    if dev is not None:
        dev = _name(p, pre + 'dev', dev, 'dev')
    peers = []
    for i, peer in enumerate(settings.get('peers') or []):
        addr = _host(p, '%s[%d]' % (pre + 'peers', i), peer, None, 'peer')
        if addr is not None and addr != local:
            peers.append(str(addr))
    underlay = underlay_link(existing, local)
    if dev is None and underlay is not None:
        dev = underlay['name']
    mtu = _mtu(p, pre + 'mtu', settings.get('mtu'))
    if mtu is None and underlay is not None and underlay.get('mtu'):
        mtu = underlay['mtu'] - VXLAN_OVERHEAD
    port = settings.get('port') or 4789
    wants_verify = _flag(p, pre + 'verify', settings.get('verify'), default=True)
    seen_vni = {}
    docs = []
    for i, seg in _as_entries(p, pre + 'segments', settings.get('segments'), key='vni'):
        path = '%s[%d]' % (pre + 'segments', i)
        _unknown(p, path, seg, ('vni', 'subnet', 'bridge', 'containers'))
        vni = seg.get('vni')
        if not isinstance(vni, int) or isinstance(vni, bool) or not 1 <= vni <= 16777215:
            p.add(path + '.vni', '%r is not a VNI (1-16777215)' % (vni,))
            continue
        if vni in seen_vni:
            p.add(path + '.vni', 'VNI %d is already used by %s[%d]' % (vni, pre + 'segments', seen_vni[vni]))
            continue
        seen_vni[vni] = i
        net = _network(p, path + '.subnet', seg.get('subnet'))
        count = seg.get('containers', 2)
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            p.add(path + '.containers', '%r is not a number of containers' % (count,))
            continue
        if net is None:
            continue
        slice_size = 4
        while slice_size < count + 3:  # the containers, the bridge, the slice's first and last
            slice_size *= 2
        base = int(net.network_address) + position * slice_size
        if (position + 1) * slice_size > net.num_addresses:
            p.add(path + '.subnet', '%s has no room for host number %d with %d containers (slices of %d addresses)'
                  % (net, position, count, slice_size))
            continue
        bridge = seg.get('bridge') or 'br-vx%d' % vni
        built = _container_network_or_problems(p, {
            'owner': settings.get('owner'), 'host_netns': None, 'bridge': bridge, 'subnet': str(net),
            'gateway': str(ipaddress.ip_address(base + slice_size - 2)), 'ifname': 'eth0', 'mtu': mtu,
            'containers': [{'name': 'vx%d-c%d' % (vni, c), 'host_veth': 'vx%d-%d' % (vni, c),
                            'address': str(ipaddress.ip_address(base + c))} for c in range(1, count + 1)],
            'masquerade': False, 'ports': [], 'forwarding': False, 'verify': wants_verify}, existing, path)
        if built is None:
            continue
        vxlan = {'kind': 'vxlan', 'name': 'vxlan%d' % vni, 'vni': vni, 'local': str(local) if local else None,
                 'port': port, 'master': bridge, 'learning': True,
                 'fdb': [{'mac': '00:00:00:00:00:00', 'dst': peer} for peer in sorted(peers)]}
        if dev is not None:
            vxlan['dev'] = dev
        if mtu is not None:
            vxlan['mtu'] = mtu
        built['links'].append(vxlan)
        docs.append(built)
    if not docs and not p.problems:
        p.add(pre + 'segments', 'give at least one segment')
    # This host's containers reach their gateway; a probe across hosts would need the others built first.
    probes = _probes(p, pre + 'probes', settings.get('probes'))
    p.raise_any()
    return {
        'namespaces': [ns for d in docs for ns in d['namespaces']],
        'links': [link for d in docs for link in d['links']],
        'routes': [route for d in docs for route in d['routes']],
        'nat': [],
        'verify': [probe for d in docs for probe in d['verify']] + probes,
        'facts': {'mtu': mtu, 'peers': sorted(peers),
                  'containers': dict(item for d in docs for item in d['facts']['containers'].items())},
    }


def underlay_link(info, local):
    """The link of the host namespace that holds address ``local``, per netns_info; None if none does."""
    for link in (info or {}).get('links', []):
        for end in (link, link.get('peer') or {}):
            if end.get('name') and end.get('netns') is None and any(
                    cidr.split('/')[0] == str(local) for cidr in end.get('addresses') or []):
                return end
    return None


def _container_network_or_problems(p, settings, existing, path):
    """container_network for one segment, its problems reported under the segment's path."""
    try:
        return container_network(settings, existing)
    except RoleInputError as e:
        for problem in e.problems:
            p.add(path, problem.split(': ', 1)[-1])
        return None
