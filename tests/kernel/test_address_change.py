"""Changing an address under a route: the kernel drops the IPv4 routes through a link
when its last IPv4 address goes, so the same run puts them back (issue #16, defect 3)."""

from conftest import converge, ip, ip_json, ping, plan
from test_apply import assert_every_failure_rolls_back
from ansible_collections.netvirt.linux.plugins.module_utils._kernel import Kernel
from ansible_collections.netvirt.linux.plugins.module_utils._apply import apply_plan, host_lock


def lab(address, address6='2001:db8::1/64', gateway='10.0.0.254'):
    """c1 behind the gateway namespace gw, which routes to far (10.5.0.2) on its other side."""
    doc = {
        'namespaces': [{'name': 'gw', 'sysctls': {'net.ipv4.ip_forward': 1}}, {'name': 'c1'}, {'name': 'far'}],
        'links': [
            {'kind': 'bridge', 'name': 'br0', 'netns': 'gw',
             'addresses': ['10.0.0.254/24', '10.0.1.254/24', '2001:db8::fe/64']},
            {'kind': 'veth', 'name': 'v-c1', 'netns': 'gw', 'master': 'br0',
             'peer': {'name': 'eth0', 'netns': 'c1', 'addresses': [address, address6]}},
            {'kind': 'veth', 'name': 'v-far', 'netns': 'gw', 'addresses': ['10.5.0.1/24'],
             'peer': {'name': 'eth0', 'netns': 'far', 'addresses': ['10.5.0.2/24']}},
        ],
        'routes': [{'netns': 'c1', 'dest': 'default', 'via': gateway},
                   {'netns': 'c1', 'dest': '10.6.0.0/16', 'via': gateway, 'table': 100},
                   {'netns': 'c1', 'dest': 'default', 'via': '2001:db8::fe'},
                   {'netns': 'far', 'dest': 'default', 'via': '10.5.0.1'}],
    }
    if address6 is None:
        doc['links'][0]['addresses'].pop()
        doc['links'][1]['peer']['addresses'].pop()
        doc['routes'].pop(2)
    return doc


def routes(netns, family='-4', table='main'):
    return sorted((r['dst'], r.get('gateway'), r.get('dev'))
                  for r in ip_json(family, 'route', 'show', 'table', table, netns=netns))


def test_a_new_address_keeps_the_default_route_in_one_run():
    converge(lab('10.0.0.1/24'))
    assert ping('c1', '10.5.0.2')
    changed = lab('10.0.0.11/24', '2001:db8::11/64')
    with Kernel() as kernel:
        predicted = plan(changed, kernel, check_mode=True).texts
    done = converge(changed)
    assert done.texts == predicted
    assert routes('c1') == [('10.0.0.0/24', None, 'eth0'), ('default', '10.0.0.254', 'eth0')]
    assert routes('c1', table='100') == [('10.6.0.0/16', '10.0.0.254', 'eth0')]
    assert ('default', '2001:db8::fe', 'eth0') in routes('c1', '-6')
    assert ping('c1', '10.5.0.2')
    with Kernel() as kernel:
        again = plan(changed, kernel)
    assert again.texts == [] and again.diff()['before'] == again.diff()['after']


def test_a_new_address_and_a_new_gateway_in_one_run():
    converge(lab('10.0.0.1/24'))
    changed = lab('10.0.1.11/24', gateway='10.0.1.254')
    converge(changed)
    assert routes('c1') == [('10.0.1.0/24', None, 'eth0'), ('default', '10.0.1.254', 'eth0')]
    assert ping('c1', '10.5.0.2')
    with Kernel() as kernel:
        assert plan(changed, kernel).texts == []


def test_a_link_module_changing_the_address_puts_back_the_route_a_route_task_made():
    """As a playbook of per-object tasks does it: the veth task knows nothing of the route."""
    converge(lab('10.0.0.1/24'))
    veth = dict(lab('10.0.0.11/24')['links'][1])
    with Kernel() as kernel, host_lock():
        p = plan({'links': [veth]}, kernel, single=True)
        apply_plan(kernel, p)
    assert 'restore route default via 10.0.0.254 dev eth0 in c1' in p.texts
    assert routes('c1') == [('10.0.0.0/24', None, 'eth0'), ('default', '10.0.0.254', 'eth0')]
    assert ping('c1', '10.5.0.2')
    with Kernel() as kernel:
        for route in lab('10.0.0.11/24')['routes']:
            assert plan({'routes': [route]}, kernel, single=True).texts == []
        assert plan({'links': [veth]}, kernel, single=True).texts == []


def test_a_failure_after_the_address_change_puts_back_the_address_and_its_routes():
    # IPv4 only: the kernel finishes setting up an IPv6 address a while after it is added
    # (duplicate address detection), which a snapshot taken meanwhile would see.
    converge(lab('10.0.0.1/24', None))
    ip('route', 'add', '10.7.0.0/16', 'via', '10.0.0.254', netns='c1')  # by hand: it comes back too
    changed = lab('10.0.0.11/24', None)
    assert_every_failure_rolls_back(changed)
    assert ping('c1', '10.5.0.2')
    done = converge(changed)
    assert done.texts[-1] == 'restore route 10.7.0.0/16 via 10.0.0.254 dev eth0 in c1'
    assert ('10.7.0.0/16', '10.0.0.254', 'eth0') in routes('c1')
    assert [r['protocol'] for r in ip_json('-d', 'route', 'show', '10.7.0.0/16', netns='c1')] == ['boot']
