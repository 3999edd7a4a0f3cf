# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The operations between plan and kernel: each one's name and the keyword arguments it takes.

PRIVATE: not a public API of the collection.

The plan builds its steps by calling these (``ADD_ADDRESS(netns=..., name=..., cidr=...)``),
and a step is plain data, ``(name, args)``, so that check mode can print a plan and the real
run apply exactly it.  A misspelt argument fails when the plan is made, not halfway through
applying it.  The kernel marks the method that runs each operation with ``@executes``; a
unit test holds every executor's signature to the arguments declared here.

This module imports nothing: plan, apply and kernel all depend on it, and it on none of them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

OPERATIONS = {}  # name -> Operation


class Operation:
    """A kernel operation: ``required`` arguments must be given, ``optional`` ones may be."""

    def __init__(self, name, required, optional):
        self.name = name
        self.required = tuple(required)
        self.optional = tuple(optional)
        self._required = frozenset(self.required)
        self._takes = frozenset(self.required + self.optional)

    def __call__(self, **args):
        """One step of a plan, ``(name, args)``; raises TypeError on an argument it does not take."""
        if args.keys() >= self._required and self._takes.issuperset(args):
            return self.name, args  # a large lab plans thousands of steps: the check stays cheap
        problems = []
        unknown = sorted(set(args) - self._takes)
        if unknown:
            problems.append('unknown argument %s' % ', '.join(unknown))
        missing = [arg for arg in self.required if arg not in args]
        if missing:
            problems.append('missing argument %s' % ', '.join(missing))
        raise TypeError('operation %s: %s; it takes %s'
                        % (self.name, '; '.join(problems), ', '.join(self.required + self.optional)))

    def __repr__(self):
        return 'Operation(%r)' % self.name


def _declare(name, required, optional=''):
    if name in OPERATIONS:
        raise ValueError('operation %s is declared twice' % name)
    OPERATIONS[name] = Operation(name, required.split(), optional.split())
    return OPERATIONS[name]


def executes(operation):
    """Marks a Kernel method as the one that runs ``operation``."""
    def mark(method):
        method.executes = operation
        return method
    return mark


def executors(cls):
    """{operation name: method name} of the methods of ``cls`` marked with ``executes``.

    Raises at import time when an operation has no executor, or two.
    """
    found = {}
    for attr, value in vars(cls).items():
        operation = getattr(value, 'executes', None)
        if not isinstance(operation, Operation):
            continue
        if operation.name in found:
            raise ValueError('operation %s has two executors: %s and %s'
                             % (operation.name, found[operation.name], attr))
        found[operation.name] = attr
    missing = sorted(set(OPERATIONS) - set(found))
    if missing:
        raise ValueError('no method of %s executes %s' % (cls.__name__, ', '.join(missing)))
    return found


# Namespaces.  The owner is the lab's name, marked on the namespace's lo.
CREATE_NAMESPACE = _declare('create_namespace', 'netns owner')
DELETE_NAMESPACE = _declare('delete_namespace', 'netns')
# A run with a verify removes a namespace only once its probes agree (a removal cannot be undone); until
# then the namespace is cut off: the veth ends outside it go down (quiet_namespace returns them), and the
# undo brings them up again.
# ``keep``: [netns, name] of ends it must not bring down (a later action names them); ``gone``: namespaces the
# run removes too (an end there goes with its namespace).
QUIET_NAMESPACE = _declare('quiet_namespace', 'netns keep gone')
BRING_UP_LINKS = _declare('bring_up_links', 'links')
# An entry of /run/netns that is not a namespace (a killed run's plain file), and its undo.
REMOVE_STALE_NAMESPACE = _declare('remove_stale_namespace', 'netns')
RESTORE_STALE_NAMESPACE = _declare('restore_stale_namespace', 'netns mode')

# Links.  ``kind`` names a kind of _kinds, whose add_step checks ``options`` (the kind's own, mtu and mac)
# when the plan is made.  ``index`` asks for an ifindex: a restored link gets its old one.
ADD_LINK = _declare('add_link', 'netns name kind owner options', 'index')
# ``ingress``: the (netns, device) of each end's tc_ingress device, which go with the link.
DELETE_LINK = _declare('delete_link', 'netns name', 'ingress')
# None leaves an attribute alone; master '' detaches the link, owner '' clears the mark.
SET_LINK = _declare('set_link', 'netns name', 'mtu mac up master stp forward_delay owner')
# Moves and/or renames; up, master, addresses, routes, qdisc and ingress put back what the kernel drops (an undo).
MOVE_LINK = _declare('move_link', 'netns name to_netns to_name', 'up master addresses routes qdisc ingress')
# The undo of a removal: the snapshot is what the plan read of the link before removing it.
RESTORE_LINK = _declare('restore_link', 'snapshot')
ADD_FDB = _declare('add_fdb', 'netns name mac dst')
DELETE_FDB = _declare('delete_fdb', 'netns name mac dst')
# The root qdisc of a link end (_tc's params), with ``handle``; its deletion takes the one with ``handle``.
SET_QDISC = _declare('set_qdisc', 'netns name handle params')
DELETE_QDISC = _declare('delete_qdisc', 'netns name handle')
# What arrives at a link end (its tc_ingress, _tc's params): shaped by the root qdisc of an ifb device.
SET_INGRESS = _declare('set_ingress', 'netns name params')
DELETE_INGRESS = _declare('delete_ingress', 'netns name')

# Addresses; ``routes`` are those the kernel dropped with the link's last IPv4 address.
ADD_ADDRESS = _declare('add_address', 'netns name cidr', 'routes')
DELETE_ADDRESS = _declare('delete_address', 'netns name cidr')

# Routes, each a route of the model's shape.
ADD_ROUTE = _declare('add_route', 'netns route')
REPLACE_ROUTE = _declare('replace_route', 'netns route')
DELETE_ROUTE = _declare('delete_route', 'netns route')

# Sysctls and files (content None removes the file).
SET_SYSCTL = _declare('set_sysctl', 'netns key value')
# The undo of a change inside a namespace the same run creates: undoing the creation takes it.
UNDONE_WITH_NAMESPACE = _declare('undone_with_namespace', 'netns')
WRITE_FILE = _declare('write_file', 'path content')
# write_file writes PATH + this first and renames it onto PATH: a run killed between leaves it behind.
PARTIAL_FILE_SUFFIX = '.netvirt-tmp'

# What persist leaves on the host (_persist): {path: ('file', content), ('link', target) or None for nothing};
# ``reload`` asks a running systemd to read its units again.  One action, so that a lab's saved document, its
# unit and the engine change together or not at all; its undo gives each path as the plan read it.
INSTALL_PERSISTENCE = _declare('install_persistence', 'paths reload')

# NAT: the payload is nft JSON that replaces the whole table.
LOAD_NAT_TABLE = _declare('load_nat_table', 'netns table payload')
DELETE_NAT_TABLE = _declare('delete_nat_table', 'netns table')
