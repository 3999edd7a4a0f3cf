"""Rollback and the host lock, on the real kernel."""

import multiprocessing

import pytest

from conftest import converge, failure_points, ip, link, plan, snapshot
from ansible_collections.netvirt.linux.plugins.module_utils._kernel import Kernel, KernelError
from ansible_collections.netvirt.linux.plugins.module_utils._apply import ApplyError, apply_plan, host_lock


class FailingKernel(Kernel):
    """The real kernel, except that forward action number ``fail_at`` raises before it runs."""

    def __init__(self, fail_at):
        super(FailingKernel, self).__init__()
        self.fail_at = fail_at
        self.calls = 0

    def run(self, op, args):
        if self.fail_at is not None:
            if self.calls == self.fail_at:
                self.fail_at = None  # the undo steps that follow run for real
                raise KernelError('injected failure')
            self.calls += 1
        return super(FailingKernel, self).run(op, args)


def assert_every_failure_rolls_back(doc, owner='test', at_least=1, force=False):
    """Inject a failure at each action of doc's plan in turn (failure_points): each time the
    failing action is named, every undo succeeds, and the kernel is exactly as it was."""
    before = snapshot()
    with Kernel() as kernel:
        total = len(plan(doc, kernel, owner=owner, force=force).actions)
    assert total >= at_least
    for k in failure_points(total):
        with FailingKernel(k) as kernel, host_lock():
            p = plan(doc, kernel, owner=owner, force=force)
            with pytest.raises(ApplyError) as e:
                apply_plan(kernel, p)
        assert 'injected failure' in str(e.value)
        assert e.value.action.text == p.actions[k].text
        assert e.value.undo_errors == [], e.value.undo_errors
        assert snapshot() == before, 'state differs after a failure at action %d (%s)' % (k, p.actions[k].text)


# A small lab that also changes what exists: a moved and renamed peer, addresses
# swapped, a port detached, an MTU changed, a bridge removed, sysctls and files.
EXISTING = {
    'namespaces': [{'name': 'c1'}, {'name': 'c2', 'sysctls': {'net.ipv4.ip_forward': 0}}],
    'links': [
        {'kind': 'bridge', 'name': 'br0', 'addresses': ['10.0.0.254/24'], 'stp': False},
        {'kind': 'bridge', 'name': 'old-br'},
        {'kind': 'veth', 'name': 'v1', 'master': 'br0', 'peer': {'name': 'eth0', 'netns': 'c1',
                                                                 'addresses': ['10.0.0.1/24']}},
        {'kind': 'veth', 'name': 'v9', 'master': 'br0', 'peer': {'name': 'v9-p'}},
    ],
    'routes': [{'netns': 'c1', 'dest': 'default', 'via': '10.0.0.254'}],
}
CHANGE = {
    'namespaces': [{'name': 'c1', 'nameservers': ['10.0.0.254']}, {'name': 'c2', 'sysctls': {'net.ipv4.ip_forward': 1}},
                   {'name': 'c3', 'hosts': {'10.0.0.3': 'c3'}}],
    'links': [
        {'kind': 'bridge', 'name': 'br0', 'addresses': ['10.0.0.253/24'], 'stp': True, 'forward_delay': 2,
         'ports': ['v1', 'v2']},
        {'kind': 'bridge', 'name': 'old-br', 'state': 'absent'},
        {'kind': 'veth', 'name': 'v1', 'mtu': 1400, 'peer': {'name': 'eth1', 'netns': 'c1', 'mtu': 1400,
                                                             'addresses': ['10.0.0.11/24']}},
        {'kind': 'veth', 'name': 'v2', 'peer': {'name': 'eth0', 'netns': 'c3', 'addresses': ['10.0.0.3/24']}},
        {'kind': 'veth', 'name': 'x1', 'peer': {'name': 'x2'}},
    ],
    'routes': [{'netns': 'c1', 'dest': 'default', 'via': '10.0.0.253'},
               {'netns': 'c3', 'dest': 'default', 'via': '10.0.0.253', 'metric': 5}],
}


def test_change_plan_really_converges():
    converge(EXISTING)
    ip('link', 'add', 'v8', 'type', 'veth', 'peer', 'name', 'v8-p')
    converge(CHANGE)
    assert link('eth1', 'c1')['mtu'] == 1400 and link('eth0', 'c1') is None
    assert link('old-br') is None and 'master' not in link('v9')
    with Kernel() as kernel:
        assert plan(CHANGE, kernel).texts == []


def count_actions():
    with Kernel() as kernel:
        return len(plan(CHANGE, kernel).actions)


def test_a_failure_at_every_action_leaves_the_kernel_exactly_as_it_was():
    converge(EXISTING)
    assert_every_failure_rolls_back(CHANGE, at_least=25)


def test_a_real_kernel_failure_is_rolled_back_and_named():
    before = snapshot()
    # The kernel refuses the value at the very end of the plan, after every link and route.
    doc = dict(EXISTING, namespaces=[{'name': 'c1'}, {'name': 'c2', 'sysctls': {'net.ipv4.ip_forward': 'yes'}}])
    with pytest.raises(ApplyError) as e:
        converge(doc)
    assert 'set sysctl net.ipv4.ip_forward=yes in c2 failed' in str(e.value)
    assert 'every earlier change of this run was undone' in str(e.value)
    assert snapshot() == before


def _apply_in_child(doc, queue):
    try:
        converge(doc)
        queue.put('ok')
    except Exception as e:  # reported to the parent
        queue.put('%s: %s' % (type(e).__name__, e))


def test_two_concurrent_applies_take_turns():
    """Both documents create the shared bridge; without the lock one would fail with EEXIST."""
    docs = [{'namespaces': [{'name': 'n%d%d' % (who, i)} for i in range(6)],
             'links': [{'kind': 'bridge', 'name': 'shared'}] + [
                 {'kind': 'veth', 'name': 'v%d%d' % (who, i), 'master': 'shared',
                  'peer': {'name': 'eth0', 'netns': 'n%d%d' % (who, i), 'addresses': ['10.9.%d.%d/16' % (who, i + 1)]}}
                 for i in range(6)]} for who in (1, 2)]
    for _attempt in range(3):
        queue = multiprocessing.Queue()
        children = [multiprocessing.Process(target=_apply_in_child, args=(doc, queue)) for doc in docs]
        for child in children:
            child.start()
        for child in children:
            child.join(60)
        assert sorted(queue.get() for child in children) == ['ok', 'ok']
        for who in (1, 2):
            for i in range(6):
                assert link('v%d%d' % (who, i))['master'] == 'shared'
        converge({'namespaces': [{'name': n['name'], 'state': 'absent'} for d in docs for n in d['namespaces']],
                  'links': [{'kind': 'bridge', 'name': 'shared', 'state': 'absent'}]})
