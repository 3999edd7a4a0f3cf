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
    ApplyError, ApplyInterrupted, Interrupted, apply_plan, host_lock, signal_name, signals_held,
)
from ansible_collections.netvirt.linux.plugins.module_utils._journal import JournalError
from ansible_collections.netvirt.linux.plugins.module_utils import _kernel

# Options every link module shares; DOCUMENTATION comes from the
# netvirt.linux.link doc fragment.
LINK_END_OPTIONS = dict(
    name=dict(type='str', required=True),
    netns=dict(type='str'),
    up=dict(type='bool', default=True),
    mtu=dict(type='int'),
    mac=dict(type='str'),
    addresses=dict(type='list', elements='str'),
    master=dict(type='str'),
)
OWNERSHIP_OPTIONS = dict(
    owner=dict(type='str', default=DEFAULT_OWNER),
    force=dict(type='bool', default=False),
)


def link_argument_spec(**own):
    spec = dict(LINK_END_OPTIONS)
    spec.update(OWNERSHIP_OPTIONS)
    spec['state'] = dict(type='str', default='present', choices=['present', 'absent'])
    spec.update(own)
    return spec


def link_entry(params, kind, extra=()):
    """A module's parameters as one entry of the document's ``links``."""
    entry = dict((key, params.get(key)) for key in LINK_END_OPTIONS)
    entry['kind'] = kind
    entry['state'] = params['state']
    for key in extra:
        entry[key] = params.get(key)
    return entry


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
    with signals_held(immediate=True) as signals:
        try:
            try:
                doc = normalise_document(document, owner=params.get('owner') or DEFAULT_OWNER, single=single)
                if remove_all:
                    doc = dict(doc, namespaces=[], links=[], routes=[], nat=[])
                force = params.get('force', False)
                with _kernel.Kernel() as kernel:
                    if module.check_mode:
                        plan = plan_document(doc, StateReader(kernel, bulk=not single), True, force, single, purge)
                    else:
                        with host_lock():
                            plan = plan_document(doc, StateReader(kernel, bulk=not single), False, force, single,
                                                 purge)
                            apply_plan(kernel, plan, signals)
            finally:
                signals.immediate = False  # from here on a signal only waits for the result to be written
        except (ModelError, PlanError) as e:
            module.fail_json(msg='; '.join(e.errors), errors=e.errors, **echo)
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
        result = dict(changed=plan.changed, actions=plan.texts)
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
