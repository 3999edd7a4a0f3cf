"""topology's verify (issue 20): probes sent once a lab is built decide whether the run stands.
A run whose probes disagree is undone through the same undo as a failed action, so the kernel,
the owner's journal and its record of routes are as the run found them."""

import copy
import os
import signal
import time

import pytest

from conftest import converge, ip, link, plan, snapshot
from test_nat import LAB, MASQUERADE
from test_signals import MODES, Run
from test_topology import foreign_things
from ansible_collections.netvirt.linux.plugins.module_utils._apply import VerifyFailed, apply_plan, host_lock
from ansible_collections.netvirt.linux.plugins.module_utils._kernel import ROUTE_RECORD_DIR, Kernel
from ansible_collections.netvirt.linux.plugins.module_utils._probe import ProbeError
from ansible_collections.netvirt.linux.plugins.module_utils._verify import Verification

NAT_LAB = dict(LAB, nat=[MASQUERADE])
AGREE = [{'from': 'c1', 'to': 'c2'},                        # across the bridge
         {'from': 'c3', 'to': '198.51.100.2'},              # out through the masquerade
         {'from': 'inet', 'to': 'c1', 'expect': 'blocked'}]  # the NAT lets nothing in
WRONG = {'from': 'c1', 'to': 'c2', 'expect': 'blocked'}


def verified(doc, probes, purge=False, rollback=True, retries=0):
    """Plan, apply and verify as topology does; returns the plan and the Verification."""
    verification = Verification(probes, retries, 0.1, rollback)
    with Kernel() as kernel, host_lock():
        p = plan(doc, kernel, purge=purge)
        apply_plan(kernel, p, verify=verification, keep_unverified=not rollback)
    return p, verification


def state_files():
    """The owner's journal and record of routes, as files under /run/netvirt.linux."""
    found = {}
    for top, _dirs, files in os.walk('/run/netvirt.linux'):
        for name in files:
            with open(os.path.join(top, name)) as f:
                found[os.path.join(top, name)] = f.read()
    return found


def test_a_lab_that_verifies_stands_and_each_run_verifies_it_again():
    done, verification = verified(NAT_LAB, AGREE)
    assert done.texts and [r['got'] for r in verification.results] == ['reach', 'reach', 'unreachable']
    assert all(r['ok'] for r in verification.results)
    assert verification.results[0]['address'] == '10.0.0.12'
    # Nothing to change: the probes still run, and they are the result.
    again, verification = verified(NAT_LAB, AGREE)
    assert again.texts == [] and all(r['ok'] for r in verification.results)


def test_a_new_lab_whose_probes_disagree_is_undone_whole():
    foreign_things()
    before, files = snapshot(), state_files()
    with pytest.raises(VerifyFailed) as failed:
        verified(NAT_LAB, AGREE + [WRONG])
    assert str(failed.value) == (
        'verify: 1 of 4 probes disagree: c1 -> c2 (10.0.0.12) icmp: expected blocked, got reach (1 of 1 replies); '
        'the run was rolled back: every change it made was undone')
    assert failed.value.undone and failed.value.changes > 20
    assert snapshot() == before
    assert state_files() == files
    assert not os.path.exists(os.path.join(ROUTE_RECORD_DIR, 'test.json'))


def test_a_change_that_cuts_the_path_it_verifies_is_undone_back_to_the_lab_before_it():
    converge(NAT_LAB)
    before, files = snapshot(), state_files()
    assert os.path.exists(os.path.join(ROUTE_RECORD_DIR, 'test.json'))
    # The edit drops c3's default route and moves c2 to another address: c3 loses the internet.
    edited = dict(NAT_LAB, routes=NAT_LAB['routes'][:2], links=[
        dict(link, peer=dict(link['peer'], addresses=['10.0.0.42/24'])) if link['name'] == 'v2' else link
        for link in NAT_LAB['links']])
    with pytest.raises(VerifyFailed) as failed:
        verified(edited, AGREE, purge=True)
    assert "c3 -> 198.51.100.2 icmp: expected reach, got unreachable (Network is unreachable)" in str(failed.value)
    assert str(failed.value).endswith('; the run was rolled back: every change it made was undone')
    assert snapshot() == before
    assert state_files() == files  # the record of routes names c3's default route again


def test_with_rollback_off_a_failed_verify_keeps_the_changes_and_still_fails():
    before = snapshot()
    with pytest.raises(VerifyFailed) as failed:
        verified(NAT_LAB, AGREE + [WRONG], rollback=False)
    assert not failed.value.undone
    assert failed.value.changes > 20 and str(failed.value).endswith(
        '; the %d changes of this run are kept' % failed.value.changes)
    assert snapshot() != before
    # The run is complete and recorded as such: the next run has nothing to do.
    assert verified(NAT_LAB, AGREE)[0].texts == []


def test_a_run_with_nothing_to_change_fails_on_a_disagreeing_probe_and_changes_nothing():
    converge(NAT_LAB)
    before = snapshot()
    with pytest.raises(VerifyFailed) as failed:
        verified(NAT_LAB, [WRONG])
    assert str(failed.value).endswith('got reach (1 of 1 replies); this run changed nothing')
    assert snapshot() == before


def test_the_gateway_keeps_its_mac_when_the_port_the_bridge_took_it_from_leaves():
    """A bridge made without an address takes its lowest port's, and another when that port leaves; the
    containers that stay then send to a MAC nobody has until their ARP entry goes stale.  Molecule
    container_bridge_net's side effect failed so on CI (stop 27): its containers could not reach the gateway
    once a container left.  Here v2 has the lowest MAC, and leaves in a run that verifies c1's gateway."""
    macs = {1: '02:00:00:00:00:09', 2: '02:00:00:00:00:01', 3: '02:00:00:00:00:08'}
    lab = copy.deepcopy(LAB)
    for entry in lab['links'][2:]:
        entry['mac'] = macs[int(entry['name'][1])]
    gateway = [{'from': 'c1', 'to': '10.0.0.1'}, {'from': 'c3', 'to': '10.0.0.1'}]
    verified(lab, gateway, retries=2)  # c1 and c3 learn the gateway's MAC
    made_with = link('br0', 'gw')['address']
    assert made_with not in macs.values()
    lab['links'][3]['state'] = 'absent'
    _done, verification = verified(lab, gateway)
    assert [r['got'] for r in verification.results] == ['reach', 'reach']
    assert link('br0', 'gw')['address'] == made_with


# NAT_LAB without c3: its namespace goes, and with it its veth and its route.
WITHOUT_C3 = dict(NAT_LAB, namespaces=[n for n in LAB['namespaces'] if n['name'] != 'c3'] +
                  [{'name': 'c3', 'state': 'absent'}],
                  links=[link for link in LAB['links'] if link['name'] != 'v3'],
                  routes=[route for route in LAB['routes'] if route['netns'] != 'c3'])


def test_a_run_that_removes_a_namespace_and_fails_its_verify_is_undone_whole():
    """A removed namespace cannot be brought back: with a verify it is cut off until the probes agree (its veth
    end on the bridge goes down) and removed only then.  Before, the undo was incomplete: c3 was gone."""
    converge(NAT_LAB)
    before = snapshot()
    with pytest.raises(VerifyFailed) as failed:
        verified(WITHOUT_C3, [{'from': 'c1', 'to': '10.0.0.13', 'expect': 'blocked'}, WRONG], purge=True)
    assert str(failed.value).endswith('the run was rolled back: every change it made was undone'), str(failed.value)
    assert snapshot() == before
    # The probes saw the lab as the run leaves it: c3 did not answer; c3 goes once they agree.
    done, verification = verified(WITHOUT_C3, [{'from': 'c1', 'to': '10.0.0.13', 'expect': 'blocked'}], purge=True)
    assert verification.results[0]['got'] == 'timeout' and 'remove netns c3' in done.texts
    assert not os.path.exists('/run/netns/c3') and link('v3', 'gw') is None
    # Its end named absent, in the namespace that is gone: a re-run has nothing to do (and reads nothing there).
    again = dict(WITHOUT_C3, links=WITHOUT_C3['links'] + [
        {'kind': 'veth', 'name': 'eth0', 'netns': 'c3', 'state': 'absent', 'peer': {'name': 'v3', 'netns': 'gw'}}])
    assert converge(again, purge=True).texts == []


def test_a_namespace_that_cannot_be_cut_off_is_removed_at_once_and_says_its_undo_is_incomplete():
    """inet's veth end outside has an address of its own (wan, 198.51.100.1): bringing it down would drop
    what an undo must put back, so inet goes at once, and a failed verify says it could not be undone."""
    converge(NAT_LAB)
    without_inet = dict(NAT_LAB, namespaces=[n for n in LAB['namespaces'] if n['name'] != 'inet'] +
                        [{'name': 'inet', 'state': 'absent'}],
                        links=[link for link in LAB['links'] if link['name'] != 'wan'])
    with pytest.raises(VerifyFailed) as failed:
        verified(without_inet, [WRONG], purge=True)
    assert 'rolled back, incompletely: remove netns inet cannot be undone' in str(failed.value), str(failed.value)


def test_retries_run_the_probes_that_disagree_again_after_the_delay():
    """The wait between two tries adds the address the last probe is sent to: the second try reaches."""
    converge(NAT_LAB)
    waits = []

    def wait(seconds):
        if not waits:
            ip('addr', 'add', '10.0.0.77/24', 'dev', 'eth0', netns='c2')
        waits.append(seconds)
        time.sleep(seconds)  # c1's kernel asks for 10.0.0.77 again once a second (ARP's retransmit time)
    probes = AGREE + [{'from': 'c1', 'to': '10.0.0.77', 'timeout': 0.3}]
    verification = Verification(probes, retries=3, delay=1.0, sleep=wait)
    with Kernel() as kernel:
        assert verification(kernel) is None, verification.results
    assert waits[0] == 1.0 and all(r['ok'] for r in verification.results)
    ip('addr', 'del', '10.0.0.77/24', 'dev', 'eth0', netns='c2')
    waits = []
    verification = Verification(probes[3:], retries=2, delay=0.5, sleep=waits.append)
    with Kernel() as kernel:
        assert verification(kernel) == ('verify: 1 of 1 probes disagree: c1 -> 10.0.0.77 icmp: expected reach, '
                                        'got timeout (no answer in 0.3 s)')
    assert waits == [0.5, 0.5]


def test_probes_that_cannot_run_as_written_are_refused_naming_the_field():
    with pytest.raises(ProbeError) as refused:
        Verification([{'from': 'c1', 'to': 'c2', 'proto': 'sctp'}, {'from': 'c1', 'to': 'c2', 'proto': 'tcp'},
                      {'to': 'a/b'}], retries=-1)
    assert refused.value.errors == ['verify_retries: must be 0 or more, got -1']
    with pytest.raises(ProbeError) as refused:
        Verification([{'from': 'c1', 'to': 'c2', 'proto': 'sctp'}, {'from': 'c1', 'to': 'c2', 'proto': 'tcp'}])
    assert refused.value.errors == ["verify[0].proto: must be one of icmp, tcp, udp, http, got 'sctp'",
                                    'verify[1].port: a tcp probe needs port (1-65535)']


def test_a_probe_from_a_namespace_the_lab_does_not_keep_fails_the_run_before_any_change():
    converge({'namespaces': [{'name': 'old'}]})
    before = snapshot()
    doc = dict(NAT_LAB, namespaces=NAT_LAB['namespaces'] + [{'name': 'old', 'state': 'absent'}])
    from ansible_collections.netvirt.linux.plugins.module_utils._model import normalise_document
    verification = Verification([{'from': 'nosuch', 'to': 'c1'}, {'from': 'c1', 'to': 'old'}])
    with Kernel() as kernel, pytest.raises(ProbeError) as refused:
        verification.refuse_unrunnable(normalise_document(doc, 'test'), kernel)
    assert refused.value.errors == ['verify[0].from: namespace nosuch is neither in the lab nor on the host',
                                    'verify[1].to: namespace old is absent in the lab']
    assert snapshot() == before


def test_a_probe_to_a_namespace_the_lab_gives_two_addresses_or_none_is_refused_before_any_change():
    """Found only after the apply, either would undo a whole run for a probe that could never resolve."""
    before = snapshot()
    from ansible_collections.netvirt.linux.plugins.module_utils._model import normalise_document
    doc = dict(NAT_LAB, namespaces=NAT_LAB['namespaces'] + [{'name': 'bare'}],
               links=NAT_LAB['links'] + [{'kind': 'veth', 'name': 'side', 'netns': 'c2', 'addresses': ['10.7.0.1/24'],
                                          'peer': {'name': 'side', 'netns': 'c3', 'addresses': ['10.7.0.2/24']}}])
    verification = Verification([{'from': 'c1', 'to': 'c2'}, {'from': 'c1', 'to': 'bare'}, {'from': 'c2', 'to': 'c1'},
                                 {'from': 'c1', 'to': '10.7.0.1'}])
    with Kernel() as kernel, pytest.raises(ProbeError) as refused:
        verification.refuse_unrunnable(normalise_document(doc, 'test'), kernel)
    assert refused.value.errors == [
        'verify[0].to: namespace c2 gets 2 addresses in the lab (10.0.0.12 on eth0, 10.7.0.1 on side); '
        'name the one to probe',
        'verify[1].to: namespace bare gets no address in the lab; name an address']
    assert snapshot() == before


def test_a_probe_of_a_namespace_the_run_removes_is_refused_before_any_change():
    """Removing a namespace is not undone: a run that would remove one its probes need never starts."""
    converge(NAT_LAB)
    before = snapshot()
    verification = Verification([{'from': 'c1', 'to': 'c2'}, {'from': 'inet', 'to': 'c3', 'expect': 'blocked'}])
    purged = dict(NAT_LAB, namespaces=[ns for ns in NAT_LAB['namespaces'] if ns['name'] != 'c3'],
                  links=[link for link in NAT_LAB['links'] if link['name'] != 'v3'], routes=NAT_LAB['routes'][:2])
    with Kernel() as kernel, pytest.raises(ProbeError) as refused:
        verification.refuse_removed_namespaces(plan(purged, kernel, purge=True))
    assert refused.value.errors == ['verify[1].to: namespace c3 is removed by this run']
    assert snapshot() == before


def test_a_probe_whose_namespace_has_two_addresses_fails_naming_them_once():
    converge(NAT_LAB)
    ip('link', 'add', 'x0', 'type', 'veth', 'peer', 'name', 'x1', netns='c2')  # someone's link, not the lab's
    ip('addr', 'add', '10.9.0.1/24', 'dev', 'x0', netns='c2')
    with pytest.raises(VerifyFailed) as failed:
        verified(NAT_LAB, [{'from': 'c1', 'to': 'c2'}])
    assert str(failed.value) == ('verify[0].to: namespace c2 has 2 addresses (10.0.0.12 on eth0, 10.9.0.1 on x0); '
                                 'name the one to probe; this run changed nothing')


@pytest.mark.own_process
@pytest.mark.parametrize('mode', MODES)
def test_a_signal_while_verifying_undoes_the_run(mode):
    before = snapshot()
    # Stopped before the first probe's socket is made: every action has run, nothing is verified yet.
    run = Run(mode, dict(NAT_LAB, owner='sig', verify=AGREE), stop_in=['socket_in:0'])
    run.wait_stopped()
    assert len(os.listdir('/run/netns')) == 5
    run.signal_and_go_on(signal.SIGTERM)
    result, _returncode, err = run.result()
    assert result['failed'] is True, result
    assert result['msg'].startswith('interrupted by SIGTERM while verifying the run of '), result['msg']
    assert result['msg'].endswith('; every change of this run was undone'), result['msg']
    assert 'Traceback' not in err
    assert snapshot() == before


@pytest.mark.own_process
@pytest.mark.parametrize('mode', MODES)
def test_a_signal_while_verifying_brings_back_the_namespace_the_run_would_remove(mode):
    converge(NAT_LAB, owner='sig')
    before = snapshot()
    run = Run(mode, dict(WITHOUT_C3, owner='sig', purge=True, verify=[{'from': 'c1', 'to': 'c2'}]),
              stop_in=['socket_in:0'])
    run.wait_stopped()
    assert link('v3', 'gw')['operstate'] == 'DOWN' and os.path.exists('/run/netns/c3')  # cut off, not removed
    run.signal_and_go_on(signal.SIGTERM)
    result, _returncode, err = run.result()
    assert result['msg'].endswith('; every change of this run was undone'), result['msg']
    assert 'Traceback' not in err
    assert snapshot() == before
