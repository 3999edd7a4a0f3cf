# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply: run a plan under a host-wide lock; on failure undo in reverse.

PRIVATE: not a public API of the collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import fcntl
import os

LOCK_DIR = '/run/lock'
LOCK_NAME = 'netvirt.linux.lock'


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


class _Step:
    """A step of a run that is not an action of its plan (the owner's record), named in an ApplyError."""

    def __init__(self, text):
        self.text = text


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
    """Undo finished actions, newest first; returns the undo steps that failed."""
    errors = []
    for action in reversed(done):
        if action.undo_op is None:
            errors.append('%s cannot be undone' % action.text)
            continue
        try:
            kernel.run(action.undo_op, action.undo_args)
        except Exception as e:  # keep undoing the rest; report every failure
            errors.append('undo of %s: %s' % (action.text, e))
    return errors


def apply_plan(kernel, plan):
    """Run every action in order; on the first failure undo the ones before it and raise ApplyError."""
    done = []
    for action in plan.actions:
        try:
            kernel.run(action.op, action.args)
        except Exception as e:
            raise ApplyError(action, e, rollback(kernel, done))
        done.append(action)
    if plan.route_record is not None:
        try:
            kernel.write_route_record(*plan.route_record)
        except Exception as e:
            raise ApplyError(_Step('record the routes of owner %s' % plan.route_record[0]), e, rollback(kernel, done))
    kernel.settle()
    return [action.text for action in done]
