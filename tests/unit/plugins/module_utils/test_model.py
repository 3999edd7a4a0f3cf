"""Validation and normalisation: tables of input -> normal form or error."""

import pytest

from ansible_collections.netvirt.linux.plugins.module_utils import _model as model
from ansible_collections.netvirt.linux.plugins.module_utils import _values as values


@pytest.mark.parametrize('name', ['eth0', 'veth-router1', 'a' * 15, 'ns_0', 'eth0.100', 'é' * 7])
def test_good_names(name):
    assert model.check_name(name) == name


@pytest.mark.parametrize('name, message', [
    ('', 'must not be empty'),
    ('a' * 16, '16 bytes long; the limit is 15'),
    ('é' * 8, '16 bytes long'),
    ('a/b', "must not contain '/'"),
    ('../x', "must not contain '/'"),
    ('.', 'is not allowed'),
    ('..', 'is not allowed'),
    ('a b', 'whitespace'),
    ('a\tb', 'whitespace'),
    ('eth0:1', "must not contain ':'"),
    (None, 'must be a string'),
    (5, 'must be a string'),
])
def test_bad_names(name, message):
    with pytest.raises(ValueError, match=message):
        model.check_name(name)
    with pytest.raises(ValueError, match=message):
        model.check_interface_name(name)


# The kernel makes br0 of a new link named br%d (issue 17, item 1); a namespace may hold a '%'.
@pytest.mark.parametrize('name', ['br%d', '%s', 'x%', 'eth%d0'])
def test_an_interface_name_with_a_percent_sign_is_refused(name):
    with pytest.raises(ValueError, match="must not contain '%'"):
        model.check_interface_name(name)
    assert model.check_name(name) == name


@pytest.mark.parametrize('doc, path', [
    ({'links': [{'kind': 'bridge', 'name': 'br%d'}]}, 'links[0].name'),
    ({'links': [{'kind': 'veth', 'name': 'v0', 'peer': {'name': 'e%d', 'netns': 'c1'}}]}, 'links[0].peer.name'),
    ({'links': [{'kind': 'veth', 'name': 'v0', 'master': 'br%d'}]}, 'links[0].master'),
    ({'routes': [{'dest': 'default', 'dev': 'x%s'}]}, 'routes[0].dev'),
])
def test_a_document_with_a_percent_interface_names_the_field(doc, path):
    with pytest.raises(model.ModelError) as e:
        model.normalise_document(doc, 'test')
    assert any(line.startswith(path + ':') and "must not contain '%'" in line for line in e.value.errors), e.value.errors


@pytest.mark.parametrize('value, normal', [
    ('10.0.0.1/24', '10.0.0.1/24'),
    (' 10.0.0.1/24 ', '10.0.0.1/24'),
    ('FD00:0::1/64', 'fd00::1/64'),
    ('192.168.1.255/24', '192.168.1.255/24'),
])
def test_cidr(value, normal):
    assert values.normalise_cidr(value) == normal


@pytest.mark.parametrize('value', ['10.0.0.300/24', '10.0.0.1/33', '10.0.0.1', 'nope', 'fd00::1/129', 42, None])
def test_bad_cidr(value):
    with pytest.raises(ValueError, match='address'):
        values.normalise_cidr(value)


@pytest.mark.parametrize('value, normal', [
    ('default', 'default'), ('10.0.0.0/8', '10.0.0.0/8'), ('fd00::/64', 'fd00::/64')])
def test_network(value, normal):
    assert model.normalise_network(value) == normal


@pytest.mark.parametrize('value, message', [
    ('10.0.0.1/8', 'host bits set; did you mean 10.0.0.0/8'),
    ('10.0.0.0', "must be 'default' or a network CIDR"),
    ('10.0.0.0/40', 'not a valid network'),
])
def test_bad_network(value, message):
    with pytest.raises(ValueError, match=message):
        model.normalise_network(value)


@pytest.mark.parametrize('value, normal', [
    ('02:42:AC:11:00:02', '02:42:ac:11:00:02'), ('02-42-ac-11-00-02', '02:42:ac:11:00:02')])
def test_mac(value, normal):
    assert values.normalise_mac(value) == normal


def test_a_random_mac_is_a_locally_administered_unicast_one():
    macs = set(values.random_mac() for _attempt in range(200))
    assert len(macs) == 200
    assert all(values.normalise_mac(mac) == mac and int(mac[:2], 16) & 3 == 2 for mac in macs)


@pytest.mark.parametrize('value, message', [
    ('01:00:5e:00:00:01', 'multicast'), ('00:00:00:00:00:00', 'all zeros'),
    ('02:42:ac:11:00', 'six hex octets'), ('zz:42:ac:11:00:02', 'six hex octets'), (1, 'six hex octets')])
def test_bad_mac(value, message):
    with pytest.raises(ValueError, match=message):
        values.normalise_mac(value)


@pytest.mark.parametrize('value, ok', [(68, True), (65535, True), (67, False), (65536, False), ('1500', True),
                                       ('15x', False), (True, False), (1.5, False)])
def test_mtu(value, ok):
    if ok:
        assert model.check_int(value, 68, 65535, 'mtu') == int(value)
    else:
        with pytest.raises(ValueError, match='mtu'):
            model.check_int(value, 68, 65535, 'mtu')


@pytest.mark.parametrize('key, parts', [
    ('net.ipv4.ip_forward', ['net', 'ipv4', 'ip_forward']),
    ('net.ipv4.conf.eth0/100.rp_filter', ['net', 'ipv4', 'conf', 'eth0.100', 'rp_filter']),
])
def test_sysctl_keys(key, parts):
    assert model.sysctl_path_parts(key) == parts


@pytest.mark.parametrize('key', ['kernel.hostname', 'vm.swappiness', 'net..x', 'net.ipv4./..', 'net.a b',
                                 'net.ipv4.conf.a/../b', 'net'])
def test_bad_sysctl_keys(key):
    with pytest.raises(ValueError, match='sysctl key'):
        model.sysctl_path_parts(key)


def test_sysctl_values():
    assert model.normalise_sysctl_value(True, 'k') == '1'
    assert model.normalise_sysctl_value(1, 'k') == '1'
    assert model.normalise_sysctl_value('4096  87380\t6291456', 'k') == '4096 87380 6291456'


def test_veth_normalised():
    link = model.normalise_link({'kind': 'veth', 'name': 'veth0', 'addresses': ['10.0.0.1/24'],
                                 'peer': {'name': 'eth0', 'netns': 'ns0', 'mac': '02:00:00:00:00:AA'}})
    assert link['netns'] is None and link['up'] is True and link['mtu'] is None
    assert link['peer'] == {'name': 'eth0', 'netns': 'ns0', 'up': True, 'mtu': None,
                            'mac': '02:00:00:00:00:aa', 'addresses': None, 'master': None, 'tc': None,
                            'tc_ingress': None}


@pytest.mark.parametrize('entry, error', [
    ({'kind': 'veth', 'name': 'v0'}, 'peer: a veth needs peer'),
    ({'kind': 'veth', 'name': 'v0', 'peer': {'name': 'v0'}}, 'peer.name: peer \'v0\' has the same name'),
    ({'kind': 'veth', 'name': 'v0', 'peer': {'name': 'x' * 16}}, 'peer.name: name'),
    ({'kind': 'veth', 'name': 'v0', 'peer': {'name': 'p', 'netns': '../x'}}, 'peer.netns: netns'),
    ({'kind': 'veth', 'name': 'v0', 'peer': {'name': 'p', 'colour': 1}}, 'peer.colour: unknown option'),
    ({'kind': 'bridge', 'name': 'br0', 'ports': ['a', 'a']}, 'ports[1]: port a is listed twice'),
    ({'kind': 'bridge', 'name': 'br0', 'ports': ['br0']}, 'ports[0]: a bridge cannot be its own port'),
    ({'kind': 'bridge', 'name': 'br0', 'stp': True, 'forward_delay': 1}, 'forward_delay: forward_delay 1 is below'),
    ({'kind': 'bridge', 'name': 'br0', 'forward_delay': 31}, 'forward_delay: forward_delay 31 is out of range'),
    ({'kind': 'bridge', 'name': 'br0', 'master': 'br1'}, 'master: a bridge cannot be enslaved'),
    ({'kind': 'bridge', 'name': 'br0', 'addresses': ['10.0.0.1/24', '10.0.0.01/24']}, 'addresses[1]'),
    ({'kind': 'bond', 'name': 'b0'}, "kind: kind 'bond' is not one of"),
    ({'kind': 'bridge', 'name': 'br0', 'mtu': 10}, 'mtu: mtu 10 is out of range 68-65535'),
])
def test_bad_links(entry, error):
    with pytest.raises(model.ModelError) as e:
        model.normalise_link(entry)
    assert any(line.startswith(error) for line in e.value.errors), e.value.errors


def test_every_problem_is_reported_with_its_path():
    doc = {'links': [{'kind': 'veth', 'name': 'a' * 20, 'mtu': 1, 'peer': {'name': 'p', 'netns': 'a/b'}}],
           'namespaces': [{'name': '..'}], 'routes': [{'dest': '10.0.0.1/8', 'via': '10.0.0.1'}]}
    with pytest.raises(model.ModelError) as e:
        model.normalise_document(doc)
    paths = sorted(line.split(':')[0] for line in e.value.errors)
    assert paths == ['links[0].mtu', 'links[0].name', 'links[0].peer.netns', 'namespaces[0].name', 'routes[0].dest']


def test_duplicates_across_the_document():
    doc = {'links': [{'kind': 'bridge', 'name': 'br0', 'netns': 'h'},
                     {'kind': 'veth', 'name': 'v', 'netns': 'h', 'peer': {'name': 'br0', 'netns': 'h'}}],
           'namespaces': [{'name': 'h'}, {'name': 'h'}]}
    with pytest.raises(model.ModelError) as e:
        model.normalise_document(doc)
    assert 'links[1].peer.name: link br0 in h is also defined at links[0]' in e.value.errors
    assert 'namespaces[1].name: namespace h is also defined at namespaces[0]' in e.value.errors


def test_master_conflicting_with_ports():
    doc = {'links': [{'kind': 'bridge', 'name': 'br0', 'ports': ['v']}, {'kind': 'bridge', 'name': 'br1'},
                     {'kind': 'veth', 'name': 'v', 'master': 'br1', 'peer': {'name': 'p'}}]}
    with pytest.raises(model.ModelError, match='links\\[2\\].master: master br1 conflicts with bridge br0'):
        model.normalise_document(doc)


@pytest.mark.parametrize('route, error', [
    ({'dest': 'default'}, 'route: a route needs via, dev, or both'),
    ({'dest': '10.0.0.0/8', 'via': 'fd00::1'}, 'via: via fd00::1 is not of the same IP family'),
    ({'dest': 'default', 'via': '10.0.0.1', 'metric': -1}, 'metric: metric -1 is out of range'),
    ({'dest': 'default', 'via': '10.0.0.1', 'table': 0}, 'table: table 0 is out of range'),
    ({'dest': 'default', 'via': '10.0.0.999'}, "via: via '10.0.0.999' is not a valid IP address"),
])
def test_bad_routes(route, error):
    with pytest.raises(model.ModelError) as e:
        model.normalise_route(route)
    assert any(line.startswith(error) for line in e.value.errors), e.value.errors


def test_route_normalised():
    route = model.normalise_route({'dest': 'default', 'via': '10.0.1.1', 'table': 'main', 'netns': 'client'})
    assert route == {'netns': 'client', 'dest': 'default', 'family': 4, 'via': '10.0.1.1', 'dev': None, 'metric': 0,
                     'table': 254, 'state': 'present'}


def test_namespace_normalised():
    ns = model.normalise_namespace({'name': 'router', 'sysctls': {'net.ipv4.ip_forward': 1},
                                    'nameservers': ['10.0.2.2'], 'hosts': {'10.0.2.2': 'server'}})
    assert ns == {'name': 'router', 'state': 'present', 'loopback': True,
                  'sysctls': {'net.ipv4.ip_forward': '1'}, 'nameservers': ['10.0.2.2'],
                  'hosts': {'10.0.2.2': ['server']}}


@pytest.mark.parametrize('entry, error', [
    ({'name': 'r', 'sysctls': {'kernel.panic': 1}}, 'sysctls.kernel.panic: sysctl key'),
    ({'name': 'r', 'nameservers': ['dns.example']}, 'nameservers[0]:'),
    ({'name': 'r', 'hosts': {'10.0.0.1': 'a b'}}, "hosts.10.0.0.1[0]: host name 'a b' is not a valid host name"),
    ({'name': 'r', 'state': 'gone'}, "state: state 'gone'"),
])
def test_bad_namespaces(entry, error):
    with pytest.raises(model.ModelError) as e:
        model.normalise_namespace(entry)
    assert any(line.startswith(error) for line in e.value.errors), e.value.errors


@pytest.mark.parametrize('owner', ['lab', 'lab-1.x', 'a' * 64])
def test_owner(owner):
    assert model.check_owner(owner) == owner


@pytest.mark.parametrize('owner', ['', '-lab', 'a b', 'a' * 65, 'lab:x'])
def test_bad_owner(owner):
    with pytest.raises(ValueError, match='owner'):
        model.check_owner(owner)


def test_references_across_namespaces_and_unreachable_gateways():
    doc = {'namespaces': [{'name': 'h'}, {'name': 'c1'}],
           'links': [{'kind': 'bridge', 'name': 'br0', 'netns': 'h', 'ports': ['v1']},
                     {'kind': 'veth', 'name': 'v1', 'netns': 'c1', 'master': 'br0',
                      'addresses': ['10.0.0.1/24'], 'peer': {'name': 'p1', 'netns': 'c1'}}],
           'routes': [{'netns': 'c1', 'dest': 'default', 'via': '10.9.9.9'},
                      {'netns': 'c1', 'dest': '10.8.0.0/16', 'via': '10.0.0.254'}]}
    with pytest.raises(model.ModelError) as e:
        model.normalise_document(doc)
    assert e.value.errors == [
        "links[0].ports[0]: port v1 is defined in c1, not in the namespace of bridge br0 (h)",
        "links[1].master: bridge br0 is defined in h; a master must be in the namespace of its port (c1)",
        "routes[0].via: no link in c1 has an address on the subnet of gateway 10.9.9.9",
    ]


@pytest.mark.parametrize('entry, error', [
    ({'kind': 'macvlan', 'name': 'm'}, 'link: a macvlan needs link'),
    ({'kind': 'macvlan', 'name': 'm', 'link': 'eth0', 'mode': 'l2'}, "mode: mode 'l2' is not one of private"),
    ({'kind': 'vxlan', 'name': 'v'}, 'vni: a vxlan needs vni'),
    ({'kind': 'vxlan', 'name': 'v', 'vni': 16777216}, 'vni: vni 16777216 is out of range 1-16777215'),
    ({'kind': 'vxlan', 'name': 'v', 'vni': 5, 'remote': '10.0.0.1', 'group': '239.1.1.1', 'dev': 'e'},
     'group: remote and group are mutually exclusive'),
    ({'kind': 'vxlan', 'name': 'v', 'vni': 5, 'group': '239.1.1.1'}, 'dev: a multicast group needs dev'),
    ({'kind': 'vxlan', 'name': 'v', 'vni': 5, 'group': '10.1.1.1', 'dev': 'e'}, 'group: group 10.1.1.1 is not a multicast'),
    ({'kind': 'vxlan', 'name': 'v', 'vni': 5, 'fdb': [{'dst': 'x'}]}, "fdb[0].dst: 'x' is not a valid IP address"),
    ({'kind': 'vxlan', 'name': 'v', 'vni': 5, 'fdb': [{'dst': '10.0.0.1'}, {'dst': '10.0.0.1'}]},
     'fdb[1]: entry 00:00:00:00:00:00 -> 10.0.0.1 is listed twice'),
    ({'kind': 'vxlan', 'name': 'v', 'vni': 5, 'port': 0}, 'port: port 0 is out of range'),
    ({'kind': 'tuntap', 'name': 't'}, "mode: mode None must be 'tun' or 'tap'"),
    ({'kind': 'tuntap', 'name': 't', 'mode': 'tap', 'user': 'a b'}, "user: user 'a b' must be a name or a numeric id"),
])
def test_bad_input_of_the_other_kinds(entry, error):
    with pytest.raises(model.ModelError) as e:
        model.normalise_link(entry)
    assert any(line.startswith(error) for line in e.value.errors), e.value.errors


@pytest.mark.parametrize('entry, error', [
    ({'kind': 'vlan', 'name': 'e.1', 'id': 5}, 'link: a vlan needs link'),
    ({'kind': 'vlan', 'name': 'e.1', 'link': 'e'}, 'id: a vlan needs id'),
    ({'kind': 'vlan', 'name': 'e.1', 'link': 'e', 'id': 4095}, 'id: id 4095 is out of range 1-4094'),
    ({'kind': 'vlan', 'name': 'e.1', 'link': 'e', 'id': 5, 'protocol': '802.1x'}, "protocol: protocol '802.1x' is not"),
    ({'kind': 'ipvlan', 'name': 'i', 'link': 'e', 'mode': 'bridge'}, "mode: mode 'bridge' is not one of l2, l3, l3s"),
    ({'kind': 'geneve', 'name': 'g', 'vni': 5}, 'remote: a geneve needs remote'),
    ({'kind': 'geneve', 'name': 'g', 'remote': '10.0.0.1'}, 'vni: a geneve needs vni'),
])
def test_bad_vlan_ipvlan_geneve(entry, error):
    with pytest.raises(model.ModelError) as e:
        model.normalise_link(entry)
    assert any(line.startswith(error) for line in e.value.errors), e.value.errors


@pytest.mark.parametrize('entry, dest, family', [
    ({'dest': '0.0.0.0/0', 'via': '10.0.0.1'}, 'default', 4),
    ({'dest': '::/0', 'dev': 'eth0'}, 'default', 6),
    ({'dest': '::/0', 'via': 'fd00::1'}, 'default', 6),
    ({'dest': 'default', 'dev': 'eth0'}, 'default', 4),
    ({'dest': 'default', 'via': 'fd00::1'}, 'default', 6),
    ({'dest': 'fd00::/64', 'dev': 'eth0'}, 'fd00::/64', 6),
])
def test_a_route_to_everything_is_default_in_the_family_it_was_written_in(entry, dest, family):
    route = model.normalise_route(entry)
    assert (route['dest'], route['family']) == (dest, family)
