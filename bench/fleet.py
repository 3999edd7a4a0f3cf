"""Fleet figures: the vxlan_overlay role over real SSH, against a hand-written `ip` script.

    python bench/fleet.py [HOSTS ...]      (default: 3 6; as root; a few minutes)

For each fleet size, in a fresh sandbox with hosts made by tests/fleet/fleet.py
(each its own network and mount namespace with sshd), the same overlay is built:
one VXLAN segment (VNI 100) over the hosts, head-end replication to every other
host, a bridge, and 20 containers per host on it (veth, address, lo up).

- shell: per host, one `ip`/`bridge` command per step, sent as one script over
  one SSH connection, all hosts at once (as `pssh` or a `for ... &` loop would).
- ansible: `ansible-playbook` with the vxlan_overlay role (one topology task per
  host), Ansible's start-up included, at the default forks (5) and with forks
  equal to the number of hosts; then the no-change re-run. The hosts are fresh
  for every converge.

Every figure comes with its ratio to the shell script's time in the same run.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SANDBOX = os.path.join(ROOT, 'tests', 'bin', 'sandbox')
FLEET = os.path.join(ROOT, 'tests', 'fleet', 'fleet.py')
WORKDIR = '/tmp/netvirt-fleet-bench'
CONTAINERS = 20

PLAYBOOK = '''- hosts: fleet
  gather_facts: false
  roles:
    - role: netvirt.linux.vxlan_overlay
      vars:
        vxlan_overlay_install_dependencies: false
        vxlan_overlay_segments: [{vni: 100, subnet: 10.200.0.0/16, containers: %d}]
''' % CONTAINERS


def host_script(n, hosts):
    """What one host runs in the shell way: the same overlay, one command per step."""
    slice_base = n * 32  # the role's slice for 20 containers is 32 addresses
    lines = ['set -e', 'ip link add br-vx100 type bridge', 'ip link set br-vx100 mtu 1450',
             'ip addr add 10.200.%d.%d/16 dev br-vx100' % (divmod(slice_base + 30, 256)), 'ip link set br-vx100 up',
             'ip link add vxlan100 type vxlan id 100 local 10.250.0.%d dev eth0 dstport 4789' % (10 + n),
             'ip link set vxlan100 mtu 1450', 'ip link set vxlan100 master br-vx100', 'ip link set vxlan100 up']
    for peer in range(1, hosts + 1):
        if peer != n:
            lines.append('bridge fdb append 00:00:00:00:00:00 dev vxlan100 dst 10.250.0.%d' % (10 + peer))
    for c in range(1, CONTAINERS + 1):
        ns = 'vx100-c%d' % c
        third, fourth = divmod(slice_base + c, 256)
        lines += [
            'ip netns add %s' % ns,
            'ip link add vx100-%d type veth peer name eth0 netns %s' % (c, ns),
            'ip link set vx100-%d mtu 1450 master br-vx100 up' % c,
            'ip -n %s link set eth0 mtu 1450' % ns,
            'ip -n %s addr add 10.200.%d.%d/16 dev eth0' % (ns, third, fourth),
            'ip -n %s link set eth0 up' % ns,
            'ip -n %s link set lo up' % ns,
        ]
    return '\n'.join(lines) + '\n'


def stop_masters():
    """Stop the SSH connection masters of this sandbox's fleet.

    A master outlives the fleet it spoke to, and the next fleet's hosts have the
    same addresses: ssh would send through the old master and wait for its dead
    connection to time out (~15 minutes), as happened once.
    """
    subprocess.run(['pkill', '-f', os.environ['ANSIBLE_SSH_CONTROL_PATH_DIR']], check=False)


def fresh_fleet(hosts):
    stop_masters()
    subprocess.run([sys.executable, FLEET, 'down', WORKDIR], check=True)
    subprocess.run([sys.executable, FLEET, 'up', str(hosts), WORKDIR], check=True, stdout=subprocess.DEVNULL)


def timed(argv, **kwargs):
    start = time.monotonic()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, **kwargs)
    return time.monotonic() - start


def inner(hosts):
    """Inside a sandbox: the shell way, then Ansible at two fork counts."""
    # SSH connection masters of this fleet only, stopped before the sandbox ends.
    control = tempfile.mkdtemp(prefix='netvirt-fleet-cp.')
    os.environ['ANSIBLE_SSH_CONTROL_PATH_DIR'] = control
    key = os.path.join(WORKDIR, 'id_ed25519')
    ssh = ['ssh', '-i', key, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
           '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR']
    fresh_fleet(hosts)
    start = time.monotonic()
    procs = [subprocess.Popen(ssh + ['root@10.250.0.%d' % (10 + n), 'sh', '-s'], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, text=True) for n in range(1, hosts + 1)]
    for n, proc in enumerate(procs, 1):
        proc.stdin.write(host_script(n, hosts))
        proc.stdin.close()
    if any(proc.wait() != 0 for proc in procs):
        raise SystemExit('the shell script failed')
    shell = time.monotonic() - start
    playbook = os.path.join(WORKDIR + '-play.yml')
    with open(playbook, 'w') as f:
        f.write(PLAYBOOK)
    figures = {'shell': shell}
    for forks in (5, hosts):
        fresh_fleet(hosts)
        argv = ['ansible-playbook', '-i', os.path.join(WORKDIR, 'inventory.ini'), '--forks', str(forks), playbook]
        figures['converge_%d' % forks] = timed(argv)
        figures['rerun_%d' % forks] = timed(argv)
    stop_masters()
    subprocess.run([sys.executable, FLEET, 'down', WORKDIR], check=True)
    shutil.rmtree(control, ignore_errors=True)
    os.remove(playbook)
    print(' '.join('%s=%.3f' % item for item in sorted(figures.items())))


def main(argv):
    if argv and argv[0] == '--inner':
        inner(int(argv[1]))
        return
    sizes = [int(a) for a in argv] or [3, 6]
    print('| hosts x containers | shell, all hosts at once | converge, forks 5 (ratio) | re-run, forks 5 (ratio) '
          '| converge, forks = hosts (ratio) | re-run, forks = hosts (ratio) |')
    print('|---|---|---|---|---|---|')
    for hosts in sizes:
        out = subprocess.run([SANDBOX, sys.executable, os.path.abspath(__file__), '--inner', str(hosts)],
                             check=True, capture_output=True, text=True).stdout
        f = dict((k, float(v)) for k, v in (item.split('=') for item in out.split()[-5:]))
        cells = ['%.2f s (%.2f)' % (f[key], f[key] / f['shell'])
                 for key in ('converge_5', 'rerun_5', 'converge_%d' % hosts, 'rerun_%d' % hosts)]
        print('| %d x %d | %.2f s | %s |' % (hosts, CONTAINERS, f['shell'], ' | '.join(cells)), flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
