# The suites import the collection as ansible_collections.netvirt.linux, so
# they run from the build copy at .build/ansible_collections/netvirt/linux
# (`make unit`, `make kernel`).
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
if not os.path.isdir(os.path.join(ROOT, 'ansible_collections')):
    raise RuntimeError('run the tests from the build copy (make unit / make kernel): %s' % ROOT)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
