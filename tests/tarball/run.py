"""The built tarball holds the collection and nothing else, whatever the checkout holds.

`ansible-galaxy collection build` takes every file of the folder it is given but those
galaxy.yml's build_ignore names. A working checkout also holds venvs, the build copy, the
lab's pictures and the tools' caches, none of which git tracks. Two builds:
  1. this working checkout as it is (make setup's venvs must be there, or the test fails);
  2. a copy of the files git knows, plus one decoy of every kind of thing that is not the
     collection (venvs of other names, caches, outputs, tarballs), so that a new kind is
     caught even on a machine that has never made one.
Each tarball must hold only files git knows, under the top-level entries listed below,
with no venv or cache anywhere in a path.

    python tests/tarball/run.py
"""
import fnmatch
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
# The collection's own top-level entries; ansible-galaxy adds the two manifests.
TOP_LEVEL = {'MANIFEST.json', 'FILES.json', 'README.md', 'CHANGELOG.rst', 'changelogs', 'docs', 'meta',
             'playbooks', 'plugins', 'roles', 'tests', 'molecule', 'Makefile', 'ansible.cfg', 'inventory.ini',
             'requirements-lab.txt', 'requirements-dev.txt', '.ansible-lint', '.gitignore'}
# No path component may look like one of these: a venv, a cache, a lane's output.
FOREIGN = ['.venv*', 'venv', 'venv-*', '.tox', '.nox', '.build', '.vm', 'lab-out', '.ansible', '.cache',
           '*.egg-info', '.pytest_cache', '.mypy_cache', '.ruff_cache', '__pycache__', '*.pyc', '.coverage',
           'pyvenv.cfg', '.plugin-cache.yaml', '*.tar.gz', '.ci', 'bench', '.git']
VENVS = ['.venv', '.venv-pyroute2-0.7', '.venv-pyroute2-0.8']  # the Makefile's VENV, VENV07, VENV08
DECOYS = ['.venv-other/pyvenv.cfg', '.venv-other/lib/python3/site-packages/x.py', 'venv/pyvenv.cfg',
          'venv-3.12/bin/python', 'tests/.venv/pyvenv.cfg', 'roles/venv/pyvenv.cfg', '.tox/py/x.py', '.nox/x.py',
          '.build/ansible_collections/netvirt/linux/galaxy.yml', '.vm/vmlinuz', 'lab-out/lab.png',
          'molecule/lab/lab-out/lab.png',
          'tests/output/junit.xml', '.ansible/collections/x.yml', '.cache/x', 'netvirt.egg-info/PKG-INFO',
          '.pytest_cache/v/x', 'tests/unit/.pytest_cache/v/x', '.mypy_cache/x', '.ruff_cache/x',
          'plugins/modules/__pycache__/netns.cpython-311.pyc', '.coverage', 'changelogs/.plugin-cache.yaml',
          'netvirt-linux-0.1.0.tar.gz', 'community-general-9.0.0.tar.gz', 'bench/x.py', '.ci/x']


def foreign(name):
    return ('/tests/output/' in '/' + name
            or any(fnmatch.fnmatch(part, pattern) for part in name.split('/') for pattern in FOREIGN))


def git_files(path):
    out = subprocess.run(['git', '-C', path, 'ls-files', '-co', '--exclude-standard', '-z'],
                         check=True, capture_output=True).stdout
    return {f for f in out.decode().split('\0') if f}


def build(source, outdir):
    # The ansible-galaxy of the Python running this (the venv's), wherever PATH points.
    galaxy = os.path.join(os.path.dirname(sys.executable), 'ansible-galaxy')
    run = subprocess.run([galaxy if os.path.exists(galaxy) else 'ansible-galaxy', 'collection', 'build', '--force',
                          '--output-path', outdir, source], capture_output=True, text=True, check=False)
    if run.returncode:
        sys.exit('tests/tarball/run.py: ansible-galaxy collection build %s failed:\n%s%s'
                 % (source, run.stdout, run.stderr))
    tarballs = [f for f in os.listdir(outdir) if f.endswith('.tar.gz')]
    assert len(tarballs) == 1, tarballs
    return os.path.join(outdir, tarballs[0])


def problems(tarball, known):
    """What the tarball holds that is not the collection."""
    found = []
    with tarfile.open(tarball) as tar:
        members = tar.getmembers()
    files = [m.name[2:] if m.name.startswith('./') else m.name for m in members if not m.isdir()]
    for name in files:
        parts = name.split('/')
        if parts[0] not in TOP_LEVEL:
            found.append('%s: %s is not a top-level entry of the collection' % (name, parts[0]))
        elif foreign(name):
            found.append('%s: a venv, a cache or an output, not the collection' % name)
        elif name not in known and name not in ('MANIFEST.json', 'FILES.json'):
            found.append('%s: not a file git knows' % name)
    missing = sorted(f for f in known if f.split('/')[0] in TOP_LEVEL and f not in files and not foreign(f))
    found += ['%s: in git, missing from the tarball' % f for f in missing]
    return found, len(files), os.path.getsize(tarball)


def main():
    absent = [v for v in VENVS if not os.path.exists(os.path.join(ROOT, v, 'pyvenv.cfg'))]
    if absent:
        sys.exit('tests/tarball/run.py: a working checkout has its venvs; missing %s (make setup)' % ', '.join(absent))
    failed = False
    with tempfile.TemporaryDirectory(prefix='netvirt-tarball-') as tmp:
        copy = os.path.join(tmp, 'checkout')
        known = git_files(ROOT)
        for name in sorted(known):
            if os.path.isfile(os.path.join(ROOT, name)):
                os.makedirs(os.path.dirname(os.path.join(copy, name)), exist_ok=True)
                shutil.copy2(os.path.join(ROOT, name), os.path.join(copy, name))
        for name in DECOYS:
            os.makedirs(os.path.dirname(os.path.join(copy, name)) or copy, exist_ok=True)
            with open(os.path.join(copy, name), 'w') as f:
                f.write('not the collection\n')
        for label, source in (('the working checkout', ROOT), ('a copy with a decoy of every kind', copy)):
            outdir = tempfile.mkdtemp(dir=tmp)
            found, count, size = problems(build(source, outdir), known)
            print('%s: %d files, %d KB%s' % (label, count, size // 1024, '' if found else ', only the collection'))
            for line in found[:20]:
                print('  ' + line)
            if len(found) > 20:
                print('  ... and %d more' % (len(found) - 20))
            failed = failed or bool(found)
    if failed:
        sys.exit('tests/tarball/run.py: the tarball holds more than the collection (see galaxy.yml build_ignore)')
    print('tarball: only the collection, from a working checkout with its venvs')


if __name__ == '__main__':
    main()
