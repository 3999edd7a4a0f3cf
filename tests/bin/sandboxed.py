"""Is this process inside tests/bin/sandbox?  One answer for every lane.

    python tests/bin/sandboxed.py      exit 0 inside the sandbox, 2 (with a message) outside

The sandbox mounts a tmpfs whose source is `netvirt-sandbox` on /run/netns. Only the
top mount counts: after `ip netns` (or `make lab`) on the host, /run/netns is also a
bind mount of itself, and a sandbox copies that mount from the host beneath its own
tmpfs, so /run/netns then has two or more mounts. Outside the sandbox that bind mount
is a plain tmpfs too, so the source, not the type, is what tells the two apart.
"""

import sys

MOUNT_POINT = '/run/netns'
SOURCE = 'netvirt-sandbox'


def top_mount_source(mount_point=MOUNT_POINT, mountinfo='/proc/self/mountinfo'):
    """The source of the mount that is visible at mount_point (the last one mounted there), or None."""
    source = None
    with open(mountinfo) as f:
        for line in f:
            # ID PARENT MAJ:MIN ROOT MOUNT-POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER-OPTIONS
            fields, _sep, tail = line.partition(' - ')
            if fields.split()[4] == mount_point:
                source = tail.split()[1]
    return source


def inside():
    return top_mount_source() == SOURCE


if __name__ == '__main__':
    if not inside():
        sys.stderr.write('run me inside tests/bin/sandbox (the top mount of %s is not its tmpfs %s)\n'
                         % (MOUNT_POINT, SOURCE))
        sys.exit(2)
