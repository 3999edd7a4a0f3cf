"""A link end's tc on the real kernel (issue 19): a rate measured with real TCP, the four steps,
switching off and on, somebody's qdisc, rollback, and netns_info's report fed back.

This kernel has tbf (a rate alone) but no netem: delay, loss and the rest are proven in the
VM lane (test_kinds_vm.py), under Debian stable's kernel."""

import copy
import json
import socket
import subprocess
import threading
import time

import pytest

from conftest import converge, four_steps, plan, snapshot
from test_apply import assert_every_failure_rolls_back
from ansible_collections.netvirt.linux.plugins.module_utils._inventory import read_inventory
from ansible_collections.netvirt.linux.plugins.module_utils._kernel import Kernel
from ansible_collections.netvirt.linux.plugins.module_utils._plan import PlanError
from ansible_collections.netvirt.linux.plugins.module_utils._tc import ingress_device

PAIR = {
    'namespaces': [{'name': 'ta'}, {'name': 'tb'}],
    'links': [{'kind': 'veth', 'name': 'eth0', 'netns': 'ta', 'addresses': ['10.61.0.1/24'], 'tc': {'rate': '20mbit'},
               'peer': {'name': 'eth0', 'netns': 'tb', 'addresses': ['10.61.0.2/24']}}],
}


def qdiscs(netns):
    """`tc -j qdisc show` in ``netns``: the kernel's word, not ours."""
    out = subprocess.run(['tc', '-n', netns, '-j', 'qdisc', 'show'], check=True, capture_output=True, text=True)
    return dict((q['dev'], q) for q in json.loads(out.stdout or '[]') if q.get('root'))


def megabits_per_second(sender, receiver, address, size=5 * 1000 * 1000):
    """Send ``size`` bytes over TCP from namespace ``sender`` to ``address`` in ``receiver``; the rate the
    receiver saw from its first byte to its last."""
    with Kernel() as kernel:
        server = kernel.socket_in(receiver, socket.AF_INET, socket.SOCK_STREAM)
        client = kernel.socket_in(sender, socket.AF_INET, socket.SOCK_STREAM)
    seen = []
    with server, client:
        server.bind((address, 5201))
        server.listen(1)

        def receive():
            conn = server.accept()[0]
            with conn:
                total, first = 0, None
                while True:
                    data = conn.recv(1 << 16)
                    if not data:
                        break
                    first = first or time.monotonic()
                    total += len(data)
                seen.append((total, time.monotonic() - first))
        thread = threading.Thread(target=receive)
        thread.start()
        client.connect((address, 5201))
        client.sendall(b'x' * size)
        client.shutdown(socket.SHUT_WR)
        thread.join(60)
    total, seconds = seen[0]
    assert total == size
    return total * 8 / seconds / 1e6


def test_a_rate_on_one_end_shapes_what_leaves_it_and_not_the_other_direction():
    four_steps(PAIR)
    assert qdiscs('ta')['eth0']['kind'] == 'tbf' and qdiscs('ta')['eth0']['handle'] == '4e56:'
    assert 'eth0' not in qdiscs('tb') or qdiscs('tb')['eth0']['kind'] == 'noqueue'
    shaped = megabits_per_second('ta', 'tb', '10.61.0.2')
    assert 15 <= shaped <= 25, 'ta -> tb through rate 20mbit: %.1f Mbit/s' % shaped
    other_way = megabits_per_second('tb', 'ta', '10.61.0.1')
    assert other_way > 2 * 20, 'tb -> ta, not shaped: %.1f Mbit/s' % other_way


def test_switched_off_and_on_and_one_value_changed_on_one_end():
    both = dict(PAIR, links=[dict(PAIR['links'][0], peer=dict(PAIR['links'][0]['peer'], tc={'rate': '5mbit'}))])
    converge(both)
    link = both['links'][0]
    off = dict(both, links=[dict(link, tc=dict(link['tc'], enabled=False))])
    with Kernel() as kernel:
        assert plan(off, kernel).texts == ['remove tc from eth0 in ta']
    converge(off)
    assert qdiscs('ta').get('eth0', {}).get('kind') in (None, 'noqueue') and qdiscs('tb')['eth0']['kind'] == 'tbf'
    with Kernel() as kernel:
        assert plan(off, kernel).texts == []
        assert plan(both, kernel).texts == ['set tc rate 20mbit on eth0 in ta']
    converge(both)
    changed = dict(both, links=[dict(link, peer=dict(link['peer'], tc={'rate': '8mbit'}))])
    assert converge(changed).texts == ['set tc rate 8mbit on eth0 in tb']
    assert qdiscs('tb')['eth0']['options']['rate'] == 1000000 and qdiscs('ta')['eth0']['options']['rate'] == 2500000
    # Left out: not managed, whatever is there.
    with Kernel() as kernel:
        assert plan(dict(both, links=[dict(link, tc=None, peer=dict(link['peer'], tc=None))]), kernel).texts == []


def test_somebodys_qdisc_needs_force_and_a_rollback_puts_it_back():
    converge(dict(PAIR, links=[dict(PAIR['links'][0], tc=None)]))
    subprocess.run(['tc', '-n', 'ta', 'qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '7:', 'tbf', 'rate', '1mbit',
                    'burst', '32k', 'latency', '40ms'], check=True)
    before = snapshot()
    with Kernel() as kernel, pytest.raises(PlanError) as refused:
        plan(PAIR, kernel)
    assert str(refused.value) == ('links[0].tc: the tbf qdisc 7: on eth0 in ta was not set by netvirt.linux; set '
                                  'force: true to replace it; without force this task would not: set tc rate 20mbit '
                                  'on eth0 in ta')
    assert snapshot() == before
    # With force it is replaced, and each failure after that puts it back as it was.
    assert_every_failure_rolls_back(dict(PAIR, links=PAIR['links'] + [
        {'kind': 'bridge', 'name': 'after', 'netns': 'tb'}]), force=True)
    converge(PAIR, force=True)
    assert qdiscs('ta')['eth0']['handle'] == '4e56:'


def test_every_failure_rolls_the_shaping_back():
    converge(PAIR)
    changed = dict(PAIR, links=[dict(PAIR['links'][0], tc={'rate': '1mbit'},
                                     peer=dict(PAIR['links'][0]['peer'], tc={'rate': '2mbit'}))])
    assert_every_failure_rolls_back(changed, at_least=2)


def test_netns_info_reports_our_shaping_and_its_report_plans_nothing():
    converge(dict(PAIR, links=[dict(PAIR['links'][0], peer=dict(PAIR['links'][0]['peer'], tc={'rate': '1500kbit'}))]))
    subprocess.run(['ip', 'netns', 'add', 'tc'], check=True)
    subprocess.run(['ip', '-n', 'tc', 'link', 'add', 'name', 'x0', 'type', 'veth', 'peer', 'name', 'x1'], check=True)
    subprocess.run(['tc', '-n', 'tc', 'qdisc', 'add', 'dev', 'x0', 'root', 'tbf', 'rate', '1mbit', 'burst', '32k',
                    'latency', '40ms'], check=True)
    with Kernel() as kernel:
        report = read_inventory(kernel, ['ta', 'tb', 'tc'], include_host=False)
        pair = [link for link in report['links'] if link['name'] == 'eth0'][0]
        ends = dict((end['netns'], end) for end in (pair, pair['peer']))
        assert ends['ta']['tc'] == {'rate': '20mbit'} and ends['tb']['tc'] == {'rate': '1500kbit'}
        theirs = [link for link in report['links'] if link['name'] in ('x0', 'x1')][0]
        assert 'tc' not in theirs and 'tc' not in theirs['peer']  # somebody's: not the collection's to report
        fed_back = {'namespaces': [{'name': 'ta'}, {'name': 'tb'}], 'links': [pair]}
        assert plan(fed_back, kernel).texts == []


def test_a_removed_link_comes_back_with_its_shaping_when_the_run_is_undone():
    both = dict(PAIR, links=[dict(PAIR['links'][0], peer=dict(PAIR['links'][0]['peer'], tc={'rate': '3mbit'}))])
    converge(both)
    gone = {'links': [{'kind': 'veth', 'name': 'eth0', 'netns': 'ta', 'state': 'absent'},
                      {'kind': 'bridge', 'name': 'after', 'netns': 'tb'}]}
    assert_every_failure_rolls_back(gone, at_least=2)
    assert qdiscs('ta')['eth0']['options']['rate'] == 2500000 and qdiscs('tb')['eth0']['options']['rate'] == 375000


def test_a_moved_peer_loses_its_shaping_and_an_undone_move_puts_it_back():
    both = dict(PAIR, links=[dict(PAIR['links'][0], peer=dict(PAIR['links'][0]['peer'], tc={'rate': '3mbit'}))])
    converge(dict(both, namespaces=both['namespaces'] + [{'name': 'tm'}]))
    moved = {'namespaces': [{'name': 'ta'}, {'name': 'tb'}, {'name': 'tm'}],
             'links': [dict(PAIR['links'][0], peer={'name': 'eth1', 'netns': 'tm', 'addresses': ['10.61.0.2/24']}),
                       {'kind': 'bridge', 'name': 'after', 'netns': 'tm'}]}
    assert_every_failure_rolls_back(moved, at_least=3)
    assert qdiscs('tb')['eth0']['options']['rate'] == 375000
    # Renamed in its own namespace, it keeps its qdisc: nothing to set again.
    renamed = dict(both, links=[dict(both['links'][0], peer=dict(both['links'][0]['peer'], name='eth5'))])
    assert converge(renamed).texts == ['rename veth peer eth0 in tb to eth5 in tb', 'bring eth5 in tb up']
    assert qdiscs('tb')['eth5']['options']['rate'] == 375000


def test_switching_an_end_to_another_kind_is_whole_or_nothing():
    """From a rate (tbf) to a delay (netem) on one end. The kernel replaces a qdisc in place only with one
    of its kind, so the tbf goes first: without sch_netem (this machine) the switch fails naming the end,
    and the tbf is back; with it (the VM lane's kernel) the end is a netem."""
    converge(PAIR)
    before = snapshot()
    delayed = dict(PAIR, links=[dict(PAIR['links'][0], tc={'delay': '10ms'})])
    has_netem = subprocess.run(['tc', '-n', 'tb', 'qdisc', 'add', 'dev', 'eth0', 'root', 'netem', 'delay', '1ms'],
                               capture_output=True, check=False).returncode == 0
    subprocess.run(['tc', '-n', 'tb', 'qdisc', 'del', 'dev', 'eth0', 'root'], capture_output=True, check=False)
    if has_netem:
        converge(delayed)
        assert qdiscs('ta')['eth0']['kind'] == 'netem'
        return
    with pytest.raises(Exception) as failed:
        converge(delayed)
    assert ('cannot set tc delay 10ms on eth0 in namespace ta: this kernel has no netem qdisc (module sch_netem); '
            'delay, jitter, loss, duplicate, reorder, corrupt and limit need it') in str(failed.value)
    assert snapshot() == before


# --- tc_ingress: what arrives at an end, through an ifb device of its own ---------------------------

INGRESS = {
    'namespaces': [{'name': 'ta'}, {'name': 'tb'}],
    'links': [{'kind': 'veth', 'name': 'eth0', 'netns': 'ta', 'addresses': ['10.61.0.1/24'],
               'tc_ingress': {'rate': '20mbit'},
               'peer': {'name': 'eth0', 'netns': 'tb', 'addresses': ['10.61.0.2/24']}}],
}


def devices(netns):
    """The ifb devices of ``netns``, as `ip` lists them."""
    out = subprocess.run(['ip', '-n', netns, '-j', '-d', 'link', 'show'], check=True, capture_output=True, text=True)
    return sorted(link['ifname'] for link in json.loads(out.stdout)
                  if link.get('linkinfo', {}).get('info_kind') == 'ifb')


def ingress_filters(netns, dev):
    out = subprocess.run(['tc', '-n', netns, '-j', 'filter', 'show', 'dev', dev, 'ingress'], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout or '[]')


def with_ingress(doc, end='as it is', peer=None):
    """``doc`` with the tc_ingress of its first link's ends (None: not managed)."""
    link = doc['links'][0]
    return dict(doc, links=[dict(link, tc_ingress=link.get('tc_ingress') if end == 'as it is' else end,
                                 peer=dict(link['peer'], tc_ingress=peer))] + doc['links'][1:])


def test_tc_ingress_shapes_what_arrives_at_an_end_and_not_what_leaves_it():
    four_steps(INGRESS)
    device = ingress_device('eth0')
    assert devices('ta') == [device] and devices('tb') == []
    assert qdiscs('ta')[device]['kind'] == 'tbf' and qdiscs('ta')[device]['handle'] == '4e56:'
    [redirect] = [f for f in ingress_filters('ta', 'eth0') if 'actions' in f.get('options', {})]
    assert redirect['pref'] == 20054 and redirect['options']['actions'][0]['to_dev'] == device
    shaped = megabits_per_second('tb', 'ta', '10.61.0.1')
    assert 15 <= shaped <= 25, 'tb -> ta, arriving through tc_ingress rate 20mbit: %.1f Mbit/s' % shaped
    other_way = megabits_per_second('ta', 'tb', '10.61.0.2')
    assert other_way > 2 * 20, 'ta -> tb, not shaped: %.1f Mbit/s' % other_way
    # The device is a part of the end: not a link of the lab.
    with Kernel() as kernel:
        assert device not in [link['name'] for link in kernel.read_links('ta')]


MACVLAN_INGRESS = {
    'namespaces': [{'name': 'th'}, {'name': 'tm'}, {'name': 'tf'}],
    'links': [{'kind': 'veth', 'name': 'eth0', 'netns': 'th',
               'peer': {'name': 'wire', 'netns': 'tf', 'addresses': ['10.62.0.2/24']}},
              {'kind': 'macvlan', 'name': 'mv0', 'link': 'eth0', 'link_netns': 'th', 'netns': 'tm', 'mode': 'bridge',
               'addresses': ['10.62.0.5/24'], 'tc_ingress': {'rate': '20mbit'}}],
}


def test_tc_ingress_shapes_what_arrives_at_a_macvlan_from_beyond_its_parent():
    """The case tc_ingress is for: a macvlan has one end, and what the far side sends reaches it through
    its parent, so only mv0's ingress can shape it there."""
    four_steps(MACVLAN_INGRESS)
    assert devices('tm') == [ingress_device('mv0')] and devices('th') == []
    shaped = megabits_per_second('tf', 'tm', '10.62.0.5')
    assert 15 <= shaped <= 25, 'tf -> mv0, arriving through tc_ingress rate 20mbit: %.1f Mbit/s' % shaped
    other_way = megabits_per_second('tm', 'tf', '10.62.0.2')
    assert other_way > 2 * 20, 'mv0 -> tf, not shaped: %.1f Mbit/s' % other_way
    off = copy.deepcopy(MACVLAN_INGRESS)
    off['links'][1]['tc_ingress']['enabled'] = False
    assert converge(off).texts == ['remove tc_ingress from mv0 in tm']
    assert devices('tm') == [] and megabits_per_second('tf', 'tm', '10.62.0.5') > 2 * 20


def test_tc_ingress_switched_off_leaves_nothing_and_changed_replaces_the_shaping():
    converge(with_ingress(INGRESS, end=None))
    bare = snapshot()
    converge(INGRESS)
    off = with_ingress(INGRESS, end={'rate': '20mbit', 'enabled': False})
    with Kernel() as kernel:
        assert plan(off, kernel).texts == ['remove tc_ingress from eth0 in ta']
    converge(off)
    assert devices('ta') == [] and snapshot() == bare
    with Kernel() as kernel:
        assert plan(off, kernel).texts == []
        assert plan(INGRESS, kernel).texts == ['set tc_ingress rate 20mbit on eth0 in ta']
    converge(INGRESS)
    changed = with_ingress(INGRESS, end={'rate': '8mbit'}, peer={'rate': '4mbit'})
    assert converge(changed).texts == ['set tc_ingress rate 8mbit on eth0 in ta',
                                       'set tc_ingress rate 4mbit on eth0 in tb']
    assert qdiscs('ta')[ingress_device('eth0')]['options']['rate'] == 1000000
    assert qdiscs('tb')[ingress_device('eth0')]['options']['rate'] == 500000
    with Kernel() as kernel:  # left out: not managed
        assert plan(with_ingress(INGRESS, end=None), kernel).texts == []


def test_every_failure_rolls_tc_ingress_back():
    converge(INGRESS)
    assert_every_failure_rolls_back(with_ingress(INGRESS, end={'rate': '1mbit'}, peer={'rate': '2mbit'}), at_least=2)
    gone = {'links': [{'kind': 'veth', 'name': 'eth0', 'netns': 'ta', 'state': 'absent'},
                      {'kind': 'bridge', 'name': 'after', 'netns': 'tb'}]}
    assert_every_failure_rolls_back(gone, at_least=2)
    converge(gone)
    assert devices('ta') == [] and devices('tb') == []


def test_somebodys_filter_on_the_same_ingress_stays():
    converge(with_ingress(INGRESS, end=None))
    # Somebody mirrors one source's packets to an ifb of their own.
    subprocess.run(['ip', '-n', 'ta', 'link', 'add', 'name', 'ifb7', 'type', 'ifb'], check=True)
    subprocess.run(['tc', '-n', 'ta', 'qdisc', 'add', 'dev', 'eth0', 'ingress'], check=True)
    subprocess.run(['tc', '-n', 'ta', 'filter', 'add', 'dev', 'eth0', 'ingress', 'protocol', 'ip', 'prio', '7', 'u32',
                    'match', 'ip', 'src', '10.61.0.9/32', 'action', 'mirred', 'egress', 'mirror', 'dev', 'ifb7'],
                   check=True)
    theirs = snapshot()
    converge(INGRESS)
    assert sorted(set(f['pref'] for f in ingress_filters('ta', 'eth0'))) == [7, 20054]
    converge(with_ingress(INGRESS, end={'rate': '20mbit', 'enabled': False}))
    assert snapshot() == theirs


def test_tc_ingress_follows_a_renamed_end_and_goes_with_a_moved_or_gone_one():
    peer_shaped = with_ingress(INGRESS, end=None, peer={'rate': '3mbit'})
    converge(dict(peer_shaped, namespaces=peer_shaped['namespaces'] + [{'name': 'tm'}]))
    link = peer_shaped['links'][0]
    renamed = dict(peer_shaped, links=[dict(link, peer=dict(link['peer'], name='eth5'))])
    assert converge(renamed).texts == ['rename veth peer eth0 in tb to eth5 in tb', 'bring eth5 in tb up']
    assert devices('tb') == [ingress_device('eth5')]
    assert megabits_per_second('ta', 'tb', '10.61.0.2') <= 4.5
    moved = {'namespaces': [{'name': 'ta'}, {'name': 'tb'}, {'name': 'tm'}],
             'links': [dict(link, peer={'name': 'eth1', 'netns': 'tm', 'addresses': ['10.61.0.2/24']}),
                       {'kind': 'bridge', 'name': 'after', 'netns': 'tm'}]}
    assert_every_failure_rolls_back(moved, at_least=3)
    converge(moved)
    assert devices('tb') == [] and devices('tm') == []
    # The peer's namespace removed: the kernel takes the end, and its device goes too.
    converge(dict(peer_shaped, namespaces=[{'name': 'ta'}, {'name': 'tb'}]))
    assert devices('tb') == [ingress_device('eth0')]
    converge({'namespaces': [{'name': 'ta', 'state': 'absent'}]})
    assert devices('tb') == []


def test_netns_info_reports_tc_ingress_and_its_report_plans_nothing():
    converge(with_ingress(INGRESS, peer={'rate': '1500kbit'}))
    with Kernel() as kernel:
        report = read_inventory(kernel, ['ta', 'tb'], include_host=False)
        assert not [link for link in report['links'] if link['name'].startswith('nvi')]
        [pair] = [link for link in report['links'] if link['name'] == 'eth0']
        ends = dict((end['netns'], end) for end in (pair, pair['peer']))
        assert ends['ta']['tc_ingress'] == {'rate': '20mbit'} and ends['tb']['tc_ingress'] == {'rate': '1500kbit'}
        assert plan({'namespaces': [{'name': 'ta'}, {'name': 'tb'}], 'links': [pair]}, kernel).texts == []


def test_tc_ingress_the_kernel_refuses_leaves_nothing_behind():
    """A delay on what arrives needs sch_netem: without it (this machine) the run fails naming the end and
    tc_ingress, and the ifb device it made goes again; with it (the VM lane's kernel) the device has a netem."""
    converge(with_ingress(INGRESS, end=None))
    before = snapshot()
    delayed = with_ingress(INGRESS, end={'delay': '10ms'})
    has_netem = subprocess.run(['tc', '-n', 'tb', 'qdisc', 'add', 'dev', 'eth0', 'root', 'netem', 'delay', '1ms'],
                               capture_output=True, check=False).returncode == 0
    subprocess.run(['tc', '-n', 'tb', 'qdisc', 'del', 'dev', 'eth0', 'root'], capture_output=True, check=False)
    if has_netem:
        converge(delayed)
        assert qdiscs('ta')[ingress_device('eth0')]['kind'] == 'netem'
        return
    with pytest.raises(Exception) as failed:
        converge(delayed)
    assert ('cannot set tc_ingress delay 10ms on eth0 in namespace ta: this kernel has no netem qdisc (module '
            'sch_netem)') in str(failed.value)
    assert snapshot() == before and devices('ta') == []
