"""The netns become plugin as ansible-core's own code calls it, and the command it builds."""

import pytest
import yaml

from ansible import constants as C
from ansible.playbook.play_context import PlayContext

from ansible_collections.netvirt.linux.plugins.become import netns as netns_plugin


@pytest.fixture
def netns():
    # What Ansible's plugin loader does: the options come from the plugin's own DOCUMENTATION.
    plugin = netns_plugin.BecomeModule()
    plugin._load_name = 'netvirt.linux.netns'
    C.config.initialize_plugin_configuration_definitions(
        'become', plugin._load_name, yaml.safe_load(netns_plugin.DOCUMENTATION)['options'])
    return plugin


def test_get_option_takes_the_playcontext_keyword(netns):
    # ansible-core 2.16-2.18 (ActionBase._configure_module, the ssh and local connections) call
    # get_option('become_pass', playcontext=...): the override must take every argument the base does.
    netns.set_options(direct={'become_user': 'c1'})
    context = PlayContext()
    context.become_flags = '-H'
    assert netns.get_option('become_user', playcontext=context) is None
    assert netns.get_option('become_exe', hostvars={}, playcontext=context) == 'ip'
    # An option the plugin does not define falls back to the play context, as for any become plugin.
    assert netns.get_option('become_pass', playcontext=context) == ''
    assert netns.get_option('become_flags', None, context) == '-H'
    with pytest.raises(KeyError):
        netns.get_option('no_such_option', playcontext=context)
