# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restore a persisted lab at boot: what the unit netvirt-lab@OWNER.service runs (see _persist).

PRIVATE: not a public API of the collection.

The same engine and rules as a task: the owner's saved document is validated, planned and
applied under the host lock, with rollback, and nothing another owner made is touched.
What the lab needs may come late at boot (a parent link that udev has not named yet, a
module not loaded): a failed try changes nothing, or is undone, and is tried again until the
saved timeout; then the unit fails with the last try's message.  Imports no Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import sys
import time

from ansible_collections.netvirt.linux.plugins.module_utils._apply import (
    ApplyError, ApplyInterrupted, Interrupted, apply_plan, host_lock, signals_held,
)
from ansible_collections.netvirt.linux.plugins.module_utils._journal import JournalError
from ansible_collections.netvirt.linux.plugins.module_utils._kernel import HAS_PYROUTE2, Kernel, KernelError
from ansible_collections.netvirt.linux.plugins.module_utils._model import ModelError, normalise_document
from ansible_collections.netvirt.linux.plugins.module_utils._persist import FORMAT, MAX_TIMEOUT, lab_path
from ansible_collections.netvirt.linux.plugins.module_utils._plan import PlanError, StateReader, plan_document
from ansible_collections.netvirt.linux.plugins.module_utils._values import check_bool, check_int, check_owner

RETRY_DELAY = 1.0


class RestoreError(Exception):
    """The lab could not be restored; the host is as it was before the try."""


def check_saved_timeout(value):
    """A saved timeout is what the task wrote: a whole number of seconds (JSON also has NaN and Infinity)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError('timeout must be a whole number of seconds, got %r' % (value,))
    return check_int(value, 1, MAX_TIMEOUT, 'timeout')


def load_lab(owner):
    """(normalised document, purge, timeout) of ``owner``'s saved lab; raises RestoreError."""
    path = lab_path(owner)
    try:
        with open(path) as f:
            saved = json.load(f)
    except (IOError, OSError) as e:
        raise RestoreError('cannot read %s: %s' % (path, e.strerror))
    except ValueError as e:
        raise RestoreError('%s is not JSON: %s' % (path, e))
    if not isinstance(saved, dict) or saved.get('format') != FORMAT or saved.get('owner') != owner:
        raise RestoreError('%s is not a lab that netvirt.linux saved for owner %s (format %s)'
                           % (path, owner, FORMAT))
    document = saved.get('document')
    errors = []
    if not isinstance(document, dict):
        errors.append('document: must be a dictionary, got %r' % (document,))
    for key, check in (('purge', lambda value: check_bool(value, 'purge')),
                       ('timeout', check_saved_timeout)):
        try:
            check(saved.get(key))
        except ValueError as e:
            errors.append('%s: %s' % (key, e))
    if not errors:
        # A restore only builds the lab: what persists it is the task's.
        document = dict((key, value) for key, value in document.items() if key not in ('persist', 'persist_timeout'))
        try:
            return normalise_document(document, owner=owner), saved['purge'], saved['timeout']
        except ModelError as e:
            errors = e.errors
    raise RestoreError('%s: %s' % (path, '; '.join(errors)))


def restore_once(doc, purge, signals):
    """Plan and apply ``doc`` once, under the host lock: the texts of what it did."""
    with Kernel() as kernel:
        with host_lock():
            plan = plan_document(doc, StateReader(kernel, bulk=True), False, False, False, purge)
            apply_plan(kernel, plan, signals)
    return plan.texts


def try_once(doc, purge, signals):
    """(texts, None) when the lab is there, (None, why not) when the try changed nothing or was undone."""
    try:
        return restore_once(doc, purge, signals), None
    except (PlanError, ApplyError, JournalError, KernelError) as e:
        return None, str(e)


def restore(owner, out=sys.stdout, clock=time.monotonic, sleep=time.sleep):
    """Restore ``owner``'s lab, trying again until its timeout; raises RestoreError."""
    doc, purge, timeout = load_lab(owner)
    deadline = clock() + timeout
    tries = 0
    with signals_held(immediate=True) as signals:
        while True:
            if signals:  # one that came between two tries, after the first had begun to apply
                raise Interrupted(signals[0])
            signals.immediate = True  # until a try's first change (apply_plan), a stop is at once
            tries += 1
            texts, failure = try_once(doc, purge, signals)
            if failure is None:
                break
            if clock() + RETRY_DELAY > deadline:
                raise RestoreError('lab %s not restored after %d tries in %ss: %s' % (owner, tries, timeout, failure))
            if tries == 1:
                out.write('lab %s: %s; trying again for up to %ss\n' % (owner, failure, timeout))
                out.flush()  # to the journal now, not when the unit ends
            sleep(RETRY_DELAY)
    for text in texts:
        out.write('%s\n' % text)
    out.write('lab %s restored: %d actions%s\n' % (owner, len(texts), ' after %d tries' % tries if tries > 1 else ''))


def main(argv, out=sys.stdout, err=sys.stderr):
    """``restore.py OWNER``: 0 when the lab is there, 1 with a message on stderr (the journal) when not."""
    if len(argv) != 1:
        err.write('usage: restore.py OWNER\n')
        return 2
    try:
        owner = check_owner(argv[0])
    except ValueError as e:
        err.write('%s\n' % e)
        return 2
    if not HAS_PYROUTE2:
        err.write('lab %s not restored: pyroute2 is not installed for %s (Debian: python3-pyroute2)\n'
                  % (owner, sys.executable))
        return 1
    try:
        restore(owner, out)
    except RestoreError as e:
        err.write('%s\n' % e)
        return 1
    except (Interrupted, ApplyInterrupted) as e:
        err.write('lab %s not restored: %s\n' % (owner, e))
        return 1
    out.flush()
    return 0
