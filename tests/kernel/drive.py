"""Run one module, or the engine alone, as its own process, and stop it at chosen kernel calls.

    python drive.py SPEC.json

SPEC: {"mode": "module" | "engine", "module": "topology", "args": {...module args...},
       "owner": "...", "purge": false, "remove_all": false,
       "stop_at": [K, ...], "stop_in": ["NAME:K", ...]}

Before the K-th call of Kernel.run (counted from 0 over the whole run: the
actions, then the undo steps of a rollback) the process stops itself with
SIGSTOP.  The test waits until it is stopped (waitpid WUNTRACED), sends the
signal it means to test, and lets it go on with SIGCONT: the signal lands at
that exact point of the run, whatever the machine's speed, with no timing.
"NAME:K" stops before the K-th call (from 0) of the Kernel method NAME, or of
the libc function NAME (unshare, mount, umount2): the points inside an action,
such as between making a namespace's file and mounting the namespace on it.

"module" runs plugins/modules/MODULE.py as Ansible runs it (its arguments in a
file, its JSON result on stdout); it needs ansible.  "engine" runs the same
flow without ansible (the pyroute2 lanes have none): normalise, plan and apply
(and verify, with topology's verify options) under the host lock, with signals
held as the runner holds them, and prints
{"failed": ..., "msg": ...}.
"""

import atexit
import json
import os
import runpy
import signal
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.abspath(os.path.join(HERE, '..', '..', '..', '..', '..')))

from ansible_collections.netvirt.linux.plugins.module_utils import _kernel  # noqa: E402
from ansible_collections.netvirt.linux.plugins.module_utils._apply import (  # noqa: E402
    ApplyError, ApplyInterrupted, Interrupted, VerifyFailed, apply_plan, host_lock, signals_held,
)
from ansible_collections.netvirt.linux.plugins.module_utils._verify import Verification  # noqa: E402
from ansible_collections.netvirt.linux.plugins.module_utils._journal import JournalError  # noqa: E402
from ansible_collections.netvirt.linux.plugins.module_utils._model import normalise_document  # noqa: E402
from ansible_collections.netvirt.linux.plugins.module_utils._plan import StateReader, plan_document  # noqa: E402


def stop_at(calls):
    """Make Kernel.run stop the process before each call whose number is in ``calls``."""
    calls = set(calls)
    count = [0]
    run = _kernel.Kernel.run

    def counted(self, op, args):
        if count[0] in calls:
            os.kill(os.getpid(), signal.SIGSTOP)
        count[0] += 1
        return run(self, op, args)
    _kernel.Kernel.run = counted


# The points between two requests to the kernel where a kill can land ("*:K" counts them all):
# every action, every owner's mark, and the steps of making and removing a namespace.
KILL_POINTS = ('run', '_set_alias', 'unshare', 'mount', 'umount2')


def stop_in(points, count_file=None):
    """Stop before the K-th call of each NAME in points ("NAME:K"; NAME "*": any of KILL_POINTS).

    With ``count_file``, the number of calls of each NAME is written there at exit.
    """
    wanted = {}
    for point in points:
        name, k = point.rsplit(':', 1)
        wanted.setdefault(name, set()).add(int(k))
    everything = wanted.pop('*', set())
    if count_file or everything:
        for name in KILL_POINTS:
            wanted.setdefault(name, set())
    counts = dict((name, [0]) for name in list(wanted) + ['*'])

    def stopping(name, call):
        def stopped(*args, **kwargs):
            if counts[name][0] in wanted[name] or (name in KILL_POINTS and counts['*'][0] in everything):
                os.kill(os.getpid(), signal.SIGSTOP)
            counts[name][0] += 1
            if name in KILL_POINTS:
                counts['*'][0] += 1
            return call(*args, **kwargs)
        return stopped
    if count_file:
        atexit.register(lambda: json.dump(dict((k, v[0]) for k, v in counts.items()), open(count_file, 'w')))
    libc_names = set()
    for name in wanted:
        if hasattr(_kernel.Kernel, name):
            setattr(_kernel.Kernel, name, stopping(name, getattr(_kernel.Kernel, name)))
        else:
            libc_names.add(name)
    if libc_names:
        make_libc = _kernel._libc

        class StoppingLibc:
            def __init__(self):
                self._libc = make_libc()

            def __getattr__(self, name):
                call = getattr(self._libc, name)
                return stopping(name, call) if name in libc_names else call
        _kernel._libc = StoppingLibc


def run_engine(spec):
    args = spec['args']
    document = dict((key, args.get(key, [])) for key in ('namespaces', 'links', 'routes', 'nat'))
    result = {'failed': False}
    with signals_held(immediate=True) as signals:
        try:
            try:
                doc = normalise_document(document, owner=spec['owner'])
                if spec.get('remove_all'):
                    doc = dict(doc, namespaces=[], links=[], routes=[], nat=[])
                verification = Verification(args['verify'], args.get('verify_retries', 2),
                                            args.get('verify_delay', 1.0)) if args.get('verify') else None
                with _kernel.Kernel() as kernel, host_lock():
                    plan = plan_document(doc, StateReader(kernel, bulk=True), False, False, False,
                                         spec.get('purge', False))
                    apply_plan(kernel, plan, signals, verification)
                    result['actions'] = plan.texts
            finally:
                signals.immediate = False
        except (Interrupted, ApplyInterrupted, ApplyError, VerifyFailed, JournalError, _kernel.KernelError) as e:
            result = {'failed': True, 'msg': str(e)}
        sys.stdout.write(json.dumps(result))
        sys.stdout.flush()


def run_module(spec):
    with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as f:
        json.dump({'ANSIBLE_MODULE_ARGS': spec['args']}, f)
    try:
        sys.argv = [spec['module'], f.name]
        runpy.run_module('ansible_collections.netvirt.linux.plugins.modules.' + spec['module'], run_name='__main__')
    finally:
        os.unlink(f.name)


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    stop_at(spec.get('stop_at', []))
    stop_in(spec.get('stop_in', []), spec.get('count_file'))
    if spec['mode'] == 'module':
        run_module(spec)
    else:
        run_engine(spec)


if __name__ == '__main__':
    main()
