"""macvlan, vxlan, tun/tap and macvtap on the real kernel, with traffic."""

import os
import subprocess

import pytest

from conftest import converge, four_steps, ip_json, link, ping, plan, snapshot
from test_apply import assert_every_failure_rolls_back
from ansible_collections.netvirt.linux.plugins.module_utils import _kernel
from ansible_collections.netvirt.linux.plugins.module_utils._kernel import Kernel
from ansible_collections.netvirt.linux.plugins.module_utils._apply import apply_plan, host_lock
from ansible_collections.netvirt.linux.plugins.module_utils._inventory import read_inventory
from ansible_collections.netvirt.linux.plugins.module_utils._plan import PlanError

MACVLANS = {
    'namespaces': [{'name': 'a'}, {'name': 'b'}],
    'links': [{'kind': 'veth', 'name': 'eth9', 'peer': {'name': 'eth9-x'}},
              {'kind': 'macvlan', 'name': 'macvlan0', 'netns': 'a', 'link': 'eth9', 'addresses': ['192.168.1.50/24']},
              {'kind': 'macvlan', 'name': 'macvlan0', 'netns': 'b', 'link': 'eth9', 'addresses': ['192.168.1.51/24']}],
}


def underlay(*hosts):
    """Namespaces u1, u2, ... joined by a bridge in the current namespace: 192.168.50.N."""
    doc = {'namespaces': [{'name': h} for h in hosts], 'links': [{'kind': 'bridge', 'name': 'under'}]}
    for i, host in enumerate(hosts):
        doc['links'].append({'kind': 'veth', 'name': 'u-%s' % host, 'master': 'under',
                             'peer': {'name': 'eth0', 'netns': host, 'addresses': ['192.168.50.%d/24' % (i + 1)]}})
    return doc


def test_macvlans_in_bridge_mode_on_one_parent_reach_each_other():
    four_steps(MACVLANS)
    info = link('macvlan0', 'a')
    assert info['linkinfo']['info_kind'] == 'macvlan' and info['linkinfo']['info_data']['mode'] == 'bridge'
    assert ping('a', '192.168.1.51') and ping('b', '192.168.1.50')
    with Kernel() as kernel:
        assert plan(MACVLANS, kernel).texts == []


def test_vxlan_carries_ping_across_the_overlay_on_udp_4789():
    doc = underlay('u1', 'u2')
    doc['links'] += [
        {'kind': 'vxlan', 'name': 'vxlan0', 'netns': 'u1', 'vni': 100, 'remote': '192.168.50.2', 'dev': 'eth0',
         'addresses': ['10.100.0.1/24']},
        {'kind': 'vxlan', 'name': 'vxlan0', 'netns': 'u2', 'vni': 100, 'remote': '192.168.50.1', 'dev': 'eth0',
         'addresses': ['10.100.0.2/24']}]
    converge(doc)
    stats = ip_json('-s', 'link', 'show', 'u-u2')[0]['stats64']['tx']['packets']
    assert ping('u1', '10.100.0.2')
    # the underlay saw the packets: a counter on the bridge port of u2 moved, and the kernel reports the port
    assert ip_json('-s', 'link', 'show', 'u-u2')[0]['stats64']['tx']['packets'] > stats
    info = link('vxlan0', 'u1')['linkinfo']['info_data']
    assert (info['id'], info['port'], info['remote']) == (100, 4789, '192.168.50.2')
    with Kernel() as kernel:
        assert plan(doc, kernel).texts == []


def test_head_end_replication_and_a_bridge_with_a_vxlan_port():
    """Three hosts, one segment: each vxlan floods to the others by fdb; containers sit on a bridge."""
    hosts = ('u1', 'u2', 'u3')
    doc = underlay(*hosts)
    for i, host in enumerate(hosts):
        others = [{'dst': '192.168.50.%d' % (j + 1)} for j in range(3) if j != i]
        doc['namespaces'].append({'name': 'c-%s' % host})
        doc['links'] += [
            {'kind': 'bridge', 'name': 'br100', 'netns': host},
            {'kind': 'vxlan', 'name': 'vx100', 'netns': host, 'vni': 100, 'dev': 'eth0', 'master': 'br100',
             'fdb': others},
            {'kind': 'veth', 'name': 'v-c', 'netns': host, 'master': 'br100',
             'peer': {'name': 'eth0', 'netns': 'c-%s' % host, 'addresses': ['10.200.0.%d/24' % (i + 1)]}}]
    converge(doc)
    assert ping('c-u1', '10.200.0.2') and ping('c-u1', '10.200.0.3') and ping('c-u3', '10.200.0.2')
    fdb = subprocess.run(['bridge', '-n', 'u1', 'fdb', 'show', 'dev', 'vx100'], capture_output=True, text=True,
                         check=True).stdout
    assert 'dst 192.168.50.2' in fdb and 'dst 192.168.50.3' in fdb
    # a host leaves: its entry goes from the others, and only that
    doc['links'][-5]['fdb'] = [{'dst': '192.168.50.1'}]
    with Kernel() as kernel:
        texts = plan(doc, kernel).texts
    assert texts == ['remove fdb entry 00:00:00:00:00:00 -> 192.168.50.3 from vx100 in u2']


def test_a_persistent_tap_with_its_owner():
    doc = {'namespaces': [{'name': 'vm'}],
           'links': [{'kind': 'tuntap', 'name': 'tap0', 'netns': 'vm', 'mode': 'tap', 'user': 'nobody'},
                     {'kind': 'tuntap', 'name': 'tun0', 'netns': 'vm', 'mode': 'tun', 'addresses': ['10.8.0.1/24']}]}
    four_steps(doc)
    tap = link('tap0', 'vm')['linkinfo']['info_data']
    assert (tap['type'], tap['pi'], tap['persist'], tap['user']) == ('tap', False, True, 'nobody')
    assert link('tun0', 'vm')['linkinfo']['info_data']['type'] == 'tun'
    with Kernel() as kernel:
        assert plan(doc, kernel).texts == []


def test_what_cannot_change_in_place_fails_or_is_recreated():
    converge(MACVLANS)
    changed = {'links': [dict(MACVLANS['links'][1], mode='private')]}
    before = snapshot()
    with pytest.raises(PlanError, match='mode of macvlan macvlan0 in a is bridge, not private: the kernel cannot '
                                        'change it in place; set recreate: true'):
        converge(changed)
    assert snapshot() == before
    done = converge({'links': [dict(MACVLANS['links'][1], mode='private', recreate=True)]})
    assert done.texts[:2] == ['remove, to recreate, macvlan macvlan0 in a',
                              'recreate macvlan macvlan0 in a (parent eth9 in the current namespace, mode private)']
    assert link('macvlan0', 'a')['linkinfo']['info_data']['mode'] == 'private'


def test_rollback_brings_the_new_kinds_back_exactly():
    hosts = ('u1', 'u2')
    doc = underlay(*hosts)
    doc['links'] += [{'kind': 'vxlan', 'name': 'vx1', 'netns': 'u1', 'vni': 7, 'dev': 'eth0',
                      'fdb': [{'dst': '192.168.50.2'}], 'addresses': ['10.7.0.1/24']},
                     {'kind': 'macvlan', 'name': 'mv1', 'netns': 'u2', 'link': 'eth0', 'link_netns': 'u2'}]
    converge(doc)
    change = {'links': [dict(doc['links'][-2], vni=8, recreate=True, fdb=[{'dst': '192.168.50.3'}]),
                        dict(doc['links'][-1], mode='vepa', recreate=True),
                        {'kind': 'tuntap', 'name': 'tap9', 'netns': 'u1', 'mode': 'tap'}]}
    assert_every_failure_rolls_back(change)


def test_a_missing_parent_or_underlay_is_named():
    converge({'namespaces': [{'name': 'a'}]})
    for entry, message in (
            ({'kind': 'macvlan', 'name': 'm', 'netns': 'a', 'link': 'nope'}, 'links[0].link: parent nope does not exist'),
            ({'kind': 'vxlan', 'name': 'v', 'netns': 'a', 'vni': 5, 'dev': 'nope'},
             'links[0].dev: underlay device nope does not exist in a')):
        with pytest.raises(PlanError, match=message.replace('[', '\\[').replace(']', '\\]')):
            converge({'links': [entry]})
    assert [entry['ifname'] for entry in ip_json('link', 'show', netns='a')] == ['lo']


def test_a_link_of_another_kind_is_replaced_only_with_recreate():
    converge({'namespaces': [{'name': 'a'}], 'links': [{'kind': 'bridge', 'name': 'tap0', 'netns': 'a'}]})
    wanted = {'kind': 'tuntap', 'name': 'tap0', 'netns': 'a', 'mode': 'tap'}
    with pytest.raises(PlanError, match='tap0 already exists in a and is a bridge, not a tuntap; set recreate: true'):
        converge({'links': [wanted]})
    done = converge({'links': [dict(wanted, recreate=True)]})
    assert done.texts[:2] == ['remove, to recreate, bridge tap0 in a', 'add tap tap0 in a']
    assert link('tap0', 'a')['linkinfo']['info_data']['type'] == 'tap'


def run_task(doc):
    """One task of a playbook: a per-object module's plan and apply, with its own kernel handle."""
    with Kernel() as kernel, host_lock():
        p = plan(doc, kernel, single=True)
        apply_plan(kernel, p)
        return p


def test_removing_a_namespace_with_a_macvlan_whose_parent_is_elsewhere(monkeypatch):
    """The guide's seed 000 MACVLAN section, then `netns state=absent` on netns1.

    The removal used to wait 30 s for the macvlan's parent (eth0, which stays)
    to go, as if it were a veth peer, then fail although netns1 was gone.  The
    kernel destroys a macvlan with its namespace; only veth peers elsewhere are
    taken away later."""
    run_task({'namespaces': [{'name': 'netns1'}]})
    run_task({'links': [{'kind': 'veth', 'name': 'eth0', 'addresses': ['192.168.50.1/24'],
                         'peer': {'name': 'eth0-wire'}}]})
    run_task({'links': [{'kind': 'macvlan', 'name': 'macvlan0', 'link': 'eth0', 'mode': 'bridge', 'netns': 'netns1',
                         'addresses': ['192.168.50.11/24']}]})
    run_task({'links': [{'kind': 'tuntap', 'name': 'tun0', 'mode': 'tun'}]})
    run_task({'links': [{'kind': 'vxlan', 'name': 'vxlan0', 'vni': 100, 'remote': '192.168.1.2', 'port': 4789,
                         'dev': 'eth0'}]})
    assert link('macvlan0', 'netns1')['linkinfo']['info_kind'] == 'macvlan'
    home = sorted(entry['ifname'] for entry in ip_json('link', 'show'))
    waits = []
    monkeypatch.setattr(_kernel.time, 'sleep', waits.append)
    done = run_task({'namespaces': [{'name': 'netns1', 'state': 'absent'}]})
    assert done.changed and done.texts == ['remove netns netns1']
    assert waits == [], 'the removal waited for something that does not go'
    assert os.listdir('/run/netns') == []
    # The kernel destroyed the macvlan with its namespace: it did not come back here, and its parent stays.
    assert sorted(entry['ifname'] for entry in ip_json('link', 'show')) == home
    assert 'macvlan0' not in home and 'eth0' in home
    with Kernel() as kernel:
        assert plan({'namespaces': [{'name': 'netns1', 'state': 'absent'}]}, kernel, single=True).texts == []


def test_a_recreated_link_gets_the_routes_through_it_back_and_a_rollback_too():
    """A macvlan recreated for a new mode is a new link: the routes through the old one went with it."""
    route = {'netns': 'a', 'dest': '10.50.0.0/16', 'via': '192.168.1.51'}
    converge(dict(MACVLANS, routes=[route]))
    subprocess.run(['ip', '-n', 'a', 'route', 'add', '10.60.0.0/16', 'via', '192.168.1.51'], check=True)  # by hand
    change = {'links': [dict(MACVLANS['links'][1], mode='private', recreate=True)], 'routes': [route]}
    assert_every_failure_rolls_back(change)
    done = converge(change)
    assert done.texts[-2:] == ['add route 10.50.0.0/16 via 192.168.1.51 in a',
                               'restore route 10.60.0.0/16 via 192.168.1.51 dev macvlan0 in a']
    assert link('macvlan0', 'a')['linkinfo']['info_data']['mode'] == 'private'
    assert sorted((r['dst'], r.get('gateway'), r['dev']) for r in ip_json('route', 'show', netns='a')) == [
        ('10.50.0.0/16', '192.168.1.51', 'macvlan0'), ('10.60.0.0/16', '192.168.1.51', 'macvlan0'),
        ('192.168.1.0/24', None, 'macvlan0')]
    with Kernel() as kernel:
        assert plan(dict(change, links=[dict(change['links'][0], recreate=False)]), kernel).texts == []


MACVTAPS = {
    'namespaces': [{'name': 'vm1'}, {'name': 'far'}],
    'links': [{'kind': 'veth', 'name': 'wire0',
               'peer': {'name': 'wire0', 'netns': 'far', 'addresses': ['10.7.0.2/24']}},
              {'kind': 'macvtap', 'name': 'mvt0', 'netns': 'vm1', 'link': 'wire0', 'mode': 'bridge',
               'addresses': ['10.7.0.1/24']}],
}


def test_a_macvtap_in_a_namespace_carries_ping_across_its_parent():
    """The four steps; check mode's diff is what the real run then reads back; traffic crosses the
    parent in the current namespace; netns_info reports it as the document writes it; it goes."""
    with Kernel() as kernel:
        predicted = plan(MACVTAPS, kernel, check_mode=True)
    assert 'add macvtap mvt0 in vm1 (parent wire0 in the current namespace, mode bridge)' in predicted.texts
    four_steps(MACVTAPS)
    with Kernel() as kernel:
        again = plan(MACVTAPS, kernel, check_mode=True)
    assert again.diff()['before'] == predicted.diff()['after']
    info = link('mvt0', 'vm1')
    assert (info['linkinfo']['info_kind'], info['linkinfo']['info_data']['mode']) == ('macvtap', 'bridge')
    parent = ip_json('-s', 'link', 'show', 'wire0')[0]['stats64']
    assert ping('vm1', '10.7.0.2') and ping('far', '10.7.0.1')
    after = ip_json('-s', 'link', 'show', 'wire0')[0]['stats64']
    assert after['tx']['packets'] > parent['tx']['packets'] and after['rx']['packets'] > parent['rx']['packets']
    with Kernel() as kernel:
        report = read_inventory(kernel, ['vm1'], include_host=False)
    entry = [e for e in report['links'] if e['name'] == 'mvt0'][0]
    assert (entry['kind'], entry['link'], entry['link_netns'], entry['mode'], entry['addresses']) == (
        'macvtap', 'wire0', None, 'bridge', ['10.7.0.1/24'])
    assert report['owners']['test']['links'] == ['vm1/mvt0']
    gone = {'links': [dict(MACVTAPS['links'][1], state='absent')]}
    assert converge(gone).texts == ['remove macvtap mvt0 in vm1']
    assert link('mvt0', 'vm1') is None and link('wire0') is not None
    assert converge(gone).texts == []


def test_a_macvtap_mode_change_is_refused_or_recreated_and_rolled_back():
    converge(MACVTAPS)
    changed = dict(MACVTAPS['links'][1], mode='vepa')
    with pytest.raises(PlanError, match='mode of macvtap mvt0 in vm1 is bridge, not vepa: the kernel cannot change'):
        converge({'links': [changed]})
    assert_every_failure_rolls_back({'links': [dict(changed, recreate=True)]}, at_least=3)
    done = converge({'links': [dict(changed, recreate=True)]})
    assert done.texts[:2] == ['remove, to recreate, macvtap mvt0 in vm1',
                              'recreate macvtap mvt0 in vm1 (parent wire0 in the current namespace, mode vepa)']
    assert link('mvt0', 'vm1')['linkinfo']['info_data']['mode'] == 'vepa'
    assert ping('vm1', '10.7.0.2')
