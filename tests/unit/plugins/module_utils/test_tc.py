"""A link end's tc: units in, the kernel's fields out, and back in the units a person wrote."""

import pytest

from ansible_collections.netvirt.linux.plugins.module_utils._model import ModelError, normalise_document
from ansible_collections.netvirt.linux.plugins.module_utils._tc import (
    HANDLE, TICKS_PER_US, describe, encode_options, params_of, parse_percent, parse_rate, parse_time,
)
from ansible_collections.netvirt.linux.plugins.module_utils._values import Collector


def spec(**fields):
    from ansible_collections.netvirt.linux.plugins.module_utils._tc import normalise_tc
    c = Collector()
    found = normalise_tc(c, fields, 'tc')
    assert c.errors == []
    return found


def test_units_as_tc_reads_them():
    assert parse_time('20ms', 'delay') == (20000, 'ms')
    assert parse_time('500us', 'delay') == (500, 'us')
    assert parse_time('1.5s', 'delay') == (1500000, 's')
    assert parse_time(40, 'delay') == (40000, 'ms')  # a bare number is milliseconds, as tc reads it
    assert parse_percent('0.5%', 'loss') == 0.5 and parse_percent(1, 'loss') == 1
    assert parse_rate('20mbit', 'rate') == (20000000, 'mbit')
    assert parse_rate('1mbps', 'rate') == (8000000, 'mbps')  # bytes, as tc's bps
    assert HANDLE == 0x4e560000 and TICKS_PER_US == 15.625


@pytest.mark.parametrize('fields, error', [
    ({'delay': 'soon'}, "tc.delay: delay must be a time such as 20ms, 500us or 1s, got 'soon'"),
    ({'delay': '0.1us'}, 'tc.delay: delay must be whole microseconds'),
    ({'delay': '200s'}, 'at most 100s'),
    ({'loss': '101%'}, "tc.loss: loss must be a percentage from 0% to 100%, such as 1% or 0.5%, got '101%'"),
    ({'loss': True}, 'tc.loss: loss must be a percentage'),
    ({'rate': '10 mb'}, "tc.rate: rate must be a rate such as 500kbit, 10mbit or 1gbit, got '10 mb'"),
    ({'rate': '100gbit'}, 'tc.rate: rate must be whole bytes per second, from 8bit to 34gbit'),
    ({'limit': 0}, 'tc.limit: limit must be a number of packets (1 or more), got 0'),
    ({'jitter': '5ms'}, 'tc.jitter: jitter varies a delay: give delay too'),
    ({'reorder': '25%'}, 'tc.reorder: reorder sends some packets ahead of the delayed others: give delay too'),
    ({'enabled': 'no'}, "tc.enabled: must be true or false, got 'no'"),
    ({'latency': '5ms'}, 'tc.latency: unknown field; tc takes delay, jitter, loss'),
])
def test_bad_tc_is_named_with_its_value(fields, error):
    from ansible_collections.netvirt.linux.plugins.module_utils._tc import normalise_tc
    c = Collector()
    normalise_tc(c, fields, 'tc')
    assert any(error in e for e in c.errors), c.errors


def test_rate_alone_is_a_token_bucket_anything_else_netem():
    tbf = params_of(spec(rate='20mbit'))
    assert tbf['kind'] == 'tbf' and tbf['rate'] == 2500000
    assert describe(tbf) == {'rate': '20mbit'}
    netem = params_of(spec(delay='40ms', jitter='5ms', loss='0.5%', rate='10mbit'))
    assert netem['kind'] == 'netem' and netem['delay'] == 40000 * 15.625 and netem['rate'] == 1250000
    assert describe(netem) == {'delay': '40ms', 'jitter': '5ms', 'loss': '0.5%', 'rate': '10mbit'}
    assert describe(netem, {'delay': 'us'}) == dict(describe(netem), delay='40000us')
    assert params_of(spec(delay='40ms', enabled=False)) is None and params_of(spec()) is None
    # The same ticks are the same delay, however written.
    assert params_of(spec(delay='40ms')) == params_of(spec(delay='40000us')) == params_of(spec(delay='0.04s'))
    assert params_of(spec(delay='1ms', reorder='25%'))['gap'] == 1
    kind, options = encode_options(netem)
    assert kind == 'netem' and options['delay'] == netem['delay']
    assert [attr[0] for attr in options['attrs']] == ['TCA_NETEM_RATE']
    kind, options = encode_options(tbf)
    parms = options['attrs'][0][1]
    assert kind == 'tbf' and parms['rate'] == 2500000 and parms['rate___reserved'] == 1  # linklayer Ethernet


def test_a_profile_is_named_and_changed_per_end():
    doc = normalise_document({
        'tc_profiles': {'wan': {'delay': '40ms', 'loss': '0.5%'}},
        'links': [{'kind': 'veth', 'name': 'a', 'tc': 'wan', 'peer': {'name': 'b', 'tc': {'profile': 'wan', 'loss': '2%'}}}],
    })
    link = doc['links'][0]
    assert link['tc']['delay'] == 40000 and link['tc']['loss'] == 0.5
    assert link['peer']['tc']['delay'] == 40000 and link['peer']['tc']['loss'] == 2
    with pytest.raises(ModelError) as e:
        normalise_document({'tc_profiles': {'wan': {'delay': 'later'}, 'x': {'profile': 'wan'}},
                            'links': [{'kind': 'veth', 'name': 'a', 'tc': 'lan', 'peer': {'name': 'b'}}]})
    assert e.value.errors == [
        "tc_profiles.wan.delay: delay must be a time such as 20ms, 500us or 1s, got 'later'",
        'tc_profiles.x.profile: a profile cannot name another profile',
        "links[0].tc.profile: no profile 'lan' in tc_profiles (it has wan)"]
