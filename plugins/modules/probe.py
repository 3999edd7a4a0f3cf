#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: probe
short_description: Prove reachability with real packets, from inside namespaces, many probes at once
version_added: 0.4.0
description:
  - Sends real traffic (ICMP echo, a TCP connection, a UDP datagram, an HTTP request) from a namespace, or
    from the namespace the module runs in, and compares what comes back with what each probe expects.
  - Every probe runs in this one module process, all at once. Each probe's socket is made inside its
    namespace (C(setns)), so a matrix of a thousand probes costs a thousand sockets, not a thousand
    C(ip netns exec) processes.
  - The task fails when any probe gets something else than it expects, and its message names each such pair
    with what was expected and what happened. It never changes anything.
  - What a probe can get, in RV(results[].got) -
    V(reach) (an echo reply, a connection made, a UDP answer, an HTTP status line);
    V(refused) (a TCP reset, or an ICMP port unreachable for UDP; the far end is there, and nothing listens);
    V(timeout) (no answer in O(probes[].timeout) seconds);
    V(unreachable) (no route from this end, or a router says so);
    V(error) (anything else, such as an open port that does not answer HTTP; never what a probe expects);
    V(not run) (check mode, see below). O(probes[].expect=blocked) agrees with V(refused), V(timeout) and
    V(unreachable).
author: netvirt.linux contributors (@netvirt-linux)
requirements:
  - pyroute2 >= 0.7.2 on the managed node (Debian and Ubuntu package C(python3-pyroute2))
options:
  probes:
    description:
      - The probes, each run once (and again while it disagrees, see O(retries)).
    type: list
    elements: dict
    required: true
    suboptions:
      from:
        description:
          - The namespace the probe starts from. Omitted means the namespace the module runs in (the host).
        type: str
      to:
        description:
          - The address to probe (IPv4 or IPv6), or the name of a namespace that stands for its address.
          - A namespace stands for its address when that is unambiguous, one IPv4 address beyond C(lo) (or,
            with none, one IPv6 address that is not link-local); otherwise the task fails and names the addresses
            it has.
        type: str
        required: true
      proto:
        description:
          - V(icmp) sends O(probes[].count) echo requests and reaches with one reply.
          - V(tcp) reaches when the connection is made. V(http) then sends C(GET /) and reaches with any HTTP
            status line (the status is in RV(results[].detail)); a connection that brings no HTTP answer is an
            V(error).
          - V(udp) sends one datagram and reaches when an answer comes back (an echo service); a UDP service
            that does not answer reads as V(timeout).
        type: str
        choices: [icmp, tcp, udp, http]
        default: icmp
      port:
        description:
          - The port, for V(tcp) and V(udp) (required) and V(http) (default 80).
        type: int
      expect:
        description:
          - V(reach), or V(blocked) for a pair that must not reach each other (an isolated namespace, a NAT that
            lets nothing in).
        type: str
        choices: [reach, blocked]
        default: reach
      count:
        description:
          - How many echo requests an V(icmp) probe sends (1 to 100), all at once; it reaches with one reply,
            and waits up to O(probes[].timeout) for the others. The other protocols make one attempt.
        type: int
        default: 1
      timeout:
        description:
          - Seconds to wait for an answer (more than 0, at most 60).
        type: float
        default: 1.0
  retries:
    description:
      - How many more times to run the probes that disagree, O(delay) seconds apart, before the task fails;
        for a link or a service that takes a moment to settle.
    type: int
    default: 0
  delay:
    description:
      - Seconds between two runs of the probes that disagree.
    type: float
    default: 1.0
  junit:
    description:
      - A path on the managed node to write a JUnit XML report to (one test case a probe, a failure where it
        disagrees, skipped where it did not run), which CI systems read. Not written in check mode.
    type: path
notes:
  - In check mode the probes whose namespaces exist run as they would, since they change nothing, against the
    host as it is (the earlier tasks of the play have not really run). A probe whose namespace
    (O(probes[].from), or the one O(probes[].to) names) does not exist yet, or whose O(probes[].to) names a
    namespace without an address yet, is not run (an earlier task may make it) and is reported as V(not run).
    Outside check mode such a probe fails the task.
  - Needs root on the managed node (raw ICMP sockets, and entering namespaces).
  - The kernel keeps one ARP table for all namespaces (C(net.ipv4.neigh.default.gc_thresh3), 1024 entries by
    default). A matrix in which hundreds of namespaces each probe many neighbours on one bridge at once can
    overflow it, and the kernel then drops packets, whoever sends them; probes to routed targets need one
    entry a namespace (its gateway). O(retries) gives a dropped probe another chance.
extends_documentation_fragment:
  - netvirt.linux.link.READ_ONLY_ATTRIBUTES
'''

EXAMPLES = r'''
- name: Containers reach their gateway and each other; the internet reaches no container
  netvirt.linux.probe:
    probes:
      - {from: c1, to: 10.0.0.1}
      - {from: c1, to: c2}
      - {from: c2, to: c1, proto: tcp, port: 22}
      - {from: c1, to: 10.0.0.12, proto: http, port: 8080}
      - {from: inet, to: c1, expect: blocked}
    retries: 3
    junit: /tmp/probes.xml

- name: From the host to a namespace's web server, waiting for it to start
  netvirt.linux.probe:
    probes:
      - {to: web, proto: http}
    retries: 10
    delay: 0.5
'''

RETURN = r'''
results:
  description: Each probe, in the order given, with what it got.
  returned: always
  type: list
  elements: dict
  contains:
    from:
      description: The namespace it started from; null for the host.
      type: str
    to:
      description: O(probes[].to) as given.
      type: str
    address:
      description: The address probed (a namespace's address when O(probes[].to) named a namespace).
      type: str
    proto:
      description: The protocol.
      type: str
    port:
      description: The port; null for V(icmp).
      type: int
    expected:
      description: V(reach) or V(blocked).
      type: str
    got:
      description: V(reach), V(refused), V(timeout), V(unreachable), V(error) or V(not run).
      type: str
    detail:
      description: What happened, in words (C(3 of 3 replies), C(HTTP 200), C(connection refused)).
      type: str
    rtt_ms:
      description: Milliseconds from sending to the first answer, for a probe that reached; null otherwise.
      type: float
    ok:
      description: Whether it got what it expected; null when it did not run.
      type: bool
  sample:
    - {from: c1, to: c2, address: 10.0.0.12, proto: icmp, port: null, expected: reach, got: reach,
       detail: 1 of 1 replies, rtt_ms: 0.071, ok: true}
'''

import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.netvirt.linux.plugins.module_utils import _kernel
from ansible_collections.netvirt.linux.plugins.module_utils._probe import (
    ProbeError, disagreements, junit_xml, probe_all,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            probes=dict(type='list', elements='dict', required=True, options={
                'from': dict(type='str'),
                'to': dict(type='str', required=True),
                'proto': dict(type='str', choices=['icmp', 'tcp', 'udp', 'http'], default='icmp'),
                'port': dict(type='int'),
                'expect': dict(type='str', choices=['reach', 'blocked'], default='reach'),
                'count': dict(type='int', default=1),
                'timeout': dict(type='float', default=1.0),
            }),
            retries=dict(type='int', default=0),
            delay=dict(type='float', default=1.0),
            junit=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    if not _kernel.HAS_PYROUTE2:
        module.fail_json(msg=missing_required_lib('pyroute2 (Debian: python3-pyroute2)'),
                         exception=repr(_kernel.PYROUTE2_IMPORT_ERROR))
    params = module.params
    if params['retries'] < 0 or params['delay'] < 0:
        module.fail_json(msg='retries and delay must not be negative, got retries=%r, delay=%r'
                         % (params['retries'], params['delay']))
    started = time.monotonic()
    try:
        with _kernel.Kernel() as kernel:
            results = probe_all(params['probes'], kernel, module.check_mode, params['retries'], params['delay'])
    except ProbeError as e:
        module.fail_json(msg='; '.join(e.errors), errors=e.errors)
    except _kernel.KernelError as e:
        module.fail_json(msg=str(e))
    except Exception as e:
        module.fail_json(msg='unexpected error (%s): %s' % (type(e).__name__, e), exception=traceback.format_exc())
    if params['junit'] and not module.check_mode:
        try:
            with open(params['junit'], 'w') as f:
                f.write(junit_xml(results, time.monotonic() - started))
        except (IOError, OSError) as e:
            module.fail_json(msg='cannot write the JUnit report %s: %s' % (params['junit'], e), results=results)
    message = disagreements(results)
    if message:
        module.fail_json(msg=message, results=results)
    not_run = sum(1 for r in results if r['ok'] is None)
    module.exit_json(changed=False, results=results,
                     msg='%d probes agree%s' % (len(results) - not_run, ', %d not run' % not_run if not_run else ''))


if __name__ == '__main__':
    main()
