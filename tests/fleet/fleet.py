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

Logins that are not root (TESTING.md, "Non-root logins"): every host also has the
users of USERS, each allowed in with the same key: fleetop with a NOPASSWD sudo
rule, fleettty with the same rule under requiretty, fleetnop with none.
inventory-nonroot.ini reaches the hosts as fleetop. The users exist only inside
the hosts' mount namespaces: /etc/passwd, /etc/group and /etc/sudoers.d there are
/etc/shadow, are bind mounts of files in WORKDIR/etc, and each host's homes are a tmpfs of its own,
so this machine's own user database never changes, even when a run is killed.
"""

import grp
import os
import pwd
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


# name: the sudoers lines for it (none: the user may not use sudo)
USERS = {
    'fleetop': ['fleetop ALL=(ALL:ALL) NOPASSWD: ALL'],
    'fleettty': ['Defaults:fleettty requiretty', 'fleettty ALL=(ALL:ALL) NOPASSWD: ALL'],
    'fleetnop': [],
}
NONROOT = 'fleetop'
SUDOERS_D = '/etc/sudoers.d'
LOGIN_RECORDS = ('/var/log/wtmp', '/var/log/lastlog', '/var/log/btmp')


def _free_ids(count):
    ids = []
    candidate = 4200
    while len(ids) < count:
        candidate += 1
        try:
            pwd.getpwuid(candidate)
            continue
        except KeyError:
            pass
        try:
            grp.getgrgid(candidate)
            continue
        except KeyError:
            ids.append(candidate)
    return ids


def user_files(workdir):
    """WORKDIR/etc: this machine's passwd and group plus the fleet's users, and a sudoers.d with their rules."""
    etc = os.path.join(workdir, 'etc')
    if os.path.isdir(etc):
        return etc
    if not os.path.isdir(SUDOERS_D):
        raise SystemExit('%s is missing: install sudo (make fleet-debian) for the fleet\'s non-root logins' % SUDOERS_D)
    for name in USERS:
        try:
            pwd.getpwnam(name)
            raise SystemExit('user %s exists on this machine; the fleet makes its own' % name)
        except KeyError:
            pass
    os.makedirs(os.path.join(etc, 'sudoers.d'))
    os.chmod(etc, 0o755)
    home = os.path.join(workdir, 'home')
    os.makedirs(home, exist_ok=True)
    passwd = open('/etc/passwd').read().rstrip('\n').split('\n')
    group = open('/etc/group').read().rstrip('\n').split('\n')
    with open('/etc/shadow') as f:
        shadow = f.read().rstrip('\n').split('\n')
    homes = []
    for name, uid in zip(USERS, _free_ids(len(USERS))):
        passwd.append('%s:x:%d:%d:netvirt.linux fleet:%s:/bin/sh' % (name, uid, uid, os.path.join(home, name)))
        group.append('%s:x:%d:' % (name, uid))
        # No password at all ('*', not the locked '!'): the key is the only way in, and sudo's PAM
        # account check wants an entry.
        shadow.append('%s:*:20000:0:99999:7:::' % name)
        homes.append('%s:%d' % (name, uid))
    for path, lines, mode in (('passwd', passwd, 0o644), ('group', group, 0o644), ('shadow', shadow, 0o640)):
        # Made with its mode, so the copy of the machine's shadow is never readable by others.
        fd = os.open(os.path.join(etc, path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        os.chown(os.path.join(etc, path), 0, os.stat('/etc/' + path).st_gid)
    # The machine's own rules stay in force inside the hosts; the fleet's are added to them.
    for entry in os.listdir(SUDOERS_D):
        shutil.copy2(os.path.join(SUDOERS_D, entry), os.path.join(etc, 'sudoers.d', entry))
    rules = os.path.join(etc, 'sudoers.d', 'netvirt-fleet')
    with open(rules, 'w') as f:
        # sudo's notes of who authenticated stay in WORKDIR too, not in this machine's /run/sudo.
        f.write('\n'.join(['Defaults timestampdir=%s' % os.path.join(workdir, 'sudo-ts')]
                          + [line for lines in USERS.values() for line in lines]) + '\n')
    os.chmod(rules, 0o440)
    # sshd records logins (wtmp, lastlog, btmp); the hosts' records are their own.
    for record in LOGIN_RECORDS:
        open(os.path.join(etc, os.path.basename(record)), 'w').close()
    with open(os.path.join(etc, 'homes'), 'w') as f:
        f.write(' '.join(homes) + '\n')
    return etc


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
    # sshd daemonizes; its mount namespace keeps the host's private directories, and its users.
    etc = os.path.join(workdir, 'etc')
    with open(os.path.join(etc, 'homes')) as f:
        homes = f.read().split()
    inner = ('set -e; for d in /run/netns /etc/netns /run/netvirt.linux /run/lock "$2"; do mkdir -p "$d"; '
             'mount -t tmpfs fleet-%s "$d"; done; '
             'for f in passwd group shadow sudoers.d; do mount --bind "$1/$f" "/etc/$f"; done; '
             'for f in %s; do [ ! -e "$f" ] || mount --bind "$1/${f##*/}" "$f"; done; '
             'home=$2; shift 2; for h in "$@"; do mkdir -m 0700 "$home/${h%%:*}"; chown "${h#*:}:${h#*:}" "$home/${h%%:*}"; done; '
             'exec %s -f %s' % (name, ' '.join(LOGIN_RECORDS), SSHD, config))
    home = os.path.join(workdir, 'home')
    run('ip', 'netns', 'exec', name, 'unshare', '--mount', '--propagation', 'private',
        'sh', '-c', inner, 'fleet-host', etc, home, *homes)
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
    user_files(workdir)
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
    # The same hosts, reached as most fleets are: an unprivileged login that escalates with sudo
    # (the playbook says become: true, become_method: sudo).
    with open(os.path.join(workdir, 'inventory-nonroot.ini'), 'w') as f:
        f.write('\n'.join(line.replace('ansible_user=root', 'ansible_user=' + NONROOT) for line in lines))
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
