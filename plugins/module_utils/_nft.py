# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The NAT table this collection owns, rendered as nftables JSON and as nft text.

PRIVATE: not a public API of the collection.

One table per (namespace, name): ``ip netvirt_NAME``, with a ``postrouting``
chain (masquerade, snat, hairpin) and a ``prerouting`` chain (dnat), and an
``owner`` chain that no hook calls: its one rule's comment, ``netvirt:OWNER``,
records the lab the table belongs to (nft 1.0.6's JSON cannot set a table's
own comment), so purge removes only this owner's tables wherever they are.  The
whole table is replaced in one transaction (add, delete, add again, then the
chains and rules), so nothing else in the ruleset is read-modified-written.
Everything here is pure: the kernel layer runs nft.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json

FAMILY = 'ip'
TABLE_PREFIX = 'netvirt_'
CHAINS = (
    {'name': 'postrouting', 'type': 'nat', 'hook': 'postrouting', 'prio': 100, 'policy': 'accept'},
    {'name': 'prerouting', 'type': 'nat', 'hook': 'prerouting', 'prio': -100, 'policy': 'accept'},
)
OWNER_CHAIN = 'owner'
OWNER_MARK = 'netvirt:'
CHAIN_TEXT = {'postrouting': 'type nat hook postrouting priority srcnat; policy accept;',
              'prerouting': 'type nat hook prerouting priority dstnat; policy accept;'}


def table_name(name):
    return TABLE_PREFIX + name


def _address_match(field, cidr):
    net = ipaddress.ip_network(cidr)
    right = str(net.network_address) if net.prefixlen == 32 else {
        'prefix': {'addr': str(net.network_address), 'len': net.prefixlen}}
    return {'match': {'op': '==', 'left': {'payload': {'protocol': 'ip', 'field': field}}, 'right': right}}


def _interface_match(key, spec):
    negate = spec.startswith('!')
    return {'match': {'op': '!=' if negate else '==', 'left': {'meta': {'key': key}},
                      'right': spec[1:] if negate else spec}}


def _port_match(proto, field, port):
    return {'match': {'op': '==', 'left': {'payload': {'protocol': proto, 'field': field}}, 'right': port}}


def nat_rules(nat):
    """The rules of a normalised nat entry: [(chain, [expr, ...], text), ...] in load order."""
    rules = []
    for rule in nat['masquerade'] or []:
        expr, words = [], []
        if rule['source']:
            expr.append(_address_match('saddr', rule['source']))
            words.append('ip saddr %s' % _short(rule['source']))
        if rule['out_interface']:
            expr.append(_interface_match('oifname', rule['out_interface']))
            words.append(_interface_text('oifname', rule['out_interface']))
        expr.append({'masquerade': None})
        words.append('masquerade')
        rules.append(('postrouting', expr, ' '.join(words)))
    for rule in nat['snat'] or []:
        expr, words = [], []
        if rule['source']:
            expr.append(_address_match('saddr', rule['source']))
            words.append('ip saddr %s' % _short(rule['source']))
        if rule['out_interface']:
            expr.append(_interface_match('oifname', rule['out_interface']))
            words.append(_interface_text('oifname', rule['out_interface']))
        expr.append({'snat': {'addr': rule['to']}})
        words.append('snat to %s' % rule['to'])
        rules.append(('postrouting', expr, ' '.join(words)))
    for rule in nat['dnat'] or []:
        expr, words = [], []
        if rule['in_interface']:
            expr.append(_interface_match('iifname', rule['in_interface']))
            words.append(_interface_text('iifname', rule['in_interface']))
        if rule['source']:
            expr.append(_address_match('saddr', rule['source']))
            words.append('ip saddr %s' % _short(rule['source']))
        expr.append(_port_match(rule['proto'], 'dport', rule['port']))
        words.append('%s dport %d' % (rule['proto'], rule['port']))
        expr.append({'dnat': {'addr': rule['to_addr'], 'port': rule['to_port']}})
        words.append('dnat to %s:%d' % (rule['to_addr'], rule['to_port']))
        rules.append(('prerouting', expr, ' '.join(words)))
        if rule['hairpin']:
            # Clients on the target's own network reach it through the forwarded port, and the
            # replies come back the same way because the source is rewritten too.
            hairpin = [_address_match('saddr', rule['hairpin']), _address_match('daddr', rule['to_addr'] + '/32'),
                       _port_match(rule['proto'], 'dport', rule['to_port']),
                       {'match': {'op': 'in', 'left': {'ct': {'key': 'status'}}, 'right': 'dnat'}},
                       {'masquerade': None}]
            rules.append(('postrouting', hairpin, 'ip saddr %s ip daddr %s %s dport %d ct status dnat masquerade'
                          % (_short(rule['hairpin']), rule['to_addr'], rule['proto'], rule['to_port'])))
    # nft lists a table chain by chain; loading in that order lets the listing compare equal.
    rules.sort(key=lambda rule: [c['name'] for c in CHAINS].index(rule[0]))
    return rules


def _short(cidr):
    net = ipaddress.ip_network(cidr)
    return str(net.network_address) if net.prefixlen == 32 else str(net)


def _interface_text(key, spec):
    if spec.startswith('!'):
        return '%s != "%s"' % (key, spec[1:])
    return '%s "%s"' % (key, spec)


def _owner_rule(owner):
    return {'chain': OWNER_CHAIN, 'expr': [{'return': None}], 'comment': OWNER_MARK + owner}


def replace_payload(table, rules, owner):
    """One nft transaction that replaces the whole table (or creates it)."""
    ref = {'family': FAMILY, 'name': table}
    commands = [{'add': {'table': dict(ref)}}, {'delete': {'table': dict(ref)}}, {'add': {'table': dict(ref)}}]
    for chain in CHAINS:
        commands.append({'add': {'chain': dict(chain, family=FAMILY, table=table)}})
    for chain, expr, _text in rules:
        commands.append({'add': {'rule': {'family': FAMILY, 'table': table, 'chain': chain, 'expr': expr}}})
    if owner is not None:
        commands.append({'add': {'chain': {'family': FAMILY, 'table': table, 'name': OWNER_CHAIN}}})
        commands.append({'add': {'rule': dict(_owner_rule(owner), family=FAMILY, table=table)}})
    return {'nftables': commands}


def delete_payload(table):
    return {'nftables': [{'delete': {'table': {'family': FAMILY, 'name': table}}}]}


def list_table_payload(table):
    """`list table ip NAME` as a JSON command: the name is a JSON string, which nft never parses."""
    return {'nftables': [{'list': {'table': {'family': FAMILY, 'name': table}}}]}


def list_tables_payload():
    return {'nftables': [{'list': {'tables': {'family': FAMILY}}}]}


def table_state(listing, table):
    """What a `nft -j list table` listing holds, without handles: comparable with the desired state."""
    chains, rules = [], []
    for item in (listing or {}).get('nftables', []):
        if 'chain' in item and item['chain'].get('table') == table:
            chain = dict((k, v) for k, v in item['chain'].items() if k not in ('handle', 'family', 'table'))
            chains.append(chain)
        elif 'rule' in item and item['rule'].get('table') == table:
            rule = item['rule']
            rules.append({'chain': rule['chain'], 'expr': rule['expr'], 'comment': rule.get('comment')})
    return {'chains': sorted(chains, key=lambda c: c['name']), 'rules': rules}


def desired_state(rules, owner):
    chains = [dict(c) for c in CHAINS] + [{'name': OWNER_CHAIN}]
    return {'chains': sorted(chains, key=lambda c: c['name']),
            'rules': [{'chain': chain, 'expr': expr, 'comment': None} for chain, expr, _text in rules]
            + [_owner_rule(owner)]}


def table_owner(state):
    """The owner recorded in a listed table, or None when it carries no mark."""
    for rule in state['rules']:
        if rule['chain'] == OWNER_CHAIN and (rule['comment'] or '').startswith(OWNER_MARK):
            return rule['comment'][len(OWNER_MARK):]
    return None


def rules_from_state(state):
    """The rules of a listed table, to load it back as it was (an undo)."""
    return [(r['chain'], r['expr'], '') for r in state['rules'] if r['chain'] != OWNER_CHAIN]


def text_lines(table, rules, owner):
    """The table as nft would list it: for the diff."""
    return state_lines(table, desired_state(rules, owner))


def state_lines(table, state):
    """A listed table (table_state) as nft lists it in text, rendered here from its JSON.

    The diff's before (the kernel's table) and after (ours) come from this one
    function, so a table that did not change reads the same on both sides.
    """
    order = [c['name'] for c in CHAINS] + [OWNER_CHAIN]
    chains = sorted(state['chains'], key=lambda c: (order.index(c['name']) if c['name'] in order else len(order),
                                                    c['name']))
    lines = ['table %s %s {' % (FAMILY, table)]
    for chain in chains:
        lines.append('  chain %s {' % chain['name'])
        if chain['name'] in CHAIN_TEXT and chain.get('hook') == chain['name'] and chain.get('type') == 'nat':
            lines.append('    ' + CHAIN_TEXT[chain['name']])
        elif chain.get('hook'):
            lines.append('    type %s hook %s priority %s; policy %s;'
                         % (chain.get('type'), chain['hook'], chain.get('prio'), chain.get('policy', 'accept')))
        for rule in state['rules']:
            if rule['chain'] == chain['name']:
                text = ' '.join(_expr_text(expr) for expr in rule['expr'])
                if rule.get('comment') is not None:
                    text += ' comment "%s"' % rule['comment']
                lines.append('    ' + text)
        lines.append('  }')
    lines.append('}')
    return lines


def _value_text(value):
    if isinstance(value, dict) and 'prefix' in value:
        return '%s/%s' % (value['prefix']['addr'], value['prefix']['len'])
    return str(value)


def _expr_text(expr):
    """One expression of a listed rule in nft's words; one that this collection never
    writes is shown as its JSON."""
    if 'match' in expr:
        match = expr['match']
        left, right, op = match['left'], match['right'], match['op']
        if 'payload' in left:
            words = '%s %s' % (left['payload'].get('protocol'), left['payload'].get('field'))
        elif 'meta' in left:
            words = left['meta']['key']
            if isinstance(right, str):
                right = '"%s"' % right
        elif 'ct' in left:
            words = 'ct %s' % left['ct']['key']
        else:
            return json.dumps(expr, sort_keys=True)
        if op in ('==', 'in'):
            return '%s %s' % (words, _value_text(right))
        return '%s %s %s' % (words, op, _value_text(right))
    if 'masquerade' in expr:
        return 'masquerade'
    if 'return' in expr:
        return 'return'
    if 'snat' in expr or 'dnat' in expr:
        verb = 'snat' if 'snat' in expr else 'dnat'
        target = expr[verb] or {}
        if target.get('port') is not None:
            return '%s to %s:%s' % (verb, target.get('addr'), target['port'])
        return '%s to %s' % (verb, target.get('addr'))
    return json.dumps(expr, sort_keys=True)
