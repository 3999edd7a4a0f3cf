"""persist (issue 21) on the real kernel: what a persisted lab leaves on the host, and a reboot
simulated as a fresh sandbox (a new network namespace, an empty /run, the same persisted files)
in which each unit's ExecStart runs exactly as its unit file gives it."""

import json
import os
import subprocess
import sys
import tempfile

import pytest

from conftest import HERE, PERSIST_DIRS, SANDBOX_SOURCE, converge, four_steps, ip, plan, snapshot, top_mount_source
from test_apply import assert_every_failure_rolls_back
from ansible_collections.netvirt.linux.plugins.module_utils._apply import VerifyFailed, apply_plan, host_lock
from ansible_collections.netvirt.linux.plugins.module_utils._kernel import Kernel
from ansible_collections.netvirt.linux.plugins.module_utils._plan import PlanError
from ansible_collections.netvirt.linux.plugins.module_utils._persist import ENGINE_DIR, lab_path, unit_link

REBOOT = os.path.join(HERE, '..', 'bin', 'reboot.py')
TEMPLATE = '/etc/systemd/system/netvirt-lab@.service'

LAB = {
    'namespaces': [{'name': 'pa', 'sysctls': {'net.ipv4.ip_forward': 1}, 'nameservers': ['10.64.0.1'],
                    'hosts': {'10.64.0.2': ['pb']}},
                   {'name': 'pb'}],
    'links': [{'kind': 'bridge', 'name': 'pbr', 'netns': 'pa', 'addresses': ['10.64.0.1/24']},
              {'kind': 'veth', 'name': 'v-pb', 'netns': 'pa', 'master': 'pbr', 'tc': {'rate': '50mbit'},
               'peer': {'name': 'eth0', 'netns': 'pb', 'addresses': ['10.64.0.2/24']}},
              {'kind': 'veth', 'name': 'pv0', 'addresses': ['10.66.0.1/24'],
               'peer': {'name': 'up0', 'netns': 'pa', 'addresses': ['10.66.0.2/24']}}],
    'routes': [{'netns': 'pb', 'dest': '10.66.0.0/24', 'via': '10.64.0.1'}],
    'nat': [{'netns': 'pa', 'name': 'out', 'masquerade': [{'source': '10.64.0.0/24'}]}],
    'persist': True,
    'persist_timeout': 5,
}


@pytest.fixture(autouse=True)
def persist_dirs_are_the_sandboxes():
    """Nothing here may write this machine's /etc/systemd/system: each directory is the sandbox's tmpfs."""
    for directory in PERSIST_DIRS:
        assert top_mount_source(directory) == SANDBOX_SOURCE, directory


def persisted():
    return json.loads(snapshot())['persisted']


def with_(doc, **changes):
    return dict(doc, **changes)


def reboot(units, late_link=None, pings=()):
    """What boot.py saw in a fresh sandbox holding a copy of the persisted files (tests/bin/reboot.py)."""
    request = {'units': units, 'late_link': late_link, 'pings': [list(p) for p in pings]}
    done = subprocess.run([sys.executable, REBOOT, json.dumps(request)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# A reboot gives every link a new ifindex, and those the lab gives no MAC a new random one (with the IPv6
# link-local address made from it): the kernel's choices, not the lab's.
CHOSEN_BY_THE_KERNEL = ('ifindex', 'link_index', 'address')


def without_the_kernels_choices(state):
    state = json.loads(json.dumps(state))
    for key, value in state.items():
        if isinstance(value, dict) and 'links' in value:
            for link in value['links']:
                for field in CHOSEN_BY_THE_KERNEL:
                    link.pop(field, None)
    return state


def test_a_persisted_lab_is_the_same_lab_after_a_reboot():
    four_steps(LAB)
    built = json.loads(snapshot())
    assert sorted(built['persisted']) == sorted(
        [lab_path('test'), TEMPLATE, unit_link('test')] +
        [path for path in built['persisted'] if path.startswith(ENGINE_DIR + '/')])
    assert built['persisted'][unit_link('test')] == '-> ' + TEMPLATE
    boot = reboot(['test'], pings=[('pb', '10.64.0.1'), ('pb', '10.66.0.1'), ('pa', '10.66.0.1')])
    unit = boot['units']['test']
    assert unit['rc'] == 0, unit
    assert 'lab test restored' in unit['stdout']
    assert boot['before']['namespaces'] == [] and [link['ifname'] for link in boot['before']['host']['links']] == ['lo']
    assert without_the_kernels_choices(boot['after']) == without_the_kernels_choices(built)
    assert boot['pings'] == [True, True, True]


def test_the_unit_is_one_systemd_accepts():
    converge(LAB)
    with tempfile.TemporaryDirectory() as units:
        os.symlink(TEMPLATE, os.path.join(units, 'netvirt-lab@test.service'))
        done = subprocess.run(['systemd-analyze', 'verify', os.path.join(units, 'netvirt-lab@test.service')],
                              capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stderr == '', done.stderr


def test_check_mode_and_diff_report_the_files_and_a_change_updates_only_the_document():
    with Kernel() as kernel:
        predicted = plan(LAB, kernel, check_mode=True)
    assert predicted.texts[-1] == (
        'persist lab test: save /etc/netvirt.linux/labs/test.json, install %s, install the restore engine in '
        '/usr/local/lib/netvirt.linux (%d files), enable netvirt-lab@test.service'
        % (TEMPLATE, len([a for a in predicted.actions[-1].args['paths'] if a.startswith(ENGINE_DIR)])))
    diff = predicted.diff()
    assert diff['before']['persist test'] is None
    assert diff['after']['persist test']['enabled'] is True
    assert diff['after']['persist test']['document']['namespaces'] == 2
    assert diff['after']['persist test']['exec_start'] == '%s -I -B %s/restore.py %%i' % (sys.executable, ENGINE_DIR)
    assert diff['after']['persist test']['engine_files'] == len(
        [a for a in predicted.actions[-1].args['paths'] if a.startswith(ENGINE_DIR)])
    assert persisted() == {}
    converge(LAB)
    engine = dict((path, digest) for path, digest in persisted().items() if path.startswith(ENGINE_DIR))
    grown = with_(LAB, namespaces=LAB['namespaces'] + [{'name': 'pc'}])
    with Kernel() as kernel:
        changed = plan(grown, kernel, check_mode=True)
    assert changed.texts == ['create netns pc', 'bring lo up in pc',
                             'persist lab test: update /etc/netvirt.linux/labs/test.json']
    before, after = changed.diff()['before']['persist test'], changed.diff()['after']['persist test']
    assert before['document']['namespaces'] == 2 and after['document']['namespaces'] == 3
    assert before['document']['sha256'] != after['document']['sha256']
    converge(grown)
    assert dict((path, digest) for path, digest in persisted().items() if path.startswith(ENGINE_DIR)) == engine
    assert json.loads(persisted()[lab_path('test')])['document']['namespaces'][-1] == {'name': 'pc'}


def test_persist_false_removes_the_owners_files_and_the_last_owner_takes_the_unit_and_the_engine():
    other = {'namespaces': [{'name': 'po'}], 'persist': True}
    converge(LAB)
    converge(other, owner='other')
    both = persisted()
    off = with_(LAB, persist=False)
    with Kernel() as kernel:
        assert plan(off, kernel).texts == [
            'stop persisting lab test: disable netvirt-lab@test.service, remove /etc/netvirt.linux/labs/test.json']
    converge(off)
    assert sorted(persisted()) == sorted(path for path in both if 'test' not in os.path.basename(path))
    assert converge(off).texts == []
    # Left out, persist is not managed: the other owner's files stay as they are.
    assert converge({'namespaces': [{'name': 'po'}]}, owner='other').texts == []
    assert converge(with_(other, persist=False), owner='other').texts == [
        'stop persisting lab other: disable netvirt-lab@other.service, remove /etc/netvirt.linux/labs/other.json, '
        'remove %s, remove the restore engine from /usr/local/lib/netvirt.linux' % TEMPLATE]
    assert persisted() == {}
    assert os.listdir(ENGINE_DIR) == [] and os.listdir('/etc/netvirt.linux') == []


def test_every_failure_rolls_persist_back_with_the_lab():
    assert_every_failure_rolls_back(LAB, at_least=10)
    converge(LAB)
    assert_every_failure_rolls_back(with_(LAB, namespaces=LAB['namespaces'] + [{'name': 'pc'}]), at_least=2)
    assert_every_failure_rolls_back(with_(LAB, persist=False), at_least=1)


def test_somebodys_unit_of_that_name_is_not_replaced_without_force():
    with open(TEMPLATE, 'w') as f:
        f.write('[Service]\nExecStart=/bin/true\n')
    before = snapshot()
    with pytest.raises(PlanError) as refused:
        converge(LAB)
    assert ('persist: unit %s was not created by netvirt.linux; set force: true to change or remove it; without '
            'force this task would not: replace %s' % (TEMPLATE, TEMPLATE)) in str(refused.value)
    assert snapshot() == before
    converge(LAB, force=True)
    assert persisted()[TEMPLATE].startswith('# netvirt.linux')


LATE = {'links': [{'kind': 'macvlan', 'name': 'mvl', 'netns': 'pl', 'link': 'par0', 'addresses': ['10.67.0.5/24']}],
        'namespaces': [{'name': 'pl'}], 'persist': True, 'persist_timeout': 4}


def test_a_lab_whose_parent_is_missing_at_boot_fails_its_unit_and_leaves_the_host_as_it_found_it():
    ip('link', 'add', 'name', 'par0', 'type', 'veth', 'peer', 'name', 'par0-x')
    converge(LATE, owner='late')
    converge({'namespaces': [{'name': 'pq'}], 'persist': True}, owner='plain')
    boot = reboot(['late', 'plain'])
    late, plain = boot['units']['late'], boot['units']['plain']
    assert late['rc'] == 1 and plain['rc'] == 0, boot['units']
    assert 'lab late not restored after' in late['stderr'] and 'par0' in late['stderr'], late
    # The other owner's lab comes back on its own; nothing of the failed one is there.
    assert boot['after']['namespaces'] == ['pq']
    assert dict(boot['after'], namespaces=[], **{'netns pq': None}) == dict(boot['before'], **{'netns pq': None})


def test_a_parent_that_appears_late_at_boot_is_waited_for():
    ip('link', 'add', 'name', 'par0', 'type', 'veth', 'peer', 'name', 'par0-x')
    converge(LATE, owner='late')
    boot = reboot(['late'], late_link='par0')
    late = boot['units']['late']
    assert late['rc'] == 0, late
    assert 'trying again for up to 4s' in late['stdout'] and 'restored: 5 actions after ' in late['stdout'], late
    assert boot['after']['namespaces'] == ['pl']
    assert [link['ifname'] for link in boot['after']['netns pl']['links']] == ['lo', 'mvl']


def test_a_failure_inside_the_persist_action_puts_back_what_it_had_written():
    """One action writes many files: when the last of them fails, the ones before it go too (the plan's undo
    covers only the actions before the one that failed)."""
    with open('/etc/systemd/system/multi-user.target.wants', 'w') as f:
        f.write('in the way\n')  # a file where the enabling link's directory goes: only the write finds it
    before = snapshot()
    with pytest.raises(Exception) as failed:
        converge(LAB)
    assert 'cannot link /etc/systemd/system/multi-user.target.wants/netvirt-lab@test.service' in str(failed.value)
    assert snapshot() == before


@pytest.mark.parametrize('in_the_way, message', [
    (TEMPLATE, 'persist: %s is a directory, where netvirt.linux keeps a file; move it away' % TEMPLATE),
    (lab_path('test'), 'persist: %s is a directory, where netvirt.linux keeps a file; move it away'
     % lab_path('test')),
])
def test_a_directory_where_a_file_goes_is_refused_before_anything_changes(in_the_way, message):
    os.makedirs(in_the_way)
    before = snapshot()
    with pytest.raises(PlanError) as refused:
        converge(LAB)
    assert refused.value.errors == [message]
    assert snapshot() == before


def test_a_file_where_the_enabling_link_goes_needs_force_and_a_killed_runs_partial_file_goes():
    os.makedirs(os.path.dirname(unit_link('test')))
    with open(unit_link('test'), 'w') as f:
        f.write('precious\n')
    with pytest.raises(PlanError) as refused:
        converge(LAB)
    assert ('persist: file %s was not created by netvirt.linux; set force: true to change or remove it; without '
            'force this task would not: replace %s' % (unit_link('test'), unit_link('test'))) in str(refused.value)
    converge(LAB, force=True)
    assert persisted()[unit_link('test')] == '-> ' + TEMPLATE
    with open(lab_path('test') + '.netvirt-tmp', 'w') as f:
        f.write('{"half": ')  # as a run killed while it wrote the lab leaves it
    assert converge(with_(LAB, persist=False)).texts[-1].startswith('stop persisting lab test: ')
    assert persisted() == {}


def test_a_run_undone_after_its_last_action_puts_back_what_force_replaced():
    """The plan's undo of the persist action (a failed verify runs it): somebody's file where the enabling link
    goes and a template masked with a symlink to /dev/null come back as they were, not as a file or a link."""
    os.makedirs(os.path.dirname(unit_link('test')))
    with open(unit_link('test'), 'w') as f:
        f.write('precious\n')
    os.symlink('/dev/null', TEMPLATE)
    before = snapshot()
    with Kernel() as kernel, host_lock():
        p = plan(LAB, kernel, force=True)
        assert p.actions[-1].op == 'install_persistence'
        with pytest.raises(VerifyFailed):
            apply_plan(kernel, p, verify=lambda kernel: 'a probe disagrees')
    assert snapshot() == before
    assert os.path.islink(TEMPLATE) and not os.path.islink(unit_link('test'))
