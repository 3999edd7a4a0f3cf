# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one flow every module runs: desired -> current -> plan -> apply -> result.

PRIVATE: not a public API of the collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gc
import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.netvirt.linux.plugins.module_utils._model import (
    DEFAULT_OWNER, ModelError, normalise_document,
)
from ansible_collections.netvirt.linux.plugins.module_utils._plan import (
    PlanError, StateReader, plan_document,
)
from ansible_collections.netvirt.linux.plugins.module_utils._apply import (
    ApplyError, ApplyInterrupted, Interrupted, VerifyFailed, apply_plan, host_lock, signal_name, signals_held,
)
from ansible_collections.netvirt.linux.plugins.module_utils._probe import ProbeError
from ansible_collections.netvirt.linux.plugins.module_utils._verify import Verification
from ansible_collections.netvirt.linux.plugins.module_utils._journal import JournalError
from ansible_collections.netvirt.linux.plugins.module_utils._kinds import KINDS
from ansible_collections.netvirt.linux.plugins.module_utils._kinds._base import END_OPTIONS, END_SCHEMA, argument_spec
from ansible_collections.netvirt.linux.plugins.module_utils import _kernel

OWNERSHIP_OPTIONS = dict(
    owner=dict(type='str', default=DEFAULT_OWNER),
    force=dict(type='bool', default=False),
)


def link_module_arguments(kind):
    """The AnsibleModule arguments of a link kind's module, made from the kind's schema (_kinds):
    the options of every link end, ownership and state, the kind's own options, and ``recreate``
    when the kind has attributes the kernel cannot change.  DOCUMENTATION declares the same (the
    netvirt.linux.link doc fragment holds the shared ones); tests/unit's test_kinds holds them to it."""
    handler = KINDS[kind]
    spec = argument_spec(END_SCHEMA, required=True)
    spec.update(OWNERSHIP_OPTIONS)
    spec['state'] = dict(type='str', default='present', choices=['present', 'absent'])
    spec.update(argument_spec(handler.options))
    if handler.immutable:
        spec['recreate'] = dict(type='bool', default=False)
    arguments = dict(argument_spec=spec, supports_check_mode=True)
    required = [option.name for option in handler.options if option.required]
    if required:
        arguments['required_if'] = [('state', 'present', required)]
    if handler.exclusive:
        arguments['mutually_exclusive'] = [tuple(pair) for pair in handler.exclusive]
    return arguments


def link_entry(params, kind):
    """A link module's parameters as one entry of the document's ``links``."""
    entry = dict((key, params.get(key)) for key in END_OPTIONS)
    entry['kind'] = kind
    entry['state'] = params['state']
    for option in KINDS[kind].options:
        entry[option.name] = params.get(option.name)
    if 'recreate' in params:
        entry['recreate'] = params['recreate']
    return entry


def run_link_module(module, kind):
    """Run a link kind's module (its AnsibleModule made with link_module_arguments)."""
    run_module(module, {'links': [link_entry(module.params, kind)]})


def run_module(module, document, single=True, purge=False, remove_all=False):
    """Plan and (unless check mode) apply ``document``; exit the module with the result.

    ``single``: a per-object module (errors name its options; in check mode a
    missing namespace may come from an earlier task).  ``purge``: also remove
    what the owner made that the document no longer lists.  ``remove_all``:
    validate the document, then remove everything the owner made.
    """
    echo = {} if single else {'invocation': lab_invocation(module.params)}
    if not _kernel.HAS_PYROUTE2:
        module.fail_json(msg=missing_required_lib('pyroute2 (Debian: python3-pyroute2)'),
                         exception=repr(_kernel.PYROUTE2_IMPORT_ERROR), **echo)
    # A module is a short-lived process: the cyclic collector only walks the
    # growing heap of netlink messages and sockets again and again (about 40%
    # of the time at 1,000 namespaces), and everything is freed at exit anyway.
    gc.disable()
    params = module.params
    # SIGINT, SIGTERM and SIGHUP are caught from here to the result: one that
    # comes before the first change stops the run there, one that comes while
    # applying rolls the run back (apply_plan), and either way the module ends
    # with a result Ansible can read.
    verification = unverified = None
    with signals_held(immediate=True) as signals:
        try:
            try:
                doc = normalise_document(document, owner=params.get('owner') or DEFAULT_OWNER, single=single)
                verification = Verification.from_params(params)
                if remove_all:
                    doc = dict(doc, namespaces=[], links=[], routes=[], nat=[])
                force = params.get('force', False)
                with _kernel.Kernel() as kernel:
                    if verification:
                        verification.refuse_unrunnable(doc, kernel)
                    if module.check_mode:
                        plan = plan_document(doc, StateReader(kernel, bulk=not single), True, force, single, purge)
                        if verification:
                            verification.refuse_removed_namespaces(plan)
                            verification.check_mode = True
                            unverified = verification(kernel)
                    else:
                        with host_lock():
                            plan = plan_document(doc, StateReader(kernel, bulk=not single), False, force, single,
                                                 purge)
                            if verification:
                                verification.refuse_removed_namespaces(plan)
                            apply_plan(kernel, plan, signals, verification,
                                       keep_unverified=bool(verification and not verification.rollback))
            finally:
                signals.immediate = False  # from here on a signal only waits for the result to be written
        except (ModelError, PlanError, ProbeError) as e:
            module.fail_json(msg='; '.join(e.errors), errors=e.errors, **echo)
        except VerifyFailed as e:
            module.fail_json(msg=str(e), verify=verification.results, rolled_back=e.undone,
                             changed=bool(e.changes and not e.undone), actions=plan.texts, **echo)
        except Interrupted as e:
            module.fail_json(msg=str(e), signal=signal_name(e.signum), **echo)
        except ApplyInterrupted as e:
            module.fail_json(msg=str(e), signal=signal_name(e.signals[0]), **echo)
        except (ApplyError, JournalError, _kernel.KernelError) as e:
            module.fail_json(msg=str(e), **echo)
        except Exception as e:
            module.fail_json(msg='unexpected error (%s): %s' % (type(e).__name__, e),
                             exception=traceback.format_exc(), **echo)
        if signals:
            module.warn('%s came after the last change; the run was complete and is kept'
                        % signal_name(signals[0]))
        for warning in plan.warnings:
            module.warn(warning)
        if unverified and not plan.changed:
            module.fail_json(msg=str(VerifyFailed(unverified, 0, False)), verify=verification.results,
                             changed=False, actions=[], **echo)
        if unverified:
            # Check mode has not made the planned changes, which may make these probes agree.
            module.warn('%s (check mode: probed the host as it is, without the %d planned changes)'
                        % (unverified, len(plan.actions)))
        result = dict(changed=plan.changed, actions=plan.texts)
        if verification:
            result['verify'] = verification.results
        if module._diff:
            result['diff'] = plan.diff()
        result.update(echo)
        module.exit_json(**result)


def lab_invocation(params):
    """The result's ``invocation`` for a whole lab: its options, and how many entries each list has.

    Ansible would echo every argument, which for 1,000 namespaces is 200 KB
    of JSON that the controller takes ~0.4 s to receive; the lab is in the
    playbook's variables already.
    """
    return {
        'module_args': dict((key, value) for key, value in params.items() if not isinstance(value, list)),
        'entries': dict((key, len(value)) for key, value in params.items() if isinstance(value, list)),
    }
