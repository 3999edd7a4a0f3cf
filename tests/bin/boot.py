"""A boot, as far as a persisted lab can tell (issue 21): run inside a fresh tests/bin/sandbox, which
is a new network namespace with an empty /run/netns, /run/netvirt.linux and /etc/netns, like a host
after a reboot.

    python3 tests/bin/boot.py SAVED REQUEST

SAVED holds a copy of what persist wrote (SAVED/etc/netvirt.linux, ...), which goes back in place
first: the sandbox's own tmpfs there, never this machine's /etc.  REQUEST is JSON:
  {"units": [OWNER, ...],             each owner's netvirt-lab@OWNER.service, its ExecStart run
                                      exactly as the unit file gives it, in this order, after the
                                      roles' files in /etc/sysctl.d are applied as systemd-sysctl would
   "late_link": NAME or null,         a veth NAME (peer NAME-x) made in the current namespace once a
                                      unit says it tries again, as a device udev names late
   "pings": [[NETNS, ADDRESS], ...]}  pings once every unit has run
Prints JSON: {"units": {OWNER: {"rc", "stdout", "stderr"}}, "before": snapshot, "after": snapshot,
"pings": [true/false, ...]}.
"""

import json
import os
import shlex
import shutil
import subprocess
import sys

from sandboxed import SOURCE, top_mount_source
from snapshot import PERSIST_DIRS, state

UNIT = '/etc/systemd/system/netvirt-lab@.service'


def exec_start(owner):
    """The argv of the owner's instance, from the template's ExecStart: quotes as systemd reads them, %i the
    instance, %% a '%'."""
    with open(UNIT) as f:
        [line] = [line for line in f.read().splitlines() if line.startswith('ExecStart=')]
    return [word.replace('%%', '\0').replace('%i', owner).replace('\0', '%')
            for word in shlex.split(line[len('ExecStart='):])]


def main():
    saved, request = sys.argv[1], json.loads(sys.argv[2])
    for directory in PERSIST_DIRS:
        if top_mount_source(directory) != SOURCE:
            sys.exit('%s is not the sandbox tmpfs: refusing to write there' % directory)
        copy = saved + directory
        if os.path.isdir(copy):
            shutil.copytree(copy, directory, symlinks=True, dirs_exist_ok=True)
    before = state()
    # systemd-sysctl, which runs before the units: only the roles' files, whose switches are per namespace.
    sysctl_dir = '/etc/sysctl.d'
    for name in sorted(os.listdir(sysctl_dir)):
        if name.startswith('60-netvirt-') and name.endswith('.conf'):
            subprocess.run(['sysctl', '-q', '-p', os.path.join(sysctl_dir, name)], check=True)
    units = {}
    for owner in request.get('units', []):
        unit = subprocess.Popen(exec_start(owner), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = []
        for line in unit.stdout:
            lines.append(line)
            if request.get('late_link') and 'trying again' in line:
                # The device appears once the unit has found it missing, as one that udev names late.
                subprocess.run(['ip', 'link', 'add', 'name', request['late_link'], 'type', 'veth', 'peer', 'name',
                                request['late_link'] + '-x'], check=True)
        units[owner] = {'rc': unit.wait(), 'stdout': ''.join(lines), 'stderr': unit.stderr.read()}
    pings = [subprocess.run(['ip', 'netns', 'exec', netns, 'ping', '-c', '1', '-W', '2', address],
                            capture_output=True, check=False).returncode == 0
             for netns, address in request.get('pings', [])]
    json.dump({'units': units, 'before': before, 'after': state(), 'pings': pings}, sys.stdout)


if __name__ == '__main__':
    main()
