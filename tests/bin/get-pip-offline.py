"""Stand-in for the get-pip.py that ansible-test downloads from its own file
server, which this network cannot reach.  It does what get-pip.py does for
ansible-test: put pip into the new virtual environment (from the wheel that
Python's ensurepip carries), then install the pinned packages from PyPI.

ansible-test runs this with a scrubbed environment, so the CA bundle that
the machine's pip uses is named here again."""

import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
for bundle in (os.environ.get('SSL_CERT_FILE'), '/etc/ssl/certs/ca-certificates.crt'):
    if bundle and os.path.exists(bundle):
        args = ['--cert', bundle] + args
        break
subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + args)
