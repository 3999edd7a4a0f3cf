# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: topology_graph
short_description: Draw a lab as Graphviz DOT or a Mermaid flowchart
version_added: 0.1.0
description:
  - Turns the C(topology) that M(netvirt.linux.netns_info) returns, or a M(netvirt.linux.topology) document,
    into a diagram. Namespaces are boxes holding their interfaces and addresses; veth pairs are edges;
    bridges are nodes joined to their ports; NAT tables are notes in their namespace, tied to the interface
    they send out of.
  - Given a dictionary of host name to topology (for example C(hostvars) gathered across a fleet), each host
    is drawn as a cluster of its own.
author: netvirt.linux contributors (@netvirt-linux)
positional: format
options:
  _input:
    description: A topology, or a dictionary of host name to topology.
    type: dict
    required: true
  format:
    description: C(dot) for Graphviz, C(mermaid) for a Mermaid flowchart.
    type: str
    default: dot
    choices: [dot, mermaid]
'''

EXAMPLES = r'''
- name: Write the lab as DOT
  ansible.builtin.copy:
    content: "{{ lab.topology | netvirt.linux.topology_graph('dot') }}"
    dest: lab.dot
    mode: '0644'
'''

RETURN = r'''
_value:
  description: The diagram, as DOT or Mermaid source.
  type: str
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.netvirt.linux.plugins.module_utils._kinds import kind_of


def _hosts(data):
    if isinstance(data, dict) and any(key in data for key in ('links', 'namespaces', 'routes')):
        return [(None, data)]
    if isinstance(data, dict) and all(isinstance(v, dict) for v in data.values()):
        return sorted(((host, value.get('topology', value)) for host, value in data.items()), key=lambda hv: hv[0])
    raise AnsibleFilterError('topology_graph expects a topology (with links and namespaces), '
                             'or a dictionary of host names to topologies; got %s' % type(data).__name__)


def _ends(link):
    yield link
    if kind_of(link.get('kind')).paired and link.get('peer'):
        yield link['peer']


def _tc_lines(end):
    """An end's shaping (netns_info's tc, what leaves the end, and tc_ingress, what arrives), a line each:
    'tc: delay 40ms, loss 1%'."""
    lines = []
    for field in ('tc', 'tc_ingress'):
        tc = end.get(field)
        if not isinstance(tc, dict) or tc.get('enabled') is False:
            continue
        shown = ', '.join('%s %s' % (key, tc[key]) for key in sorted(tc) if key not in ('enabled', 'profile'))
        if shown:
            lines.append('%s: %s' % (field, shown))
    return lines


def _nat_lines(nat):
    if nat.get('rules') is not None:  # netns_info: the table in nft syntax
        # The owner chain's one rule only carries the owner's mark: it is shown as the owner.
        return [line.strip() for line in nat['rules'] if line.strip().split(' ')[0] not in
                ('table', 'chain', 'type', '}', 'return')] + (['(owner %s)' % nat['owner']] if nat.get('owner') else [])
    lines = ['masquerade %s%s' % (r.get('source') or 'all', ' out %s' % r['out_interface'] if r.get('out_interface')
                                  else '') for r in nat.get('masquerade') or []]
    lines += ['snat %s to %s' % (r.get('source') or 'all', r.get('to')) for r in nat.get('snat') or []]
    lines += ['%s %s -> %s' % (r.get('proto', 'tcp'), r.get('port'), r.get('to')) for r in nat.get('dnat') or []]
    return lines


class _Graph:
    """Nodes grouped by (host, namespace), and edges; rendered as DOT or Mermaid."""

    def __init__(self):
        self.clusters = {}   # (host, netns) -> [(node_id, label, style)]
        self.edges = []      # (a, b, label, style)
        self.ids = {}

    def node_id(self, host, netns, name):
        key = (host, netns, name)
        if key not in self.ids:
            self.ids[key] = 'n%d' % len(self.ids)
        return self.ids[key]

    def add(self, host, netns, name, label, style='interface'):
        node = self.node_id(host, netns, name)
        nodes = self.clusters.setdefault((host, netns), [])
        if all(n[0] != node for n in nodes):
            nodes.append((node, label, style))
        return node

    def build(self, data):
        for host, topo in _hosts(data):
            for ns in topo.get('namespaces') or []:
                self.clusters.setdefault((host, ns['name']), [])
            for link in topo.get('links') or []:
                kind = kind_of(link.get('kind'))
                for end in _ends(link):
                    netns = end.get('netns')
                    label = '\n'.join([end['name']] + list(end.get('addresses') or []) + _tc_lines(end))
                    switch = end is link and kind.takes_ports
                    self.add(host, netns, end['name'], label + ('\n(%s)' % kind.name if switch else ''),
                             'bridge' if switch else 'interface')
                if kind.paired and link.get('peer'):
                    peer = link['peer']
                    self.edges.append((self.node_id(host, link.get('netns'), link['name']),
                                       self.node_id(host, peer.get('netns'), peer['name']), kind.name, 'solid'))
                remotes, edge_label = kind.far_ends(link)
                for remote in remotes:
                    far = self.add(host, '(remote)', remote, remote, 'remote')
                    self.edges.append((self.node_id(host, link.get('netns'), link['name']), far, edge_label, 'dashed'))
            for link in topo.get('links') or []:
                for end in _ends(link):
                    if end.get('master'):
                        edge = (self.node_id(host, end.get('netns'), end['name']),
                                self.add(host, end.get('netns'), end['master'], end['master'] + '\n(bridge)', 'bridge'),
                                'port', 'bold')
                        if edge not in self.edges:  # the bridge's own list of ports may have drawn it
                            self.edges.append(edge)
                for port in link.get('ports') or []:
                    edge = (self.node_id(host, link.get('netns'), port), self.node_id(host, link.get('netns'),
                                                                                      link['name']), 'port', 'bold')
                    if edge not in self.edges:
                        self.add(host, link.get('netns'), port, port)
                        self.edges.append(edge)
            for nat in (topo.get('nat') or []) + (topo.get('nat_tables') or []):
                lines = _nat_lines(nat)
                note = self.add(host, nat.get('netns'), 'nat:' + nat.get('name', 'nat'),
                                '\n'.join(['NAT %s' % nat.get('name', 'nat')] + lines), 'nat')
                for rule in nat.get('masquerade') or []:
                    out = rule.get('out_interface') or ''
                    if out and not out.startswith('!'):
                        self.edges.append((note, self.node_id(host, nat.get('netns'), out), 'masquerade', 'dashed'))
            for route in topo.get('routes') or []:
                if route.get('dest') == 'default' and route.get('via'):
                    key = (host, route.get('netns'))
                    self.clusters.setdefault(key, [])
                    self.defaults = getattr(self, 'defaults', {})
                    self.defaults[key] = route['via']
        return self

    def cluster_label(self, host, netns):
        label = netns if netns else 'host namespace'
        via = getattr(self, 'defaults', {}).get((host, netns))
        return label + ('\ndefault via %s' % via if via else '')

    def dot(self):
        out = ['graph lab {', '  rankdir=LR;', '  compound=true;', '  node [fontname="Helvetica", fontsize=10];',
               '  edge [fontname="Helvetica", fontsize=9];']
        shapes = {'interface': 'shape=box', 'bridge': 'shape=box, style="rounded,filled", fillcolor="#dbe9f6"',
                  'nat': 'shape=note, style=filled, fillcolor="#fff3c4"', 'remote': 'shape=ellipse, style=dashed'}
        hosts = sorted(set(h for h, _n in self.clusters), key=lambda h: h or '')
        for host in hosts:
            indent = '  '
            if host is not None:
                out.append('  subgraph "cluster_host_%s" {' % host)
                out.append('    label="%s"; style=bold;' % _dot_escape(host))
                indent = '    '
            for (h, netns), nodes in sorted(self.clusters.items(), key=lambda kv: (kv[0][1] or '')):
                if h != host:
                    continue
                cid = 'cluster_%s_%s' % (host or '', netns or 'host')
                out.append('%ssubgraph "%s" {' % (indent, _dot_escape(cid)))
                out.append('%s  label="%s"; style="rounded";' % (indent, _dot_escape(self.cluster_label(h, netns))))
                if not nodes:
                    out.append('%s  "%s_empty" [label="", shape=point, style=invis];' % (indent, cid))
                for node, label, style in nodes:
                    out.append('%s  %s [label="%s", %s];' % (indent, node, _dot_escape(label), shapes[style]))
                out.append('%s}' % indent)
            if host is not None:
                out.append('  }')
        styles = {'solid': '', 'bold': ', style=bold', 'dashed': ', style=dashed'}
        for a, b, label, style in self.edges:
            out.append('  %s -- %s [label="%s"%s];' % (a, b, _dot_escape(label), styles[style]))
        out.append('}')
        return '\n'.join(out) + '\n'

    def mermaid(self):
        out = ['flowchart LR']
        for (host, netns), nodes in sorted(self.clusters.items(), key=lambda kv: (kv[0][0] or '', kv[0][1] or '')):
            title = self.cluster_label(host, netns).replace('\n', ' - ')
            if host is not None:
                title = '%s: %s' % (host, title)
            out.append('  subgraph %s_%s["%s"]' % (_mermaid_id(host or 'h'), _mermaid_id(netns or 'host'),
                                                   _mermaid_escape(title)))
            for node, label, style in nodes:
                shape = ('(["%s"])' if style == 'bridge' else '[/"%s"/]' if style == 'nat' else '["%s"]')
                out.append('    %s%s' % (node, shape % _mermaid_escape(label).replace('\n', '<br/>')))
            out.append('  end')
        arrows = {'solid': '---', 'bold': '===', 'dashed': '-.-'}
        for a, b, label, style in self.edges:
            out.append('  %s %s|%s| %s' % (a, arrows[style], _mermaid_escape(label), b))
        return '\n'.join(out) + '\n'


def _dot_escape(text):
    return text.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')


def _mermaid_escape(text):
    return text.replace('"', '#quot;')


def _mermaid_id(text):
    return ''.join(c if c.isalnum() else '_' for c in text)


def topology_graph(data, format='dot'):
    if format not in ('dot', 'mermaid'):
        raise AnsibleFilterError("topology_graph: format %r is not 'dot' or 'mermaid'" % (format,))
    graph = _Graph().build(data)
    return graph.dot() if format == 'dot' else graph.mermaid()


class FilterModule(object):
    def filters(self):
        return {'topology_graph': topology_graph}
