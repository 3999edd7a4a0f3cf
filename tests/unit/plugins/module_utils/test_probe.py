"""The probe module's pure parts: validation, a namespace standing for its address, messages, JUnit.
(tests/kernel/test_probe.py sends the packets.)"""

from xml.etree import ElementTree

import pytest

from ansible_collections.netvirt.linux.plugins.module_utils._probe import (
    ProbeError, disagreements, junit_xml, normalise_probes, resolve_targets, result_of,
)

ADDRESSES = {
    'c1': [('eth0', '10.0.0.11/24'), ('eth0', 'fd00::11/64'), ('lo', '127.0.0.1/8')],
    'v6': [('eth0', 'fe80::1/64'), ('eth0', 'fd00::2/64')],
    'gw': [('br0', '10.0.0.1/24'), ('wan', '198.51.100.1/24')],
    'empty': [('lo', '127.0.0.1/8')],
}


def test_defaults_and_a_namespace_standing_for_its_one_address():
    probes = normalise_probes([{'to': 'c1'}, {'from': 'c1', 'to': 'v6', 'proto': 'http'},
                               {'to': 'fd00::0:2', 'proto': 'udp', 'port': '53'}, {'to': 'c9'}])
    assert probes[0] == {'from': None, 'to': None, 'namespace': 'c1', 'proto': 'icmp', 'port': None,
                         'expect': 'reach', 'count': 1, 'timeout': 1.0}
    assert (probes[1]['port'], probes[2]['to'], probes[2]['port']) == (80, 'fd00::2', 53)
    assert resolve_targets(probes, ADDRESSES.get) == {3: 'namespace c9 does not exist yet'}
    # IPv4 first; an IPv6-only namespace by its global address, never its link-local one.
    assert [p['to'] for p in probes] == ['10.0.0.11', 'fd00::2', 'fd00::2', None]


def test_an_ambiguous_or_empty_namespace_is_refused_naming_its_addresses():
    with pytest.raises(ProbeError) as refused:
        resolve_targets(normalise_probes([{'to': 'gw'}, {'to': 'empty'}]), ADDRESSES.get)
    assert refused.value.errors == [
        'probes[0].to: namespace gw has 2 addresses (10.0.0.1 on br0, 198.51.100.1 on wan); name the one to probe',
        'probes[1].to: namespace empty has no address to probe; name an address']


def test_every_bad_field_is_named_at_once():
    with pytest.raises(ProbeError) as refused:
        normalise_probes([{'to': 'c1', 'proto': 'tcp', 'count': 0, 'timeout': 'soon'}, 'c1'])
    assert refused.value.errors == [
        'probes[0].port: a tcp probe needs port (1-65535)',
        'probes[0].count: count 0 is out of range 1-100',
        "probes[0].timeout: timeout must be a number of seconds, got 'soon'",
        "probes[1]: must be a dict with to (and from, proto, port, expect, count, timeout), got 'c1'"]


def test_results_messages_and_the_junit_report():
    probes = normalise_probes([{'from': 'c1', 'to': '10.0.0.2'}, {'to': 'c2', 'proto': 'tcp', 'port': 22,
                                                                  'expect': 'blocked'}, {'from': 'c3', 'to': 'c1'}])
    probes[1]['to'] = '10.0.0.2'
    results = [result_of(probes[0], 'timeout', 'no answer in 1 s'), result_of(probes[1], 'refused', 'refused'),
               result_of(probes[2], 'not run', 'check mode: namespace c3 does not exist yet')]
    assert [r['ok'] for r in results] == [False, True, None]
    assert disagreements(results) == ('1 of 3 probes disagree: c1 -> 10.0.0.2 icmp: expected reach, got timeout '
                                      '(no answer in 1 s)')
    assert disagreements(results[1:]) is None
    suite = ElementTree.fromstring(junit_xml(results, 2.0)).find('testsuite')
    assert [(case.get('name'), [child.tag for child in case]) for case in suite] == [
        ('c1 -> 10.0.0.2 icmp', ['failure']), ('host -> c2 (10.0.0.2) tcp/22', []), ('c3 -> c1 icmp', ['skipped'])]
