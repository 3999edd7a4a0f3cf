"""Every plan a unit test makes is checked against the operations of _ops."""

import json

import pytest

from ansible_collections.netvirt.linux.plugins.module_utils import _plan
from ansible_collections.netvirt.linux.plugins.module_utils._ops import OPERATIONS


def _check_action(action):
    """An action names a declared operation, with arguments it declares, as plain data (and so its undo)."""
    assert action.op is not None, action
    assert (action.undo_op is None) == (action.undo_args is None), action
    for op, args in ((action.op, action.args), (action.undo_op, action.undo_args)):
        if op is None:
            continue
        assert op in OPERATIONS, '%r: no operation %s' % (action, op)
        try:
            OPERATIONS[op](**args)
        except TypeError as e:
            pytest.fail('%r: %s' % (action, e))
        # Check mode reports the plan and the topology module returns it: it stays data.
        json.dumps(args)


@pytest.fixture(autouse=True)
def planned(monkeypatch):
    """The plans the test made; each action in them is checked when the test ends."""
    plans = []
    run = _plan._Planner.run

    def recording_run(planner):
        plans.append(planner.plan)
        return run(planner)
    monkeypatch.setattr(_plan._Planner, 'run', recording_run)
    yield plans
    for plan in plans:
        for action in plan.actions:
            _check_action(action)


@pytest.fixture
def check_action():
    return _check_action
