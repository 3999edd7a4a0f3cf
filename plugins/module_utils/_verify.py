# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lab's ``verify``: the probes that decide whether a run stands (apply_plan's ``verify``).

PRIVATE: not a public API of the collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import time

from ansible_collections.netvirt.linux.plugins.module_utils._probe import (
    ProbeError, disagreements, normalise_probes, probe_all,
)

VERIFY_OPTIONS = dict(
    verify=dict(type='list', elements='dict', default=[]),
    verify_retries=dict(type='int', default=2),
    verify_delay=dict(type='float', default=1.0),
    verify_rollback=dict(type='bool', default=True),
)


class Verification:
    """A lab's ``verify``: probes run once it is built (apply_plan's ``verify``), or in check mode
    against the host as it is.  Called, it returns None when every probe agrees, else what is wrong."""

    def __init__(self, probes, retries=2, delay=1.0, rollback=True, sleep=time.sleep):
        errors = ['verify_%s: must be 0 or more, got %r' % (key, value)
                  for key, value in (('retries', retries), ('delay', delay)) if value < 0]
        if errors:
            raise ProbeError(errors)
        self.entries = probes
        self.probes = normalise_probes(probes, 'verify')
        self.retries = retries
        self.delay = delay
        self.rollback = rollback
        self.sleep = sleep
        self.check_mode = False
        self.results = None

    @classmethod
    def from_params(cls, params):
        """The module's verify options (VERIFY_OPTIONS); None without probes."""
        if not params.get('verify'):
            return None
        return cls(params['verify'], params['verify_retries'], params['verify_delay'], params['verify_rollback'])

    def refuse_unrunnable(self, doc, kernel):
        """Before anything changes: every probe names namespaces the built lab will have, and a ``to``
        that names one can resolve to its address; ProbeError names each that cannot, all at once."""
        errors = self._unknown_namespaces(doc, kernel) + self._unresolvable_targets(doc, kernel)
        if errors:
            raise ProbeError(errors)

    def _unknown_namespaces(self, doc, kernel):
        """Each namespace a probe names is one the lab keeps or the host has."""
        listed = dict((netns['name'], netns['state']) for netns in doc['namespaces'])
        errors = []
        for i, probe in enumerate(self.probes):
            for field, netns in (('from', probe['from']), ('to', probe['namespace'])):
                state = listed.get(netns)
                if netns is None or state == 'present' or state is None and kernel.namespace_exists(netns):
                    continue
                where = 'is absent in the lab' if state else 'is neither in the lab nor on the host'
                errors.append('verify[%d].%s: namespace %s %s' % (i, field, netns, where))
        return errors

    def _unresolvable_targets(self, doc, kernel):
        """A namespace a probe's ``to`` names stands for one address once the lab is built.  When the lab
        gives it two IPv4 addresses, or it is new and the lab gives it none, the probe could not resolve
        after the apply, and the run would be undone for nothing."""
        declared = {}
        for link in doc['links']:
            if link.get('state', 'present') != 'present':
                continue
            for end in (link, link.get('peer') or {}):
                for cidr in end.get('addresses') or []:
                    declared.setdefault(end.get('netns'), []).append((end['name'], ipaddress.ip_interface(cidr).ip))
        listed = set(netns['name'] for netns in doc['namespaces'] if netns['state'] == 'present')
        errors = []
        for i, probe in enumerate(self.probes):
            netns = probe['namespace']
            if netns is None or netns not in listed:
                continue
            four = [(link, ip) for link, ip in declared.get(netns, []) if ip.version == 4 and link != 'lo']
            if len(four) > 1:
                errors.append('verify[%d].to: namespace %s gets %d addresses in the lab (%s); name the one to probe'
                              % (i, netns, len(four), ', '.join('%s on %s' % (ip, link) for link, ip in four)))
            elif netns not in declared and not kernel.namespace_exists(netns):
                errors.append('verify[%d].to: namespace %s gets no address in the lab; name an address' % (i, netns))
        return errors

    def refuse_removed_namespaces(self, plan):
        """Before anything changes: no probe names a namespace the plan removes (a purge, state: absent);
        its probe could not run, and removing a namespace is not undone."""
        removed = set(action.args['netns'] for action in plan.actions if action.op == 'delete_namespace')
        errors = ['verify[%d].%s: namespace %s is removed by this run' % (i, field, netns)
                  for i, probe in enumerate(self.probes)
                  for field, netns in (('from', probe['from']), ('to', probe['namespace'])) if netns in removed]
        if errors:
            raise ProbeError(errors)

    def __call__(self, kernel):
        try:
            self.results = probe_all(self.entries, kernel, self.check_mode, self.retries, self.delay, self.sleep,
                                     field='verify')
        except ProbeError as e:  # each error names its verify[i] already
            return '; '.join(e.errors)
        except Exception as e:  # whatever stops the probes, the lab is not verified
            return 'verify could not run the probes: %s' % e
        wrong = disagreements(self.results)
        return 'verify: ' + wrong if wrong else None
