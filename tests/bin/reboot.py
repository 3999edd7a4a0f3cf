"""Reboot, as far as a persisted lab can tell (issue 21), from inside tests/bin/sandbox:

    python3 tests/bin/reboot.py REQUEST

copies what persist wrote here, starts a fresh sandbox (a new network namespace, an empty /run/netns,
/run/netvirt.linux and /etc/netns, as after a reboot) that holds only that copy, and runs boot.py there
with REQUEST (see boot.py).  Prints what boot.py saw."""

import os
import shutil
import subprocess
import sys
import tempfile

from sandboxed import inside
from snapshot import PERSIST_DIRS

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    if not inside():
        sys.exit('run me inside tests/bin/sandbox')
    saved = tempfile.mkdtemp(prefix='netvirt-persisted-')
    try:
        for directory in PERSIST_DIRS:
            shutil.copytree(directory, saved + directory, symlinks=True)
        done = subprocess.run([os.path.join(HERE, 'sandbox'), sys.executable, os.path.join(HERE, 'boot.py'), saved,
                               sys.argv[1]], capture_output=True, text=True, check=False)
    finally:
        shutil.rmtree(saved)
    if done.returncode != 0:
        sys.exit('boot.py failed: %s' % done.stderr)
    sys.stdout.write(done.stdout)


if __name__ == '__main__':
    main()
