"""SIGINT and SIGTERM during a run (issue 17, item 17): what the run did is undone, a second
signal does not stop the rollback, and the module ends with a result, not a dead process.

Each run is a process of its own (drive.py) that stops itself before a chosen kernel call;
the test then sends the signal and lets it go on, so the signal lands mid-apply, at a known
action, with no timing.
"""

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import plan, snapshot
from ansible_collections.netvirt.linux.plugins.module_utils._apply import host_lock

pytestmark = pytest.mark.own_process

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVE = os.path.join(HERE, 'drive.py')

# The pyroute2 lanes have no ansible (like a managed node): the engine alone runs there.
MODES = ['module', 'engine'] if importlib.util.find_spec('ansible') else ['engine']


def lab(count):
    """A lab of hundreds of actions: namespaces on a bridge, each with an address and a default route."""
    return {
        'owner': 'sig',
        'namespaces': [{'name': 's%d' % i} for i in range(count)],
        'links': [{'kind': 'bridge', 'name': 'sigbr', 'addresses': ['10.77.0.254/16']}] + [
            {'kind': 'veth', 'name': 'sv%d' % i, 'master': 'sigbr',
             'peer': {'name': 'eth0', 'netns': 's%d' % i, 'addresses': ['10.77.%d.%d/16' % (i // 250, i % 250 + 1)]}}
            for i in range(count)],
        'routes': [{'netns': 's%d' % i, 'dest': 'default', 'via': '10.77.0.254'} for i in range(count)],
    }


class Run:
    """A module (or engine) process that stops itself before the kernel calls ``stop_at``."""

    def __init__(self, mode, args, stop_at=(), module='topology', **extra):
        spec = dict(mode=mode, module=module, args=args, owner=args.get('owner'), stop_at=list(stop_at), **extra)
        self.spec_file = tempfile.NamedTemporaryFile('w', suffix='.json', delete=False)
        json.dump(spec, self.spec_file)
        self.spec_file.close()
        self.proc = subprocess.Popen([sys.executable, DRIVE, self.spec_file.name],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def wait_stopped(self):
        """Block until the process has stopped itself (or ended: then say how)."""
        pid, status = os.waitpid(self.proc.pid, os.WUNTRACED)
        if not os.WIFSTOPPED(status):
            self.proc.returncode = os.waitstatus_to_exitcode(status)
            raise AssertionError('the run ended before it stopped: %s %s' % self.proc.communicate())

    def signal_and_go_on(self, *signums):
        for signum in signums:
            os.kill(self.proc.pid, signum)
        os.kill(self.proc.pid, signal.SIGCONT)

    def result(self):
        out, err = self.proc.communicate()
        os.unlink(self.spec_file.name)
        assert out, 'no result on stdout (exit %s): %s' % (self.proc.returncode, err)
        return json.loads(out), self.proc.returncode, err


@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_apply_undoes_the_run_and_fails_with_a_clear_message(mode, signum):
    doc = lab(100)
    before = snapshot()
    run = Run(mode, doc, stop_at=[250])  # of about 500 actions: namespaces and veths made, addresses not
    run.wait_stopped()
    assert len(os.listdir('/run/netns')) == 100, 'the run was not mid-way'
    run.signal_and_go_on(signum)
    result, returncode, err = run.result()
    name = signal.Signals(signum).name
    assert result['failed'] is True, result
    # The action under way when the signal came (number 250, counted from 0) is finished, then undone too.
    assert result['msg'].startswith('interrupted by %s after 251 of ' % name), result['msg']
    assert result['msg'].endswith('; every change of this run was undone'), result['msg']
    assert 'Traceback' not in err
    if mode == 'module':
        assert result['signal'] == name and returncode == 1
    assert snapshot() == before


@pytest.mark.parametrize('mode', MODES)
def test_a_second_signal_does_not_stop_the_rollback(mode):
    doc = lab(60)
    before = snapshot()
    # Stopped before action 200, interrupted there; stopped again before the 100th undo step.
    run = Run(mode, doc, stop_at=[200, 300])
    run.wait_stopped()
    run.signal_and_go_on(signal.SIGINT)
    run.wait_stopped()
    assert os.listdir('/run/netns'), 'the rollback had already finished'
    run.signal_and_go_on(signal.SIGTERM)
    result, dummy, err = run.result()
    assert result['failed'] is True
    assert re.match(r'interrupted by SIGINT after 201 of \d+ actions; every change of this run was undone '
                    r'\(SIGTERM while undoing did not stop the rollback\)$', result['msg']), result['msg']
    assert snapshot() == before


@pytest.mark.parametrize('mode', MODES)
def test_a_signal_during_the_last_action_undoes_the_run(mode, kernel):
    doc = lab(3)
    # Forwarding in a namespace the run creates: its last action, which the namespace's removal undoes.
    # Its undo was missing, and the rollback said it was incomplete.
    doc['namespaces'][0]['sysctls'] = {'net.ipv4.ip_forward': 1}
    planned = plan(doc, kernel, check_mode=True, owner='sig').texts
    assert planned[-1] == 'set sysctl net.ipv4.ip_forward=1 in s0'
    total = len(planned)
    before = snapshot()
    run = Run(mode, doc, stop_at=[total - 1])
    run.wait_stopped()
    run.signal_and_go_on(signal.SIGTERM)
    result, dummy, dummy = run.result()
    assert result['failed'] is True
    assert result['msg'] == ('interrupted by SIGTERM during the last of %d actions; every change of this run was '
                             'undone' % total)
    assert snapshot() == before


@pytest.mark.parametrize('mode', MODES)
def test_a_signal_while_waiting_for_the_host_lock_ends_the_run_at_once(mode):
    """Another run holds the lock: SIGTERM must not leave the module blocked on it until then."""
    doc = lab(2)
    before = snapshot()
    with host_lock():
        run = Run(mode, doc)
        wait_until_blocked_on_a_lock(run.proc.pid)
        run.signal_and_go_on(signal.SIGTERM)
        result, dummy, dummy = run.result()  # returns while this test still holds the lock
    assert result['failed'] is True
    assert result['msg'] == 'interrupted by SIGTERM before any change: nothing was changed'
    assert snapshot() == before


def wait_until_blocked_on_a_lock(pid):
    """Poll /proc/locks (no timing: it is a state) until ``pid`` waits there for a lock."""
    while True:
        with open('/proc/locks') as f:
            if any('->' in line and line.split()[5] == str(pid) for line in f):
                return
        time.sleep(0.01)  # how often to look, not how long to wait
