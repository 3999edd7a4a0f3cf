"""VLAN, IPVLAN, GENEVE, dummy and netem (a link end's tc and tc_ingress beyond a rate), which this machine's kernel
lacks: the VM lane (tests/vm/run) runs them under Debian stable's kernel with NETVIRT_REQUIRE_KINDS set,
where a missing kind is a failure."""

import contextlib
import gc
import io
import json
import os
import runpy
import subprocess
from unittest import mock

import re

import pytest

from conftest import converge, four_steps, ip_json, link, ping, plan, snapshot
from test_apply import assert_every_failure_rolls_back
from ansible_collections.netvirt.linux.plugins.module_utils._inventory import read_inventory
from ansible_collections.netvirt.linux.plugins.module_utils._kernel import Kernel


def kernel_has(kind):
    """Whether this kernel can make a link (or a qdisc) of this kind (tried in a scratch namespace, then removed)."""
    args = {'vlan': ['link', 'lo', 'type', 'vlan', 'id', '9'], 'ipvlan': ['link', 'lo', 'type', 'ipvlan'],
            'geneve': ['type', 'geneve', 'id', '9', 'remote', '192.0.2.1'], 'dummy': ['type', 'dummy'],
            'netem': None}[kind]
    subprocess.run(['ip', 'netns', 'add', 'probe'], check=True)
    try:
        subprocess.run(['ip', '-n', 'probe', 'link', 'add', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1'],
                       check=True)
        if args is None:
            return subprocess.run(['tc', '-n', 'probe', 'qdisc', 'add', 'dev', 'probe0', 'root', 'netem', 'delay',
                                   '1ms'], capture_output=True, check=False).returncode == 0
        if args[0] == 'link':
            args[1] = 'probe0'
        return subprocess.run(['ip', '-n', 'probe', 'link', 'add', 'probe2'] + args, capture_output=True,
                              check=False).returncode == 0
    finally:
        subprocess.run(['ip', 'netns', 'del', 'probe'], check=True)


def need(kind):
    if kernel_has(kind):
        return
    if kind in os.environ.get('NETVIRT_REQUIRE_KINDS', '').split(','):
        pytest.fail('this kernel cannot make %s links, and the VM lane requires them' % kind)
    pytest.skip("this kernel has no %s; the VM lane (make vm) proves it under Debian stable's kernel" % kind)


def test_vlan_subinterfaces_carry_only_their_own_tag():
    """A trunk veth between t1 and t2 with .100 and .200 on each end; .300 against .301 never meet."""
    need('vlan')
    doc = {'namespaces': [{'name': 't1'}, {'name': 't2'}],
           'links': [{'kind': 'veth', 'name': 'eth0', 'netns': 't1', 'peer': {'name': 'eth0', 'netns': 't2'}}]}
    for host, last in (('t1', 1), ('t2', 2)):
        for vid in (100, 200):
            doc['links'].append({'kind': 'vlan', 'name': 'eth0.%d' % vid, 'netns': host, 'link': 'eth0', 'id': vid,
                                 'addresses': ['10.%d.0.%d/24' % (vid // 100, last)]})
        vid = 300 if host == 't1' else 301
        doc['links'].append({'kind': 'vlan', 'name': 'eth0.%d' % vid, 'netns': host, 'link': 'eth0', 'id': vid,
                             'addresses': ['10.3.0.%d/24' % last]})
    four_steps(doc)
    info = link('eth0.100', 't1')['linkinfo']['info_data']
    assert (info['id'], info['protocol']) == (100, '802.1Q')
    assert ping('t1', '10.1.0.2') and ping('t1', '10.2.0.2')   # 100 meets 100, 200 meets 200
    assert not ping('t1', '10.3.0.2')                           # 300 never meets 301
    with Kernel() as kernel:
        assert plan(doc, kernel).texts == []
        doc['links'][-1]['id'] = 302
        with pytest.raises(Exception, match='id of vlan eth0.301 in t2 is 301, not 302'):
            plan(doc, kernel)


def test_ipvlan_l2_and_l3_connect_namespaces():
    need('ipvlan')
    for mode in ('l2', 'l3'):
        doc = {'namespaces': [{'name': 'a'}, {'name': 'b'}],
               'links': [{'kind': 'veth', 'name': 'par', 'peer': {'name': 'par-x'}},
                         {'kind': 'ipvlan', 'name': 'ipv0', 'netns': 'a', 'link': 'par', 'mode': mode,
                          'addresses': ['10.6.0.1/24']},
                         {'kind': 'ipvlan', 'name': 'ipv0', 'netns': 'b', 'link': 'par', 'mode': mode,
                          'addresses': ['10.6.0.2/24']}]}
        four_steps(doc, owner='ipvlan-' + mode)
        assert link('ipv0', 'a')['linkinfo']['info_data']['mode'] == mode
        assert ping('a', '10.6.0.2') and ping('b', '10.6.0.1')
        with Kernel() as kernel:
            assert plan(doc, kernel, owner='ipvlan-' + mode).texts == []
        converge({'namespaces': [], 'links': [], 'routes': []}, owner='ipvlan-' + mode, purge=True)


def test_geneve_carries_ping():
    need('geneve')
    doc = {'namespaces': [{'name': 'g1'}, {'name': 'g2'}],
           'links': [{'kind': 'veth', 'name': 'ul', 'netns': 'g1', 'addresses': ['192.168.60.1/24'],
                      'peer': {'name': 'ul', 'netns': 'g2', 'addresses': ['192.168.60.2/24']}},
                     {'kind': 'geneve', 'name': 'gen0', 'netns': 'g1', 'vni': 100, 'remote': '192.168.60.2',
                      'addresses': ['10.60.0.1/24']},
                     {'kind': 'geneve', 'name': 'gen0', 'netns': 'g2', 'vni': 100, 'remote': '192.168.60.1',
                      'addresses': ['10.60.0.2/24']}]}
    four_steps(doc)
    before = ip_json('-s', 'link', 'show', 'ul', netns='g2')[0]['stats64']['rx']['packets']
    assert ping('g1', '10.60.0.2')
    assert ip_json('-s', 'link', 'show', 'ul', netns='g2')[0]['stats64']['rx']['packets'] > before
    info = link('gen0', 'g1')['linkinfo']['info_data']
    assert (info['id'], info['remote']) == (100, '192.168.60.2')
    with Kernel() as kernel:
        assert plan(doc, kernel).texts == []


DUMMIES = {
    'namespaces': [{'name': 'r1'}, {'name': 'r2'}],
    'links': [{'kind': 'veth', 'name': 'ul', 'netns': 'r1', 'addresses': ['192.168.62.1/24'],
               'peer': {'name': 'ul', 'netns': 'r2', 'addresses': ['192.168.62.2/24']}},
              {'kind': 'dummy', 'name': 'svc0', 'netns': 'r2', 'mtu': 9000, 'addresses': ['10.255.0.2/32']}],
    'routes': [{'netns': 'r1', 'dest': '10.255.0.2/32', 'via': '192.168.62.2'}],
}


def test_a_dummy_holds_an_address_its_namespace_answers_on():
    """The four steps, with check mode's diff what the real run reads back; r1 reaches the dummy's
    address through r2; netns_info reports it; a rollback brings a removed one back; it goes."""
    need('dummy')
    with Kernel() as kernel:
        predicted = plan(DUMMIES, kernel, check_mode=True)
    assert 'add dummy svc0 in r2' in predicted.texts
    four_steps(DUMMIES)
    with Kernel() as kernel:
        again = plan(DUMMIES, kernel, check_mode=True).diff()['before']
    # The links' diff only: check mode predicts a route given by via alone with dev None, where the
    # kernel then names the link it chose (a route diff matter, not the dummy's).
    for key in ('dummy r2/svc0', 'veth r1/ul'):
        assert again[key] == predicted.diff()['after'][key]
    info = link('svc0', 'r2')
    assert (info['linkinfo']['info_kind'], info['mtu'], 'UP' in info['flags']) == ('dummy', 9000, True)
    assert ping('r1', '10.255.0.2')
    with Kernel() as kernel:
        report = read_inventory(kernel, ['r2'], include_host=False)
    entry = [e for e in report['links'] if e['name'] == 'svc0'][0]
    assert (entry['kind'], entry['mtu'], entry['addresses']) == ('dummy', 9000, ['10.255.0.2/32'])
    gone = {'links': [dict(DUMMIES['links'][1], state='absent')]}
    # The removal, then an address elsewhere: a failure at the address puts the dummy back as it was.
    assert_every_failure_rolls_back(dict(gone, links=gone['links'] + [dict(DUMMIES['links'][0], addresses=[
        '192.168.62.1/24', '192.168.63.1/24'])]), at_least=2)
    assert converge(gone).texts == ['remove dummy svc0 in r2']
    assert link('svc0', 'r2') is None and not ping('r1', '10.255.0.2')
    assert converge(gone).texts == []


def impaired(tc=None, peer_tc=None):
    """n1 (10.63.0.1) and n2 (10.63.0.2) on one pair, each end's tc as given."""
    end = {'kind': 'veth', 'name': 'eth0', 'netns': 'n1', 'addresses': ['10.63.0.1/24'],
           'peer': {'name': 'eth0', 'netns': 'n2', 'addresses': ['10.63.0.2/24']}}
    if tc is not None:
        end['tc'] = tc
    if peer_tc is not None:
        end['peer']['tc'] = peer_tc
    return {'namespaces': [{'name': 'n1'}, {'name': 'n2'}], 'links': [end]}


def pings(count=5, interval='0.2'):
    """(fastest round trip in ms, share lost) of ``count`` pings from n1 to n2."""
    out = subprocess.run(['ip', 'netns', 'exec', 'n1', 'ping', '-q', '-c', str(count), '-i', interval, '-W', '2',
                          '10.63.0.2'], capture_output=True, text=True, check=False).stdout
    lost = float(re.search(r'([0-9.]+)% packet loss', out).group(1)) / 100
    rtt = re.search(r'= ([0-9.]+)/', out)
    return (float(rtt.group(1)) if rtt else None), lost


def test_netem_delay_on_each_end_adds_to_the_round_trip_and_loss_drops_its_share():
    need('netem')
    converge(impaired())
    base = pings()[0]
    four_steps(impaired({'delay': '50ms'}))
    added = pings()[0] - base
    assert 40 <= added <= 60, 'delay 50ms on n1 added %.1f ms' % added
    both = impaired({'delay': '50ms'}, {'delay': '30ms'})
    assert converge(both).texts == ['set tc delay 30ms on eth0 in n2']
    added = pings()[0] - base
    assert 70 <= added <= 90, '50ms and 30ms on the two ends added %.1f ms' % added
    # A rate alone is a tbf; then loss makes the same end a netem (another kind: the tbf goes first), and
    # the qdisc is replaced whole, no delay left behind.
    converge(impaired({'rate': '50mbit'}, {'delay': '30ms', 'enabled': False}))
    assert converge(impaired({'loss': '20%'}, {'delay': '30ms', 'enabled': False})).texts == [
        'set tc loss 20% on eth0 in n1']
    lost = pings(300, '0.01')[1]
    assert 0.10 <= lost <= 0.30, 'loss 20%% lost %.0f%% of 300' % (lost * 100)


def test_netem_takes_every_option_and_reads_it_back_as_given():
    need('netem')
    every = {'delay': '10ms', 'jitter': '2ms', 'loss': '1%', 'duplicate': '0.5%', 'reorder': '5%', 'corrupt': '0.1%',
             'rate': '100mbit', 'limit': 500}
    four_steps(impaired(every))
    shown = json.loads(subprocess.run(['tc', '-n', 'n1', '-j', 'qdisc', 'show', 'dev', 'eth0'], check=True,
                                      capture_output=True, text=True).stdout)[0]
    assert (shown['kind'], shown['handle'], shown['options']['limit']) == ('netem', '4e56:', 500)
    with Kernel() as kernel:
        report = read_inventory(kernel, ['n1', 'n2'], include_host=False)
    reported = [e for e in report['links'] if e['name'] == 'eth0'][0]
    ends = dict((end['netns'], end) for end in (reported, reported['peer']))
    assert ends['n1']['tc'] == dict(every, limit=500)
    assert_every_failure_rolls_back(impaired({'delay': '20ms'}, {'rate': '10mbit'}), at_least=2)


def test_netem_delay_on_what_arrives_at_an_end_adds_to_the_round_trip():
    """tc_ingress beyond a rate: its ifb device's root qdisc is a netem, as tc makes one on an end."""
    need('netem')
    converge(impaired())
    base = pings()[0]
    delayed = impaired()
    delayed['links'][0]['tc_ingress'] = {'delay': '40ms'}
    four_steps(delayed)
    added = pings()[0] - base
    assert 30 <= added <= 50, 'tc_ingress delay 40ms on n1 added %.1f ms' % added
    delayed['links'][0]['tc_ingress'] = {'delay': '40ms', 'enabled': False}
    assert converge(delayed).texts == ['remove tc_ingress from eth0 in n1']
    assert pings()[0] - base < 10


# Each module's task as a playbook writes it: a dummy as the parent NIC, and the seed's three on it
# (an IPVLAN's parent is in the namespace the task starts from, as a MACVLAN's is).
THIN_MODULES = [
    ('dummy', {'name': 'eth0', 'addresses': ['192.168.64.1/24']}),
    ('vlan', {'name': 'eth0.100', 'link': 'eth0', 'id': 100, 'addresses': ['10.100.0.1/24']}),
    ('ipvlan', {'name': 'ipvlan0', 'link': 'eth0', 'mode': 'l2'}),
    ('geneve', {'name': 'geneve0', 'vni': 100, 'remote': '192.168.64.2'}),
]


def run_module(name, args, check=False):
    """The module's own main in this process, its arguments handed over as Ansible hands them.

    Under emulation a Python start costs about 40 s, an ansible-playbook task more: here the four
    modules run through every step in seconds, and AnsiballZ, which only wraps the same main, is
    proven on every other module by the host's lanes."""
    from ansible.module_utils import basic
    payload = json.dumps({'ANSIBLE_MODULE_ARGS': dict(args, _ansible_check_mode=check, _ansible_diff=True)})
    out = io.StringIO()
    try:
        with mock.patch.object(basic, '_ANSIBLE_ARGS', payload.encode()), \
                mock.patch.object(basic, '_ANSIBLE_PROFILE', 'legacy', create=True), \
                contextlib.redirect_stdout(out), pytest.raises(SystemExit):
            runpy.run_module('ansible_collections.netvirt.linux.plugins.modules.' + name, run_name='__main__')
    finally:
        gc.enable()  # the runner turns the collector off for a module's short life
    result = json.loads(out.getvalue())
    assert not result.get('failed'), '%s: %s' % (name, result.get('msg'))
    return result


def test_the_vlan_ipvlan_geneve_and_dummy_modules_through_the_four_steps():
    """Each module's check mode changes nothing and shows the diff its real run then has; a second
    run changes nothing; the kernel holds each kind as asked; state absent removes each, and the
    host is as it was."""
    for kind in ('vlan', 'ipvlan', 'geneve', 'dummy'):
        need(kind)
    if not os.environ.get('NETVIRT_REQUIRE_KINDS'):
        pytest.importorskip('ansible.module_utils.basic')
    start = before = snapshot()
    for name, args in THIN_MODULES:
        checked = run_module(name, args, check=True)
        assert checked['changed'], '%s: check mode found nothing to do' % name
        assert snapshot() == before, '%s: check mode changed the kernel' % name
        applied = run_module(name, args)
        assert applied['changed'] and applied['diff'] == checked['diff'], name
        assert not run_module(name, args)['changed'], '%s: the second run changed something' % name
        before = snapshot()
    kinds = dict((entry['ifname'], entry['linkinfo']['info_kind']) for entry in ip_json('-d', 'link')
                 if 'linkinfo' in entry)
    assert kinds == {'eth0': 'dummy', 'eth0.100': 'vlan', 'ipvlan0': 'ipvlan', 'geneve0': 'geneve'}
    assert link('eth0.100')['linkinfo']['info_data']['id'] == 100
    assert link('geneve0')['linkinfo']['info_data']['id'] == 100
    assert link('ipvlan0')['linkinfo']['info_data']['mode'] == 'l2'
    for name, args in reversed(THIN_MODULES):
        assert run_module(name, dict(args, state='absent'))['changed'], name
    assert snapshot() == start
