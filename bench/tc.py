"""Shaping many link ends: one netvirt.linux.topology task against a script of `tc` commands.

    python bench/tc.py [--repeat K] [N [egress|ingress]]      (default: 1000 link ends, egress; as root)

In a fresh sandbox (tests/bin/sandbox), bench.py's container network of N namespaces is built
(not timed).  Then every container's eth0 gets `rate 10mbit` two ways, one after the other:

- shell: `tc -n cI qdisc replace dev eth0 root handle 4e56: tbf rate 10mbit burst 15140 limit 77640`
  for each container, one process each, as a person would script it (the same qdisc the task sets);
- topology: `ansible-playbook` with the lab's topology task, each peer end with `tc: {rate: 10mbit}`;
  its time includes Ansible's start-up and reading the whole lab back, and the task sets only the
  N qdiscs (the rest exists).

With ``ingress``, what *arrives* at each container's eth0 is shaped (``tc_ingress``), and the script
makes it as a person would (the same device, qdiscs and filter the task makes), five processes an end:
`ip link add nvi... type ifb`, `ip link set nvi... up`, the tbf on it, `tc qdisc add dev eth0 ingress`
and `tc filter add dev eth0 parent ffff: ... u32 match u32 0 0 action mirred egress redirect dev nvi...`.

Between the two the script's qdiscs (and devices) are removed (not timed).  Both ways are checked: N tbf qdiscs
at 1250000 bytes/s, read back with `tc`.  The ratio is the task's time over the script's, in the
same round; with --repeat K the medians of K rounds are reported.
"""

import hashlib
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

TBF = 'tbf rate 10mbit burst 15140 limit 77640'

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


def ingress_device():
    """The ifb device of eth0's tc_ingress, named as _tc.ingress_device names it (count_shaped finds the
    task's devices by this name, so the two cannot drift apart unnoticed)."""
    return 'nvi' + hashlib.sha1(b'eth0').hexdigest()[:12]


def shaped(lab_doc, field):
    """The lab with every container's end sending (``tc``) or taking in (``tc_ingress``) at 10mbit."""
    links = [dict(link, peer=dict(link['peer'], **{field: {'rate': '10mbit'}})) if link['kind'] == 'veth' else link
             for link in lab_doc['links']]
    return dict(lab_doc, links=links, nat=[])


def scripts(n, ingress):
    """(shape, unshape): the shell scripts a person would write."""
    if not ingress:
        return (''.join('tc -n c%d qdisc replace dev eth0 root handle 4e56: %s\n' % (i, TBF) for i in range(n)),
                ''.join('tc -n c%d qdisc del dev eth0 root\n' % i for i in range(n)))
    dev = ingress_device()
    shape = ''.join(
        'ip -n c{i} link add {dev} type ifb\nip -n c{i} link set {dev} up\n'
        'tc -n c{i} qdisc replace dev {dev} root handle 4e56: {tbf}\ntc -n c{i} qdisc add dev eth0 ingress\n'
        'tc -n c{i} filter add dev eth0 parent ffff: protocol all prio 20054 u32 match u32 0 0 '
        'action mirred egress redirect dev {dev}\n'.format(i=i, dev=dev, tbf=TBF) for i in range(n))
    unshape = ''.join('tc -n c{i} qdisc del dev eth0 ingress\nip -n c{i} link del {dev}\n'.format(i=i, dev=dev)
                      for i in range(n))
    return shape, unshape


def count_shaped(n, ingress):
    found = 0
    dev = ingress_device() if ingress else 'eth0'
    for i in range(n):
        out = subprocess.run(['tc', '-n', 'c%d' % i, '-j', 'qdisc', 'show', 'dev', dev], check=True,
                             capture_output=True, text=True).stdout
        found += sum(1 for q in json.loads(out or '[]')
                     if q['kind'] == 'tbf' and q['handle'] == '4e56:' and q['options']['rate'] == 1250000)
        if ingress:  # and what arrives at eth0 goes to it
            out = subprocess.run(['tc', '-n', 'c%d' % i, '-j', 'filter', 'show', 'dev', 'eth0', 'ingress'], check=True,
                                 capture_output=True, text=True).stdout
            redirects = [a.get('to_dev') for f in json.loads(out or '[]') for a in f.get('options', {}).get('actions', [])]
            found -= redirects != [dev]
    return found


def inner(n, workdir, ingress=False):
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
    shape, unshape = scripts(n, ingress)
    for name, text in (('shape.sh', shape), ('unshape.sh', unshape)):
        with open(os.path.join(workdir, name), 'w') as f:
            f.write(text)
    settle()
    start = time.monotonic()
    subprocess.run(['sh', '-e', os.path.join(workdir, 'shape.sh')], check=True)
    shell_s = time.monotonic() - start
    shell_found = count_shaped(n, ingress)
    subprocess.run(['sh', '-e', os.path.join(workdir, 'unshape.sh')], check=True)
    settle()
    start = time.monotonic()
    out = playbook(shaped(plain, 'tc_ingress' if ingress else 'tc'))
    task_s = time.monotonic() - start
    return {'N': n, 'shell_s': round(shell_s, 2), 'topology_s': round(task_s, 2),
            'ratio': round(task_s / shell_s, 3), 'shell_shaped': shell_found,
            'topology_shaped': count_shaped(n, ingress), 'topology_actions': int(re.findall(r'"msg": "?([0-9]+)', out)[-1])}


def main(argv):
    if argv[1:2] == ['--inner']:
        with tempfile.TemporaryDirectory() as workdir:
            print(json.dumps(inner(int(argv[2]), workdir, argv[3:4] == ['ingress'])))
        return
    args, rounds = sandboxed_rounds(__file__, lambda a: a[:2], argv[1:], ['1000', 'egress'])
    n = int(args[0])
    if args[1] not in ('egress', 'ingress'):
        raise SystemExit('bench/tc.py: the direction is egress or ingress, not %r' % args[1])
    for r in rounds:
        assert r['shell_shaped'] == r['topology_shaped'] == n and r['topology_actions'] == n, r
    script = 'ip link add, tc qdisc and tc filter' if args[1] == 'ingress' else 'tc qdisc replace'
    print('| link ends | script of `%s` | one topology task | ratio |' % script)
    print('|---|---|---|---|')
    print('| %d %s | %.2f s | %.2f s | %.3f |' % (
        n, args[1], statistics.median(r['shell_s'] for r in rounds), statistics.median(r['topology_s'] for r in rounds),
        statistics.median(r['ratio'] for r in rounds)))


if __name__ == '__main__':
    main(sys.argv)
