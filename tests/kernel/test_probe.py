"""Probes with real packets (issue 20): every protocol, reachable and blocked pairs, a NAT that stops
inbound traffic, an isolated namespace, wrong expectations named pair by pair, retries, check mode."""

import socket
import struct
import threading
import time
from xml.etree import ElementTree

import pytest

from conftest import converge, snapshot
from test_nat import LAB, MASQUERADE, Server
from ansible_collections.netvirt.linux.plugins.module_utils._kernel import Kernel
from ansible_collections.netvirt.linux.plugins.module_utils._probe import (
    CONCURRENT, ProbeError, disagreements, junit_xml, label, probe_all,
)

PROBE_LAB = dict(LAB, namespaces=LAB['namespaces'] + [{'name': 'iso'}], nat=[MASQUERADE])


class Servers:
    """A TCP and a UDP echo server in namespaces of the lab, made in this process (Kernel.socket_in)."""

    def __init__(self, kernel):
        self.sockets = []
        self.stopping = False
        self.tcp = self.listen(kernel, 'c1', socket.SOCK_STREAM, 5000)
        self.udp = self.listen(kernel, 'c2', socket.SOCK_DGRAM, 5001)
        self.resetting = self.listen(kernel, 'c1', socket.SOCK_STREAM, 5003)
        self.threads = [threading.Thread(target=self.accept, daemon=True),
                        threading.Thread(target=self.echo, daemon=True),
                        threading.Thread(target=self.reset, daemon=True)]
        for thread in self.threads:
            thread.start()

    def listen(self, kernel, netns, kind, port, address=''):
        sock = kernel.socket_in(netns, socket.AF_INET, kind)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        if kind == socket.SOCK_STREAM:
            sock.listen(64)
        sock.settimeout(0.2)
        self.sockets.append(sock)
        return sock

    def accept(self):
        while not self.stopping:
            try:
                self.tcp.accept()[0].close()
            except OSError:
                continue

    def reset(self):
        """Hangs up with a reset, always: it waits for the request, and a zero linger turns close into RST."""
        while not self.stopping:
            try:
                conn = self.resetting.accept()[0]
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(1, socket.MSG_PEEK)
                except OSError:
                    pass
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))

    def echo(self):
        while not self.stopping:
            try:
                data, peer = self.udp.recvfrom(2048)
                self.udp.sendto(data, peer)
            except OSError:
                continue

    def stop(self):
        self.stopping = True
        for thread in self.threads:
            thread.join(2)
        for sock in self.sockets:
            sock.close()


@pytest.fixture
def lab():
    converge(PROBE_LAB)
    with Kernel() as kernel:
        servers = Servers(kernel)
        http = Server('c1', '10.0.0.11', 8080)
        try:
            yield kernel
        finally:
            http.stop()
            servers.stop()


MATRIX = [
    ({'from': 'c1', 'to': '10.0.0.12'}, 'reach'),
    ({'from': 'c1', 'to': 'c2', 'count': 3}, 'reach'),  # a namespace stands for its one address
    ({'from': 'c3', 'to': '198.51.100.2'}, 'reach'),  # out through the masquerade
    ({'from': 'inet', 'to': '10.0.0.11', 'expect': 'blocked'}, 'unreachable'),  # the NAT lets nothing in
    ({'from': 'iso', 'to': '10.0.0.11', 'expect': 'blocked'}, 'unreachable'),
    ({'from': 'c1', 'to': '10.0.0.99', 'expect': 'blocked', 'timeout': 0.5}, 'timeout'),  # nobody has it
    ({'from': 'c2', 'to': 'c1', 'proto': 'tcp', 'port': 5000}, 'reach'),
    ({'from': 'c2', 'to': 'c1', 'proto': 'tcp', 'port': 5009, 'expect': 'blocked'}, 'refused'),
    ({'from': 'inet', 'to': '10.0.0.11', 'proto': 'tcp', 'port': 5000, 'expect': 'blocked'}, 'unreachable'),
    ({'from': 'c1', 'to': 'c2', 'proto': 'udp', 'port': 5001}, 'reach'),
    ({'from': 'c1', 'to': 'c2', 'proto': 'udp', 'port': 5002, 'expect': 'blocked'}, 'refused'),
    ({'from': 'c3', 'to': '10.0.0.11', 'proto': 'http', 'port': 8080}, 'reach'),
    ({'from': 'c3', 'to': '10.0.0.11', 'proto': 'http', 'expect': 'blocked'}, 'refused'),  # port 80: nothing
]


def test_every_protocol_reports_reachable_and_blocked_pairs_as_the_kernel_carries_them(lab):
    before = snapshot()
    results = probe_all([probe for probe, _got in MATRIX], lab)
    assert [(label(r), r['got']) for r in results] == [(label(r), got) for r, (_p, got) in zip(results, MATRIX)]
    assert all(r['ok'] for r in results), disagreements(results)
    assert disagreements(results) is None
    assert results[1]['address'] == '10.0.0.12' and results[1]['detail'] == '3 of 3 replies'
    assert results[11]['detail'] == 'HTTP 404' or results[11]['detail'].startswith('HTTP ')
    assert all(r['rtt_ms'] is not None for r in results if r['got'] == 'reach')
    assert snapshot() == before  # probes change nothing


def test_wrong_expectations_fail_naming_each_pair_with_what_happened(lab):
    results = probe_all([{'from': 'c1', 'to': 'c2', 'expect': 'blocked'},
                         {'from': 'c1', 'to': '10.0.0.12'},
                         {'from': 'inet', 'to': 'c1', 'proto': 'tcp', 'port': 5000},
                         # An open port that does not speak HTTP proves nothing either way.
                         {'from': 'c2', 'to': 'c1', 'proto': 'http', 'port': 5000, 'expect': 'blocked'}], lab)
    assert [r['ok'] for r in results] == [False, True, False, False]
    assert disagreements(results) == (
        '3 of 4 probes disagree: c1 -> c2 (10.0.0.12) icmp: expected blocked, got reach (1 of 1 replies); '
        'inet -> c1 (10.0.0.11) tcp/5000: expected reach, got unreachable (Network is unreachable); '
        'c2 -> c1 (10.0.0.11) http/5000: expected blocked, got error (connected, but the server closed the '
        'connection without an HTTP status line)')
    report = ElementTree.fromstring(junit_xml(results, 1.5))
    suite = report.find('testsuite')
    assert (suite.get('tests'), suite.get('failures'), suite.get('skipped')) == ('4', '3', '0')
    assert [case.get('name') for case in suite.findall('testcase') if case.find('failure') is not None] == [
        'c1 -> c2 (10.0.0.12) icmp', 'inet -> c1 (10.0.0.11) tcp/5000', 'c2 -> c1 (10.0.0.11) http/5000']


def test_a_server_that_hangs_up_on_the_request_is_one_error_whether_it_closes_or_resets(lab):
    # Port 5000 closes before reading (FIN, or RST when the request came first: a race); 5003 always resets.
    results = probe_all([{'from': 'c2', 'to': 'c1', 'proto': 'http', 'port': port, 'expect': 'blocked'}
                         for port in (5000, 5003)], lab)
    assert [(r['got'], r['detail']) for r in results] == 2 * [
        ('error', 'connected, but the server closed the connection without an HTTP status line')]


def test_many_probes_run_at_once_in_one_process(lab, monkeypatch):
    opened = []
    at_once = []
    socket_in = lab.socket_in

    def counting(*args):
        opened.append(socket_in(*args))
        at_once.append(sum(1 for sock in opened if sock.fileno() != -1))
        return opened[-1]
    monkeypatch.setattr(lab, 'socket_in', counting)
    probes = [{'from': 'c%d' % (1 + i % 3), 'to': '10.0.0.1%d' % (1 + (i + 1) % 3)} for i in range(600)]
    results = probe_all(probes, lab)
    assert all(r['got'] == 'reach' for r in results), disagreements(results)
    # One socket a probe, all made in this process; as many open at once as CONCURRENT lets.
    assert len(opened) == 600 and max(at_once) == CONCURRENT
    assert all(sock.fileno() == -1 for sock in opened)


def test_retries_wait_for_a_server_that_comes_up_late(lab):
    # The server starts during the second pause between attempts: two attempts are refused, the third reaches.
    holder = []
    naps = []

    def nap(seconds):
        naps.append(seconds)
        if len(naps) == 2:
            late = lab.socket_in('c2', socket.AF_INET, socket.SOCK_STREAM)
            late.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            late.bind(('10.0.0.12', 5005))
            late.listen(8)
            holder.append(late)
        time.sleep(seconds)
    try:
        results = probe_all([{'from': 'c1', 'to': 'c2', 'proto': 'tcp', 'port': 5005}], lab, retries=5, delay=0.1,
                            sleep=nap)
    finally:
        for sock in holder:
            sock.close()
    assert results[0]['got'] == 'reach' and naps == [0.1, 0.1]
    assert probe_all([{'from': 'c1', 'to': 'c2', 'proto': 'tcp', 'port': 5006}], lab, retries=2, delay=0.1,
                     sleep=nap)[0]['got'] == 'refused' and naps == [0.1] * 4


def test_check_mode_runs_what_exists_and_reports_the_rest_as_not_run(lab):
    probes = [{'from': 'c1', 'to': 'c2'}, {'from': 'c7', 'to': 'c1'}, {'from': 'c1', 'to': 'c8'}]
    before = snapshot()
    results = probe_all(probes + [{'from': 'c1', 'to': 'iso'}], lab, check_mode=True)
    assert snapshot() == before
    assert [(r['got'], r['ok']) for r in results] == [('reach', True), ('not run', None), ('not run', None),
                                                      ('not run', None)]
    assert [r['detail'] for r in results[1:]] == ['check mode: namespace c7 does not exist yet',
                                                  'check mode: namespace c8 does not exist yet',
                                                  'check mode: namespace iso has no address yet']
    # Errors name the probe by its place in the task, whatever comes before it.
    with pytest.raises(ProbeError) as refused:
        probe_all([{'to': 'c8'}, {'from': 'c1', 'to': 'gw'}], lab, check_mode=True)
    assert refused.value.errors[0].startswith('probes[1].to: namespace gw has 2 addresses')
    with pytest.raises(ProbeError) as refused:
        probe_all(probes, lab)
    assert refused.value.errors == ['probes[1].from: namespace c7 does not exist',
                                    'probes[2].to: namespace c8 does not exist']


@pytest.mark.parametrize('probes, message', [
    ([{'from': 'c1'}], 'probes[0].to: a probe needs to'),
    ([{'to': 'c1', 'proto': 'sctp'}], "probes[0].proto: must be one of icmp, tcp, udp, http, got 'sctp'"),
    ([{'to': 'c1', 'proto': 'tcp'}], 'probes[0].port: a tcp probe needs port (1-65535)'),
    ([{'to': 'c1', 'port': 80}], 'probes[0].port: an icmp probe has no port, got 80'),
    ([{'to': 'c1', 'expect': 'maybe'}], "probes[0].expect: must be one of reach, blocked, got 'maybe'"),
    ([{'to': 'c1', 'timeout': 0}], 'probes[0].timeout: timeout must be more than 0 and at most 60 seconds, got 0'),
    ([{'to': '../etc'}], 'probes[0].to:'),
    ([{'from': 'a/b', 'to': 'c1'}], 'probes[0].from:'),
    ([{'to': 'c1', 'form': 'c2'}], 'probes[0].form: unknown field'),
    ([{'from': 'c1', 'to': 'gw'}], 'probes[0].to: namespace gw has 2 addresses (10.0.0.1 on br0, 198.51.100.1 on wan)'),
    ([{'from': 'c1', 'to': 'iso'}], 'probes[0].to: namespace iso has no address to probe; name an address'),
    ([], 'probes: must be a non-empty list'),
])
def test_bad_probes_are_refused_naming_the_field_and_value(lab, probes, message):
    with pytest.raises(ProbeError) as refused:
        probe_all(probes, lab)
    assert message in str(refused.value)
