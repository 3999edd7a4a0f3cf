"""Each link kind's option schema (_kinds) agrees with its module's DOCUMENTATION, and the registry
with the modules and the topology module's documentation."""

import importlib
import os

import pytest
import yaml

from ansible_collections.netvirt.linux.plugins.module_utils._kinds import KINDS, LINK_KINDS
from ansible_collections.netvirt.linux.plugins.module_utils._kinds._base import ENTRY_OPTIONS

MODULES = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'modules')
# Options of the modules that are not options of the kind: every link's (a module may document
# one again, as bridge does master), and every task's.
NOT_KIND_OPTIONS = set(ENTRY_OPTIONS) | {'owner', 'force'}


def documented_options(kind):
    module = importlib.import_module('ansible_collections.netvirt.linux.plugins.modules.%s' % kind)
    return yaml.safe_load(module.DOCUMENTATION).get('options') or {}


@pytest.mark.parametrize('kind', LINK_KINDS)
def test_a_kinds_schema_is_what_its_module_documents(kind):
    documented = dict((name, spec) for name, spec in documented_options(kind).items() if name not in NOT_KIND_OPTIONS)
    schema = dict((option.name, option) for option in KINDS[kind].options)
    assert sorted(schema) == sorted(documented)
    for name, option in schema.items():
        spec = documented[name]
        assert (option.type, option.default, tuple(spec['choices']) if 'choices' in spec else None) == (
            spec['type'], spec.get('default'), option.choices), name


def test_every_kind_has_a_module_and_the_topology_module_lists_it():
    modules = set(name[:-3] for name in os.listdir(MODULES) if name.endswith('.py'))
    assert set(LINK_KINDS) <= modules
    topology = yaml.safe_load(importlib.import_module(
        'ansible_collections.netvirt.linux.plugins.modules.topology').DOCUMENTATION)
    text = ' '.join(topology['options']['links']['description'])
    assert all('C(%s)' % kind in text for kind in LINK_KINDS)


def test_a_misspelt_or_missing_option_of_the_add_step_fails_when_the_plan_is_made():
    macvlan = KINDS['macvlan']
    assert macvlan.add_step('c1', 'mv0', 'lab', {'link': 'eth0', 'link_netns': None, 'mode': 'bridge', 'mtu': None})[0] \
        == 'add_link'
    with pytest.raises(TypeError, match='adding a macvlan: unknown option parent; missing option link; it takes '):
        macvlan.add_step('c1', 'mv0', 'lab', {'parent': 'eth0', 'link_netns': None, 'mode': 'bridge'})


class ModuleArguments(Exception):
    """What a module gave AnsibleModule, raised by a stand-in to stop the module there."""


def module_arguments(kind):
    module = importlib.import_module('ansible_collections.netvirt.linux.plugins.modules.%s' % kind)

    def capture(**arguments):
        raise ModuleArguments(arguments)
    original, module.AnsibleModule = module.AnsibleModule, capture
    try:
        module.main()
    except ModuleArguments as given:
        return given.args[0]
    finally:
        module.AnsibleModule = original
    raise AssertionError('%s never made its AnsibleModule' % kind)


def all_documented_options(kind):
    """The module's DOCUMENTATION options with those of its doc fragments, as ansible-doc shows them."""
    module = importlib.import_module('ansible_collections.netvirt.linux.plugins.modules.%s' % kind)
    documentation = yaml.safe_load(module.DOCUMENTATION)
    options = {}
    for name in documentation.get('extends_documentation_fragment', []):
        fragment, variable = (name.replace('netvirt.linux.', '') + '.').split('.')[:2]
        holder = importlib.import_module('ansible_collections.netvirt.linux.plugins.doc_fragments.%s' % fragment)
        options.update(yaml.safe_load(getattr(holder.ModuleDocFragment, variable or 'DOCUMENTATION')).get('options') or {})
    options.update(documentation.get('options') or {})
    return options


def as_documented(spec):
    """An argument_spec in DOCUMENTATION's terms (what validate-modules compares)."""
    return dict((name, dict((key, value) for key, value in (
        ('type', option['type']), ('default', option.get('default')), ('choices', option.get('choices')),
        ('elements', option.get('elements')), ('required', option.get('required', False)),
        ('suboptions', _nested(option))) if value is not None))
        for name, option in spec.items())


def _nested(option):
    """The options within an option: an argument_spec's ``options``, DOCUMENTATION's ``suboptions``."""
    nested = option.get('options', option.get('suboptions'))
    return as_documented(nested) if nested is not None else None


@pytest.mark.parametrize('kind', LINK_KINDS)
def test_a_link_modules_arguments_come_from_its_kinds_schema_and_agree_with_its_documentation(kind):
    arguments = module_arguments(kind)
    documented = all_documented_options(kind)
    assert as_documented(arguments['argument_spec']) == as_documented(documented)
    # DOCUMENTATION has no 'required when present': the module's required_if is the schema's required options.
    required = [option.name for option in KINDS[kind].options if option.required]
    assert arguments.get('required_if', []) == ([('state', 'present', required)] if required else [])
