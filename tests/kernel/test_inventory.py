"""netns_info's reader: what it reports is what exists, and it goes back into topology unchanged."""

from conftest import converge, ip, plan
from test_topology import container_lab
from ansible_collections.netvirt.linux.plugins.module_utils._kernel import Kernel
from ansible_collections.netvirt.linux.plugins.module_utils._inventory import read_inventory


def test_the_report_is_a_lab_that_needs_nothing_more():
    converge(container_lab(3), owner='lab')
    ip('netns', 'add', 'unrelated')
    with Kernel() as kernel:
        report = read_inventory(kernel, ['h', 'c*'], include_host=False)
    assert [ns['name'] for ns in report['namespaces']] == ['c0', 'c1', 'c2', 'h']
    bridge = [link for link in report['links'] if link['kind'] == 'bridge'][0]
    assert bridge['netns'] == 'h' and bridge['ports'] == ['v-c0', 'v-c1', 'v-c2']
    veth = [link for link in report['links'] if link['name'] == 'v-c1'][0]
    assert veth['peer']['netns'] == 'c1' and veth['peer']['addresses'] == ['10.88.0.11/16']
    assert len([link for link in report['links'] if link['kind'] == 'veth']) == 3  # each pair once
    assert sorted(report['owners']['lab']['namespaces']) == ['c0', 'c1', 'c2', 'h']
    assert 'ip saddr 10.88.0.0/16 oifname != "br0" masquerade' in '\n'.join(report['nat_tables'][0]['rules'])
    lab = dict((key, report[key]) for key in ('namespaces', 'links', 'routes'))
    with Kernel() as kernel:
        assert plan(lab, kernel, owner='lab').texts == []


def _pairs(links):
    return set(frozenset([(link['netns'], link['name']), (link['peer']['netns'], link['peer']['name'])])
               for link in links if link['kind'] == 'veth')


def test_veth_pairs_are_told_apart_when_ifindexes_repeat_across_namespaces():
    # The default lab: every namespace numbers its links from 2, so several
    # namespaces hold a link whose ifindex some other link names as its peer's.
    from ansible_collections.netvirt.linux.plugins.plugin_utils._labs import container_network, router_network
    routed = router_network({'router': 'router', 'segments': [
        {'name': 'client', 'subnet': '10.0.1.0/24'}, {'name': 'server', 'subnet': '10.0.2.0/24'},
        {'name': 'internet', 'subnet': '192.168.3.0/24', 'routes': ['10.0.0.0/8']},
        {'name': 'dockerhost', 'subnet': '10.0.4.0/24'}]})
    containers = container_network({'owner': 'containers', 'host_netns': 'dockerhost', 'bridge': 'docker0',
                                    'subnet': '172.17.0.0/16', 'ifname': 'eth0', 'masquerade': True,
                                    'containers': [{'name': 'c%d' % i, 'host_veth': 'veth%d' % (i - 1)}
                                                   for i in (1, 2, 3)]})
    for owner, doc in (('routers', routed), ('containers', containers)):
        converge(dict((k, doc[k]) for k in ('namespaces', 'links', 'routes', 'nat')), owner=owner)
    with Kernel() as kernel:
        report = read_inventory(kernel, None, include_host=False)
    assert _pairs(report['links']) == _pairs(routed['links'] + containers['links'])
    assert len([link for link in report['links'] if link['kind'] == 'veth']) == 7
    assert report['owners']['containers']['nat_tables'] == ['dockerhost/docker0']


def test_kind_fields_are_reported_and_feed_back_unchanged():
    lab = {
        'namespaces': [{'name': 'h'}, {'name': 'm'}],
        'links': [
            {'kind': 'veth', 'name': 'eth0', 'netns': 'h', 'addresses': ['192.168.70.1/24'],
             'peer': {'name': 'wire', 'netns': 'h'}},
            {'kind': 'macvlan', 'name': 'mv0', 'link': 'eth0', 'link_netns': 'h', 'netns': 'm', 'mode': 'bridge',
             'addresses': ['192.168.70.5/24']},
            {'kind': 'vxlan', 'name': 'vx7', 'netns': 'h', 'vni': 7, 'local': '192.168.70.1', 'dev': 'eth0',
             'fdb': [{'mac': '00:00:00:00:00:00', 'dst': '192.168.70.2'},
                     {'mac': '00:00:00:00:00:00', 'dst': '192.168.70.3'}]},
        ],
    }
    converge(lab, owner='lab')
    with Kernel() as kernel:
        report = read_inventory(kernel, ['h', 'm'], include_host=False)
    by_name = dict((link['name'], link) for link in report['links'])
    assert by_name['mv0']['link'] == 'eth0' and by_name['mv0']['link_netns'] == 'h'
    assert by_name['mv0']['mode'] == 'bridge'
    assert by_name['vx7']['vni'] == 7 and by_name['vx7']['dev'] == 'eth0' and by_name['vx7']['local'] == '192.168.70.1'
    assert [e['dst'] for e in by_name['vx7']['fdb']] == ['192.168.70.2', '192.168.70.3']
    fed_back = dict((key, report[key]) for key in ('namespaces', 'links', 'routes'))
    with Kernel() as kernel:
        assert plan(fed_back, kernel, owner='lab').texts == []
