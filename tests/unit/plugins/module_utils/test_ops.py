"""The operations between plan and kernel: each one declared once, run by exactly one Kernel method
that takes exactly its arguments.  (conftest.py checks every action of every plan the unit tests make.)"""

import inspect

import pytest

from ansible_collections.netvirt.linux.plugins.module_utils import _ops
from ansible_collections.netvirt.linux.plugins.module_utils._apply import OWN_OPERATIONS, _quieting
from ansible_collections.netvirt.linux.plugins.module_utils._kernel import EXECUTORS, Kernel
from ansible_collections.netvirt.linux.plugins.module_utils._ops import (
    ADD_ADDRESS, OPERATIONS, SET_LINK, executes, executors,
)
from ansible_collections.netvirt.linux.plugins.module_utils._planners._base import Action

import test_plan  # its TableReader, and its plan tables, which the last test runs again


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
    with pytest.raises(ValueError, match='no method of OneShort executes add_address, add_fdb, add_link, '):
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


# With the plan tables of test_plan.py, a step of every operation: each link kind, an fdb
# entry, a managed file and a NAT table, with their undos.
EVERY_KIND = {
    'namespaces': [{'name': 'c1', 'nameservers': ['10.0.0.254']}],
    'links': [
        {'kind': 'bridge', 'name': 'br0'},
        {'kind': 'veth', 'name': 'v1', 'peer': {'name': 'eth0', 'netns': 'c1'}},
        {'kind': 'vlan', 'name': 'vl10', 'link': 'v1', 'id': 10},
        {'kind': 'macvlan', 'name': 'mv0', 'link': 'v1', 'mode': 'bridge'},
        {'kind': 'ipvlan', 'name': 'iv0', 'link': 'v1', 'mode': 'l2'},
        {'kind': 'geneve', 'name': 'gn0', 'vni': 7, 'remote': '10.0.0.2'},
        {'kind': 'vxlan', 'name': 'vx0', 'vni': 8, 'fdb': [{'mac': '00:00:00:00:00:00', 'dst': '10.0.0.2'}]},
        {'kind': 'tuntap', 'name': 'tap0', 'mode': 'tap'},
    ],
    'nat': [{'netns': 'c1', 'name': 'lab', 'masquerade': [{'source': '10.0.0.0/24'}]}],
}


def test_every_operation_is_planned_by_the_unit_plan_tables(planned):
    """No operation is dead, and every action of these plans is checked (by conftest.py, at teardown)."""
    test_plan.plan(EVERY_KIND, test_plan.TableReader())
    for name, test in sorted(vars(test_plan).items()):
        if name.startswith('test_') and not inspect.signature(test).parameters:
            test()
    assert len(planned) > 20
    used = set(a.op for p in planned for a in p.actions) | set(a.undo_op for p in planned for a in p.actions)
    assert sorted(used - set([None])) == sorted(set(OPERATIONS) - set(OWN_OPERATIONS))


def test_what_a_verified_run_keeps_up_is_every_end_its_actions_name_in_any_namespace():
    # Found by molecule: sorting ends of the current namespace (None) with named ones raised TypeError.
    add = Action('link', 'add veth', 'add_link',
                 {'netns': None, 'name': 've-c4', 'options': {'peer_netns': 'c4', 'peer_name': 'eth0'}})
    rename = Action('attr', 'rename', 'move_link', {'netns': 'c1', 'name': 'eth0', 'to_netns': 'c1', 'to_name': 'eth1'})
    remove = Action('unnetns', 'remove netns c2', 'delete_namespace', {'netns': 'c2'})

    class Plan:
        actions = [add, rename, remove]
    assert _quieting(Plan) == ([[None, 've-c4'], ['c1', 'eth0'], ['c1', 'eth1'], ['c4', 'eth0']], ['c2'])
