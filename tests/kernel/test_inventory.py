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


def _default_lab():
    """The documents the default lab's two roles build (router_lab, container_bridge_net).

    Written out, not built with plugin_utils._labs: that is controller code, and this
    lane also runs where only a managed node's packages are installed.
    """
    segments = [('client', '10.0.1', 'default'), ('server', '10.0.2', 'default'),
                ('internet', '192.168.3', '10.0.0.0/8'), ('dockerhost', '10.0.4', 'default')]
    routed = {
        'namespaces': [{'name': 'router', 'sysctls': {'net.ipv4.ip_forward': '1'}}]
        + [{'name': segment[0]} for segment in segments],
        'links': [{'kind': 'veth', 'name': 'veth-' + name, 'netns': name, 'addresses': [net + '.2/24'],
                   'peer': {'name': 'veth-router%d' % i, 'netns': 'router', 'addresses': [net + '.1/24']}}
                  for i, (name, net, dummy) in enumerate(segments, 1)],
        'routes': [{'netns': name, 'dest': dest, 'via': net + '.1'} for name, net, dest in segments],
        'nat': [],
    }
    containers = {
        'namespaces': [{'name': 'c%d' % i} for i in (1, 2, 3)]
        + [{'name': 'dockerhost', 'sysctls': {'net.ipv4.ip_forward': '1'}}],
        'links': [{'kind': 'bridge', 'name': 'docker0', 'netns': 'dockerhost', 'addresses': ['172.17.0.1/16']}]
        + [{'kind': 'veth', 'name': 'veth%d' % (i - 1), 'netns': 'dockerhost', 'master': 'docker0',
            'peer': {'name': 'eth0', 'netns': 'c%d' % i, 'addresses': ['172.17.0.%d/16' % (i + 1)]}}
           for i in (1, 2, 3)],
        'routes': [{'netns': 'c%d' % i, 'dest': 'default', 'via': '172.17.0.1'} for i in (1, 2, 3)],
        'nat': [{'netns': 'dockerhost', 'name': 'docker0',
                 'masquerade': [{'source': '172.17.0.0/16', 'out_interface': '!docker0'}]}],
    }
    return routed, containers


def test_veth_pairs_are_told_apart_when_ifindexes_repeat_across_namespaces():
    # The default lab: every namespace numbers its links from 2, so several
    # namespaces hold a link whose ifindex some other link names as its peer's.
    routed, containers = _default_lab()
    for owner, doc in (('routers', routed), ('containers', containers)):
        converge(doc, owner=owner)
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
