"""Every kind of action against the real kernel, read back with `ip -j`."""

import os
import subprocess

import pytest

from conftest import addresses, converge, ip, ip_json, link, ping, plan, snapshot
from ansible_collections.netvirt.linux.plugins.module_utils._kernel import Kernel, KernelError
from ansible_collections.netvirt.linux.plugins.module_utils._model import ModelError
from ansible_collections.netvirt.linux.plugins.module_utils._plan import PlanError

SEED_002 = {
    'namespaces': [{'name': 'ns%d' % i} for i in range(3)],
    'links': [{'kind': 'bridge', 'name': 'docker0', 'addresses': ['172.17.0.1/16']}] + [
        {'kind': 'veth', 'name': 'veth%d' % i, 'master': 'docker0',
         'peer': {'name': 'eth0', 'netns': 'ns%d' % i, 'addresses': ['172.17.0.%d/16' % (101 + i)]}}
        for i in range(3)],
    'routes': [{'netns': 'ns%d' % i, 'dest': 'default', 'via': '172.17.0.1'} for i in range(3)],
}


def test_namespace_is_created_without_a_fork_and_marked_ours(kernel):
    kernel.op_create_namespace('ns1', 'lab')
    assert os.listdir('/run/netns') == ['ns1']
    lo = link('lo', 'ns1')
    assert lo['ifalias'] == 'netvirt:lab'
    assert kernel.namespace_owner('ns1') == 'lab'
    # `ip netns` sees it as its own
    assert ip('netns', 'list').stdout.split()[0] == 'ns1'
    kernel.op_delete_namespace('ns1')
    assert os.listdir('/run/netns') == []


def test_seed_002_builds_pings_and_is_idempotent():
    p = converge(SEED_002)
    # 3 namespaces, 4 links, 3 ports, 4 addresses, 10 links up (lo, veth, eth0, docker0), 3 routes
    assert len(p.actions) == 3 + 4 + 3 + 4 + 10 + 3
    bridge = link('docker0')
    assert bridge['linkinfo']['info_kind'] == 'bridge'
    assert bridge['ifalias'] == 'netvirt:test'
    assert addresses('docker0') == ['172.17.0.1/16']
    for i in range(3):
        assert link('veth%d' % i)['master'] == 'docker0'
        eth0 = link('eth0', 'ns%d' % i)
        assert eth0['linkinfo']['info_kind'] == 'veth' and 'UP' in eth0['flags']
        assert addresses('eth0', 'ns%d' % i) == ['172.17.0.%d/16' % (101 + i)]
        routes = ip_json('route', 'show', 'default', netns='ns%d' % i)
        assert routes[0]['gateway'] == '172.17.0.1' and routes[0]['protocol'] == '245'
    for i in range(3):
        assert ping('ns%d' % i, '172.17.0.1')
        for j in range(3):
            assert ping('ns%d' % i, '172.17.0.%d' % (101 + j))
    with Kernel() as kernel:
        again = plan(SEED_002, kernel)
    assert again.texts == []
    assert again.diff()['before'] == again.diff()['after']


def test_check_mode_plan_changes_nothing_and_equals_the_real_run():
    before = snapshot()
    with Kernel() as kernel:
        # As a module sees it: the namespaces come from earlier tasks.
        assumed = plan(dict(SEED_002, namespaces=[]), kernel, check_mode=True, single=True)
    assert snapshot() == before
    assert len(assumed.warnings) == 3 and 'add veth veth0 in the current namespace (peer eth0 in ns0)' in assumed.texts
    converge({'namespaces': SEED_002['namespaces']})
    with Kernel() as kernel:
        predicted = plan(SEED_002, kernel, check_mode=True).texts
    assert converge(SEED_002).texts == predicted


def test_peer_made_by_hand_is_moved_and_renamed_as_seed_002_does_with_force():
    converge({'namespaces': [{'name': 'ns0'}]})
    ip('link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1')
    before = snapshot()
    doc = {'links': [{'kind': 'veth', 'name': 'veth0', 'peer': {'name': 'eth0', 'netns': 'ns0'}}]}
    # Not ours: moving its peer needs force, and the refusal says what force would do (issue 17, item 14).
    with pytest.raises(PlanError, match=r"links\[0\]\.name: veth veth0 in the current namespace was not created by "
                                        r"netvirt.linux; set force: true .* move veth peer veth1"):
        converge(doc)
    assert snapshot() == before
    p = converge(doc, force=True)
    assert p.texts[0] == 'move veth peer veth1 in the current namespace to eth0 in ns0'
    assert link('veth1') is None
    eth0 = link('eth0', 'ns0')
    assert eth0 is not None and 'UP' in eth0['flags']
    # a rename within the namespace
    p = converge({'links': [{'kind': 'veth', 'name': 'veth0', 'peer': {'name': 'eth1', 'netns': 'ns0'}}]}, force=True)
    assert p.texts[0] == 'rename veth peer eth0 in ns0 to eth1 in ns0'
    assert link('eth1', 'ns0') is not None and link('eth0', 'ns0') is None


def test_attributes_mtu_mac_up_addresses_change_in_place():
    converge({'namespaces': [{'name': 'a'}],
              'links': [{'kind': 'veth', 'name': 'v0', 'netns': 'a', 'peer': {'name': 'v1', 'netns': 'a'}}]})
    index = link('v0', 'a')['ifindex']
    converge({'links': [{'kind': 'veth', 'name': 'v0', 'netns': 'a', 'mtu': 1400, 'mac': '02:00:00:00:00:0a',
                         'up': False, 'addresses': ['10.1.0.1/24', 'fd00::1/64'],
                         'peer': {'name': 'v1', 'netns': 'a', 'mtu': 1400}}]})
    v0 = link('v0', 'a')
    assert v0['ifindex'] == index  # changed in place, not recreated
    assert (v0['mtu'], v0['address']) == (1400, '02:00:00:00:00:0a')
    assert 'UP' not in v0['flags']
    assert link('v1', 'a')['mtu'] == 1400
    assert addresses('v0', 'a') == ['10.1.0.1/24', 'fd00::1/64']
    converge({'links': [{'kind': 'veth', 'name': 'v0', 'netns': 'a', 'addresses': ['10.1.0.2/24'],
                         'peer': {'name': 'v1', 'netns': 'a'}}]})
    assert addresses('v0', 'a') == ['10.1.0.2/24']


def test_bridge_options_and_exact_ports():
    converge({'links': [{'kind': 'bridge', 'name': 'br0', 'stp': True, 'forward_delay': 4},
                        {'kind': 'veth', 'name': 'a', 'peer': {'name': 'a-p'}},
                        {'kind': 'veth', 'name': 'b', 'master': 'br0', 'peer': {'name': 'b-p'}}]})
    info = link('br0')['linkinfo']['info_data']
    assert (info['stp_state'], info['forward_delay']) == (1, 400)
    assert link('b')['master'] == 'br0'
    converge({'links': [{'kind': 'bridge', 'name': 'br0', 'ports': ['a'], 'stp': False}]})
    assert link('a')['master'] == 'br0' and 'master' not in link('b')
    assert link('br0')['linkinfo']['info_data']['stp_state'] == 0


def test_routes_metric_table_ipv6_and_foreign_routes_are_left_alone():
    converge({'namespaces': [{'name': 'r'}],
              'links': [{'kind': 'veth', 'name': 'v0', 'netns': 'r', 'addresses': ['10.0.0.1/24', 'fd00::1/64'],
                         'peer': {'name': 'v1', 'netns': 'r'}}]})
    ip('route', 'add', '10.9.0.0/16', 'via', '10.0.0.2', netns='r')
    converge({'routes': [{'netns': 'r', 'dest': '10.8.0.0/16', 'via': '10.0.0.2', 'metric': 7, 'table': 100},
                         {'netns': 'r', 'dest': 'fd01::/64', 'via': 'fd00::2'},
                         {'netns': 'r', 'dest': '10.7.0.0/16', 'dev': 'v0'}]})
    table = ip_json('route', 'show', 'table', '100', netns='r')
    assert table == [dict(table[0], dst='10.8.0.0/16', gateway='10.0.0.2', metric=7)]
    assert ip_json('-6', 'route', 'show', 'fd01::/64', netns='r')[0]['gateway'] == 'fd00::2'
    with Kernel() as kernel:
        assert plan({'routes': [{'netns': 'r', 'dest': 'fd01::/64', 'via': 'fd00::2'}]}, kernel).texts == []
        with pytest.raises(PlanError, match='was not created by netvirt.linux'):
            plan({'routes': [{'netns': 'r', 'dest': '10.9.0.0/16', 'via': '10.0.0.3'}]}, kernel)
        with pytest.raises(PlanError, match='was not created by netvirt.linux'):
            plan({'routes': [{'netns': 'r', 'dest': '10.9.0.0/16', 'state': 'absent'}]}, kernel)
    converge({'routes': [{'netns': 'r', 'dest': '10.8.0.0/16', 'metric': 7, 'table': 100, 'state': 'absent'}]})
    assert ip_json('route', 'show', 'table', '100', netns='r') == []
    assert ip_json('route', 'show', '10.9.0.0/16', netns='r')[0]['gateway'] == '10.0.0.2'


def test_sysctls_are_per_namespace_and_files_are_written():
    host_forward = open('/proc/sys/net/ipv4/ip_forward').read()
    converge({'namespaces': [{'name': 'router', 'sysctls': {'net.ipv4.ip_forward': 1,
                                                            'net.ipv6.conf.all.forwarding': '1'},
                              'nameservers': ['10.0.2.2'], 'hosts': {'10.0.2.2': ['server', 'web']}}]})
    out = subprocess.run(['ip', 'netns', 'exec', 'router', 'cat', '/proc/sys/net/ipv4/ip_forward'],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == '1'
    assert open('/proc/sys/net/ipv4/ip_forward').read() == host_forward
    resolv = subprocess.run(['ip', 'netns', 'exec', 'router', 'cat', '/etc/resolv.conf'],
                            capture_output=True, text=True, check=True).stdout
    assert 'nameserver 10.0.2.2' in resolv
    hosts = subprocess.run(['ip', 'netns', 'exec', 'router', 'getent', 'hosts', 'web'],
                           capture_output=True, text=True, check=True).stdout
    assert hosts.split()[0] == '10.0.2.2'
    converge({'namespaces': [{'name': 'router', 'state': 'absent'}]})
    assert os.listdir('/etc/netns') == [] and os.listdir('/run/netns') == []


def test_ownership_protects_other_peoples_links_and_namespaces():
    ip('link', 'add', 'theirs', 'type', 'bridge')
    ip('netns', 'add', 'their-ns')
    before = snapshot()
    for doc in ({'links': [{'kind': 'bridge', 'name': 'theirs', 'state': 'absent'}]},
                {'namespaces': [{'name': 'their-ns', 'state': 'absent'}]}):
        with pytest.raises(PlanError, match='was not created by netvirt.linux'):
            converge(doc)
    converge({'links': [{'kind': 'bridge', 'name': 'mine'}]}, owner='lab1')
    with pytest.raises(PlanError, match='belongs to owner lab1, not lab2'):
        converge({'links': [{'kind': 'bridge', 'name': 'mine', 'state': 'absent'}]}, owner='lab2')
    converge({'links': [{'kind': 'bridge', 'name': 'mine', 'state': 'absent'}]}, owner='lab1')
    assert snapshot() == before
    converge({'links': [{'kind': 'bridge', 'name': 'theirs', 'state': 'absent'}]}, force=True)
    assert link('theirs') is None


def test_namespace_names_never_leave_run_netns(kernel):
    for name in ('../etc', 'a/b', '..'):
        with pytest.raises(KernelError, match='not a plain name'):
            kernel.op_create_namespace(name, 'x')
    assert os.listdir('/run/netns') == []


def test_a_link_name_the_kernel_would_expand_is_refused_and_nothing_changes():
    # `ip link add br%d type bridge` makes br0: the link made would not be the one named (issue 17.1).
    before = snapshot()
    with pytest.raises(ModelError) as e:
        converge({'links': [{'kind': 'bridge', 'name': 'br%d'}]})
    assert "links[0].name: name 'br%d' must not contain '%'" in str(e.value)
    assert snapshot() == before
    assert 'br0' not in [entry['ifname'] for entry in ip_json('link', 'show')]
