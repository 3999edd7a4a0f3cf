"""Each part of the planner (_planners/) calls only its own methods and the shared base's:
what one kind of object needs from another goes through PlannerBase, where every part sees it."""

import ast
import os

import pytest

PLANNERS = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'module_utils', '_planners')
PARTS = {'namespace': 'NamespacePlanning', 'link': 'LinkPlanning', 'route': 'RoutePlanning', 'nat': 'NatPlanning'}


def members(filename, name):
    """A class's methods and the attributes its methods set, and the names it reads from self."""
    with open(os.path.join(PLANNERS, filename + '.py')) as f:
        tree = ast.parse(f.read())
    cls = next(node for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and node.name == name)
    on_self = [node for node in ast.walk(cls) if isinstance(node, ast.Attribute)
               and isinstance(node.value, ast.Name) and node.value.id == 'self']
    own = set(node.name for node in cls.body if isinstance(node, ast.FunctionDef))
    own.update(node.attr for node in on_self if isinstance(node.ctx, ast.Store))
    return own, set(node.attr for node in on_self)


@pytest.mark.parametrize('part', sorted(PARTS))
def test_a_part_of_the_planner_calls_only_its_own_methods_and_the_bases(part):
    base = members('_base', 'PlannerBase')[0]
    own, used = members(part, PARTS[part])
    assert sorted(used - own - base) == []
    assert not own & set().union(*(members(other, PARTS[other])[0] for other in PARTS if other != part)), \
        'two parts define the same name'
