"""The lab that a real boot restores (tests/vm/boot): persisted by the engine inside tests/bin/sandbox, for
the interpreter that runs this script (the image's own /usr/bin/python3), then copied into ROOT.

    tests/bin/sandbox env PYTHONPATH=.build /usr/bin/python3 tests/vm/boot_lab.py ROOT"""

import shutil
import sys

from ansible_collections.netvirt.linux.plugins.module_utils._apply import apply_plan, host_lock
from ansible_collections.netvirt.linux.plugins.module_utils._kernel import Kernel
from ansible_collections.netvirt.linux.plugins.module_utils._model import normalise_document
from ansible_collections.netvirt.linux.plugins.module_utils._plan import StateReader, plan_document

LAB = {
    'namespaces': [{'name': 'vb-a'}, {'name': 'vb-b', 'sysctls': {'net.ipv4.ip_forward': 1}}],
    'links': [{'kind': 'veth', 'name': 'eth0', 'netns': 'vb-a', 'addresses': ['10.71.0.1/24'],
               'peer': {'name': 'eth0', 'netns': 'vb-b', 'addresses': ['10.71.0.2/24']}},
              {'kind': 'bridge', 'name': 'vbr0', 'addresses': ['10.72.0.1/24']}],
    'routes': [{'netns': 'vb-a', 'dest': '10.72.0.0/24', 'via': '10.71.0.2'}],
    'persist': True,
}
DIRS = ('/etc/netvirt.linux', '/usr/local/lib/netvirt.linux', '/etc/systemd/system')


def main():
    root = sys.argv[1]
    with Kernel() as kernel, host_lock():
        apply_plan(kernel, plan_document(normalise_document(LAB, 'vmboot'), StateReader(kernel, bulk=True)))
    for directory in DIRS:
        shutil.copytree(directory, root + directory, symlinks=True, dirs_exist_ok=True)
    print('persisted lab vmboot into %s' % root)


if __name__ == '__main__':
    main()
