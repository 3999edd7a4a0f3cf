"""The journal's claims: what a plan's actions mark for their owner, and the file they are kept in."""

import json
import os

import pytest

from ansible_collections.netvirt.linux.plugins.module_utils._journal import (
    JournalError, claims_of, journal_path, read_claims, write_claims,
)
from ansible_collections.netvirt.linux.plugins.module_utils._model import normalise_document
from ansible_collections.netvirt.linux.plugins.module_utils._plan import plan_document

from test_plan import TableReader


def test_the_claims_are_what_the_actions_and_their_undos_mark():
    doc = {'namespaces': [{'name': 'c1'}, {'name': 'old', 'state': 'absent'}],
           'links': [{'kind': 'bridge', 'name': 'br0'},
                     {'kind': 'veth', 'name': 'v1', 'peer': {'name': 'eth0', 'netns': 'c1'}},
                     {'kind': 'bridge', 'name': 'gone', 'state': 'absent'}],
           'routes': [{'netns': 'c1', 'dest': 'default', 'via': '10.0.0.1'}]}
    reader = TableReader({'old': {}}, stale={})
    reader.namespaces[None]['links']['gone'] = {'kind': 'bridge', 'owner': 'netvirt'}
    plan = plan_document(normalise_document(doc, 'netvirt'), reader)
    assert claims_of(plan.actions) == {
        'namespaces': {'c1', 'old'},
        'links': {(None, 'br0'), (None, 'v1'), ('c1', 'eth0'), (None, 'gone')},  # gone: its undo makes it again
    }


def test_claims_go_to_a_file_per_owner_and_back(tmp_path):
    claims = {'namespaces': {'c1'}, 'links': {(None, 'br0'), ('c1', 'eth0')}}
    write_claims('lab', claims, str(tmp_path))
    assert read_claims('lab', str(tmp_path)) == claims
    assert read_claims('other', str(tmp_path)) == {'namespaces': set(), 'links': set()}
    assert sorted(os.listdir(str(tmp_path))) == ['journal.lab.json']
    write_claims('lab', {'namespaces': set(), 'links': set()}, str(tmp_path))
    assert os.listdir(str(tmp_path)) == []


def test_a_journal_we_did_not_write_is_an_error_that_names_it(tmp_path):
    with open(journal_path('lab', str(tmp_path)), 'w') as f:
        json.dump({'links': 'x'}, f)
    with pytest.raises(JournalError, match='journal.lab.json is not one this collection wrote'):
        read_claims('lab', str(tmp_path))
