"""Real-kernel tests.  They refuse to run outside the sandbox (tests/bin/sandbox),
so nothing they build can touch this machine's own network."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.netvirt.linux.plugins.module_utils._kernel import Kernel
from ansible_collections.netvirt.linux.plugins.module_utils._model import normalise_document
from ansible_collections.netvirt.linux.plugins.module_utils._plan import StateReader, plan_document
from ansible_collections.netvirt.linux.plugins.module_utils._apply import apply_plan, host_lock

HERE = os.path.dirname(os.path.abspath(__file__))
SNAPSHOT = os.path.join(HERE, '..', 'bin', 'snapshot.py')
sys.path.insert(0, os.path.join(HERE, '..', 'bin'))
# The one check every lane uses, and where persist writes.
from sandboxed import SOURCE as SANDBOX_SOURCE, inside as in_sandbox, top_mount_source  # noqa: E402
from snapshot import PERSIST_DIRS  # noqa: E402


def pytest_configure(config):
    # Under emulation (the VM lane) each Python start costs about 40 s, and these tests start
    # several; what they prove is how the engine meets a signal or a kill, which the host's
    # three pyroute2 lanes prove on every run, not anything of the kernel's.
    config.addinivalue_line('markers', 'own_process: runs the module or the engine as a process of '
                            'its own to signal, stop or kill it (the VM lane leaves these out)')


def pytest_collection_modifyitems(config, items):
    if not in_sandbox():
        raise pytest.UsageError('the kernel suite must run inside tests/bin/sandbox (make kernel)')


def ip(*args, netns=None, check=True):
    cmd = ['ip'] + (['-n', netns] if netns else []) + list(args)
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def ip_json(*args, netns=None):
    return json.loads(ip('-j', *args, netns=netns).stdout or '[]')


def link(name, netns=None):
    found = [x for x in ip_json('-d', 'link', 'show', netns=netns) if x['ifname'] == name]
    return found[0] if found else None


def addresses(name, netns=None):
    out = ip_json('addr', 'show', 'dev', name, netns=netns)
    return sorted('%s/%d' % (a['local'], a['prefixlen']) for a in out[0]['addr_info']
                  if not a['local'].startswith('fe80'))


def ping(netns, address):
    return subprocess.run(['ip', 'netns', 'exec', netns, 'ping', '-c', '1', '-W', '2', address],
                          capture_output=True, check=False).returncode == 0


def failure_points(total):
    """Every action index, for the tests that inject a failure at each one.

    Under software emulation (the VM lane) a snapshot costs seconds, so there
    NETVIRT_FAILURE_STRIDE=N takes every Nth index, always with the first
    and the last; here it is 1.
    """
    stride = int(os.environ.get('NETVIRT_FAILURE_STRIDE', '1'))
    return sorted(set(list(range(0, total, stride)) + [total - 1]))


def snapshot():
    return subprocess.run([sys.executable, SNAPSHOT], check=True, capture_output=True, text=True).stdout


def plan(doc, kernel, check_mode=False, force=False, owner='test', purge=False, single=False):
    return plan_document(normalise_document(doc, owner), StateReader(kernel, bulk=not single), check_mode, force,
                         single=single, purge=purge)


def converge(doc, owner='test', force=False, purge=False):
    """Plan and apply with a fresh kernel handle, as one module run does."""
    with Kernel() as kernel, host_lock():
        p = plan(doc, kernel, owner=owner, force=force, purge=purge)
        apply_plan(kernel, p)
        return p


def four_steps(doc, owner='test'):
    """Check mode changes nothing and predicts the real run; then nothing is left to do, twice."""
    before = snapshot()
    with Kernel() as kernel:
        predicted = plan(doc, kernel, check_mode=True, owner=owner)
    assert predicted.texts, 'check mode found nothing to do'
    assert snapshot() == before, 'check mode changed the kernel'
    assert converge(doc, owner=owner).texts == predicted.texts
    with Kernel() as kernel:
        again = plan(doc, kernel, check_mode=True, owner=owner)
    assert again.texts == [] and again.diff()['before'] == again.diff()['after']
    assert converge(doc, owner=owner).texts == []


@pytest.fixture(autouse=True)
def clean_sandbox():
    """Every test starts from an empty sandbox: no named namespaces, only lo."""
    yield
    for name in os.listdir('/run/netns'):
        ip('netns', 'del', name, check=False)
    for entry in ip_json('link', 'show'):
        if entry['ifname'] != 'lo':
            ip('link', 'del', entry['ifname'], check=False)
    assert in_sandbox()
    for directory in ('/etc/netns', '/run/netvirt.linux') + tuple(
            d for d in PERSIST_DIRS if top_mount_source(d) == SANDBOX_SOURCE):  # persist's, where they are ours
        for name in os.listdir(directory):
            path = os.path.join(directory, name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)  # a journal a failed test left


@pytest.fixture
def kernel():
    with Kernel() as k:
        yield k
