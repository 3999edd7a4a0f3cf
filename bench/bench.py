"""Speed and scale of netvirt.linux.topology against the hand-written `ip` script.

    python bench/bench.py [--module-python PYTHON] [--repeat K] [--against REV] [--settle S] [N ...]
                                  (default: 10 100 1000, one round each; as root)

`make bench` runs it for the managed-node Python of the venv (pyroute2 0.9)
and of the pyroute2 0.7 venv (Debian 12's version); `make bench
BENCH_AGAINST=REV` adds --against REV to both.

For each N the same container network is built two ways, each in a fresh
sandbox (tests/bin/sandbox), one after the other: N namespaces, each with a
veth into one bridge, an address, lo up and a default route, plus masquerade.

- shell: one `ip` command per step, as the seeds do, run by bash.  The
  seeds run every command inside a namespace as `ip netns exec NS ip ...`;
  that script is the baseline the ratios are taken against.  The same script
  with `ip -n NS ...` (one `ip` process enters the namespace itself instead
  of executing a second) is built too, and each ratio to it is reported
  beside the first.
- ansible: `ansible-playbook` with one topology task; its time includes
  Ansible's own start-up.  Then the no-change re-run, check mode, and the
  teardown (state: absent), each timed on its own.
- floor: `ansible-playbook` with one `ansible.builtin.ping` task, the same
  way: what any one-task playbook costs before a module does any work.

- against (with --against REV): the same playbook again, with the collection
  as it was at git revision REV (its files from `git archive`, laid out as
  `make build` lays out this tree's, in a temporary directory removed at the
  end), in a sandbox of its own in the same round.  Which of the two
  collections goes first alternates from round to round.

Each figure is reported with its ratio to the shell script's build time in
the same run, and the peak memory of the module process.  With --repeat K
each size is measured K times and the medians are reported: this machine's
speed drifts by half within a day, and a ratio from one round swings with it.

Every timed step starts on a quiet machine (see settle()): after a build the
kernel spends seconds of both CPUs in softirq (every new port's IPv6 DAD,
MLD and router solicitations flooded to every other port of the bridge, and
namespaces torn down after a sandbox ends), whoever built the lab.  A step
waits at most --settle seconds (120) for that: on a machine others keep busy
it never comes, and every step waits the whole limit.
"""

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SANDBOX = os.path.join(ROOT, 'tests', 'bin', 'sandbox')
sys.path.insert(0, os.path.join(ROOT, 'tests', 'bin'))
from snapshot import ip_json  # noqa: E402  (the tests' reader of `ip -j`)


def lab(n):
    names = ['c%d' % i for i in range(n)]
    return {
        'namespaces': [{'name': name} for name in names],
        'links': [{'kind': 'bridge', 'name': 'br0', 'addresses': ['10.88.0.1/16']}] + [
            {'kind': 'veth', 'name': 'v%d' % i, 'master': 'br0',
             'peer': {'name': 'eth0', 'netns': name, 'addresses': [address(i)]}}
            for i, name in enumerate(names)],
        'routes': [{'netns': name, 'dest': 'default', 'via': '10.88.0.1'} for name in names],
        'nat': [{'masquerade': [{'source': '10.88.0.0/16', 'out_interface': '!br0'}]}],
    }


def address(i):
    return '10.88.%d.%d/16' % (1 + i // 250, 1 + i % 250)


# How each script runs a command inside a namespace: as the seeds write it, and with `ip -n`.
IN_NETNS = {'seeds': 'ip netns exec %s ip ', 'ip-n': 'ip -n %s '}


def shell_script(n, style='seeds'):
    lines = ['set -e', 'ip link add br0 type bridge', 'ip addr add 10.88.0.1/16 dev br0', 'ip link set br0 up',
             'nft add table ip nat',
             "nft add chain ip nat postrouting '{ type nat hook postrouting priority srcnat; }'",
             'nft add rule ip nat postrouting ip saddr 10.88.0.0/16 oifname != br0 masquerade']
    for i in range(n):
        ns = 'c%d' % i
        lines += [
            'ip netns add %s' % ns,
            'ip link add v%d type veth peer name eth0 netns %s' % (i, ns),
            'ip link set v%d master br0' % i,
            'ip link set v%d up' % i,
        ]
        inside = IN_NETNS[style] % ns
        lines += [
            inside + 'addr add %s dev eth0' % address(i),
            inside + 'link set eth0 up',
            inside + 'link set lo up',
            inside + 'route add default via 10.88.0.1',
        ]
    return '\n'.join(lines) + '\n'


PING_PLAYBOOK = '''- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.ping:
'''

PLAYBOOK = '''- hosts: localhost
  gather_facts: false
  tasks:
    - netvirt.linux.topology:
        owner: bench
        state: "{{ state | default('present') }}"
        namespaces: "{{ lab.namespaces }}"
        links: "{{ lab.links }}"
        routes: "{{ lab.routes }}"
        nat: "{{ lab.nat }}"
'''

# Runs the module's interpreter as a child and records the child's peak RSS,
# its run time and its CPU time (its readers' included), so the figures are the
# module process's own.  CPU time hardly moves when other work shares the
# machine; the run time does.
MEASURED_PYTHON = '''#!%s
import os, resource, subprocess, sys, time
start = time.monotonic()
code = subprocess.call([%r] + sys.argv[1:])
elapsed = time.monotonic() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(os.environ['NETVIRT_BENCH_RSS'], 'a') as f:
    f.write('%%d %%.3f %%.3f\\n' %% (usage.ru_maxrss, elapsed, usage.ru_utime + usage.ru_stime))
sys.exit(code)
'''


def shape():
    """What both builds must agree on, read back from the kernel with `ip -j` and `nft -j`:
    every namespace's links (up or not, and their bridge), addresses and routes, and the
    masquerade rules.  Link indexes, MACs and the collection's ownership marks differ by
    nature and are left out; so are IPv6 link-local addresses, which follow carrier."""
    found = {}
    for netns in [None] + sorted(os.listdir('/run/netns')):
        links = sorted((link['ifname'], 'UP' in link.get('flags', []), link.get('master'),
                        sorted('%s/%s' % (a['local'], a['prefixlen']) for a in link.get('addr_info', [])
                               if not a['local'].startswith('fe80:')))
                       for link in ip_json(netns, 'addr', 'show'))
        routes = sorted((r['dst'], r.get('gateway'), r.get('dev')) for r in ip_json(netns, 'route', 'show'))
        found[netns or ''] = {'links': links, 'routes': routes}
    ruleset = json.loads(subprocess.run(['nft', '-j', 'list', 'ruleset'], check=True, capture_output=True,
                                        text=True).stdout)['nftables']
    found['masquerade'] = sorted(json.dumps(item['rule']['expr'], sort_keys=True) for item in ruleset
                                 if 'rule' in item and any('masquerade' in e for e in item['rule']['expr']))
    return found


def sandboxed_rounds(script, inner_args, argv, default_args):
    """For bench/probe.py and bench/tc.py: ``argv`` is ``[--repeat K] ARGS...`` (``default_args`` when
    none); each of K rounds runs ``script --inner ARGS`` in a fresh sandbox and gives back the JSON of
    its last line, printed as it comes.  Returns (args, rounds)."""
    repeat = 1
    if argv[:1] == ['--repeat']:
        repeat, argv = int(argv[1]), argv[2:]
    args = list(argv) or list(default_args)
    args += default_args[len(args):]
    rounds = []
    for _round in range(repeat):
        out = subprocess.run([SANDBOX, sys.executable, os.path.abspath(script), '--inner'] + inner_args(args),
                             check=True, capture_output=True, text=True).stdout
        rounds.append(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(rounds[-1]), flush=True)
    return args, rounds


def cpu_ticks():
    with open('/proc/stat') as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return fields[3] + fields[4], sum(fields)  # idle + iowait, all


SETTLE_LIMIT = [120.0]  # --settle; passed on to the sandboxes' own runs


def settle(limit=None):
    """Wait until the CPUs are at least 90% idle for two seconds in a row; the seconds waited."""
    limit = SETTLE_LIMIT[0] if limit is None else limit
    start = time.monotonic()
    quiet = 0
    idle, total = cpu_ticks()
    while quiet < 2 and time.monotonic() - start < limit:
        time.sleep(1)
        idle2, total2 = cpu_ticks()
        quiet = quiet + 1 if (idle2 - idle) * 10 >= (total2 - total) * 9 else 0
        idle, total = idle2, total2
    return time.monotonic() - start


def inner_ansible(n, workdir, module_python, collections=None):
    """Inside a sandbox: converge, re-run, check mode, teardown; with ``collections``, the
    collection Ansible finds there instead of the one the environment names."""
    with open(os.path.join(workdir, 'vars.json'), 'w') as f:
        json.dump({'lab': lab(n)}, f)
    with open(os.path.join(workdir, 'play.yml'), 'w') as f:
        f.write(PLAYBOOK)
    with open(os.path.join(workdir, 'ping.yml'), 'w') as f:
        f.write(PING_PLAYBOOK)
    wrapper = os.path.join(workdir, 'python')
    with open(wrapper, 'w') as f:
        f.write(MEASURED_PYTHON % (sys.executable, module_python))
    os.chmod(wrapper, 0o755)
    rss = os.path.join(workdir, 'rss')
    # At -v the default callback prints the module's result as JSON: no second task counts the actions.
    env = dict(os.environ, NETVIRT_BENCH_RSS=rss, ANSIBLE_STDOUT_CALLBACK='default',
               ANSIBLE_CALLBACK_RESULT_FORMAT='json')
    if collections:
        env['ANSIBLE_COLLECTIONS_PATH'] = collections
    results = {}
    for phase, playbook, extra in (('floor', 'ping.yml', []), ('converge', 'play.yml', []),
                                   ('rerun', 'play.yml', []), ('check', 'play.yml', ['--check']),
                                   ('teardown', 'play.yml', ['-e', 'state=absent'])):
        cmd = ['ansible-playbook', '-i', 'localhost,', '-c', 'local', os.path.join(workdir, playbook),
               '-e', '@' + os.path.join(workdir, 'vars.json'),
               '-e', 'ansible_python_interpreter=' + wrapper, '-v'] + extra
        waited = settle()
        start = time.monotonic()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        elapsed = time.monotonic() - start
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
            raise SystemExit('ansible %s failed at N=%d' % (phase, n))
        result, _end = json.JSONDecoder().raw_decode(proc.stdout, proc.stdout.index('[localhost] => ') + 15)
        with open(rss) as f:
            module_s, module_cpu_s = [float(x) for x in f.read().split()[-2:]]
        results[phase] = {'seconds': elapsed, 'actions': len(result.get('actions', [])), 'settled_s': waited,
                          'module_s': module_s, 'module_cpu_s': module_cpu_s}
        if phase == 'check':
            results['shape'] = shape()
    with open(rss) as f:
        results['peak_rss_kib'] = max(int(line.split()[0]) for line in f if line.strip())
    return results


def inner_shell(n, workdir, style):
    path = os.path.join(workdir, 'lab.sh')
    with open(path, 'w') as f:
        f.write(shell_script(n, style))
    settle()
    start = time.monotonic()
    subprocess.run(['bash', path], check=True)
    return {'build': {'seconds': time.monotonic() - start, 'commands': shell_script(n, style).count('\n') - 1},
            'shape': shape()}


def in_sandbox(kind, n, module_python, collections=''):
    out = subprocess.run([SANDBOX, sys.executable, os.path.abspath(__file__), '--inner', kind, str(n), module_python,
                          collections, str(SETTLE_LIMIT[0])], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def build_revision(rev, workdir):
    """The collection as it was at ``rev``, laid out as `make build` lays out this tree:
    the ANSIBLE_COLLECTIONS_PATH to run it from."""
    collections = os.path.join(workdir, 'collections')
    target = os.path.join(collections, 'ansible_collections', 'netvirt', 'linux')
    os.makedirs(target)
    archive = subprocess.Popen(['git', '-C', ROOT, 'archive', '--format=tar', rev], stdout=subprocess.PIPE)
    subprocess.run(['tar', '-xf', '-', '-C', target], stdin=archive.stdout, check=True)
    archive.stdout.close()
    if archive.wait() != 0:
        raise SystemExit('git archive %s failed' % rev)
    return collections


def revision_label(rev):
    return subprocess.run(['git', '-C', ROOT, 'rev-parse', '--short', rev], check=True, capture_output=True,
                          text=True).stdout.strip()


PHASES = ('floor', 'converge', 'rerun', 'check', 'teardown')


def ansible_figures(ansible, base, base_n, prefix=''):
    row = {}
    for phase in PHASES:
        row[prefix + phase + '_s'] = round(ansible[phase]['seconds'], 2)
        row[prefix + phase + '_ratio'] = round(ansible[phase]['seconds'] / base, 2)
        row[prefix + phase + '_ratio_n'] = round(ansible[phase]['seconds'] / base_n, 2)
        row[prefix + phase + '_settled_s'] = round(ansible[phase]['settled_s'], 1)
        row[prefix + phase + '_module_s'] = round(ansible[phase]['module_s'], 2)
        row[prefix + phase + '_module_cpu_s'] = round(ansible[phase]['module_cpu_s'], 2)
    row[prefix + 'converge_actions'] = ansible['converge']['actions']
    row[prefix + 'rerun_actions'] = ansible['rerun']['actions']
    row[prefix + 'peak_rss_mib'] = round(ansible['peak_rss_kib'] / 1024.0, 1)
    return row


def measure(n, module_python, against=None, against_first=False):
    """One round: both scripts and the playbook (and, with ``against``, the playbook with that
    collection path), each in a fresh sandbox, one after the other."""
    shell = in_sandbox('seeds', n, module_python)
    shell_n = in_sandbox('ip-n', n, module_python)
    if against and against_first:
        other = in_sandbox('ansible', n, module_python, against)
    ansible = in_sandbox('ansible', n, module_python)
    if against and not against_first:
        other = in_sandbox('ansible', n, module_python, against)
    builds = [('the `ip -n` script', shell_n), ('the playbook', ansible)]
    if against:
        builds.append(('the playbook with the other revision', other))
    # A ratio compares equal work only: every build must leave the same network.
    for name, other_build in builds:
        if other_build['shape'] != shell['shape']:
            differ = sorted(key for key in set(shell['shape']) | set(other_build['shape'])
                            if shell['shape'].get(key) != other_build['shape'].get(key))
            raise SystemExit('N=%d: %s built another network than the seeds\' script; they differ in %s'
                             % (n, name, ', '.join(repr(key) for key in differ[:5])))
    base = shell['build']['seconds']
    base_n = shell_n['build']['seconds']
    row = {'N': n, 'shell_build_s': round(base, 2), 'shell_n_build_s': round(base_n, 2)}
    row.update(ansible_figures(ansible, base, base_n))
    if against:
        row.update(ansible_figures(other, base, base_n, 'against_'))
        row['against_first'] = int(against_first)
    return row


def median_row(rounds):
    """Each figure's median over the rounds.  A ratio is the median of each round's own
    ratio: the machine's speed drifts between rounds, and a round's two builds share it."""
    return dict((key, statistics.median(row[key] for row in rounds)) for key in rounds[0])


def main(argv):
    if len(argv) > 2 and argv[1] == '--inner':
        kind, n, module_python, collections = argv[2], int(argv[3]), argv[4], argv[5]
        SETTLE_LIMIT[0] = float(argv[6])
        with tempfile.TemporaryDirectory() as workdir:
            result = inner_ansible(n, workdir, module_python, collections) if kind == 'ansible' else \
                inner_shell(n, workdir, kind)
        print(json.dumps(result))
        return
    args = argv[1:]
    module_python = sys.executable
    repeat = 1
    against = None
    while args[:1] in (['--module-python'], ['--repeat'], ['--against'], ['--settle']):
        if args[0] == '--module-python':
            module_python = args[1]
        elif args[0] == '--against':
            against = args[1]
        elif args[0] == '--settle':
            SETTLE_LIMIT[0] = float(args[1])
        else:
            repeat = int(args[1])
        args = args[2:]
    if against is None:
        run(args, module_python, repeat)
        return
    workdir = tempfile.mkdtemp(prefix='netvirt-bench-')
    # Stopped with a signal, the run still removes the other revision's copy.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        run(args, module_python, repeat, (revision_label(against), build_revision(against, workdir)))
    finally:
        shutil.rmtree(workdir)


def table_row(r, label, prefix=''):
    cells = ['%.2f s (%.2f; %.2f)' % (r[prefix + phase + '_s'], r[prefix + phase + '_ratio'],
                                      r[prefix + phase + '_ratio_n']) for phase in PHASES]
    return '| %d |%s %.2f s | %.2f s | %s | %.1f MiB | %.2f s, %.2f s (CPU %.2f s, %.2f s) |' % (
        r['N'], label, r['shell_build_s'], r['shell_n_build_s'], ' | '.join(cells), r[prefix + 'peak_rss_mib'],
        r[prefix + 'converge_module_s'], r[prefix + 'rerun_module_s'], r[prefix + 'converge_module_cpu_s'],
        r[prefix + 'rerun_module_cpu_s'])


def run(args, module_python, repeat, against=None):
    """``against``: (label, collections path) of the other revision, or None."""
    version = subprocess.run([module_python, '-c', 'import pyroute2; print(pyroute2.__version__)'],
                             check=True, capture_output=True, text=True).stdout.strip()
    when = time.strftime('%Y-%m-%d')
    print('managed node: %s, pyroute2 %s; %s, %d cores; %d round(s) a size, medians reported; '
          'settling for at most %d s' % (module_python, version, when, os.cpu_count(), repeat, SETTLE_LIMIT[0]),
          flush=True)
    here = None
    if against:
        dirty = subprocess.run(['git', '-C', ROOT, 'status', '--porcelain', '--untracked-files=no'], check=True,
                               capture_output=True, text=True).stdout.strip()
        here = revision_label('HEAD') + (' + changes' if dirty else '')
        print('this tree: %s (ANSIBLE_COLLECTIONS_PATH=%s); against: %s' % (
            here, os.environ.get('ANSIBLE_COLLECTIONS_PATH', '(ansible.cfg)'), against[0]), flush=True)
    sizes = [int(a) for a in args] or [10, 100, 1000]
    rows = []
    for n in sizes:
        rounds = []
        for i in range(repeat):
            rounds.append(measure(n, module_python, against and against[1], against_first=i % 2 == 1))
            print(json.dumps(rounds[-1]), flush=True)
        rows.append(median_row(rounds))
    print()
    print('Ratios: to the seeds\' script (`ip netns exec`); after the semicolon, to the `ip -n` script.')
    print()
    print('| N |%s seeds\' script | `ip -n` script | one ping task (ratios) | converge (ratios) '
          '| no-change re-run (ratios) | check mode (ratios) | teardown (ratios) | module peak RSS '
          '| module\'s own time: converge, re-run |' % (' collection |' if against else ''))
    print('|---|---|---|---|---|---|---|---|---|---|%s' % ('---|' if against else ''))
    for r in rows:
        if against:
            print(table_row(r, ' %s |' % against[0], 'against_'))
            print(table_row(r, ' %s |' % here))
        else:
            print(table_row(r, ''))


if __name__ == '__main__':
    main(sys.argv)
