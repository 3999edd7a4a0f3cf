"""A stale entry in /run/netns (issue 17, item 18): the plain file, mode 000, that a process killed
while it created a namespace leaves.  Entering it fails with EINVAL; it must not block anything
else, a lab that names it repairs it, state: absent removes it, and everyone else names it in a warning.
"""

import os
import subprocess

import pytest

from conftest import converge, ip, link, plan, snapshot
from test_apply import assert_every_failure_rolls_back
from test_signals import MODES, Run
from ansible_collections.netvirt.linux.plugins.module_utils._kernel import Kernel
from ansible_collections.netvirt.linux.plugins.module_utils._inventory import read_inventory


def leave_stale_entry(name):
    """What the killed run left: create_namespace's (and `ip netns add`'s) first step, and nothing after it."""
    os.close(os.open(os.path.join('/run/netns', name), os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))


def is_namespace(name):
    return subprocess.run(['ip', 'netns', 'exec', name, 'true'], capture_output=True, check=False).returncode == 0


def test_a_stale_entry_blocks_no_other_lab_and_is_named_in_a_warning(kernel):
    converge({'namespaces': [{'name': 'a1'}, {'name': 'a2'}]}, owner='other')
    leave_stale_entry('c9')
    assert kernel.stale_namespaces() == {'c9': 0}
    assert kernel.list_namespaces() == ['a1', 'a2'] and not kernel.namespace_exists('c9')
    before = snapshot()
    warning = ('/run/netns/c9 is not a namespace but a stale entry (a plain file, as a run or `ip netns add` killed '
               'while creating or removing a namespace leaves); it was left alone. Name namespace c9 in a task or '
               'lab to repair it, or with state: absent to remove it')
    # Another lab's purge enters every namespace; a third's plan lists them all.
    p = converge({'namespaces': [{'name': 'a1'}]}, owner='other', purge=True)
    assert p.texts == ['remove netns a2'] and p.warnings == [warning]
    p = converge({'namespaces': [{'name': 'b1'}], 'links': [{'kind': 'veth', 'name': 'bv', 'peer': {
        'name': 'eth0', 'netns': 'b1'}}]}, owner='third', purge=True)
    assert p.warnings == [warning] and link('eth0', 'b1') is not None
    with Kernel() as k:
        report = read_inventory(k)
    assert [ns['name'] for ns in report['namespaces']] == ['a1', 'b1']
    assert os.stat('/run/netns/c9').st_mode & 0o7777 == 0 and not is_namespace('c9')
    converge({}, owner='third', purge=True)
    assert snapshot() != before  # a2 went
    converge({'namespaces': [{'name': 'a1', 'state': 'absent'}]}, owner='other')


def test_a_lab_that_names_it_repairs_it_honestly_in_check_mode(kernel):
    leave_stale_entry('c9')
    doc = {'namespaces': [{'name': 'c9', 'sysctls': {'net.ipv4.ip_forward': 1}}],
           'links': [{'kind': 'veth', 'name': 'v9', 'peer': {'name': 'eth0', 'netns': 'c9',
                                                             'addresses': ['10.9.0.2/24']}}]}
    before = snapshot()
    predicted = plan(doc, kernel, check_mode=True)
    assert predicted.texts[:2] == [
        'remove the stale entry /run/netns/c9 (not a namespace: a plain file, as a run or `ip netns add` killed '
        'while creating or removing a namespace leaves)',
        'create netns c9']
    assert predicted.diff()['before']['netns c9'] == {'name': 'c9', 'stale': True}
    assert predicted.warnings == []
    assert snapshot() == before
    assert converge(doc).texts == predicted.texts
    assert is_namespace('c9') and link('eth0', 'c9') is not None
    assert kernel.stale_namespaces() == {}
    with Kernel() as k:
        assert plan(doc, k).texts == []


def test_state_absent_removes_it(kernel):
    before = snapshot()
    leave_stale_entry('c9')
    predicted = plan({'namespaces': [{'name': 'c9', 'state': 'absent'}]}, kernel, check_mode=True, single=True)
    assert predicted.texts == ['remove the stale entry /run/netns/c9 (not a namespace: a plain file, as a run or '
                               '`ip netns add` killed while creating or removing a namespace leaves)']
    converge({'namespaces': [{'name': 'c9', 'state': 'absent'}]})
    assert snapshot() == before


def test_a_failure_after_the_repair_puts_the_stale_entry_back():
    leave_stale_entry('c9')
    os.chmod('/run/netns/c9', 0o644)  # its mode comes back too
    assert_every_failure_rolls_back({'namespaces': [{'name': 'c9', 'sysctls': {'net.ipv4.ip_forward': 1}}],
                                     'links': [{'kind': 'bridge', 'name': 'br9'}]}, at_least=4)


def test_a_link_in_a_stale_namespace_is_refused_by_name(kernel):
    leave_stale_entry('c9')
    with pytest.raises(Exception) as e:
        plan({'links': [{'kind': 'bridge', 'name': 'br9', 'netns': 'c9'}]}, kernel, single=True)
    assert str(e.value) == ('netns: /run/netns/c9 is not a namespace but a stale entry (a plain file, as a run or '
                            '`ip netns add` killed while creating or removing a namespace leaves); name namespace '
                            'c9 in a task or lab to repair it')


@pytest.mark.own_process
@pytest.mark.skipif('module' not in MODES, reason='netns_info is an Ansible module; the engine part runs above')
def test_netns_info_reads_the_rest_and_warns_by_name():
    ip('netns', 'add', 'a1')
    leave_stale_entry('c9')
    run = Run('module', {}, module='netns_info')
    result, returncode, err = run.result()
    assert returncode == 0, result
    assert [ns['name'] for ns in result['topology']['namespaces']] == ['a1']
    # ansible-core 2.19 writes a module's warnings as summaries; the controller shows their msg.
    warnings = [w['event']['msg'] if isinstance(w, dict) else w for w in result['warnings']]
    assert len(warnings) == 1 and warnings[0].startswith('/run/netns/c9 is not a namespace but a stale entry (')


@pytest.mark.own_process
def test_a_real_sigkill_while_creating_a_namespace_leaves_what_the_next_run_repairs():
    """The process stops itself right after the namespace's file is made, before the mount (drive.py's
    stop_in), and is killed there: the entry it leaves is the one the tests above make by hand."""
    before = snapshot()
    doc = {'owner': 'k', 'namespaces': [{'name': 'k1'}, {'name': 'k2'}]}
    run = Run('engine', doc, stop_in=['unshare:1'])
    run.wait_stopped()
    run.proc.kill()
    run.proc.wait()
    os.unlink(run.spec_file.name)
    assert sorted(os.listdir('/run/netns')) == ['k1', 'k2']
    with Kernel() as kernel:
        assert kernel.stale_namespaces() == {'k2': 0} and kernel.list_namespaces() == ['k1']
    assert 'remove the stale entry /run/netns/k2' in converge(doc, owner='k').texts[0]
    assert is_namespace('k2')
    converge({}, owner='k', purge=True)
    assert snapshot() == before
