"""What persist installs (issue 21): the engine a unit runs at boot is complete and needs no Ansible,
the saved document and the unit are what the docs say, and bad input is refused naming the field."""

import io
import json
import os
import subprocess
import sys

import pytest

from ansible_collections.netvirt.linux.plugins.module_utils import _persist, _restore
from ansible_collections.netvirt.linux.plugins.module_utils._model import normalise_document
from ansible_collections.netvirt.linux.plugins.module_utils._values import ModelError

# The directory that holds ansible_collections, for a fresh interpreter.
ROOT = os.path.abspath(os.path.join(os.path.dirname(_persist.__file__), *(['..'] * 5)))


def test_the_engine_is_every_module_the_restore_imports():
    code = ('import json, sys; import %s._restore; print(json.dumps(sorted(name[len("%s."):] for name in '
            'sys.modules if name.startswith("%s."))))' % ((_persist.PACKAGE,) * 3))
    out = subprocess.run([sys.executable, '-c', code], env=dict(os.environ, PYTHONPATH=ROOT), check=True,
                         capture_output=True, text=True).stdout
    assert json.loads(out) == sorted(_persist.ENGINE_MODULES)


def test_the_engine_as_installed_runs_without_ansible_and_before_any_other_collection(tmp_path):
    for rel, content in _persist.engine_files().items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    # As the unit runs it (-I: no PYTHONPATH, no user site), with the checkout's collection on the path too.
    code = ('import runpy, sys; sys.argv = [%r, "no/such owner"]; sys.path.append(%r)\n'
            'try:\n    runpy.run_path(%r, run_name="__main__")\n'
            'except SystemExit as e:\n'
            '    import ansible_collections.netvirt.linux.plugins.module_utils._restore as r\n'
            '    print(e.code, r.__file__, any(m == "ansible" or m.startswith("ansible.") for m in sys.modules))\n'
            % (str(tmp_path / 'restore.py'), ROOT, str(tmp_path / 'restore.py')))
    done = subprocess.run([sys.executable, '-I', '-B', '-c', code], capture_output=True, text=True, check=False)
    code, where, ansible = done.stdout.split()
    assert code == '2' and where.startswith(str(tmp_path)) and ansible == 'False', done.stderr
    assert "owner 'no/such owner' must be" in done.stderr


def test_the_unit_runs_the_bootstrap_with_the_interpreter_that_ran_the_task_before_the_network():
    unit = _persist.render_unit('/usr/bin/python3')
    assert unit.startswith(_persist.HEADER)
    assert 'ExecStart=/usr/bin/python3 -I -B /usr/local/lib/netvirt.linux/restore.py %i\n' in unit
    assert 'Before=network-pre.target shutdown.target\n' in unit and 'WantedBy=multi-user.target\n' in unit
    assert _persist.unit_link('lab-1.a') == '/etc/systemd/system/multi-user.target.wants/netvirt-lab@lab-1.a.service'


def test_the_saved_document_is_the_lab_as_given_and_validates_again():
    given = {'namespaces': [{'name': 'a'}], 'links': [{'kind': 'veth', 'name': 'e0', 'netns': 'a', 'tc': 'wan',
                                                       'peer': {'name': 'e0'}}],
             'tc_profiles': {'wan': {'delay': '40ms'}}, 'routes': [], 'persist': True, 'persist_timeout': 9}
    doc = normalise_document(given, 'lab')
    assert doc['persist'] == {'timeout': 9, 'document': {'namespaces': given['namespaces'], 'links': given['links'],
                                                         'tc_profiles': given['tc_profiles']}}
    saved = json.loads(_persist.render_lab('lab', doc['persist']['document'], True, 9))
    assert saved == {'format': 1, 'owner': 'lab', 'purge': True, 'timeout': 9, 'document': doc['persist']['document']}
    again = normalise_document(saved['document'], 'lab')
    assert again['links'] == doc['links'] and again['persist'] is None
    assert normalise_document(dict(given, persist=False), 'lab')['persist'] is False
    assert normalise_document(dict(given, persist=None), 'lab')['persist'] is None


@pytest.mark.parametrize('changes, message', [
    ({'persist': 'yes'}, "persist: persist must be true or false, got 'yes'"),
    ({'persist': True, 'persist_timeout': 0}, 'persist_timeout: persist_timeout 0 is out of range 1-3600'),
    ({'persist': True, 'persist_timeout': 'soon'}, "persist_timeout: persist_timeout must be a whole number, got 'soon'"),
])
def test_bad_persist_options_are_refused_naming_the_field(changes, message):
    with pytest.raises(ModelError) as refused:
        normalise_document(dict({'namespaces': [{'name': 'a'}]}, **changes), 'lab')
    assert refused.value.errors == [message]


def test_a_restore_without_a_saved_lab_says_which_file(monkeypatch, tmp_path):
    monkeypatch.setattr(_restore, 'lab_path', lambda owner: str(tmp_path / (owner + '.json')))
    err = io.StringIO()
    assert _restore.main(['gone'], out=io.StringIO(), err=err) == 1
    assert err.getvalue() == 'cannot read %s: No such file or directory\n' % (tmp_path / 'gone.json')
    (tmp_path / 'bad.json').write_text(json.dumps({'format': 1, 'owner': 'bad', 'purge': False, 'timeout': 5,
                                                   'document': {'links': [{}]}}))
    err = io.StringIO()
    assert _restore.main(['bad'], out=io.StringIO(), err=err) == 1
    assert err.getvalue().startswith('%s: links[0].kind' % (tmp_path / 'bad.json')), err.getvalue()
    (tmp_path / 'theirs.json').write_text(json.dumps({'format': 1, 'owner': 'someone', 'document': {}}))
    err = io.StringIO()
    assert _restore.main(['theirs'], out=io.StringIO(), err=err) == 1
    assert 'is not a lab that netvirt.linux saved for owner theirs' in err.getvalue()


@pytest.mark.parametrize('interpreter, word', [
    ('/usr/bin/python3', '/usr/bin/python3'),
    ('/opt/my venv/bin/python', '"/opt/my venv/bin/python"'),
    ('/opt/100%/python', '/opt/100%%/python'),
])
def test_the_interpreter_is_one_word_of_the_units_command_line(interpreter, word):
    assert 'ExecStart=%s -I -B ' % word in _persist.render_unit(interpreter)


@pytest.mark.parametrize('interpreter', ['/opt/a$b/python3', '/opt/"q"/python3', "/opt/it's/python3", '/opt/a\\b/python',
                                         '/opt/a\nb/python'])
def test_an_interpreter_a_unit_cannot_hold_is_refused_naming_it(interpreter):
    with pytest.raises(ValueError) as refused:
        _persist.render_unit(interpreter)
    assert str(refused.value).startswith('the interpreter %r that runs this task cannot be written in a systemd unit'
                                         % interpreter)


@pytest.mark.parametrize('edit, message', [
    ('"timeout": NaN', 'timeout: timeout must be a whole number of seconds, got nan'),
    ('"timeout": Infinity', 'timeout: timeout must be a whole number of seconds, got inf'),
    ('"timeout": 1000000000', 'timeout: timeout 1000000000 is out of range 1-3600'),
    ('"timeout": true', 'timeout: timeout must be a whole number of seconds, got True'),
    ('"timeout": -5', 'timeout: timeout -5 is out of range 1-3600'),
    ('"purge": "no"', "purge: purge must be true or false, got 'no'"),
])
def test_a_hand_edited_lab_is_refused_naming_the_field(monkeypatch, tmp_path, edit, message):
    """A restore that waited without end would hold the host's network back at boot."""
    monkeypatch.setattr(_restore, 'lab_path', lambda owner: str(tmp_path / (owner + '.json')))
    text = _persist.render_lab('lab', {'namespaces': [{'name': 'a'}]}, False, 30)
    text = text.replace('"timeout": 30', edit) if 'timeout' in edit else text.replace('"purge": false', edit)
    (tmp_path / 'lab.json').write_text(text)
    err = io.StringIO()
    assert _restore.main(['lab'], out=io.StringIO(), err=err) == 1
    assert err.getvalue() == '%s: %s\n' % (tmp_path / 'lab.json', message)


def test_a_restore_builds_the_lab_and_never_persists_it_again(monkeypatch, tmp_path):
    monkeypatch.setattr(_restore, 'lab_path', lambda owner: str(tmp_path / (owner + '.json')))
    (tmp_path / 'lab.json').write_text(_persist.render_lab(
        'lab', {'namespaces': [{'name': 'a'}], 'persist': True, 'persist_timeout': 7}, True, 30))
    doc, purge, timeout = _restore.load_lab('lab')
    assert doc['persist'] is None and purge is True and timeout == 30
