"""The sandbox check that every lane uses (tests/bin/sandboxed.py), on real mounts.

After `make lab` on a host, /run/netns is a bind mount of itself (as `ip netns` leaves
it), so a sandbox started there has two mounts at /run/netns: the host's beneath, its
own tmpfs on top. Only the top one says where we are (issue 16, item 5).
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.join(HERE, '..', 'bin')
CHECK = [sys.executable, os.path.join(BIN, 'sandboxed.py')]
SANDBOX = os.path.join(BIN, 'sandbox')

# A mount namespace of its own in which /run/netns looks like a host's: a plain tmpfs
# (as /run is), then bound onto itself the way `ip netns add` leaves it.
HOST_AFTER_IP_NETNS = 'mount -t tmpfs tmpfs /run/netns && mount --bind /run/netns /run/netns && exec "$@"'


def in_host_like_mounts(*argv):
    return subprocess.run(['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c',
                           HOST_AFTER_IP_NETNS, 'host'] + list(argv), capture_output=True, text=True, check=False)


def mounts_at_run_netns(*argv):
    listing = in_host_like_mounts(*argv, 'findmnt', '-n', '-o', 'SOURCE', '/run/netns')
    return listing.stdout.split()


def test_a_host_after_ip_netns_is_not_the_sandbox():
    result = in_host_like_mounts(*CHECK)
    assert result.returncode == 2, result
    assert 'run me inside tests/bin/sandbox' in result.stderr


def test_a_sandbox_started_after_ip_netns_is_the_sandbox():
    # The case that stopped the fleet lane: more than one mount at /run/netns.
    assert len(mounts_at_run_netns(SANDBOX)) > 1
    result = in_host_like_mounts(SANDBOX, *CHECK)
    assert result.returncode == 0, result
