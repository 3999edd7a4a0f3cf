# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning namespaces: each one, its loopback, its sysctls and its files in /etc/netns
(resolv.conf and hosts, marked as ours by their first line), stale entries of /run/netns,
and the purge of this owner's namespaces.

PRIVATE: not a public API of the collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.netvirt.linux.plugins.module_utils._diff import netns_key
from ansible_collections.netvirt.linux.plugins.module_utils._ops import (
    CREATE_NAMESPACE, DELETE_NAMESPACE, PARTIAL_FILE_SUFFIX, REMOVE_STALE_NAMESPACE, RESTORE_STALE_NAMESPACE,
    SET_LINK, SET_SYSCTL, UNDONE_WITH_NAMESPACE, WRITE_FILE,
)
from ansible_collections.netvirt.linux.plugins.module_utils._planners._base import STALE_CAUSE, PlannerBase, stale_entry

NETNS_ETC_DIR = '/etc/netns'
MANAGED_FILE_HEADER = '# Managed by netvirt.linux; changes here are overwritten.\n'


def _ns_dir(netns):
    return os.path.join(NETNS_ETC_DIR, netns)


def render_resolv_conf(nameservers):
    return MANAGED_FILE_HEADER + ''.join('nameserver %s\n' % ip for ip in nameservers)


def render_hosts(hosts):
    lines = ['127.0.0.1\tlocalhost\n', '::1\tlocalhost ip6-localhost ip6-loopback\n']
    lines.extend('%s\t%s\n' % (ip, ' '.join(names)) for ip, names in sorted(hosts.items()))
    return MANAGED_FILE_HEADER + ''.join(lines)


def parse_managed_file(option, content):
    """Read back what render_resolv_conf/render_hosts wrote, for the diff's before."""
    if option == 'nameservers':
        return [line.split()[1] for line in content.splitlines()
                if line.startswith('nameserver') and len(line.split()) > 1]
    hosts = {}
    for line in content.splitlines():
        fields = line.split()
        if not fields or fields[0].startswith('#') or fields[0] in ('127.0.0.1', '::1'):
            continue
        hosts[fields[0]] = fields[1:]
    return hosts


class NamespacePlanning(PlannerBase):
    """Namespaces, with what is theirs: loopback, sysctls, files."""

    def plan_namespace(self, ns, path):
        name = ns['name']
        exists = self.reader.namespace_exists(name)
        stale_mode = self.reader.stale_namespaces().get(name)
        if stale_mode is not None:
            # Not a namespace: a killed run's file, which holds nothing and makes
            # every entry fail.  It is removed as `ip netns del` would, and made
            # again as a namespace if the document wants one.
            self.stale_named.add(name)
            self.add('unnetns' if ns['state'] == 'absent' else 'netns',
                     'remove the stale entry %s (not a namespace: %s)' % (stale_entry(name), STALE_CAUSE),
                     REMOVE_STALE_NAMESPACE(netns=name), RESTORE_STALE_NAMESPACE(netns=name, mode=stale_mode))
        if ns['state'] == 'absent':
            if not exists:
                self.diff.track(netns_key(name), {'name': name, 'stale': True} if stale_mode is not None else None, None)
                if stale_mode is not None:
                    self.gone_namespaces.add(name)
                    self.plan_managed_files_removal(name)
                return
            if not self.check_ours(path + '.name' if path else 'name', 'namespace %s' % name,
                                   self.reader.namespace_owner(name)):
                return
            foreign = ['%s %s (%s)' % (link['kind'], link['name'], 'owner %s' % link['owner'] if link['owner']
                                       else 'not made by netvirt.linux')
                       for link in sorted(self.reader.links(name), key=lambda link: link['name'])
                       if link['owner'] != self.owner and link['kind'] != 'loopback']
            if foreign and not self.force:
                # Their links, and the other ends of their veth pairs, would go with it.
                self.error(path + '.name' if path else 'name', 'namespace %s holds links owner %s did not create: '
                           '%s; set force: true to remove it with them' % (name, self.owner, ', '.join(foreign)))
                return
            self.diff.track(netns_key(name), {'name': name}, None)
            self.gone_namespaces.add(name)
            self.plan_managed_files_removal(name)
            # A namespace cannot be brought back with its contents: it is removed last.
            self.add('unnetns', 'remove netns %s' % name, DELETE_NAMESPACE(netns=name))
            return
        before = {'name': name} if exists else None
        if stale_mode is not None:
            before = {'name': name, 'stale': True}
        diff = self.diff.track(netns_key(name), before, {'name': name})
        if not exists:
            self.new_namespaces.add(name)
            self.add('netns', 'create netns %s' % name, CREATE_NAMESPACE(netns=name, owner=self.owner),
                     DELETE_NAMESPACE(netns=name))
        if ns['loopback'] is not None:
            current = False
            if exists:
                lo = self.reader.link(name, 'lo')
                current = bool(lo and lo['up'])
            diff.field('loopback', current, ns['loopback'], known=exists)
            if current != ns['loopback']:
                self.add('up', 'bring lo %s in %s' % ('up' if ns['loopback'] else 'down', name),
                         SET_LINK(netns=name, name='lo', up=ns['loopback']),
                         SET_LINK(netns=name, name='lo', up=current))
        if ns['sysctls'] is not None:
            sysctls_before = {}
            diff.field('sysctls', sysctls_before, dict(ns['sysctls']), known=exists)
            for key, value in sorted(ns['sysctls'].items()):
                current = self.reader.sysctl(name, key) if exists else None
                if exists:
                    if current is None:
                        self.error('%s.sysctls.%s' % (path, key) if path else 'sysctls.%s' % key,
                                   'no such sysctl in namespace %s' % name)
                        continue
                    sysctls_before[key] = current
                if current != value:
                    self.add('sysctl', 'set sysctl %s=%s in %s' % (key, value, name),
                             SET_SYSCTL(netns=name, key=key, value=value),
                             SET_SYSCTL(netns=name, key=key, value=current) if exists
                             else UNDONE_WITH_NAMESPACE(netns=name))
        for option, filename, render in (('nameservers', 'resolv.conf', render_resolv_conf),
                                         ('hosts', 'hosts', render_hosts)):
            if ns[option] is None:
                continue
            filepath = os.path.join(_ns_dir(name), filename)
            content = render(ns[option])
            old = self.reader.file(filepath)
            if old is not None and old != content and not old.startswith(MANAGED_FILE_HEADER) and \
                    not self.check_ours('%s.%s' % (path, option) if path else option, 'file %s' % filepath, None,
                                        ['write %s' % filepath]):
                continue
            diff.field(option, parse_managed_file(option, old) if old is not None else None, ns[option])
            if old != content:
                self.add('file', 'write %s' % filepath, WRITE_FILE(path=filepath, content=content),
                         WRITE_FILE(path=filepath, content=old))

    def plan_managed_files_removal(self, name):
        for filename in ('resolv.conf', 'hosts'):
            filepath = os.path.join(_ns_dir(name), filename)
            old = self.reader.file(filepath)
            if old is not None and old.startswith(MANAGED_FILE_HEADER):
                self.add('unnetns', 'remove %s' % filepath, WRITE_FILE(path=filepath, content=None),
                         WRITE_FILE(path=filepath, content=old))
            partial_path = filepath + PARTIAL_FILE_SUFFIX
            partial = self.reader.file(partial_path)
            if partial is not None and (old is None or old.startswith(MANAGED_FILE_HEADER)):
                # What a run killed while it wrote the file left behind.
                self.add('unnetns', 'remove %s (a killed run was writing it)' % partial_path,
                         WRITE_FILE(path=partial_path, content=None), WRITE_FILE(path=partial_path, content=partial))

    def warn_of_stale_namespaces(self):
        """The stale entries the document does not name: left alone, and named, so none goes unseen."""
        for name in sorted(set(self.reader.stale_namespaces()) - self.stale_named):
            self.plan.warnings.append(
                '%s is not a namespace but a stale entry (%s); it was left alone. Name namespace %s in a task or '
                'lab to repair it, or with state: absent to remove it' % (stale_entry(name), STALE_CAUSE, name))

    def purge_namespaces(self):
        """This owner's namespaces the document no longer lists, and the stale entries its killed runs left."""
        wanted_ns = set(ns['name'] for ns in self.doc['namespaces'] if ns['state'] == 'present')
        listed = set(ns['name'] for ns in self.doc['namespaces'])  # one named absent is removed by its entry
        existing = self.reader.namespace_names()
        owners = dict((netns, self.reader.namespace_owner(netns)) for netns in existing)
        for netns in existing:
            if owners[netns] == self.owner and netns not in listed:
                self.plan_namespace({'name': netns, 'state': 'absent'}, '')
        for netns in sorted(self.reader.stale_namespaces()):
            # A killed run of this owner left it, creating or removing the namespace (its journal says so).
            if netns in self.plan.old_claims['namespaces'] and netns not in wanted_ns and \
                    netns not in self.stale_named:
                self.plan_namespace({'name': netns, 'state': 'absent'}, '')
