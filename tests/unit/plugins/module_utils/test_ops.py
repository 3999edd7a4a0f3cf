"""The operations between plan and kernel: each one declared once, run by exactly one Kernel method
that takes exactly its arguments.  (conftest.py checks every action of every plan the unit tests make.)"""

import inspect

import pytest

from ansible_collections.netvirt.linux.plugins.module_utils import _ops
from ansible_collections.netvirt.linux.plugins.module_utils._kernel import EXECUTORS, Kernel
from ansible_collections.netvirt.linux.plugins.module_utils._ops import (
    ADD_ADDRESS, OPERATIONS, SET_LINK, executes, executors,
)
from ansible_collections.netvirt.linux.plugins.module_utils._plan import Action


@pytest.mark.parametrize('name', sorted(OPERATIONS))
def test_every_operation_has_an_executor_that_takes_exactly_its_arguments(name):
    operation = OPERATIONS[name]
    assert getattr(_ops, name.upper()) is operation  # the constant the plan imports
    method = getattr(Kernel, EXECUTORS[name])
    assert method.executes is operation
    params = list(inspect.signature(method).parameters.values())[1:]  # after self
    assert all(p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in params), 'no *args or **kwargs'
    required = [p.name for p in params if p.default is p.empty]
    optional = [p.name for p in params if p.default is not p.empty]
    assert (sorted(required), sorted(optional)) == (sorted(operation.required), sorted(operation.optional))


def test_every_kernel_operation_method_runs_a_declared_operation():
    methods = sorted(name for name in vars(Kernel) if name.startswith('op_'))
    assert methods == sorted(EXECUTORS.values())
    assert len(methods) == len(OPERATIONS)


def test_a_step_is_plain_data():
    assert ADD_ADDRESS(netns='c1', name='eth0', cidr='10.0.0.1/24') == (
        'add_address', {'netns': 'c1', 'name': 'eth0', 'cidr': '10.0.0.1/24'})
    assert SET_LINK(netns=None, name='lo', up=True) == ('set_link', {'netns': None, 'name': 'lo', 'up': True})


def test_a_misspelt_or_missing_argument_fails_when_the_step_is_planned():
    with pytest.raises(TypeError, match=r'operation add_address: unknown argument cidrs; missing argument cidr; '
                                        r'it takes netns, name, cidr, routes'):
        ADD_ADDRESS(netns='c1', name='eth0', cidrs=['10.0.0.1/24'])


def test_an_operation_without_an_executor_fails_at_import():
    class OneShort:
        @executes(SET_LINK)
        def op_set_link(self, netns, name):
            pass
    with pytest.raises(ValueError, match='no method of OneShort executes add_address, add_bridge, '):
        executors(OneShort)


def test_an_operation_with_two_executors_fails_at_import():
    methods = dict((k, v) for k, v in vars(Kernel).items() if hasattr(v, 'executes'))
    methods['op_set_link_again'] = executes(SET_LINK)(lambda self, netns, name: None)
    with pytest.raises(ValueError, match='operation set_link has two executors'):
        executors(type('Doubled', (), methods))


@pytest.mark.parametrize('action, problem', [
    (Action('addr', 'x', 'add_adress', {'netns': None, 'name': 'eth0', 'cidr': '10.0.0.1/24'}), 'no operation'),
    (Action('addr', 'x', 'add_address', {'netns': None, 'name': 'eth0'}), 'missing argument cidr'),
    (Action('addr', 'x', 'delete_address', {'netns': None, 'name': 'eth0', 'cidr': '10.0.0.1/24'},
            'add_address', {'netns': None, 'name': 'eth0', 'cidr': '10.0.0.1/24', 'route': []}),
     'unknown argument route'),
])
def test_the_check_of_planned_actions_can_fail(check_action, action, problem):
    with pytest.raises(BaseException, match=problem):
        check_action(action)


def test_the_plans_of_unit_tests_are_checked(planned):
    from test_plan import SEED_002, TableReader, plan
    p = plan(SEED_002, TableReader())
    assert planned == [p] and p.actions
