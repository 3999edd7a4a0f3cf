# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Probes: real packets from inside namespaces, many at once, in one process.

PRIVATE: not a public API of the collection.

A socket belongs to the namespace of the thread that made it, and stays there.
So each probe's socket is made inside its namespace (the kernel layer enters it
with setns(2) and comes back), and then every socket is driven from here, with
one selector: a thousand probes are a thousand sockets, not a thousand
processes.  At most ``CONCURRENT`` are open at a time, within the descriptors a
process has.

A probe is ``{from, to, proto, port, expect, count, timeout}``; what it got is
one of:

- ``reach``: an ICMP echo reply; a TCP connection made; a UDP answer; an HTTP
  status line;
- ``refused``: the far end answered that nothing listens there (a TCP reset,
  an ICMP port unreachable for UDP);
- ``timeout``: no answer in ``timeout`` seconds;
- ``unreachable``: this end has no route to it, or a router said so;
- ``error``: anything else (an open port that does not answer HTTP, a socket the process
  could not make): never what a probe expects;
- ``not run``: in check mode, an endpoint that does not exist yet.

``expect: blocked`` agrees with ``refused``, ``timeout`` and ``unreachable``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import ipaddress
import os
import random
import selectors
import socket
import struct
import time
from xml.sax.saxutils import quoteattr

from ansible_collections.netvirt.linux.plugins.module_utils._values import Collector, check_int, check_name

PROTOCOLS = ('icmp', 'tcp', 'udp', 'http')
EXPECTATIONS = ('reach', 'blocked')
PROBE_FIELDS = ('from', 'to', 'proto', 'port', 'expect', 'count', 'timeout')
DEFAULT_PORTS = {'http': 80}
CONCURRENT = 256
UDP_PAYLOAD = b'netvirt.linux probe\n'
ECHO_MARK = b'netvirt.linux'
# Echo identifiers: one sequence for the process, from a random start, so that a retry, or another
# process probing the same address, does not take another probe's replies for its own.
_IDENTS = [random.randrange(0x10000)]


def _next_ident():
    _IDENTS[0] = (_IDENTS[0] + 1) & 0xffff
    return _IDENTS[0]


UNREACHABLE = (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.EHOSTDOWN)


class ProbeError(Exception):
    """Probes that cannot run as written; one line per problem, each naming its field."""

    def __init__(self, errors):
        self.errors = list(errors)
        super(ProbeError, self).__init__('; '.join(self.errors))


def _check_timeout(value, what):
    if isinstance(value, bool):
        raise ValueError('%s must be a number of seconds, got %r' % (what, value))
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError('%s must be a number of seconds, got %r' % (what, value))
    if not 0 < number <= 60:
        raise ValueError('%s must be more than 0 and at most 60 seconds, got %r' % (what, value))
    return number


def normalise_probes(probes, field='probes'):
    """Every probe with its defaults, or ProbeError naming each bad field (under ``field``) and its value."""
    c = Collector()
    result = []
    if not isinstance(probes, list) or not probes:
        raise ProbeError(['%s: must be a non-empty list of probes, got %r' % (field, probes)])
    for i, entry in enumerate(probes):
        path = '%s[%d]' % (field, i)
        if not isinstance(entry, dict):
            c.add(path, 'must be a dict with to (and from, proto, port, expect, count, timeout), got %r' % (entry,))
            continue
        for key in sorted(set(entry) - set(PROBE_FIELDS)):
            c.add('%s.%s' % (path, key), 'unknown field; a probe takes %s' % ', '.join(PROBE_FIELDS))
        probe = {'from': None, 'to': None, 'proto': entry.get('proto') or 'icmp', 'port': None,
                 'expect': entry.get('expect') or 'reach', 'count': 1, 'timeout': 1.0}
        if entry.get('from') is not None:
            probe['from'] = c.check(path + '.from', check_name, entry['from'], 'from')
        to = entry.get('to')
        if to is None or to == '':
            c.add(path + '.to', 'a probe needs to: an address, or a namespace that stands for its address')
        else:
            try:
                probe['to'] = str(ipaddress.ip_address(str(to)))
                probe['namespace'] = None
            except ValueError:
                probe['namespace'] = c.check(path + '.to', check_name, to, 'to (an address, or a namespace)')
                probe['to'] = None
        if probe['proto'] not in PROTOCOLS:
            c.add(path + '.proto', 'must be one of %s, got %r' % (', '.join(PROTOCOLS), probe['proto']))
        if probe['expect'] not in EXPECTATIONS:
            c.add(path + '.expect', 'must be one of %s, got %r' % (', '.join(EXPECTATIONS), probe['expect']))
        if entry.get('port') is not None:
            if probe['proto'] == 'icmp':
                c.add(path + '.port', 'an icmp probe has no port, got %r' % (entry['port'],))
            else:
                probe['port'] = c.check(path + '.port', check_int, entry['port'], 1, 65535, 'port')
        elif probe['proto'] in ('tcp', 'udp'):
            c.add(path + '.port', 'a %s probe needs port (1-65535)' % probe['proto'])
        else:
            probe['port'] = DEFAULT_PORTS.get(probe['proto'])
        if entry.get('count') is not None:
            probe['count'] = c.check(path + '.count', check_int, entry['count'], 1, 100, 'count')
        if entry.get('timeout') is not None:
            probe['timeout'] = c.check(path + '.timeout', _check_timeout, entry['timeout'], 'timeout')
        result.append(probe)
    if c.errors:
        raise ProbeError(c.errors)
    return result


def resolve_targets(probes, addresses_of, check_mode=False, field='probes'):
    """Each probe's address: its ``to``, or the one address of the namespace it names.

    ``addresses_of(netns)``: the namespace's addresses as [(link, CIDR)], None when there
    is no such namespace.  A namespace stands for its address only when that is
    unambiguous: one IPv4 address beyond lo, or else one IPv6 address that is not
    link-local.  Returns {index: why it is not run} for the probes whose namespace does
    not exist, and in check mode also for those whose namespace has no address yet (an
    earlier task may give it one); raises ProbeError naming each probe by its index in ``field``.
    """
    c = Collector()
    not_run = {}
    for i, probe in enumerate(probes):
        if probe['to'] is not None:
            continue
        netns = probe['namespace']
        found = addresses_of(netns)
        if found is None:
            not_run[i] = 'namespace %s does not exist yet' % netns
            continue
        candidates = [(link, ipaddress.ip_interface(cidr).ip) for link, cidr in found if link != 'lo']
        four = [(link, ip) for link, ip in candidates if ip.version == 4]
        six = [(link, ip) for link, ip in candidates if ip.version == 6 and not ip.is_link_local]
        chosen = four or six
        if len(chosen) == 1:
            probe['to'] = str(chosen[0][1])
        elif not chosen and check_mode:
            not_run[i] = 'namespace %s has no address yet' % netns
        elif not chosen:
            c.add('%s[%d].to' % (field, i), 'namespace %s has no address to probe; name an address' % netns)
        else:
            c.add('%s[%d].to' % (field, i), 'namespace %s has %d addresses (%s); name the one to probe' % (
                netns, len(chosen), ', '.join('%s on %s' % (ip, link) for link, ip in chosen)))
    if c.errors:
        raise ProbeError(c.errors)
    return not_run


def _checksum(data):
    if len(data) % 2:
        data += b'\0'
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xffff)
    total += total >> 16
    return ~total & 0xffff


class _Probe:
    """One probe under way: its socket, what it waits for, and when it gives up."""

    def __init__(self, probe, ident):
        self.probe = probe
        self.ident = ident
        self.sock = None
        self.sent = None
        self.deadline = None
        self.got = None
        self.detail = None
        self.rtt = None
        self.buffer = b''
        self.replies = set()
        self.connected = False  # an HTTP probe's connection was made

    # --- starting ---

    def start(self, open_socket, now):
        """Make the socket in the probe's namespace and send; returns the events to wait for."""
        probe = self.probe
        address = ipaddress.ip_address(probe['to'])
        family = socket.AF_INET if address.version == 4 else socket.AF_INET6
        self.deadline = now + probe['timeout']
        self.sent = now
        proto = probe['proto']
        try:
            if proto == 'icmp':
                self.sock = open_socket(probe['from'], family, socket.SOCK_RAW,
                                        socket.IPPROTO_ICMP if family == socket.AF_INET else socket.IPPROTO_ICMPV6)
                self.sock.setblocking(False)
                self.sock.connect((probe['to'], 0))
                for seq in range(probe['count']):
                    self.sock.send(self._echo(family, seq))
                return selectors.EVENT_READ
            kind = socket.SOCK_DGRAM if proto == 'udp' else socket.SOCK_STREAM
            self.sock = open_socket(probe['from'], family, kind, 0)
            self.sock.setblocking(False)
            if proto == 'udp':
                self.sock.connect((probe['to'], probe['port']))
                self.sock.send(UDP_PAYLOAD)
                return selectors.EVENT_READ
            code = self.sock.connect_ex((probe['to'], probe['port']))
            if code not in (0, errno.EINPROGRESS):
                self.fail_with(code)
                return None
            return selectors.EVENT_WRITE
        except OSError as e:
            self.fail_with(e.errno, e)
            return None

    def _echo(self, family, seq):
        payload = struct.pack('!d', time.time()) + ECHO_MARK
        kind = 8 if family == socket.AF_INET else 128
        header = struct.pack('!BBHHH', kind, 0, 0, self.ident, seq)
        if family == socket.AF_INET:  # the kernel sums ICMPv6 itself
            header = struct.pack('!BBHHH', kind, 0, _checksum(header + payload), self.ident, seq)
        return header + payload

    # --- what comes back ---

    def readable(self, now):
        """Returns the events to wait for next, or None when the probe is done."""
        proto = self.probe['proto']
        try:
            data = self.sock.recv(65535)
        except (BlockingIOError, InterruptedError):
            return selectors.EVENT_READ
        except OSError as e:
            self.fail_with(e.errno, e)
            return None
        if proto == 'icmp':
            return self._echo_reply(data, now)
        if proto == 'udp':
            return self.done('reach', now, '%d bytes back' % len(data))
        if not data:
            return self.ended_without_status(now)
        self.buffer += data
        line = self.buffer.split(b'\r\n', 1)[0] if b'\r\n' in self.buffer else None
        if line is None and len(self.buffer) < 4096:
            return selectors.EVENT_READ
        fields = (line or self.buffer[:80]).decode('latin-1').split()
        if len(fields) >= 2 and fields[0].startswith('HTTP/') and fields[1].isdigit():
            return self.done('reach', now, 'HTTP %s' % fields[1])
        return self.done('error', now, 'connected, but not an HTTP answer: %r' % (line or self.buffer[:80]))

    def _echo_reply(self, data, now):
        family = 4 if ipaddress.ip_address(self.probe['to']).version == 4 else 6
        if family == 4:
            data = data[(data[0] & 0x0f) * 4:] if data else data  # a raw IPv4 socket gets the IP header too
        if len(data) >= 8:
            kind, _code, _sum, ident, seq = struct.unpack('!BBHHH', data[:8])
            if kind == (0 if family == 4 else 129) and ident == self.ident and seq < self.probe['count'] \
                    and data[16:16 + len(ECHO_MARK)] == ECHO_MARK:
                if not self.replies:
                    self.rtt = round((now - self.sent) * 1000, 3)
                self.replies.add(seq)
                if len(self.replies) == self.probe['count']:
                    return self.done('reach', now, self.echo_detail())
        return selectors.EVENT_READ

    def echo_detail(self):
        return '%d of %d replies' % (len(self.replies), self.probe['count'])

    def writable(self, now):
        """A TCP connection was made, or refused."""
        code = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            self.fail_with(code)
            return None
        if self.probe['proto'] == 'tcp':
            return self.done('reach', now, 'connected')
        self.connected = True
        host = self.probe['to'] if ':' not in self.probe['to'] else '[%s]' % self.probe['to']
        try:
            self.sock.send(('GET / HTTP/1.0\r\nHost: %s\r\nUser-Agent: netvirt.linux probe\r\n\r\n' % host).encode())
        except OSError as e:
            self.fail_with(e.errno, e)
            return None
        return selectors.EVENT_READ

    def done(self, got, now, detail):
        self.got = got
        self.detail = detail
        if got == 'reach' and self.rtt is None:
            self.rtt = round((now - self.sent) * 1000, 3)
        return None

    def ended_without_status(self, now):
        return self.done('error', now, 'connected, but the server closed the connection without an HTTP '
                         'status line%s' % (': %r' % self.buffer[:80] if self.buffer else ''))

    def fail_with(self, code, error=None):
        if self.connected and code in (errno.ECONNRESET, errno.EPIPE):
            # Whether a server that hangs up sends FIN or RST depends on whether our request was
            # already in its buffer: a race, and the same answer (no HTTP) either way.
            self.ended_without_status(None)
        elif code == errno.ECONNREFUSED:
            self.got, self.detail = 'refused', 'connection refused'
        elif code in UNREACHABLE:
            self.got, self.detail = 'unreachable', os.strerror(code)
        else:
            self.got, self.detail = 'error', str(error) if error is not None else os.strerror(code)

    def expire(self):
        """The deadline came: an echo probe that had some replies reached; anything else timed out."""
        if self.replies:
            self.got, self.detail = 'reach', self.echo_detail()
        elif self.connected:
            self.got, self.detail = 'error', 'connected, but no HTTP answer in %g s' % self.probe['timeout']
        else:
            self.got, self.detail = 'timeout', 'no answer in %g s' % self.probe['timeout']

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def run_probes(probes, open_socket, concurrent=CONCURRENT):
    """Run ``probes`` (normalised, each with its address) at once; their results, in order.

    ``open_socket(netns, family, type, proto)`` makes a socket inside ``netns``
    (None: here).
    """
    pending = list(enumerate(probes))
    pending.reverse()
    running = {}
    results = [None] * len(probes)
    selector = selectors.DefaultSelector()
    try:
        while pending or running:
            now = time.monotonic()
            while pending and len(running) < concurrent:
                i, probe = pending.pop()
                under_way = _Probe(probe, _next_ident())
                events = under_way.start(open_socket, now)
                if events is None:
                    results[i] = under_way
                    under_way.close()
                else:
                    running[under_way.sock.fileno()] = (i, under_way)
                    selector.register(under_way.sock, events)
            if not running:
                continue
            wait = max(0.0, min(p.deadline for _i, p in running.values()) - time.monotonic())
            for key, mask in selector.select(wait):
                i, under_way = running[key.fd]
                now = time.monotonic()
                events = under_way.writable(now) if mask & selectors.EVENT_WRITE else under_way.readable(now)
                if events is None:
                    selector.unregister(under_way.sock)
                    del running[key.fd]
                    results[i] = under_way
                    under_way.close()
                elif events != key.events:
                    selector.modify(under_way.sock, events)
            now = time.monotonic()
            for fd, (i, under_way) in list(running.items()):
                if under_way.deadline <= now:
                    under_way.expire()
                    selector.unregister(under_way.sock)
                    del running[fd]
                    results[i] = under_way
                    under_way.close()
    finally:
        for _i, under_way in running.values():
            under_way.close()
        selector.close()
    return [result_of(p.probe, p.got, p.detail, p.rtt) for p in results]


def result_of(probe, got, detail, rtt=None):
    # An error (an open port that does not speak HTTP, a socket the process could not make) is never
    # what a probe expects: it proves neither that traffic flows nor that it is blocked.
    agrees = None if got == 'not run' else False if got == 'error' else (got == 'reach') == (probe['expect'] == 'reach')
    return {'from': probe['from'], 'to': probe['namespace'] or probe['to'], 'address': probe['to'],
            'proto': probe['proto'], 'port': probe['port'], 'expected': probe['expect'], 'got': got,
            'detail': detail, 'rtt_ms': rtt, 'ok': agrees}


def label(result):
    """'c1 -> 10.0.0.2 tcp/80': how messages and reports name a probe."""
    target = result['to'] if result['to'] == result['address'] or result['address'] is None else \
        '%s (%s)' % (result['to'], result['address'])
    port = '/%d' % result['port'] if result['port'] else ''
    return '%s -> %s %s%s' % (result['from'] or 'host', target, result['proto'], port)


def disagreements(results):
    """The message that names each probe whose result is not the one expected; None when all agree."""
    wrong = [r for r in results if r['ok'] is False]
    if not wrong:
        return None
    return '%d of %d probes disagree: %s' % (len(wrong), len(results), '; '.join(
        '%s: expected %s, got %s (%s)' % (label(r), r['expected'], r['got'], r['detail']) for r in wrong))


def junit_xml(results, seconds):
    """A JUnit report: one testcase a probe, a failure where it disagrees, skipped where it did not run."""
    failures = sum(1 for r in results if r['ok'] is False)
    skipped = sum(1 for r in results if r['ok'] is None)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<testsuites><testsuite name="netvirt.linux.probe" tests="%d" failures="%d" skipped="%d" time="%.3f">'
             % (len(results), failures, skipped, seconds)]
    for r in results:
        case = '<testcase classname="netvirt.linux.probe" name=%s time="%.3f"' % (
            quoteattr(label(r)), (r['rtt_ms'] or 0) / 1000.0)
        if r['ok'] is False:
            lines.append('%s><failure message=%s/></testcase>' % (case, quoteattr(
                'expected %s, got %s (%s)' % (r['expected'], r['got'], r['detail']))))
        elif r['ok'] is None:
            lines.append('%s><skipped message=%s/></testcase>' % (case, quoteattr(r['detail'])))
        else:
            lines.append('%s/>' % case)
    lines.append('</testsuite></testsuites>')
    return '\n'.join(lines) + '\n'


def probe_all(entries, kernel, check_mode=False, retries=0, delay=1.0, sleep=time.sleep, field='probes'):
    """Validate, resolve and run every probe, again for those that disagree (``retries`` times,
    ``delay`` seconds apart); the results in the order given.

    In check mode a probe whose namespace (``from``, or the one ``to`` names) does not exist
    yet, or whose ``to`` names a namespace without an address yet, is not run: an earlier task
    may make it.  Otherwise such a probe is an error.  The probes that do run see the host as
    it is, before any earlier task of the play has really run.  Errors name the probes by
    their index in ``field``, the option that lists them.
    """
    probes = normalise_probes(entries, field)
    absent = dict((i, p['from']) for i, p in enumerate(probes) if p['from'] and not kernel.namespace_exists(p['from']))
    missing = dict((i, 'namespace %s does not exist yet' % netns) for i, netns in absent.items())
    for i, why in resolve_targets(probes, kernel.namespace_addresses, check_mode, field).items():
        missing.setdefault(i, why)
    if missing and not check_mode:
        raise ProbeError(['%s[%d].%s: namespace %s does not exist' % (
            (field, i, 'from', absent[i]) if i in absent else (field, i, 'to', probes[i]['namespace'])) for i in sorted(missing)])
    results = [result_of(p, 'not run', 'check mode: %s' % missing[i]) if i in missing else None
               for i, p in enumerate(probes)]
    todo = [i for i in range(len(probes)) if i not in missing]
    for attempt in range(retries + 1):
        for i, result in zip(todo, run_probes([probes[i] for i in todo], kernel.socket_in)):
            results[i] = result
        todo = [i for i in todo if results[i]['ok'] is False]
        if not todo or attempt == retries:
            break
        sleep(delay)
    return results
