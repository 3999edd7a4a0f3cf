# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shaping of a link end (its ``tc``): one root qdisc on the end, which shapes what leaves it.

PRIVATE: not a public API of the collection.

This is the qdisc as one kind of object, in one place: its options and their units, validation,
what the kernel is sent (``params``: the qdisc's own fields, in the kernel's units), how a qdisc the
kernel reports is read back into the same shape, and how it is described to a person and to
netns_info (the units a document uses, so that a report feeds back into a document with an empty plan).

- Only ``rate``: a tbf qdisc (token bucket), which every kernel with traffic control has.
- Any of ``delay``, ``jitter``, ``loss``, ``duplicate``, ``reorder``, ``corrupt``, ``limit``: a netem
  qdisc, with ``rate`` as netem's own rate when given too.

A qdisc this collection set has the root handle ``4e56:`` (HANDLE): the mark of ours. A root qdisc
with handle ``0:`` is the kernel's default; any other is somebody's.

What arrives at an end (its ``tc_ingress``) is shaped as the CNI bandwidth plugin does it: the end's
``ingress`` qdisc holds a u32 filter that matches every packet (this collection's priority, INGRESS_PRIO)
and redirects it to an ifb device in the end's namespace, whose root qdisc is the shaping.  The device is
named for the end (ingress_device), so that it is found, renamed and removed with it; the kernel layer
keeps it out of every list of links, since it is a part of its end and not a link of the lab.  Two shapings are the same when
the kernel's fields are: a time is kept in the kernel's ticks of 64 ns and a percentage as a 32-bit
fraction, so ``20ms`` and ``20000us`` are one delay.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re

HANDLE = 0x4e560000  # 4e56: ("NV")
ROOT = 0xffffffff  # TC_H_ROOT
TICKS_PER_US = 1000.0 / 64  # the kernel's packet scheduler ticks are 64 ns (PSCHED_SHIFT 6)
U32 = 2 ** 32 - 1
MAX_TIME_US = 100 * 1000 * 1000  # 100 s; netem's 32-bit ticks end at about 274 s
MAX_RATE = U32 * 8  # bits/s: tbf and netem take a 32-bit rate in bytes/s without their 64-bit attributes
NETEM_LIMIT = 1000  # packets, netem's own default
TBF_LATENCY_US = 50000  # how long a packet may wait in tbf's queue when no limit is given
MTU_BYTES = 1514  # one Ethernet frame, for tbf's burst and for a limit given in packets

INGRESS_HANDLE = 0xffff0000  # ffff:, the ingress qdisc's handle and the parent of its filters
INGRESS_PARENT = 0xfffffff1  # TC_H_INGRESS
INGRESS_PRIO = 0x4e56  # the priority of our filter on an end's ingress
ETH_P_ALL = 0x0003
_DEVICE_PREFIX = 'nvi'
_DEVICE = re.compile(r'^nvi[0-9a-f]{12}$')

TIME_FIELDS = ('delay', 'jitter')
PERCENT_FIELDS = ('loss', 'duplicate', 'reorder', 'corrupt')
NETEM_FIELDS = TIME_FIELDS + PERCENT_FIELDS + ('limit',)
FIELDS = NETEM_FIELDS + ('rate',)

_TIME_UNITS = (('s', 1000000), ('ms', 1000), ('us', 1))
_TIME_WORDS = {'s': 's', 'sec': 's', 'secs': 's', 'ms': 'ms', 'msec': 'ms', 'msecs': 'ms',
               'us': 'us', 'usec': 'us', 'usecs': 'us'}
_RATE_UNITS = (('gbit', 10 ** 9), ('mbit', 10 ** 6), ('kbit', 10 ** 3), ('bit', 1))
_RATE_WORDS = {'bit': 1, 'kbit': 10 ** 3, 'mbit': 10 ** 6, 'gbit': 10 ** 9, 'tbit': 10 ** 12,
               'bps': 8, 'kbps': 8 * 10 ** 3, 'mbps': 8 * 10 ** 6, 'gbps': 8 * 10 ** 9}
_NUMBER = re.compile(r'^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-z%]*)\s*$')


# --- values in a person's units --------------------------------------------

def parse_time(value, what):
    """'20ms', '500us', '1s' (a bare number is milliseconds, as tc reads it) -> (microseconds, unit)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError('%s must be a time such as 20ms, 500us or 1s, got %r' % (what, value))
    match = _NUMBER.match(str(value).lower())
    unit = _TIME_WORDS.get(match.group(2) or 'ms') if match else None
    if unit is None:
        raise ValueError('%s must be a time such as 20ms, 500us or 1s, got %r' % (what, value))
    us = float(match.group(1)) * dict(_TIME_UNITS)[unit]
    if us != int(us) or us > MAX_TIME_US:
        raise ValueError('%s must be whole microseconds, at most 100s, got %r' % (what, value))
    return int(us), unit


def parse_percent(value, what):
    """'1%', '0.5%', or a number of percent -> percent (0 to 100)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError('%s must be a percentage such as 1%% or 0.5%%, got %r' % (what, value))
    match = _NUMBER.match(str(value))
    if match is None or match.group(2) not in ('', '%') or not 0 <= float(match.group(1)) <= 100:
        raise ValueError('%s must be a percentage from 0%% to 100%%, such as 1%% or 0.5%%, got %r' % (what, value))
    return float(match.group(1))


def parse_rate(value, what):
    """'10mbit', '1gbit', '500kbit', '1mbps' (bytes) -> (bits per second, unit)."""
    match = _NUMBER.match(value.lower()) if isinstance(value, str) else None
    if match is None or match.group(2) not in _RATE_WORDS:
        raise ValueError('%s must be a rate such as 500kbit, 10mbit or 1gbit, got %r' % (what, value))
    bits = float(match.group(1)) * _RATE_WORDS[match.group(2)]
    if bits != int(bits) or int(bits) % 8 or not 8 <= bits <= MAX_RATE:
        raise ValueError('%s must be whole bytes per second, from 8bit to %dgbit, got %r'
                         % (what, MAX_RATE // 10 ** 9, value))
    return int(bits), match.group(2)


def format_time(us, unit=None):
    """Microseconds in ``unit`` (s, ms or us), or in the largest unit that keeps it whole."""
    if unit is None:
        unit = next(name for name, size in _TIME_UNITS if us % size == 0)
    return '%s%s' % (_number(us / float(dict(_TIME_UNITS)[unit])), unit)


def format_rate(bits, unit=None):
    """Bits per second in ``unit``, or in the largest of gbit, mbit, kbit and bit that keeps it whole."""
    if unit is None:
        unit = next(name for name, size in _RATE_UNITS if bits % size == 0)
    return '%s%s' % (_number(bits / float(_RATE_WORDS[unit])), unit)


def format_percent(percent):
    return '%s%%' % _number(percent)


def _number(value):
    return ('%.6f' % value).rstrip('0').rstrip('.')


# --- the kernel's fields -----------------------------------------------------

def ingress_device(end):
    """The name of the ifb device that shapes what arrives at link ``end``: 15 bytes, the same for the
    same end name in any namespace."""
    return _DEVICE_PREFIX + hashlib.sha1(end.encode('utf-8')).hexdigest()[:12]


def is_ingress_device(kind, name):
    return kind == 'ifb' and bool(_DEVICE.match(name or ''))


def redirect_filter(device_index):
    """TCA_KIND, TCA_OPTIONS and the tcmsg ``info`` of the filter that sends everything arriving at an end
    to the ifb ``device_index``: a u32 match of every packet (the kernel need not have cls_matchall) with a
    mirred egress redirect, as `tc filter add dev END parent ffff: protocol all prio 20054 u32 match u32 0 0
    action mirred egress redirect dev IFB` makes it (pyroute2's cls_u32 parameters, field for field)."""
    mirred = {'attrs': [['TCA_MIRRED_PARMS', {'eaction': 1, 'ifindex': device_index, 'action': 4}]]}
    action = {'attrs': [['TCA_ACT_KIND', 'mirred'], ['TCA_ACT_OPTIONS', mirred]]}
    options = {'attrs': [['TCA_U32_ACT', {'attrs': [['TCA_ACT_PRIO_1', action]]}], ['TCA_U32_CLASSID', 0],
                         ['TCA_U32_SEL', {'keys': ['0x0/0x0+0']}]]}
    return 'u32', options, (INGRESS_PRIO << 16) | _htons(ETH_P_ALL)


def _htons(value):
    return ((value & 0xff) << 8) | (value >> 8)


def redirect_target(options):
    """The ifindex a decoded u32 filter's first action redirects to, None for any other filter."""
    try:
        action = options.get_attr('TCA_U32_ACT').get_attr('TCA_ACT_PRIO_1')
        if action.get_attr('TCA_ACT_KIND') != 'mirred':
            return None
        return action.get_attr('TCA_ACT_OPTIONS').get_attr('TCA_MIRRED_PARMS')['ifindex']
    except (AttributeError, KeyError, TypeError):
        return None


def _ticks(us):
    return int(round(us * TICKS_PER_US))


def _fraction(percent):
    return int(round(percent / 100.0 * U32))


def params_of(spec):
    """What the kernel is sent for a normalised ``tc`` (the model's), None for no shaping of ours:
    disabled, or no field given.  {'kind': 'tbf' or 'netem', field: the kernel's value}."""
    if spec is None or not spec['enabled']:
        return None
    given = dict((field, spec[field]) for field in FIELDS if spec.get(field) is not None)
    if not given:
        return None
    rate = given.get('rate')
    if set(given) == {'rate'}:
        rate_bytes = rate // 8
        # A burst of at least ten frames, or 4 ms at the rate: tbf must hold a whole frame (and a GSO
        # segment) in its bucket, and a small bucket costs throughput.
        burst = max(10 * MTU_BYTES, rate_bytes // 250)
        limit = burst + rate_bytes * TBF_LATENCY_US // 1000000
        return {'kind': 'tbf', 'rate': rate_bytes, 'limit': limit,
                'buffer': _ticks(burst * 1000000.0 / rate_bytes)}
    params = {'kind': 'netem', 'limit': given.get('limit', NETEM_LIMIT), 'rate': rate // 8 if rate else 0}
    for field in TIME_FIELDS:
        params[field] = _ticks(given.get(field, 0))
    for field in PERCENT_FIELDS:
        params[field] = _fraction(given.get(field, 0))
    # Reordering sends every gap-th packet at once, the rest delayed: tc's gap 1 unless told.
    params['gap'] = 1 if params['reorder'] else 0
    return params


def describe(params, units=None):
    """A qdisc's fields as a document's ``tc`` gives them, in ``units`` ({field: unit}) where given.
    None for None (no shaping)."""
    if params is None:
        return None
    units = units or {}
    if params['kind'] == 'tbf':
        return {'rate': format_rate(params['rate'] * 8, units.get('rate'))}
    shown = {}
    for field in TIME_FIELDS:
        if params[field]:
            shown[field] = format_time(int(round(params[field] / TICKS_PER_US)), units.get(field))
    for field in PERCENT_FIELDS:
        if params[field]:
            shown[field] = format_percent(round(params[field] * 100.0 / U32, 4))
    if params['rate']:
        shown['rate'] = format_rate(params['rate'] * 8, units.get('rate'))
    if params['limit'] != NETEM_LIMIT:
        shown['limit'] = params['limit']
    return shown


def text_of(params):
    """'delay 50ms, loss 1%' for a plan's action."""
    return ', '.join('%s %s' % (field, value) for field, value in sorted(describe(params).items()))


# --- the document's tc -------------------------------------------------------

def normalise_tc(c, value, path):
    """A link end's ``tc`` (its profile already merged in, see expand_profiles) -> the model's: every
    field's value in microseconds, percent or bits per second, ``enabled``, and ``units`` (as written)."""
    if not isinstance(value, dict):
        c.add(path, 'must be a dict of %s and enabled, or the name of a profile, got %r'
              % (', '.join(FIELDS), value))
        return None
    spec = {'enabled': True, 'units': {}}
    for key in sorted(set(value) - set(FIELDS) - {'enabled', 'profile'}):
        c.add('%s.%s' % (path, key), 'unknown field; tc takes %s, enabled and profile' % ', '.join(FIELDS))
    if value.get('enabled') is not None:
        if not isinstance(value['enabled'], bool):
            c.add(path + '.enabled', 'must be true or false, got %r' % (value['enabled'],))
        else:
            spec['enabled'] = value['enabled']
    for field in FIELDS:
        raw = value.get(field)
        spec[field] = None
        if raw is None:
            continue
        try:
            if field in TIME_FIELDS:
                spec[field], spec['units'][field] = parse_time(raw, field)
            elif field in PERCENT_FIELDS:
                spec[field] = parse_percent(raw, field)
            elif field == 'rate':
                spec[field], spec['units'][field] = parse_rate(raw, field)
            elif isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= U32:
                raise ValueError('limit must be a number of packets (1 or more), got %r' % (raw,))
            else:
                spec[field] = raw
        except ValueError as e:
            c.add('%s.%s' % (path, field), str(e))
    if spec['jitter'] and not spec['delay']:
        c.add(path + '.jitter', 'jitter varies a delay: give delay too')
    if spec['reorder'] and not spec['delay']:
        c.add(path + '.reorder', 'reorder sends some packets ahead of the delayed others: give delay too')
    return spec


def expand_profiles(c, links, profiles, path='links'):
    """The link entries of a document with each end's ``tc`` and ``tc_ingress`` that names a profile of
    ``profiles`` (topology's ``tc_profiles``; ``tc: wan``, or ``tc: {profile: wan, loss: 2%}``) given in full."""
    profiles = _checked_profiles(c, profiles)
    if not isinstance(links, list):
        return links
    expanded = []
    for i, entry in enumerate(links):
        where = '%s[%d].' % (path, i) if path else ''
        if isinstance(entry, dict):
            entry = _expanded_end(c, entry, where, profiles)
            if isinstance(entry.get('peer'), dict):
                entry['peer'] = _expanded_end(c, entry['peer'], where + 'peer.', profiles)
        expanded.append(entry)
    return expanded


def _expanded_end(c, end, where, profiles):
    end = dict(end)
    for field in ('tc', 'tc_ingress'):
        if end.get(field) is not None:
            end[field] = _merged(c, end[field], where + field, profiles)
    return end


def _merged(c, value, path, profiles):
    if isinstance(value, str):
        value = {'profile': value}
    if not isinstance(value, dict) or value.get('profile') is None:
        return value
    name = value['profile']
    if name not in profiles:
        c.add(path + '.profile', 'no profile %r in tc_profiles%s' % (
            name, ' (it has %s)' % ', '.join(sorted(profiles)) if profiles else ', which names none'))
        return None
    merged = dict(profiles[name])
    merged.update((key, item) for key, item in value.items() if key != 'profile')
    return merged


def _checked_profiles(c, profiles):
    """topology's ``tc_profiles``: {name: tc}, each checked as a link end's tc is."""
    if profiles is None:
        return {}
    if not isinstance(profiles, dict):
        c.add('tc_profiles', 'must be a dict of named tc settings, got %r' % (profiles,))
        return {}
    checked = {}
    for name in sorted(profiles):
        value = profiles[name]
        if isinstance(value, dict) and 'profile' in value:
            c.add('tc_profiles.%s.profile' % name, 'a profile cannot name another profile')
        elif normalise_tc(c, value, 'tc_profiles.%s' % name) is not None:
            checked[name] = value
    return checked


# --- messages ------------------------------------------------------------------

def encode_options(params):
    """TCA_KIND and TCA_OPTIONS of a tcmsg for ``params``, as pyroute2's tcmsg encodes them."""
    if params['kind'] == 'tbf':
        ratespec = {'cell_log': 0, '__reserved': 1, 'overhead': 0, 'cell_align': -1, 'mpu': 0}
        parms = dict(('rate_' + key, value) for key, value in ratespec.items())
        parms.update(('peak_' + key, 0) for key in ratespec)
        parms.update(rate=params['rate'], peak=0, limit=params['limit'], buffer=params['buffer'], mtu=0)
        # linklayer (the byte after cell_log) is Ethernet: the kernel then needs no rate table.
        return 'tbf', {'attrs': [['TCA_TBF_PARMS', parms]]}
    attrs = []
    if params['reorder']:
        attrs.append(['TCA_NETEM_REORDER', {'prob_reorder': params['reorder'], 'corr_reorder': 0}])
    if params['corrupt']:
        attrs.append(['TCA_NETEM_CORRUPT', {'prob_corrupt': params['corrupt'], 'corr_corrupt': 0}])
    if params['rate']:
        attrs.append(['TCA_NETEM_RATE', {'rate': params['rate'], 'packet_overhead': 0, 'cell_size': 0,
                                         'cell_overhead': 0}])
    return 'netem', {'delay': params['delay'], 'limit': params['limit'], 'loss': params['loss'],
                     'gap': params['gap'], 'duplicate': params['duplicate'], 'jitter': params['jitter'],
                     'attrs': attrs}


def decode(kind, options):
    """``params`` of a qdisc the kernel reports (its TCA_KIND and decoded TCA_OPTIONS); None for a kind
    this collection does not set (it cannot put one back, so it does not replace one)."""
    if options is None:
        return None
    if kind == 'tbf':
        parms = options.get_attr('TCA_TBF_PARMS')
        if parms is None or parms['peak'] or options.get_attr('TCA_TBF_RATE64'):
            return None
        return {'kind': 'tbf', 'rate': parms['rate'], 'limit': parms['limit'], 'buffer': parms['buffer']}
    if kind != 'netem':
        return None
    params = {'kind': 'netem', 'delay': options['delay'], 'jitter': options['jitter'], 'limit': options['limit'],
              'loss': options['loss'], 'duplicate': options['duplicate'], 'gap': options['gap'],
              'reorder': 0, 'corrupt': 0, 'rate': 0}
    reorder = options.get_attr('TCA_NETEM_REORDER')
    if reorder is not None:
        params['reorder'] = reorder['prob_reorder']
    corrupt = options.get_attr('TCA_NETEM_CORRUPT')
    if corrupt is not None:
        params['corrupt'] = corrupt['prob_corrupt']
    rate = options.get_attr('TCA_NETEM_RATE')
    if rate is not None:
        params['rate'] = rate['rate']
    return params
