"""The netns become plugin as ansible-core's own code calls it, and the command it builds."""

import shlex

import pytest
import yaml

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import shell_loader

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


def command(netns, **options):
    netns.set_options(direct=dict({'become_user': 'c1'}, **options))
    shell = shell_loader.get('sh')
    shell.executable = '/bin/sh'  # as the connection sets it, from ansible_shell_executable
    return netns.build_become_command('/usr/bin/python3 /tmp/m.py', shell)


def words(line):
    return shlex.split(line)


def test_as_root_ip_netns_exec_after_two_checks(netns):
    built = command(netns)
    assert 'sudo -n --' not in built
    argv = words(built.rsplit('&& ', 1)[1])
    assert argv[:4] == ['ip', 'netns', 'exec', 'c1'] and argv[4:6] == ['/bin/sh', '-c']
    assert argv[6].endswith('; /usr/bin/python3 /tmp/m.py') and netns.success in argv[6]
    assert 'test -e /run/netns/c1 ||' in built
    assert '[ "$(id -u)" = 0 ] ||' in built and 'set ansible_netns_sudo=true' in built


def test_with_sudo_the_plugin_runs_sudo_n_itself(netns):
    built = command(netns, sudo=True)
    assert '"$(id -u)"' not in built
    run = built.split('&& { ', 1)[1].split(' || { rc=$?;', 1)[0]
    argv = words(run)
    assert argv[:7] == ['sudo', '-n', '--', 'ip', 'netns', 'exec', 'c1'] and argv[7:9] == ['/bin/sh', '-c']
    # Only a failing sudo (exit 1) asks sudo -l whether it refused, and then says so by name.
    assert 'sudo -n -l -- ip netns exec c1 >/dev/null 2>&1 || echo' in built
    assert 'netvirt.linux.netns: sudo refused to run' in built and 'exit "$rc"' in built


def test_the_option_comes_from_ansible_netns_sudo_and_is_off_by_default(netns):
    netns.set_options(direct={'become_user': 'c1'})
    assert netns.get_option('sudo') is False
    netns.set_options(var_options={'ansible_netns_sudo': True}, direct={'become_user': 'c1'})
    assert netns.get_option('sudo') is True


def test_exe_and_namespace_stay_one_word_each(netns):
    built = command(netns, sudo=True, become_exe='/opt/ip; touch /tmp/owned')
    run = built.split('&& { ', 1)[1].split(' || { rc=$?;', 1)[0]
    assert words(run)[:5] == ['sudo', '-n', '--', '/opt/ip; touch /tmp/owned', 'netns']


@pytest.mark.parametrize('name', ['a b', 'x/y', '..', 'a;b:c', 'sixteen-bytes-xx', ''])
def test_a_name_that_is_no_namespace_is_refused_by_name(netns, name):
    with pytest.raises(AnsibleError, match='become_user .* is not a namespace name'):
        command(netns, become_user=name, sudo=True)


@pytest.mark.parametrize('name, char', [('c1\x00', r"'\\x00'"), ('c\x001', r"'\\x00'"), ('c\x1b[1m', r"'\\x1b'"),
                                        ('c\x7f', r"'\\x7f'")])
def test_a_nul_or_control_character_in_become_user_is_named(netns, name, char):
    # Before: a NUL passed, and the task failed later with Python's bare "embedded null byte".
    with pytest.raises(AnsibleError, match='become_user .* contains the control character %s' % char):
        command(netns, become_user=name)
