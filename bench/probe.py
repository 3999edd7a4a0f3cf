"""A reachability matrix: one netvirt.linux.probe task against a shell loop of `ip netns exec ... ping`.

    python bench/probe.py [--repeat K] [N [T]]      (default: 100 namespaces, 10 targets each; as root)

In a fresh sandbox (tests/bin/sandbox), bench.py's container network of N namespaces is built
(not timed), and the same N x T pings are sent two ways, one after the other:

- shell: `ip netns exec cI ping -c 1 -W 1 ADDR` for each pair, one after another, as the
  seeds check a lab (and as playbooks/verify.yml's loops of command tasks did);
- probe: `ansible-playbook` with one netvirt.linux.probe task holding every pair; its time
  includes Ansible's start-up.

Each namespace pings T addresses on the sandbox's own lo (10.89.0.1 ...), through its default
route via br0, one echo request each with a 1 s timeout.  The targets are routed, not on the
bridge: a namespace then needs one ARP entry (its gateway), not T.  The kernel's ARP table is
one for all namespaces (gc_thresh3, 1024 entries by default, a setting of the whole machine), and
100 namespaces each pinging 10 neighbours on one bridge (2,000 entries with the replies')
overflow it, the likely cause of the drops seen that way (2% of the loop's pings, half of the
task's, sent all at once).  Each way's unanswered pings are reported.  The ratio is the probe
task's time over the shell loop's, in the same round; with --repeat K the medians of K rounds
are reported.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import lab, sandboxed_rounds, settle  # noqa: E402  (the same container network)

PLAYBOOK = '''
- hosts: localhost
  gather_facts: false
  tasks:
    - netvirt.linux.topology:
        owner: probe-bench
        namespaces: "{{ lab.namespaces }}"
        links: "{{ lab.links }}"
        routes: "{{ lab.routes }}"
      tags: [build]
    - netvirt.linux.probe:
        probes: "{{ probes }}"
      failed_when: false  # the bench counts what reached, as it does for the loop
      tags: [probe]
'''


def pairs(n, targets):
    return [('c%d' % i, '10.89.0.%d' % k) for i in range(n) for k in range(1, targets + 1)]


def inner(n, targets, workdir):
    with open(os.path.join(workdir, 'vars.json'), 'w') as f:
        json.dump({'lab': lab(n), 'probes': [{'from': a, 'to': b} for a, b in pairs(n, targets)]}, f)
    with open(os.path.join(workdir, 'play.yml'), 'w') as f:
        f.write(PLAYBOOK)
    with open(os.path.join(workdir, 'loop.sh'), 'w') as f:
        # Each ping that gets no reply prints a line: the loop goes on, as the probe task does.
        f.write(''.join('ip netns exec %s ping -c 1 -W 1 -q %s > /dev/null || echo %s %s\n' % (pair + pair)
                        for pair in pairs(n, targets)))
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK='default', ANSIBLE_CALLBACK_RESULT_FORMAT='json')

    def playbook(tag):
        proc = subprocess.run(['ansible-playbook', '-i', 'localhost,', '-c', 'local', '--tags', tag, '-v',
                               os.path.join(workdir, 'play.yml'), '-e', '@' + os.path.join(workdir, 'vars.json'),
                               '-e', 'ansible_python_interpreter=' + sys.executable],
                              capture_output=True, text=True, check=False, env=env)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
            raise SystemExit('the %s play failed at N=%d' % (tag, n))
        return proc.stdout

    playbook('build')
    for k in range(1, targets + 1):  # the targets, on the sandbox's own lo: every namespace reaches them via br0
        subprocess.run(['ip', 'address', 'add', '10.89.0.%d/32' % k, 'dev', 'lo'], check=True)
    settle()
    start = time.monotonic()
    unanswered = subprocess.run(['bash', os.path.join(workdir, 'loop.sh')], check=True, capture_output=True,
                                text=True).stdout.count('\n')
    shell_s = time.monotonic() - start
    settle()
    start = time.monotonic()
    out = playbook('probe')
    probe_s = time.monotonic() - start
    result, _end = json.JSONDecoder().raw_decode(out, out.index('[localhost] => ') + 15)
    # A lab of N ports on one bridge drops a few ARP packets while its links settle (both ways see it).
    return {'N': n, 'targets': targets, 'pings': n * targets, 'shell_s': round(shell_s, 2),
            'probe_s': round(probe_s, 2), 'ratio': round(probe_s / shell_s, 3),
            'shell_unanswered': unanswered,
            'probe_unanswered': sum(1 for r in result['results'] if r['got'] != 'reach')}


def main(argv):
    if argv[1:2] == ['--inner']:
        with tempfile.TemporaryDirectory() as workdir:
            print(json.dumps(inner(int(argv[2]), int(argv[3]), workdir)))
        return
    args, rounds = sandboxed_rounds(__file__, lambda a: [a[0], a[1]], argv[1:], ['100', '10'])
    n, targets = int(args[0]), int(args[1])
    print('| namespaces x targets | pings | shell loop of `ip netns exec ... ping` | one probe task | ratio |'
          ' unanswered (loop, probe) |')
    print('|---|---|---|---|---|---|')
    print('| %d x %d | %d | %.2f s | %.2f s | %.3f | %s |' % (
        n, targets, n * targets, statistics.median(r['shell_s'] for r in rounds),
        statistics.median(r['probe_s'] for r in rounds), statistics.median(r['ratio'] for r in rounds),
        ', '.join('%d/%d' % (r['shell_unanswered'], r['probe_unanswered']) for r in rounds)))


if __name__ == '__main__':
    main(sys.argv)
