"""A fleet of hosts on one machine, reached over real SSH (TESTING.md, "A fleet on one machine").

    python tests/fleet/fleet.py up N [WORKDIR]      start hosts h1..hN; writes WORKDIR/inventory.ini
    python tests/fleet/fleet.py stop NAME [WORKDIR] stop one host's sshd (the host stays, unreachable)
    python tests/fleet/fleet.py start NAME [WORKDIR] start it again
    python tests/fleet/fleet.py down [WORKDIR]      stop every sshd it started, by pid, and remove the hosts

Run it inside tests/bin/sandbox. Each host is a network namespace plus a mount
namespace of its own: private /run/netns, /etc/netns, /run/netvirt.linux and
/run/lock, so namespace c1 on h1 and c1 on h2 never meet, and each host has its
own netvirt.linux host lock. Hosts hang off the bridge fleet0 (10.250.0.1/24),
host hN at 10.250.0.(10+N). A key pair and host keys are made per run, so nothing
depends on this machine's SSH setup. The inventory reaches the hosts exactly as
it would reach servers: ansible_host, a user and a key.
"""

import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'bin'))
from sandboxed import inside as in_sandbox  # noqa: E402  (the one check every lane uses)

WORKDIR = '/tmp/netvirt-fleet'
UNDERLAY = '10.250.0'
SSHD = shutil.which('sshd') or '/usr/sbin/sshd'


def run(*argv, check=True):
    return subprocess.run(argv, check=check, capture_output=True, text=True)


def address(n):
    return '%s.%d' % (UNDERLAY, 10 + n)


def hosts(workdir):
    return sorted((name for name in os.listdir(workdir) if name.startswith('h') and name[1:].isdigit()),
                  key=lambda name: int(name[1:]))


def start_sshd(workdir, name):
    n = int(name[1:])
    hostdir = os.path.join(workdir, name)
    config = os.path.join(hostdir, 'sshd_config')
    with open(config, 'w') as f:
        f.write('\n'.join([
            'ListenAddress %s' % address(n),
            'Port 22',
            'HostKey %s' % os.path.join(hostdir, 'host_key'),
            'PidFile %s' % os.path.join(hostdir, 'sshd.pid'),
            'AuthorizedKeysFile %s' % os.path.join(workdir, 'authorized_keys'),
            'PermitRootLogin prohibit-password',
            'PasswordAuthentication no',
            'KbdInteractiveAuthentication no',
            'UsePAM no',
            'StrictModes no',
            'PrintMotd no',
            'Subsystem sftp internal-sftp',
            'LogLevel ERROR',
            'MaxStartups 100',
            'MaxSessions 100',
        ]) + '\n')
    # sshd daemonizes; its mount namespace keeps the host's private directories.
    inner = ('for d in /run/netns /etc/netns /run/netvirt.linux /run/lock; do mkdir -p $d; '
             'mount -t tmpfs fleet-%s $d; done; exec %s -f %s' % (name, SSHD, config))
    run('ip', 'netns', 'exec', name, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', inner)
    pidfile = os.path.join(hostdir, 'sshd.pid')
    for _attempt in range(100):
        if os.path.exists(pidfile):
            return
        time.sleep(0.05)
    raise SystemExit('sshd of %s did not start' % name)


def _children(pid):
    found = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/stat' % entry) as f:
                    if int(f.read().rsplit(')', 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def _kill(pid):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _attempt in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def stop_sshd(workdir, name):
    """Stop the host's sshd by its pid file: its sessions first, then the listener."""
    pidfile = os.path.join(workdir, name, 'sshd.pid')
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
    except FileNotFoundError:
        return
    for child in _children(pid):
        _kill(child)
    _kill(pid)
    if os.path.exists(pidfile):
        os.remove(pidfile)


def up(count, workdir):
    if not in_sandbox():
        raise SystemExit('run me inside tests/bin/sandbox')
    fresh = run('ip', 'link', 'show', 'fleet0', check=False).returncode != 0
    if fresh and os.path.isdir(workdir):
        shutil.rmtree(workdir)  # left by a sandbox that is gone
    os.makedirs(workdir, exist_ok=True)
    os.makedirs('/run/sshd', exist_ok=True)  # sshd's privilege separation directory
    key = os.path.join(workdir, 'id_ed25519')
    if not os.path.exists(key):
        run('ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'netvirt-fleet', '-f', key)
        shutil.copy(key + '.pub', os.path.join(workdir, 'authorized_keys'))
    if fresh:
        run('ip', 'link', 'add', 'fleet0', 'type', 'bridge')
        run('ip', 'addr', 'add', UNDERLAY + '.1/24', 'dev', 'fleet0')
        run('ip', 'link', 'set', 'fleet0', 'up')
    lines = ['[fleet]']
    for n in range(1, count + 1):
        name = 'h%d' % n
        hostdir = os.path.join(workdir, name)
        if not os.path.isdir(hostdir):
            os.makedirs(hostdir)
            run('ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', os.path.join(hostdir, 'host_key'))
            run('ip', 'netns', 'add', name)
            run('ip', 'link', 'add', name + '-u', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name)
            run('ip', 'link', 'set', name + '-u', 'master', 'fleet0', 'up')
            run('ip', '-n', name, 'addr', 'add', address(n) + '/24', 'dev', 'eth0')
            run('ip', '-n', name, 'link', 'set', 'eth0', 'up')
            run('ip', '-n', name, 'link', 'set', 'lo', 'up')
        if not os.path.exists(os.path.join(hostdir, 'sshd.pid')):
            start_sshd(workdir, name)
        lines.append('%s ansible_host=%s' % (name, address(n)))
    lines += ['', '[fleet:vars]', 'ansible_user=root', 'ansible_ssh_private_key_file=%s' % key,
              "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'",
              'ansible_python_interpreter=%s' % sys.executable, '']
    with open(os.path.join(workdir, 'inventory.ini'), 'w') as f:
        f.write('\n'.join(lines))
    # Every host answers over SSH before Ansible is let loose on them.
    for name in hosts(workdir):
        n = int(name[1:])
        for _attempt in range(50):
            probe = run('ssh', '-i', key, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
                        '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=2', 'root@' + address(n), 'true', check=False)
            if probe.returncode == 0:
                break
            time.sleep(0.1)
        else:
            raise SystemExit('%s does not answer over SSH: %s' % (name, probe.stderr.strip()))
    print(os.path.join(workdir, 'inventory.ini'))


def down(workdir):
    if not os.path.isdir(workdir):
        return
    for name in hosts(workdir):
        stop_sshd(workdir, name)
        run('ip', 'netns', 'del', name, check=False)
        run('ip', 'link', 'del', name + '-u', check=False)
    run('ip', 'link', 'del', 'fleet0', check=False)
    shutil.rmtree(workdir)


def main(argv):
    if not argv:
        raise SystemExit(__doc__)
    command = argv[0]
    if command == 'up':
        up(int(argv[1]), argv[2] if len(argv) > 2 else WORKDIR)
    elif command in ('stop', 'start'):
        workdir = argv[2] if len(argv) > 2 else WORKDIR
        (stop_sshd if command == 'stop' else start_sshd)(workdir, argv[1])
    elif command == 'down':
        down(argv[1] if len(argv) > 1 else WORKDIR)
    else:
        raise SystemExit(__doc__)


if __name__ == '__main__':
    main(sys.argv[1:])
