"""Run every playbook in docs/guide.md, the way a reader would, in throwaway sandboxes.

A fenced ```yaml block right after a line `<!-- test: GROUP -->` is a whole playbook.
The blocks of one group run in order in one fresh sandbox (tests/bin/sandbox); each:
  1. --check on the host as the earlier blocks left it: it must run and change nothing
     (a kernel snapshot before and after);
  2. for real;
  3. again: nothing may change (changed=0).
`<!-- test: GROUP vm -->` marks a group that needs a kernel this machine lacks (VLAN,
IPVLAN, GENEVE, dummy): `run --vm` runs only those (the VM lane does, under Debian stable's
kernel), `run` all the others. There, where one ansible-playbook run takes minutes, each block
runs for real and again (steps 2 and 3); check mode for those kinds, with snapshots, is the VM
lane's tests/kernel/test_kinds_vm.py, through each module's own main. A group with no blocks, or a guide with none, is an error.
`<!-- file: PATH -->` before a block says the block is that file of the repository, which
another lane runs (the fleet lane, for a playbook that needs several hosts): the two must
be the same, character for character.

    python tests/docs/run.py [--vm] [GROUP...]
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
FILE_BLOCK = re.compile(r'^<!-- file: (?P<path>[\w./-]+) -->\n```yaml\n(?P<body>.*?)^```$', re.M | re.S)
BLOCK = re.compile(r'^<!-- test: (?P<group>[\w.-]+)(?P<vm> vm)? -->\n```yaml\n(?P<body>.*?)^```$', re.M | re.S)
STEPS = r'''
set -eu
began=$(date +%s)
check=$1; shift
for playbook in "$@"; do
    if [ "$check" = check ]; then
        echo "=== $playbook: check mode (+$(( $(date +%s) - began )) s)"
        before=$(python tests/bin/snapshot.py)
        ansible-playbook -i inventory.ini --check "$playbook" > /tmp/netvirt-doc.log 2>&1 \
            || { cat /tmp/netvirt-doc.log; echo "$playbook: check mode failed" >&2; exit 1; }
        [ "$before" = "$(python tests/bin/snapshot.py)" ] || { echo "$playbook: check mode changed the kernel" >&2; exit 1; }
    fi
    echo "=== $playbook: apply (+$(( $(date +%s) - began )) s)"
    ansible-playbook -i inventory.ini "$playbook" > /tmp/netvirt-doc.log 2>&1 \
        || { cat /tmp/netvirt-doc.log; echo "$playbook: failed" >&2; exit 1; }
    echo "=== $playbook: apply again, nothing may change (+$(( $(date +%s) - began )) s)"
    ansible-playbook -i inventory.ini "$playbook" > /tmp/netvirt-doc.log 2>&1 \
        || { cat /tmp/netvirt-doc.log; echo "$playbook: the second run failed" >&2; exit 1; }
    grep -qE 'localhost +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0' /tmp/netvirt-doc.log \
        || { cat /tmp/netvirt-doc.log; echo "$playbook: the second run changed something" >&2; exit 1; }
done
'''


def groups(text):
    found = {}
    for match in BLOCK.finditer(text):
        group = found.setdefault(match.group('group'), {'vm': False, 'blocks': []})
        group['vm'] = group['vm'] or bool(match.group('vm'))
        group['blocks'].append(match.group('body'))
    return found


def main(argv):
    vm = '--vm' in argv
    wanted = [a for a in argv if a != '--vm']
    with open(os.path.join(ROOT, 'docs', 'guide.md')) as f:
        text = f.read()
    found = groups(text)
    for match in FILE_BLOCK.finditer(text):
        with open(os.path.join(ROOT, match.group('path'))) as f:
            if f.read() != match.group('body'):
                sys.exit('docs/guide.md: the block for %s is not that file' % match.group('path'))
        print('== docs/guide.md: the block for %s is that file (run by its own lane)' % match.group('path'))
    selected = [(name, g) for name, g in found.items() if g['vm'] == vm and (not wanted or name in wanted)]
    if not selected or any(name not in found for name in wanted):
        sys.exit('docs/guide.md: no such test group (have: %s)' % ', '.join(found))
    # The guide tells a reader to save a playbook in any directory: an empty temporary one,
    # with nothing of the checkout beside it, so a block that reaches for the repository's
    # files by a relative path fails here as it would from an installed collection.
    workdir = tempfile.mkdtemp(prefix='netvirt-docs-')
    for name, group in selected:
        files = []
        for i, body in enumerate(group['blocks']):
            path = os.path.join(workdir, '%s-%d.yml' % (name, i + 1))
            with open(path, 'w') as f:
                f.write(body)
            files.append(path)
        print('== docs/guide.md, group %s: %d playbooks' % (name, len(files)), flush=True)
        try:
            code = subprocess.call([os.path.join(ROOT, 'tests', 'bin', 'sandbox'), 'sh', '-c', STEPS, 'steps',
                                    'apply' if vm else 'check'] + files,
                                   cwd=ROOT)
        finally:
            for path in files:
                os.remove(path)
        if code != 0:
            sys.exit('docs/guide.md, group %s: failed' % name)
    print('docs/guide.md: %d groups passed' % len(selected))


if __name__ == '__main__':
    main(sys.argv[1:])
