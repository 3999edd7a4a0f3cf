# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning NAT tables: each table of ours compared with the kernel's ruleset and replaced
whole when it differs, and the purge of this owner's tables.

PRIVATE: not a public API of the collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.netvirt.linux.plugins.module_utils._diff import nat_key
from ansible_collections.netvirt.linux.plugins.module_utils._model import where
from ansible_collections.netvirt.linux.plugins.module_utils._nft import (
    desired_state, nat_rules, replace_payload, rules_from_state, table_name, table_owner, text_lines, TABLE_PREFIX,
)
from ansible_collections.netvirt.linux.plugins.module_utils._ops import DELETE_NAT_TABLE, LOAD_NAT_TABLE
from ansible_collections.netvirt.linux.plugins.module_utils._planners._base import PlannerBase, field_path


class NatPlanning(PlannerBase):
    """NAT tables, one nft table each."""

    def plan_nat(self, nat, path):
        """Our NAT table is compared with the kernel's ruleset and, when it differs, replaced whole."""
        netns = nat['netns']
        table = table_name(nat['name'])
        p = field_path(path)
        key = nat_key(netns, nat['name'])
        if nat['state'] == 'absent':
            current = self.reader.nat_table(netns, table) if self.exists_now(netns) else None
            self.diff.track(key, current[1] if current else None, None)
            if current is not None and self.check_ours(p('name'), 'NAT table %s%s' % (table, where(netns)),
                                                       table_owner(current[0])):
                self.remove_nat_table(netns, table, current)
            return
        if not self.namespace_ready(netns, p('netns')):
            return
        current = self.reader.nat_table(netns, table) if self.exists_now(netns) else None
        rules = nat_rules(nat)
        diff = self.diff.track(key, current[1] if current else None, text_lines(table, rules, self.owner))
        if current is None:
            self.add('nat', 'load NAT table %s%s (%d rules)' % (table, where(netns), len(rules)),
                     LOAD_NAT_TABLE(netns=netns, table=table, payload=replace_payload(table, rules, self.owner)),
                     DELETE_NAT_TABLE(netns=netns, table=table))
        elif current[0] != desired_state(rules, self.owner):
            if not self.check_ours(p('name'), 'NAT table %s%s' % (table, where(netns)), table_owner(current[0])):
                return
            self.add('nat', 'replace NAT table %s%s (%d rules)' % (table, where(netns), len(rules)),
                     LOAD_NAT_TABLE(netns=netns, table=table, payload=replace_payload(table, rules, self.owner)),
                     LOAD_NAT_TABLE(netns=netns, table=table, payload=self.restore_payload(table, current)))
        else:
            diff.after = current[1]  # the kernel's text of the same rules

    @staticmethod
    def restore_payload(table, current):
        return replace_payload(table, rules_from_state(current[0]), table_owner(current[0]))

    def remove_nat_table(self, netns, table, current):
        self.add('unnat', 'remove NAT table %s%s' % (table, where(netns)), DELETE_NAT_TABLE(netns=netns, table=table),
                 LOAD_NAT_TABLE(netns=netns, table=table, payload=self.restore_payload(table, current)))

    def purge_nat(self, scanned):
        """This owner's NAT tables the document no longer lists, in the namespaces that stay."""
        wanted_tables = set((n['netns'], table_name(n['name'])) for n in self.doc.get('nat', [])
                            if n['state'] == 'present')
        for netns in scanned:
            # Each table records its owner, so this owner's tables are found in any namespace.
            for table in self.reader.nat_table_names(netns):
                if not table.startswith(TABLE_PREFIX) or (netns, table) in wanted_tables:
                    continue
                current = self.reader.nat_table(netns, table)
                if current is not None and table_owner(current[0]) == self.owner:
                    self.remove_nat_table(netns, table, current)
