"""The diagram filter: nodes and edges checked structurally, and dot must render the DOT."""

import re
import shutil
import subprocess

import pytest

from ansible_collections.netvirt.linux.plugins.filter.topology_graph import topology_graph

LAB = {
    'namespaces': [{'name': 'h'}, {'name': 'c1'}, {'name': 'c2'}],
    'links': [
        {'kind': 'bridge', 'name': 'br0', 'netns': 'h', 'addresses': ['10.0.0.1/24']},
        {'kind': 'veth', 'name': 'v1', 'netns': 'h', 'master': 'br0',
         'peer': {'name': 'eth0', 'netns': 'c1', 'addresses': ['10.0.0.11/24']}},
        {'kind': 'veth', 'name': 'v2', 'netns': 'h', 'master': 'br0',
         'peer': {'name': 'eth0', 'netns': 'c2', 'addresses': ['10.0.0.12/24']}},
        {'kind': 'veth', 'name': 'wan', 'netns': 'h', 'addresses': ['192.168.100.1/24'],
         'peer': {'name': 'eth0', 'netns': None, 'addresses': ['192.168.100.2/24']}},
    ],
    'routes': [{'netns': 'c1', 'dest': 'default', 'via': '10.0.0.1'}],
    'nat': [{'netns': 'h', 'name': 'nat', 'masquerade': [{'source': '10.0.0.0/24', 'out_interface': 'wan'}]}],
}


def parse_dot(text):
    labels = dict(re.findall(r'^\s*(n\d+) \[label="([^"]*)"', text, re.M))
    edges = re.findall(r'^\s*(n\d+) -- (n\d+) \[label="([^"]*)"', text, re.M)
    clusters = re.findall(r'label="([^"]*)"; style="rounded"', text)
    name = dict((node, label.split('\\n')[0]) for node, label in labels.items())
    return labels, [(name[a], name[b], label) for a, b, label in edges], clusters


def test_namespaces_interfaces_pairs_ports_and_nat():
    labels, edges, clusters = parse_dot(topology_graph(LAB, 'dot'))
    assert sorted(c.split('\\n')[0] for c in clusters) == ['c1', 'c2', 'h', 'host namespace']
    assert 'c1\\ndefault via 10.0.0.1' in clusters
    assert sorted(labels.values()).count('eth0\\n10.0.0.11/24') == 1
    assert ('v1', 'eth0', 'veth') in edges and ('wan', 'eth0', 'veth') in edges
    assert sorted(e for e in edges if e[2] == 'port') == [('v1', 'br0', 'port'), ('v2', 'br0', 'port')]
    assert ('NAT nat', 'wan', 'masquerade') in edges
    assert any(label.startswith('br0\\n10.0.0.1/24') for label in labels.values())


def test_a_port_is_drawn_once_when_the_bridge_lists_it_and_it_names_its_master():
    # netns_info's shape: the bridge comes first with its ports, and each port names its master.
    report = {'namespaces': [{'name': 'h'}, {'name': 'c1'}],
              'links': [{'kind': 'bridge', 'name': 'br0', 'netns': 'h', 'ports': ['v1'], 'addresses': []},
                        {'kind': 'veth', 'name': 'v1', 'netns': 'h', 'master': 'br0',
                         'peer': {'name': 'eth0', 'netns': 'c1', 'master': None}}],
              'nat_tables': [{'netns': 'h', 'name': 'br0', 'owner': 'lab',
                              'rules': ['table ip netvirt_br0 {', 'chain owner {', 'return comment "netvirt:lab"',
                                        '}', '}']}]}
    labels, edges, _clusters = parse_dot(topology_graph(report, 'dot'))
    assert [e for e in edges if e[2] == 'port'] == [('v1', 'br0', 'port')]
    assert [label for label in labels.values() if label.startswith('NAT')] == ['NAT br0\\n(owner lab)']


def test_hosts_are_clusters_of_their_own_in_both_formats():
    fleet = {'h1': {'topology': LAB}, 'h2': {'topology': LAB}}
    dot = topology_graph(fleet, 'dot')
    assert dot.count('subgraph "cluster_host_') == 2
    mermaid = topology_graph(fleet, 'mermaid')
    assert mermaid.startswith('flowchart LR')
    assert mermaid.count('subgraph h1_') == 4 and mermaid.count('subgraph h2_') == 4
    assert len(re.findall(r' ---\|veth\| ', mermaid)) == 6


def test_dot_renders_without_error():
    assert shutil.which('dot'), 'Graphviz (Debian graphviz) is needed; make setup installs it'
    proc = subprocess.run(['dot', '-Tsvg'], input=topology_graph(LAB, 'dot'), capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert '<svg' in proc.stdout


def test_bad_input_is_named():
    from ansible.errors import AnsibleFilterError
    with pytest.raises(AnsibleFilterError, match='expects a topology'):
        topology_graph(['not', 'a', 'lab'])
    with pytest.raises(AnsibleFilterError, match="format 'png'"):
        topology_graph(LAB, 'png')


def test_an_ends_shaping_is_drawn_on_it_in_both_directions():
    lab = {'namespaces': [{'name': 'a'}, {'name': 'b'}],
           'links': [{'kind': 'veth', 'name': 'e0', 'netns': 'a', 'tc': {'rate': '20mbit'},
                      'tc_ingress': {'delay': '40ms', 'loss': '1%'},
                      'peer': {'name': 'e0', 'netns': 'b', 'tc_ingress': {'rate': '5mbit', 'enabled': False}}}]}
    labels = parse_dot(topology_graph(lab, 'dot'))[0]
    assert sorted(labels.values()) == ['e0', 'e0\\ntc: rate 20mbit\\ntc_ingress: delay 40ms, loss 1%']
