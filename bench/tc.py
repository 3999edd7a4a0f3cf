"""Shaping many link ends: one netvirt.linux.topology task against a script of `tc` commands.

    python bench/tc.py [--repeat K] [N]      (default: 1000 link ends; as root)

In a fresh sandbox (tests/bin/sandbox), bench.py's container network of N namespaces is built
(not timed).  Then every container's eth0 gets `rate 10mbit` two ways, one after the other:

- shell: `tc -n cI qdisc replace dev eth0 root handle 4e56: tbf rate 10mbit burst 15140 limit 77640`
  for each container, one process each, as a person would script it (the same qdisc the task sets);
- topology: `ansible-playbook` with the lab's topology task, each peer end with `tc: {rate: 10mbit}`;
  its time includes Ansible's start-up and reading the whole lab back, and the task sets only the
  N qdiscs (the rest exists).

Between the two the script's qdiscs are removed (not timed).  Both ways are checked: N tbf qdiscs
at 1250000 bytes/s, read back with `tc`.  The ratio is the task's time over the script's, in the
same round; with --repeat K the medians of K rounds are reported.
"""

import json
import os
import re
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
        owner: tc-bench
        namespaces: "{{ lab.namespaces }}"
        links: "{{ lab.links }}"
        routes: "{{ lab.routes }}"
      register: built
    - ansible.builtin.debug:
        msg: "{{ built.actions | length }}"
'''


def shaped(lab_doc):
    """The lab with every container's end sending at 10mbit."""
    links = [dict(link, peer=dict(link['peer'], tc={'rate': '10mbit'})) if link['kind'] == 'veth' else link
             for link in lab_doc['links']]
    return dict(lab_doc, links=links, nat=[])


def count_shaped(n):
    found = 0
    for i in range(n):
        out = subprocess.run(['tc', '-n', 'c%d' % i, '-j', 'qdisc', 'show', 'dev', 'eth0'], check=True,
                             capture_output=True, text=True).stdout
        found += sum(1 for q in json.loads(out or '[]')
                     if q['kind'] == 'tbf' and q['handle'] == '4e56:' and q['options']['rate'] == 1250000)
    return found


def inner(n, workdir):
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK='default', ANSIBLE_CALLBACK_RESULT_FORMAT='json')
    with open(os.path.join(workdir, 'play.yml'), 'w') as f:
        f.write(PLAYBOOK)

    def playbook(doc):
        with open(os.path.join(workdir, 'vars.json'), 'w') as f:
            json.dump({'lab': doc}, f)
        proc = subprocess.run(['ansible-playbook', '-i', 'localhost,', '-c', 'local', os.path.join(workdir, 'play.yml'),
                               '-e', '@' + os.path.join(workdir, 'vars.json'),
                               '-e', 'ansible_python_interpreter=' + sys.executable],
                              capture_output=True, text=True, check=False, env=env)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
            raise SystemExit('the playbook failed at N=%d' % n)
        return proc.stdout

    plain = dict(lab(n), nat=[])
    playbook(plain)
    with open(os.path.join(workdir, 'shape.sh'), 'w') as f:
        f.write(''.join('tc -n c%d qdisc replace dev eth0 root handle 4e56: tbf rate 10mbit burst 15140 limit 77640\n'
                        % i for i in range(n)))
    with open(os.path.join(workdir, 'unshape.sh'), 'w') as f:
        f.write(''.join('tc -n c%d qdisc del dev eth0 root\n' % i for i in range(n)))
    settle()
    start = time.monotonic()
    subprocess.run(['sh', '-e', os.path.join(workdir, 'shape.sh')], check=True)
    shell_s = time.monotonic() - start
    shell_found = count_shaped(n)
    subprocess.run(['sh', '-e', os.path.join(workdir, 'unshape.sh')], check=True)
    settle()
    start = time.monotonic()
    out = playbook(shaped(plain))
    task_s = time.monotonic() - start
    return {'N': n, 'shell_s': round(shell_s, 2), 'topology_s': round(task_s, 2),
            'ratio': round(task_s / shell_s, 3), 'shell_shaped': shell_found, 'topology_shaped': count_shaped(n),
            'topology_actions': int(re.findall(r'"msg": "?([0-9]+)', out)[-1])}


def main(argv):
    if argv[1:2] == ['--inner']:
        with tempfile.TemporaryDirectory() as workdir:
            print(json.dumps(inner(int(argv[2]), workdir)))
        return
    args, rounds = sandboxed_rounds(__file__, lambda a: [a[0]], argv[1:], ['1000'])
    n = int(args[0])
    for r in rounds:
        assert r['shell_shaped'] == r['topology_shaped'] == n and r['topology_actions'] == n, r
    print('| link ends | script of `tc qdisc replace` | one topology task | ratio |')
    print('|---|---|---|---|')
    print('| %d | %.2f s | %.2f s | %.3f |' % (
        n, statistics.median(r['shell_s'] for r in rounds), statistics.median(r['topology_s'] for r in rounds),
        statistics.median(r['ratio'] for r in rounds)))


if __name__ == '__main__':
    main(sys.argv)
