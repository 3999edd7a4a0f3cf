# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply: run a plan under a host-wide lock; on failure, or on SIGINT, SIGTERM or SIGHUP, undo in reverse.

PRIVATE: not a public API of the collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import fcntl
import os
import signal

from ansible_collections.netvirt.linux.plugins.module_utils._journal import write_claims
from ansible_collections.netvirt.linux.plugins.module_utils._ops import BRING_UP_LINKS, DELETE_NAMESPACE, QUIET_NAMESPACE

LOCK_DIR = '/run/lock'
LOCK_NAME = 'netvirt.linux.lock'
# Ctrl-C, `kill`, a timeout's TERM and a dropped SSH session: each stops a run
# between two actions, and what it did is undone, instead of the process dying
# with half a lab built and no result for Ansible to read.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class ApplyError(Exception):
    """An action failed.  The actions before it were undone (``undo_errors`` lists what could not be)."""

    def __init__(self, action, cause, undo_errors):
        self.action = action
        self.cause = cause
        self.undo_errors = undo_errors
        message = '%s failed: %s' % (action.text, cause)
        if undo_errors:
            message += '; rollback was incomplete: ' + '; '.join(undo_errors)
        else:
            message += '; every earlier change of this run was undone'
        super(ApplyError, self).__init__(message)


class VerifyFailed(Exception):
    """The run's own check (``verify`` of apply_plan) failed after its last action.

    ``undone``: whether the run was rolled back (``undo_errors`` lists what could not be),
    else its changes are kept.  ``changes``: how many actions the run made.
    """

    def __init__(self, failure, changes, undone, undo_errors=()):
        self.failure = failure
        self.changes = changes
        self.undone = undone
        self.undo_errors = list(undo_errors)
        if not changes:
            message = '%s; this run changed nothing' % failure
        elif not undone:
            message = '%s; %s of this run %s kept' % (
                failure, 'the change' if changes == 1 else 'the %d changes' % changes, 'is' if changes == 1 else 'are')
        elif undo_errors:
            message = '%s; the run was rolled back, incompletely: %s' % (failure, '; '.join(undo_errors))
        else:
            message = '%s; the run was rolled back: every change it made was undone' % failure
        super(VerifyFailed, self).__init__(message)


class _Step:
    """A step of a run that is not an action of its plan (the owner's record), named in an ApplyError."""

    def __init__(self, text):
        self.text = text


# What apply runs on its own, beside the plan's actions.
OWN_OPERATIONS = (QUIET_NAMESPACE.name, BRING_UP_LINKS.name)


class _Quieted:
    """A namespace the plan removes, cut off until the run is verified: removing it cannot be undone."""

    def __init__(self, removal, links):
        self.removal = removal
        self.text = removal.text
        self.undo_op, self.undo_args = BRING_UP_LINKS(links=links)


def _quieting(plan):
    """(keep, gone) for quiet_namespace: the ends the plan's actions name, which must not be brought down,
    and the namespaces it removes."""
    keep, gone = set(), set()
    for action in plan.actions:
        args, options = action.args, action.args.get('options') or {}
        keep.update([(args.get('netns'), args.get('name')), (args.get('to_netns'), args.get('to_name')),
                     (options.get('peer_netns'), options.get('peer_name'))])
        if action.op == DELETE_NAMESPACE.name:
            gone.add(args['netns'])
    return [[netns, name] for netns, name in sorted(keep, key=lambda end: (end[0] or '', end[1] or '')) if name], \
        sorted(gone)


def _quiet(kernel, action, quieting):
    """Cut off the namespace ``action`` removes (a _Quieted), or None when it cannot be cut off and brought
    back whole."""
    keep, gone = quieting
    links = kernel.run(*QUIET_NAMESPACE(netns=action.args['netns'], keep=keep, gone=gone))
    return _Quieted(action, links) if links is not None else None


class ApplyInterrupted(Exception):
    """A signal stopped the run between two actions; the actions before were undone."""

    def __init__(self, signals, done, total, undo_errors, verifying=False):
        self.signals = list(signals)
        self.done = done
        self.total = total
        self.undo_errors = undo_errors
        name = signal_name(self.signals[0])
        if not done:
            message = 'interrupted by %s before any change: nothing was changed' % name
        elif verifying:
            message = 'interrupted by %s while verifying the run of %d actions' % (name, total)
        elif done == total:
            message = 'interrupted by %s during the last of %d actions' % (name, total)
        else:
            message = 'interrupted by %s after %d of %d actions' % (name, done, total)
        if done and undo_errors:
            message += '; rollback was incomplete: ' + '; '.join(undo_errors)
        elif done:
            message += '; every change of this run was undone'
        if len(self.signals) > 1:
            message += ' (%s while undoing did not stop the rollback)' % ', '.join(
                signal_name(s) for s in self.signals[1:])
        super(ApplyInterrupted, self).__init__(message)


def signal_name(signum):
    try:
        return signal.Signals(signum).name
    except ValueError:
        return 'signal %d' % signum


class Interrupted(BaseException):
    """A signal came before any change (waiting for the lock, reading, planning): the run stops there.

    Not an Exception, so that no handler of kernel or dependency errors on
    the way takes it for one of theirs.
    """

    def __init__(self, signum):
        self.signum = signum
        super(Interrupted, self).__init__('interrupted by %s before any change: nothing was changed'
                                          % signal_name(signum))


class HeldSignals(list):
    """The STOP_SIGNALS received, in order.  While ``immediate``, one raises Interrupted where the run is."""

    immediate = False


@contextlib.contextmanager
def signals_held(immediate=False):
    """Note STOP_SIGNALS instead of dying of them; yields the HeldSignals they are noted in.

    apply_plan looks at the list between actions, so an action is never cut
    in half, and a second signal cannot stop the rollback of the first.
    Before the first change (``immediate``), a signal stops the run at once.
    Signals belong to the main thread: elsewhere nothing is held.
    """
    received = HeldSignals()
    received.immediate = immediate

    def note(signum, frame):
        if received.immediate:
            raise Interrupted(signum)
        received.append(signum)
    previous = []
    try:
        for signum in STOP_SIGNALS:
            previous.append((signum, signal.signal(signum, note)))
    except ValueError:
        pass  # not the main thread
    try:
        yield received
    finally:
        for signum, handler in previous:
            signal.signal(signum, handler)


@contextlib.contextmanager
def host_lock(directory=LOCK_DIR):
    """One writer per host: two plays that change this host at once take turns.

    The read, the plan and the apply all happen under the lock, so a plan is
    never made from a state that another run is changing.
    """
    if not os.path.isdir(directory):
        os.makedirs(directory, exist_ok=True)
    fd = os.open(os.path.join(directory, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def rollback(kernel, done):
    """Undo finished actions, newest first; returns the undo steps that failed.

    Then waits, as a finished run does, until the kernel has torn down the
    namespaces the undo removed, so that the next run can use their names.
    """
    errors = []
    for action in reversed(done):
        if action.undo_op is None:
            errors.append('%s cannot be undone' % action.text)
            continue
        try:
            kernel.run(action.undo_op, action.undo_args)
        except Exception as e:  # keep undoing the rest; report every failure
            errors.append('undo of %s: %s' % (action.text, e))
    try:
        kernel.settle()
    except Exception as e:
        errors.append(str(e))
    return errors


def apply_plan(kernel, plan, signals=None, verify=None, keep_unverified=False):
    """Run every action in order; on the first failure undo the ones before it and raise ApplyError.

    ``signals`` is the HeldSignals of the caller's signals_held(), which from
    here on only notes signals; without it, signals are held for the apply alone.  A signal raises ApplyInterrupted once the
    action under way has finished and it and every action before it were
    undone; one that comes while the kernel settles after the last action
    leaves the finished run alone (the caller may still see it in the list).

    ``verify``: called with the kernel once it has settled, still under the caller's lock, even
    when the plan has no action; it returns None when the result is right, else what is
    wrong.  Then VerifyFailed is raised, after the run was undone (unless
    ``keep_unverified``).  A signal that comes while verifying undoes the run too: it is
    not finished before it is verified.
    """
    if signals is None:
        with signals_held() as held:
            return apply_plan(kernel, plan, held, verify, keep_unverified)
    signals.immediate = False
    if plan.actions:
        # Before the first change: a run killed from here on leaves this note
        # for the next run of the owner (see _journal).
        write_claims(plan.owner, plan.claims)
    done = []
    quieting = _quieting(plan) if verify is not None else None
    for action in plan.actions:
        if signals:
            raise ApplyInterrupted(signals, len(done), len(plan.actions), _undo(kernel, plan, done))
        try:
            # With a verify, a namespace is removed once the probes agree; until then it is cut off.
            quieted = _quiet(kernel, action, quieting) if quieting and action.op == DELETE_NAMESPACE.name else None
            if quieted is None:
                kernel.run(action.op, action.args)
        except Exception as e:
            raise ApplyError(action, e, _undo(kernel, plan, done))
        done.append(quieted or action)
    if signals:
        raise ApplyInterrupted(signals, len(done), len(plan.actions), _undo(kernel, plan, done))
    if plan.route_record is not None:
        try:
            kernel.write_route_record(*plan.route_record)
        except Exception as e:
            raise ApplyError(_Step('record the routes of owner %s' % plan.route_record[0]), e, _undo(kernel, plan, done))
    kernel.settle()
    if verify is not None:
        failure = verify(kernel)
        if signals:
            raise ApplyInterrupted(signals, len(done), len(plan.actions), _undo(kernel, plan, done, recorded=True),
                                   verifying=True)
        if failure and done and not keep_unverified:
            raise VerifyFailed(failure, len(done), True, _undo(kernel, plan, done, recorded=True))
        _remove_quieted(kernel, plan, done, signals)
    if plan.actions:
        write_claims(plan.owner, plan.leftover_claims)
    if verify is not None and failure:
        raise VerifyFailed(failure, len(done), False)
    return [action.text for action in done]


def _remove_quieted(kernel, plan, done, signals):
    """The removals that waited for the verify; each takes its cut-off's place in ``done``.  A signal stops
    them before the first, when the run can still be undone whole; once one namespace is gone, the rest go too
    (the run is finished, as when a signal comes while the kernel settles)."""
    quieted = [i for i, action in enumerate(done) if isinstance(action, _Quieted)]
    if quieted and signals:
        raise ApplyInterrupted(signals, len(done), len(plan.actions), _undo(kernel, plan, done, recorded=True),
                               verifying=True)
    for i in quieted:
        try:
            kernel.run(done[i].removal.op, done[i].removal.args)
        except Exception as e:
            raise ApplyError(done[i].removal, e, _undo(kernel, plan, done, recorded=True))
        done[i] = done[i].removal
    if quieted:
        kernel.settle()


def _undo(kernel, plan, done, recorded=False):
    """Roll back; a complete rollback leaves the journal as the run found it, an incomplete one all of it.

    ``recorded``: the plan's record of routes was written, and is put back as it was.
    """
    errors = rollback(kernel, done)
    if recorded and plan.route_record is not None:
        try:
            kernel.write_route_record(plan.owner, plan.route_record_before)
        except Exception as e:
            errors.append(str(e))
    if not errors:
        write_claims(plan.owner, plan.old_claims)
    return errors
