"""NAT with real packets: masquerade seen from the server's side, a port forward, foreign tables."""

import json
import os
import subprocess
import sys
import time

import pytest

from conftest import converge, ip, plan, snapshot
from ansible_collections.netvirt.linux.plugins.module_utils._kernel import Kernel, KernelError
from ansible_collections.netvirt.linux.plugins.module_utils._apply import ApplyError
from ansible_collections.netvirt.linux.plugins.module_utils._model import ModelError
from ansible_collections.netvirt.linux.plugins.module_utils._plan import PlanError

# "The internet" is one more namespace: inet, 198.51.100.2, with no route back to the containers.
LAB = {
    'namespaces': [{'name': 'gw', 'sysctls': {'net.ipv4.ip_forward': 1}}, {'name': 'inet'}] +
                  [{'name': 'c%d' % i} for i in (1, 2, 3)],
    'links': [{'kind': 'bridge', 'name': 'br0', 'netns': 'gw', 'addresses': ['10.0.0.1/24']},
              {'kind': 'veth', 'name': 'wan', 'netns': 'gw', 'addresses': ['198.51.100.1/24'],
               'peer': {'name': 'eth0', 'netns': 'inet', 'addresses': ['198.51.100.2/24']}}] + [
        {'kind': 'veth', 'name': 'v%d' % i, 'netns': 'gw', 'master': 'br0',
         'peer': {'name': 'eth0', 'netns': 'c%d' % i, 'addresses': ['10.0.0.1%d/24' % i]}} for i in (1, 2, 3)],
    'routes': [{'netns': 'c%d' % i, 'dest': 'default', 'via': '10.0.0.1'} for i in (1, 2, 3)],
}
MASQUERADE = {'netns': 'gw', 'masquerade': [{'source': '10.0.0.0/24', 'out_interface': '!br0'}]}
FORWARD = {'netns': 'gw', 'name': 'web', 'dnat': [{'port': 8080, 'to': '10.0.0.11:80', 'in_interface': 'wan'}]}


def nft(netns, *args, stdin=None):
    return subprocess.run(['ip', 'netns', 'exec', netns, 'nft'] + list(args), input=stdin,
                          capture_output=True, text=True, check=True).stdout


class Server:
    """python3 -m http.server in a namespace; its log shows the client addresses it saw."""

    def __init__(self, netns, address, port):
        self.log = open('/tmp/netvirt-http-%s.log' % netns, 'w+')
        self.proc = subprocess.Popen(['ip', 'netns', 'exec', netns, sys.executable, '-m', 'http.server',
                                      '--bind', address, str(port)], stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd='/tmp')
        for _attempt in range(100):
            if subprocess.run(['ip', 'netns', 'exec', netns, 'ss', '-ltn', 'sport = :%d' % port],
                              capture_output=True, text=True, check=False).stdout.count('LISTEN'):
                return
            time.sleep(0.05)
        raise RuntimeError('http.server did not start in %s' % netns)

    def clients(self):
        self.log.flush()
        with open(self.log.name) as f:
            return [line.split()[0] for line in f if '"GET ' in line]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)
        self.log.close()


def curl(netns, url):
    return subprocess.run(['ip', 'netns', 'exec', netns, 'curl', '-s', '-m', '3', '-o', '/dev/null',
                           '-w', '%{http_code}', url], capture_output=True, text=True, check=False).stdout


@pytest.fixture
def lab():
    converge(LAB)
    # Someone else's table in the same namespace, which must never change.
    nft('gw', '-f', '-', stdin='table inet filter {\n chain input {\n  type filter hook input priority 0;\n'
                               '  tcp dport 22 accept\n }\n}\n')
    servers = [Server('inet', '198.51.100.2', 8000), Server('c1', '10.0.0.11', 80)]
    yield servers
    for server in servers:
        server.stop()


def test_masquerade_hides_the_containers_and_the_port_forward_reaches_one(lab):
    internet, container = lab
    foreign = nft('gw', 'list', 'table', 'inet', 'filter')
    assert curl('c2', 'http://198.51.100.2:8000/') == '000'  # no way back without NAT
    converge({'nat': [MASQUERADE, FORWARD]})
    for c in ('c1', 'c2', 'c3'):
        assert curl(c, 'http://198.51.100.2:8000/') == '200'
    assert set(internet.clients()) == {'198.51.100.1'}  # the server saw the host, never 10.0.0.x
    assert curl('inet', 'http://198.51.100.1:8080/') == '200'
    assert container.clients() == ['198.51.100.2']
    assert nft('gw', 'list', 'table', 'inet', 'filter') == foreign
    with Kernel() as kernel:
        assert plan({'nat': [MASQUERADE, FORWARD]}, kernel).texts == []
    converge({'nat': [dict(FORWARD, state='absent')]})
    assert curl('inet', 'http://198.51.100.1:8080/') == '000'
    assert curl('c1', 'http://198.51.100.2:8000/') == '200'  # the other table is still there
    assert nft('gw', 'list', 'table', 'inet', 'filter') == foreign
    converge({'nat': [dict(MASQUERADE, state='absent')]})
    assert nft('gw', 'list', 'table', 'inet', 'filter') == foreign
    assert json.loads(nft('gw', '-j', 'list', 'tables'))['nftables'][1:] == [
        {'table': {'family': 'inet', 'name': 'filter', 'handle': 1}}]


def test_a_hand_edit_of_our_table_is_put_right(lab):
    converge({'nat': [MASQUERADE]})
    good = nft('gw', 'list', 'table', 'ip', 'netvirt_nat')
    nft('gw', 'add', 'rule', 'ip', 'netvirt_nat', 'postrouting', 'ip', 'saddr', '10.9.0.0/16', 'masquerade')
    with Kernel() as kernel:
        p = plan({'nat': [MASQUERADE]}, kernel)
    assert p.texts == ['replace NAT table netvirt_nat in gw (1 rules)']
    assert 'ip saddr 10.9.0.0/16 masquerade' in '\n'.join(p.diff()['before']['nat gw/nat'])
    converge({'nat': [MASQUERADE]})
    assert nft('gw', 'list', 'table', 'ip', 'netvirt_nat') == good


def test_a_failed_load_changes_nothing_and_rolls_back(lab):
    converge({'nat': [MASQUERADE]})
    before = nft('gw', 'list', 'ruleset')
    # A rule for a chain that does not exist makes nft refuse the whole transaction: the kernel's own
    # error, at the last action, after a route was added.
    bad = {'netns': 'gw', 'name': 'x', 'masquerade': [{'source': '10.0.0.0/24'}]}
    with Kernel() as kernel:
        p = plan({'nat': [bad], 'routes': [{'netns': 'c1', 'dest': '10.7.0.0/16', 'via': '10.0.0.1'}]}, kernel)
        p.actions[-1].args['payload']['nftables'].append({'add': {'rule': {
            'family': 'ip', 'table': 'netvirt_x', 'chain': 'nosuchchain', 'expr': [{'masquerade': None}]}}})
        from ansible_collections.netvirt.linux.plugins.module_utils._apply import apply_plan
        with pytest.raises(ApplyError) as e:
            apply_plan(kernel, p)
    assert 'load NAT table netvirt_x in gw (1 rules) failed' in str(e.value)
    assert 'every earlier change of this run was undone' in str(e.value)
    assert nft('gw', 'list', 'ruleset') == before
    assert '10.7.0.0' not in ip('route', 'show', netns='c1').stdout


def test_bad_nat_input_loads_nothing(lab):
    before = nft('gw', 'list', 'ruleset')
    for entry in ({'netns': 'gw', 'dnat': [{'port': 0, 'to': '10.0.0.11:80'}]},
                  {'netns': 'gw', 'dnat': [{'port': 80, 'to': '10.0.0.11'}]},
                  {'netns': 'gw', 'dnat': [{'proto': 'sctp', 'port': 80, 'to': '10.0.0.11:80'}]},
                  {'netns': 'gw', 'masquerade': [{'source': '10.0.0/33'}]},
                  {'netns': 'gw', 'masquerade': [{'out_interface': 'x' * 16}]}):
        with pytest.raises(ModelError):
            converge({'nat': [entry]})
    assert nft('gw', 'list', 'ruleset') == before


def test_nat_needs_nft_and_says_what_to_install(lab, monkeypatch):
    monkeypatch.setenv('PATH', '/nonexistent')
    with pytest.raises(Exception) as e:
        converge({'nat': [MASQUERADE]})
    assert 'nft is not installed on this host; install the nftables package' in str(e.value)
    assert os.path.exists('/run/netns/gw')


def test_without_nft_a_purge_keeps_nothing_of_ours_quietly(lab, monkeypatch):
    # Issue 17, item 16: with nft missing, state: absent reported success and kept the table.
    converge({'nat': [{'masquerade': [{'source': '10.0.0.0/24'}]}]}, owner='hostnat')
    before = snapshot()
    monkeypatch.setenv('PATH', '/nonexistent')
    with pytest.raises(KernelError, match='nft is not installed on this host, and in the current namespace there '
                                          'are NAT tables this collection made \\(netvirt_nat\\); install'):
        converge({}, owner='hostnat', purge=True)
    monkeypatch.undo()
    assert snapshot() == before
    # A host where none of ours is left needs no nftables package to purge.
    converge({}, owner='hostnat', purge=True)
    monkeypatch.setenv('PATH', '/nonexistent')
    assert converge({}, owner='hostnat', purge=True).texts == []


def test_hairpin_lets_a_neighbour_use_the_forwarded_port(lab):
    """c2 reaches c1's server through gw's public port, and c1 answers through gw.

    Without hairpin, c1 would answer c2 directly across the bridge, which works only where
    br_netfilter hands bridged packets to conntrack; with it, c1 sees the gateway.
    """
    _internet, container = lab
    forward = {'netns': 'gw', 'name': 'web', 'dnat': [{'port': 8080, 'to': '10.0.0.11:80', 'hairpin': '10.0.0.0/24'}]}
    converge({'nat': [forward]})
    assert curl('c2', 'http://198.51.100.1:8080/') == '200'
    assert container.clients() == ['10.0.0.1']  # c1 saw the gateway, so its reply went back through the NAT


def test_each_table_records_its_owner_and_purge_takes_only_its_own(lab):
    # Two labs keep NAT tables in one namespace (the lab that made the namespace, and a
    # container network hosted in it): neither's purge may take the other's table.
    converge({'nat': [MASQUERADE]}, owner='routers')
    converge({'nat': [FORWARD]}, owner='containers')
    assert 'comment "netvirt:containers"' in nft('gw', 'list', 'table', 'ip', 'netvirt_web')
    with Kernel() as kernel:
        assert plan({'nat': [MASQUERADE]}, kernel, owner='routers', purge=True).texts == []
        assert plan({'nat': [FORWARD]}, kernel, owner='containers', purge=True).texts == []
        # Replacing or removing another owner's table needs force, and says whose it is.
        with pytest.raises(PlanError) as e:
            plan({'nat': [dict(FORWARD, dnat=[])]}, kernel, owner='routers')
        assert 'NAT table netvirt_web in gw belongs to owner containers, not routers' in str(e.value)
    converge({}, owner='containers', purge=True)
    tables = json.loads(nft('gw', '-j', 'list', 'tables', 'ip'))['nftables'][1:]
    assert [t['table']['name'] for t in tables] == ['netvirt_nat']
