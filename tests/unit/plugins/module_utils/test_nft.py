"""NAT entries: validation, and the nftables rules and text they render to."""

import pytest

from ansible_collections.netvirt.linux.plugins.module_utils import _model as model
from ansible_collections.netvirt.linux.plugins.module_utils import _nft as nft


def test_seed_001_experiment_4_renders_as_iptables_wrote_it():
    nat = model.normalise_nat({'masquerade': [{'source': '10.0.0.0/24', 'out_interface': '!br0'}]})
    rules = nft.nat_rules(nat)
    assert [text for _chain, _expr, text in rules] == ['ip saddr 10.0.0.0/24 oifname != "br0" masquerade']
    assert nft.text_lines('netvirt_nat', rules, 'lab')[3] == '    ip saddr 10.0.0.0/24 oifname != "br0" masquerade'


def test_port_forward_with_hairpin_and_chain_order():
    nat = model.normalise_nat({'dnat': [{'port': 8080, 'to': '172.17.0.2:80', 'in_interface': 'eth0',
                                         'hairpin': '172.17.0.0/16'}],
                               'snat': [{'to': '192.0.2.1', 'source': '10.1.0.5'}]})
    texts = [(chain, text) for chain, _expr, text in nft.nat_rules(nat)]
    assert texts == [
        ('postrouting', 'ip saddr 10.1.0.5 snat to 192.0.2.1'),
        ('postrouting', 'ip saddr 172.17.0.0/16 ip daddr 172.17.0.2 tcp dport 80 ct status dnat masquerade'),
        ('prerouting', 'iifname "eth0" tcp dport 8080 dnat to 172.17.0.2:80'),
    ]


def test_the_table_is_replaced_in_one_transaction():
    payload = nft.replace_payload('netvirt_x', [], 'lab')['nftables']
    assert [list(c) + list(c[list(c)[0]]) for c in payload[:3]] == [
        ['add', 'table'], ['delete', 'table'], ['add', 'table']]
    assert [c['add']['chain']['name'] for c in payload[3:] if 'chain' in c['add']] == [
        'postrouting', 'prerouting', 'owner']


def test_the_owner_is_recorded_in_the_table_and_read_back():
    payload = nft.replace_payload('netvirt_x', [], 'lab-a')['nftables']
    listed = {'nftables': [dict((kind, dict(body, handle=1)) for kind, body in c['add'].items())
                           for c in payload[3:]]}
    state = nft.table_state(listed, 'netvirt_x')
    assert nft.table_owner(state) == 'lab-a'
    assert state == nft.desired_state([], 'lab-a')
    assert state != nft.desired_state([], 'lab-b')
    assert nft.rules_from_state(state) == []
    assert nft.table_owner(nft.table_state({'nftables': []}, 'netvirt_x')) is None
    assert nft.text_lines('netvirt_x', [], 'lab-a')[-4:] == ['  chain owner {', '    return comment "netvirt:lab-a"', '  }', '}']


@pytest.mark.parametrize('entry, error', [
    ({'dnat': [{'port': 70000, 'to': '10.0.0.2:80'}]}, 'dnat[0].port: port 70000 is out of range 1-65535'),
    ({'dnat': [{'port': 80, 'to': '10.0.0.2'}]}, "dnat[0].to: to '10.0.0.2' must be ADDRESS:PORT"),
    ({'dnat': [{'port': 80, 'to': '10.0.0.2:0'}]}, 'dnat[0].to: port of to 0 is out of range'),
    ({'dnat': [{'proto': 'icmp', 'port': 80, 'to': '10.0.0.2:80'}]}, "dnat[0].proto: proto 'icmp' is not one of tcp, udp"),
    ({'masquerade': [{'source': '10.0.0.300/24'}]}, "masquerade[0].source: source '10.0.0.300/24' is not a valid"),
    ({'masquerade': [{'source': 'fd00::/64'}]}, "masquerade[0].source: source 'fd00::/64' is IPv6"),
    ({'masquerade': [{'out_interface': '!averyveryverylongname'}]}, 'masquerade[0].out_interface: out_interface'),
    ({'snat': [{'source': '10.0.0.0/24'}]}, 'snat[0].to: snat needs to'),
    ({'masquerade': [{'colour': 'red'}]}, 'masquerade[0].colour: unknown option'),
    ({'name': 'a/b'}, "name: name 'a/b' must be 1-32 characters of letters, digits, '_', '.' or '-'"),
])
def test_bad_nat_input(entry, error):
    with pytest.raises(model.ModelError) as e:
        model.normalise_nat(entry)
    assert any(line.startswith(error) for line in e.value.errors), e.value.errors


def test_a_listed_table_renders_as_the_table_it_was_loaded_from():
    # The kernel's table is read through JSON only (never `nft list table NAME`, whose name nft
    # would parse): its text in the diff is rendered from that JSON, like ours.
    nat = model.normalise_nat({'masquerade': [{'source': '10.0.0.0/24', 'out_interface': '!br0'}],
                               'dnat': [{'port': 8080, 'to': '172.17.0.2:80', 'hairpin': '172.17.0.0/16'}]})
    rules = nft.nat_rules(nat)
    payload = nft.replace_payload('netvirt_x#', rules, 'lab')['nftables']
    listed = {'nftables': [dict((kind, dict(body, handle=1)) for kind, body in c['add'].items())
                           for c in payload[3:]]}
    state = nft.table_state(listed, 'netvirt_x#')
    assert nft.state_lines('netvirt_x#', state) == nft.text_lines('netvirt_x#', rules, 'lab')
    assert nft.state_lines('netvirt_x#', state)[3:6] == [
        '    ip saddr 10.0.0.0/24 oifname != "br0" masquerade',
        '    ip saddr 172.17.0.0/16 ip daddr 172.17.0.2 tcp dport 80 ct status dnat masquerade',
        '  }']
    foreign = dict(state, rules=state['rules'] + [{'chain': 'owner', 'expr': [{'counter': None}], 'comment': None}])
    assert '    {"counter": null}' in nft.state_lines('netvirt_x#', foreign)


def test_tables_are_listed_by_json_commands():
    assert nft.list_table_payload('netvirt_a b') == {
        'nftables': [{'list': {'table': {'family': 'ip', 'name': 'netvirt_a b'}}}]}
    assert nft.list_tables_payload() == {'nftables': [{'list': {'tables': {'family': 'ip'}}}]}
