"""The roles' variables become one topology document; bad variables are named, all at once."""

import pytest

from ansible_collections.netvirt.linux.plugins.module_utils._model import normalise_document
from ansible_collections.netvirt.linux.plugins.plugin_utils._labs import (
    RoleInputError, container_network, foreign_networks, router_network)

CBN = {'owner': 'web', 'host_netns': None, 'bridge': 'cbn0', 'subnet': '172.30.0.0/24', 'gateway': None,
       'ifname': 'eth0', 'containers': ['a', 'b'], 'masquerade': False, 'ports': [], 'forwarding': None,
       'mtu': None}
SEED_000 = {'router': 'router', 'segments': [
    {'name': 'client', 'subnet': '10.0.1.0/24'}, {'name': 'server', 'subnet': '10.0.2.0/24'},
    {'name': 'internet', 'subnet': '192.168.3.0/24', 'routes': ['10.0.0.0/8']}]}


def document(built):
    return dict((k, built[k]) for k in ('namespaces', 'links', 'routes', 'nat'))


def test_seed_002_docker0_with_addresses_in_order():
    built = container_network(dict(CBN, bridge='docker0', subnet='172.17.0.0/16',
                                   containers=['ns0', {'name': 'ns1', 'address': '172.17.0.2'}, 'ns2']))
    normalise_document(document(built), 'web')  # the engine accepts it as it is
    assert built['links'][0] == {'kind': 'bridge', 'name': 'docker0', 'netns': None, 'addresses': ['172.17.0.1/16']}
    # ns1 asked for .2, so ns0 and ns2 take the next free ones, in order.
    assert built['facts']['containers'] == {'ns0': '172.17.0.3', 'ns1': '172.17.0.2', 'ns2': '172.17.0.4'}
    assert built['links'][1]['name'] == 've-ns0' and built['links'][1]['peer']['netns'] == 'ns0'
    assert built['routes'][0] == {'netns': 'ns0', 'dest': 'default', 'via': '172.17.0.1'}
    assert built['nat'] == [] and built['facts']['forwarding_on_host'] is False


def test_a_container_keeps_its_address_when_another_is_removed():
    now = container_network(dict(CBN, containers=['a', 'b', 'c']))
    assert now['facts']['containers'] == {'a': '172.30.0.2', 'b': '172.30.0.3', 'c': '172.30.0.4'}
    existing = dict(now, owners={'web': {'links': ['(current)/cbn0']}})
    after = container_network(dict(CBN, containers=['a', 'c', 'd']), existing)
    assert after['facts']['containers'] == {'a': '172.30.0.2', 'c': '172.30.0.4', 'd': '172.30.0.3'}
    # d takes the address b had, and its MAC: the others' ARP entries for 172.30.0.3 stay true.
    assert [link['peer']['mac'] for link in now['links'][1:]] == [
        '02:4e:ac:1e:00:02', '02:4e:ac:1e:00:03', '02:4e:ac:1e:00:04']
    assert [link['peer']['mac'] for link in after['links'][1:]] == [
        '02:4e:ac:1e:00:02', '02:4e:ac:1e:00:04', '02:4e:ac:1e:00:03']


def test_masquerade_and_a_port_forward_in_a_host_namespace_turn_forwarding_on_there():
    built = container_network(dict(CBN, host_netns='gw', masquerade=True,
                                   ports=[{'container': 'b', 'port': 8080, 'to_port': 80}]))
    assert {'name': 'gw', 'sysctls': {'net.ipv4.ip_forward': '1'}} in built['namespaces']
    assert built['nat'] == [{'netns': 'gw', 'name': 'cbn0',
                             'masquerade': [{'source': '172.30.0.0/24', 'out_interface': '!cbn0'}],
                             'dnat': [{'proto': 'tcp', 'port': 8080, 'to': '172.30.0.3:80', 'in_interface': '!cbn0'}]}]
    assert built['facts']['forwarding_on_host'] is False
    assert container_network(dict(CBN, masquerade=True))['facts']['forwarding_on_host'] is True


def test_mtu_is_set_on_the_bridge_and_both_ends():
    built = container_network(dict(CBN, mtu=1450))
    assert [link['mtu'] for link in built['links']] == [1450, 1450, 1450]
    assert built['links'][1]['peer']['mtu'] == 1450


@pytest.mark.parametrize('change, problem', [
    ({'subnet': '172.30.0.1/24'}, "container_bridge_net_subnet: '172.30.0.1/24' has host bits set; did you mean 172.30.0.0/24?"),
    ({'subnet': 'ten'}, "container_bridge_net_subnet: 'ten' is not a network in CIDR form"),
    ({'gateway': '10.1.1.1'}, 'container_bridge_net_gateway: gateway 10.1.1.1 is outside the subnet 172.30.0.0/24'),
    ({'gateway': '172.30.0.255'}, 'container_bridge_net_gateway: gateway 172.30.0.255 is the broadcast address'),
    ({'containers': ['a', 'b', 'a']}, "container_bridge_net_containers[2]: container name 'a' is already used by "
                                      'container_bridge_net_containers[0]'),
    ({'containers': ['a', {'name': 'b', 'address': '172.30.0.1'}]},
     'container_bridge_net_containers[1].address: address 172.30.0.1 is the gateway'),
    ({'containers': [{'name': 'a', 'address': '172.30.1.9'}]},
     'container_bridge_net_containers[0].address: address 172.30.1.9 is outside the subnet 172.30.0.0/24'),
    ({'subnet': '10.0.0.0/29', 'containers': ['a', 'b', 'c', 'd', 'e', 'f']},
     'container_bridge_net_containers: 6 containers do not fit in 10.0.0.0/29: it has room for 5 besides the gateway'),
    ({'containers': ['a/b']}, "container_bridge_net_containers[0].name: container name 'a/b' must not contain '/'"),
    ({'containers': ['averyverylongname']},
     "container_bridge_net_containers[0].name: container name 'averyverylongname' is 17 bytes long"),
    ({'containers': ['thirteenchars']}, "the host-side veth name 've-thirteenchars' would be longer than 15 bytes"),
    ({'containers': [{'name': 'a', 'ip': '1.2.3.4'}]}, "container_bridge_net_containers[0]: unknown key 'ip'"),
    ({'bridge': '..'}, "container_bridge_net_bridge: bridge name '..' is not allowed"),
    ({'ports': [{'container': 'z', 'port': 80}]}, "container_bridge_net_ports[0].container: 'z' is not one of"),
    ({'ports': [{'container': 'a', 'port': 0}]}, 'container_bridge_net_ports[0].port: 0 is not a port number'),
    ({'ports': [{'container': 'a', 'port': 80, 'proto': 'icmp'}]}, "container_bridge_net_ports[0].proto: 'icmp'"),
    ({'host_netns': 'a'}, "container_bridge_net_containers[0].name: container 'a' has the name of the host namespace"),
    ({'mtu': 10}, 'container_bridge_net_mtu: mtu 10 is out of range 68-65535'),
    ({'mtu': 65536}, 'container_bridge_net_mtu: mtu 65536 is out of range 68-65535'),
    ({'mtu': 'big'}, "container_bridge_net_mtu: mtu must be a whole number, got 'big'"),
])
def test_bad_container_network_input_is_named(change, problem):
    with pytest.raises(RoleInputError) as e:
        container_network(dict(CBN, **change))
    assert problem in str(e.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(RoleInputError) as e:
        container_network(dict(CBN, bridge='a b', containers=['x', 'x'], gateway='1.1.1.1'))
    assert len(e.value.problems) == 3


EXISTING = {'links': [
    {'kind': 'veth', 'name': 'eth0', 'netns': 'gw', 'addresses': ['10.0.4.2/24'],
     'peer': {'name': 'r4', 'netns': 'router', 'addresses': ['10.0.4.1/24']}},
    {'kind': 'bridge', 'name': 'cbn0', 'netns': 'gw', 'addresses': ['172.30.0.1/24']}],
    'owners': {'web': {'links': ['gw/cbn0']}}}


def test_a_subnet_in_use_in_the_host_namespace_is_refused_but_our_own_is_not():
    assert [cidr for _net, cidr, _link in foreign_networks(EXISTING, 'gw', 'web')] == ['10.0.4.2/24']
    container_network(dict(CBN, host_netns='gw'), EXISTING)  # 172.30.0.1/24 on cbn0 is ours
    with pytest.raises(RoleInputError) as e:
        container_network(dict(CBN, host_netns='gw', subnet='10.0.0.0/16'), EXISTING)
    assert str(e.value) == ('container_bridge_net_subnet: 10.0.0.0/16 overlaps 10.0.4.2/24 on eth0 in '
                            'namespace gw, which is not part of this network')
    container_network(dict(CBN, host_netns='other', subnet='10.0.0.0/16'), EXISTING)  # another namespace


def test_our_own_bridge_on_the_host_itself_is_not_in_the_way_of_a_re_run():
    # netns_info names the host's own objects "(current)/NAME" in owners.
    existing = {'links': [{'kind': 'bridge', 'name': 'cbn0', 'netns': None, 'addresses': ['172.30.0.1/24']}],
                'owners': {'web': {'links': ['(current)/cbn0']}}}
    container_network(CBN, existing)
    with pytest.raises(RoleInputError):
        container_network(dict(CBN, owner='other'), existing)


def test_seed_000_lab():
    built = router_network(SEED_000)
    normalise_document(document(built), 'lab')
    assert built['namespaces'][0] == {'name': 'router', 'loopback': True, 'sysctls': {'net.ipv4.ip_forward': '1'}}
    assert built['links'][0] == {'kind': 'veth', 'name': 'veth-client', 'netns': 'client', 'addresses': ['10.0.1.2/24'],
                                 'peer': {'name': 'veth-router1', 'netns': 'router', 'addresses': ['10.0.1.1/24']}}
    assert {'netns': 'internet', 'dest': '10.0.0.0/8', 'via': '192.168.3.1'} in built['routes']
    assert {'netns': 'client', 'dest': 'default', 'via': '10.0.1.1'} in built['routes']
    assert built['nat'] == []


def test_a_segment_can_be_a_nat_gateway_side():
    built = router_network({'router': 'r', 'segments': [{'name': 'lan', 'subnet': '10.1.0.0/24'},
                                                        {'name': 'wan', 'subnet': '10.2.0.0/24', 'masquerade': True}]})
    assert built['nat'] == [{'netns': 'r', 'name': 'router_lab', 'masquerade': [{'out_interface': 'veth-router2'}]}]


@pytest.mark.parametrize('segments, problem', [
    ([{'name': 'a', 'subnet': '10.0.0.0/16'}, {'name': 'b', 'subnet': '10.0.1.0/24'}],
     'router_lab_segments[1].subnet: 10.0.1.0/24 overlaps 10.0.0.0/16 of router_lab_segments[0]'),
    ([{'name': 'a', 'subnet': '10.0.0.0/24'}, {'name': 'a', 'subnet': '10.0.1.0/24'}],
     "router_lab_segments[1]: segment name 'a' is already used by router_lab_segments[0]"),
    ([{'name': 'router', 'subnet': '10.0.0.0/24'}], "router_lab_segments[0].name: 'router' is the router namespace"),
    ([{'name': 'a', 'subnet': '10.0.0.0/24', 'router_address': '10.0.1.1'}],
     'router_lab_segments[0].router_address: router_address 10.0.1.1 is outside the subnet 10.0.0.0/24'),
    ([{'name': 'a', 'subnet': '10.0.0.0/24', 'address': '10.0.0.1'}],
     'router_lab_segments[0].address: address 10.0.0.1 is also the router_address'),
    ([{'name': 'a', 'subnet': '10.0.0.0/31'}], 'router_lab_segments[0].subnet: 10.0.0.0/31 is too small'),
    ([{'name': 'a', 'subnet': '10.0.0.0/24', 'routes': ['10.9.0.1/16']}],
     "router_lab_segments[0].routes[0]: '10.9.0.1/16' has host bits set"),
    ([{'name': 'averylongname', 'subnet': '10.0.0.0/24'}], "the interface name 'veth-averylongname' would be longer"),
    ([], 'router_lab_segments: give at least one segment'),
])
def test_bad_router_lab_input_is_named(segments, problem):
    with pytest.raises(RoleInputError) as e:
        router_network({'router': 'router', 'segments': segments})
    assert problem in str(e.value)


UNDERLAY = {'links': [{'kind': 'veth', 'name': 'eth0', 'netns': None, 'mtu': 1500, 'addresses': ['10.250.0.11/24'],
                       'peer': {'name': 'h1-u', 'netns': None, 'mtu': 1500, 'addresses': []}}], 'owners': {}}
OVERLAY = {'owner': 'ov', 'local': '10.250.0.11', 'position': 1, 'port': 4789,
           'peers': ['10.250.0.11', '10.250.0.12', '10.250.0.13'],
           'segments': [{'vni': 100, 'subnet': '10.200.0.0/16', 'containers': 4}]}


def test_one_hosts_part_of_an_overlay():
    from ansible_collections.netvirt.linux.plugins.plugin_utils._labs import vxlan_network
    built = vxlan_network(OVERLAY, UNDERLAY)
    normalise_document(document(built), 'ov')
    vxlan = [link for link in built['links'] if link['kind'] == 'vxlan'][0]
    assert vxlan == {'kind': 'vxlan', 'name': 'vxlan100', 'vni': 100, 'local': '10.250.0.11', 'port': 4789,
                     'master': 'br-vx100', 'learning': True, 'dev': 'eth0', 'mtu': 1450,
                     'fdb': [{'mac': '00:00:00:00:00:00', 'dst': '10.250.0.12'},
                             {'mac': '00:00:00:00:00:00', 'dst': '10.250.0.13'}]}
    # Host 1's slice of 8 addresses: containers .9-.12, its bridge .14; host 2's starts at .16.
    assert built['facts']['containers'] == {'vx100-c1': '10.200.0.9', 'vx100-c2': '10.200.0.10',
                                            'vx100-c3': '10.200.0.11', 'vx100-c4': '10.200.0.12'}
    assert built['links'][0]['addresses'] == ['10.200.0.14/16'] and built['links'][0]['mtu'] == 1450
    assert built['facts']['mtu'] == 1450 and built['nat'] == []
    other = vxlan_network(dict(OVERLAY, position=2, local='10.250.0.12'), None)
    assert other['facts']['containers']['vx100-c1'] == '10.200.0.17'


def test_two_segments_coexist_and_bad_segments_are_named():
    from ansible_collections.netvirt.linux.plugins.plugin_utils._labs import vxlan_network
    two = vxlan_network(dict(OVERLAY, segments=[{'vni': 100, 'subnet': '10.200.0.0/16'},
                                                {'vni': 200, 'subnet': '10.201.0.0/16', 'containers': 1}]), UNDERLAY)
    assert sorted(link['name'] for link in two['links'] if link['kind'] in ('vxlan', 'bridge')) == [
        'br-vx100', 'br-vx200', 'vxlan100', 'vxlan200']
    for segments, problem in (
            ([{'vni': 0, 'subnet': '10.200.0.0/16'}], 'vxlan_overlay_segments[0].vni: 0 is not a VNI'),
            ([{'vni': 7, 'subnet': '10.200.0.0/16'}, {'vni': 7, 'subnet': '10.201.0.0/16'}],
             'vxlan_overlay_segments[1].vni: VNI 7 is already used by vxlan_overlay_segments[0]'),
            ([{'vni': 7, 'subnet': '10.200.0.0/29', 'containers': 4}],
             'vxlan_overlay_segments[0].subnet: 10.200.0.0/29 has no room for host number 1'),
            ([], 'vxlan_overlay_segments: give at least one segment')):
        with pytest.raises(RoleInputError) as e:
            vxlan_network(dict(OVERLAY, segments=segments), UNDERLAY)
        assert problem in str(e.value)


# `-e container_bridge_net_masquerade=false` gives the role the string 'false': it is false.
@pytest.mark.parametrize('value, masqueraded', [
    (False, False), ('false', False), ('no', False), ('False', False), ('0', False), (0, False),
    (True, True), ('true', True), ('yes', True), ('on', True), (1, True),
])
def test_a_boolean_variable_given_as_the_command_line_gives_it(value, masqueraded):
    built = container_network(dict(CBN, masquerade=value))
    assert bool(built['nat']) is masqueraded


@pytest.mark.parametrize('value', ['maybe', 2, [], {'x': 1}])
def test_a_boolean_variable_that_is_none_is_named(value):
    with pytest.raises(RoleInputError) as e:
        container_network(dict(CBN, masquerade=value))
    assert e.value.problems == ['container_bridge_net_masquerade: %r is not a boolean (true or false)' % (value,)]


def test_a_segments_masquerade_given_as_a_string():
    segments = [dict(s, masquerade='false') for s in SEED_000['segments']]
    assert router_network(dict(SEED_000, segments=segments))['nat'] == []
    with pytest.raises(RoleInputError) as e:
        router_network(dict(SEED_000, segments=[dict(segments[0], masquerade='sometimes')] + segments[1:]))
    assert e.value.problems == ["router_lab_segments[0].masquerade: 'sometimes' is not a boolean (true or false)"]


@pytest.mark.parametrize('mtu, problem', [(10, 'vxlan_overlay_mtu: mtu 10 is out of range 68-65535'),
                                          ('x', "vxlan_overlay_mtu: mtu must be a whole number, got 'x'")])
def test_an_overlay_mtu_the_kernel_cannot_take_is_named(mtu, problem):
    from ansible_collections.netvirt.linux.plugins.plugin_utils._labs import vxlan_network
    with pytest.raises(RoleInputError) as e:
        vxlan_network(dict(OVERLAY, mtu=mtu), UNDERLAY)
    assert problem in str(e.value)


def test_each_role_proves_what_it_built_with_default_probes_and_the_users_own():
    from ansible_collections.netvirt.linux.plugins.plugin_utils._labs import vxlan_network
    assert container_network(CBN)['verify'] == [{'from': 'a', 'to': '172.30.0.1'}, {'from': 'b', 'to': '172.30.0.1'}]
    assert router_network(SEED_000)['verify'] == [
        {'from': 'client', 'to': '10.0.1.1'}, {'from': 'server', 'to': '10.0.2.1'},
        {'from': 'internet', 'to': '192.168.3.1'}]
    # Host 1's containers reach their bridge on this host, never a container on another host.
    assert vxlan_network(OVERLAY, UNDERLAY)['verify'] == [
        {'from': 'vx100-c%d' % c, 'to': '10.200.0.14'} for c in range(1, 5)]
    mine = [{'from': 'a', 'to': 'b', 'proto': 'tcp', 'port': 22}, {'from': 'a', 'to': '192.0.2.9', 'expect': 'blocked'}]
    assert container_network(dict(CBN, verify=False, probes=mine))['verify'] == mine
    assert container_network(dict(CBN, verify='false'))['verify'] == []  # -e on the command line gives a string
    assert router_network(dict(SEED_000, probes=mine[:1]))['verify'][-1] == mine[0]
    assert vxlan_network(dict(OVERLAY, verify=False, probes=mine[1:]), UNDERLAY)['verify'] == mine[1:]


@pytest.mark.parametrize('build, settings, problem', [
    (container_network, dict(CBN, probes=[{'from': 'a'}]),
     'container_bridge_net_probes[0].to: a probe needs to'),
    (container_network, dict(CBN, probes=[{'to': 'b', 'proto': 'tcp'}]),
     'container_bridge_net_probes[0].port: a tcp probe needs port'),
    (container_network, dict(CBN, probes='b'), "container_bridge_net_probes: must be a non-empty list of probes, got 'b'"),
    (container_network, dict(CBN, verify='maybe'), "container_bridge_net_verify: 'maybe' is not a boolean"),
    (router_network, dict(SEED_000, probes=[{'to': 'x/y'}]), 'router_lab_probes[0].to: '),
    (router_network, dict(SEED_000, probes=[{'to': 'server', 'expect': 'never'}]),
     "router_lab_probes[0].expect: must be one of reach, blocked, got 'never'"),
])
def test_a_bad_probe_of_a_roles_own_is_named_by_its_variable(build, settings, problem):
    with pytest.raises(RoleInputError) as e:
        build(settings)
    assert problem in str(e.value)


def test_a_bad_probe_of_the_overlays_own_is_named_by_its_variable():
    from ansible_collections.netvirt.linux.plugins.plugin_utils._labs import vxlan_network
    with pytest.raises(RoleInputError) as e:
        vxlan_network(dict(OVERLAY, probes=[{'to': '10.200.0.17', 'count': 0}]), UNDERLAY)
    assert 'vxlan_overlay_probes[0].count: ' in str(e.value)


def test_a_container_or_a_segment_is_shaped_each_way_and_bad_shaping_is_named():
    built = container_network(dict(CBN, containers=[{'name': 'a', 'tc': {'rate': '10mbit'},
                                                     'host_tc': {'delay': '20ms'}}, 'b']))
    normalise_document(document(built), 'web')
    assert built['links'][1]['peer']['tc'] == {'rate': '10mbit'} and built['links'][1]['tc'] == {'delay': '20ms'}
    assert 'tc' not in built['links'][2] and 'tc' not in built['links'][2]['peer']
    lab = router_network(dict(SEED_000, segments=[dict(SEED_000['segments'][0], tc={'loss': '1%'},
                                                       router_tc={'rate': '1mbit'})] + SEED_000['segments'][1:]))
    assert lab['links'][0]['tc'] == {'loss': '1%'} and lab['links'][0]['peer']['tc'] == {'rate': '1mbit'}
    with pytest.raises(RoleInputError) as e:
        container_network(dict(CBN, containers=[{'name': 'a', 'tc': {'rate': 'fast'}}]))
    assert "container_bridge_net_containers[0].tc.rate: rate must be a rate such as 500kbit" in str(e.value)
    with pytest.raises(RoleInputError) as e:
        router_network(dict(SEED_000, segments=[dict(SEED_000['segments'][0], router_tc={'jitter': '1ms'})]))
    assert 'router_lab_segments[0].router_tc.jitter: jitter varies a delay: give delay too' in str(e.value)
