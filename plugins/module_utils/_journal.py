# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The journal: what a run of an owner is about to create or remove, written before it applies.

PRIVATE: not a public API of the collection.

The kernel makes a link in one request and its owner's mark (the alias) goes
on in the next; a namespace is a file, then a mount, then the alias on its
``lo``.  A run killed (SIGKILL, a crash, power to the process) between two
such requests leaves an object with no mark, which every later run would take
for someone else's, or a stale file in /run/netns.  So before its first
action a run writes down the namespaces and links its actions (and their
undos) mark for the owner, and removes the note when it ends, killed or not.
The next run of that owner that finds a note takes an unmarked object named
in it for the owner's, marks it, and removes what is not wanted any more.

Fail safe: without a note (lost at a reboot with /run, or never written), an
unmarked object stays someone else's; the note only ever widens what the
owner may touch to objects that are unmarked and that its own run named.

This module talks to no kernel: plan and apply use it, and it imports nothing of ours.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os

JOURNAL_DIR = '/run/netvirt.linux'


def journal_path(owner, directory=JOURNAL_DIR):
    """One journal per owner (an owner is letters, digits, '_', '.' and '-': a plain file name)."""
    return os.path.join(directory, 'journal.%s.json' % owner)


def empty_claims():
    return {'namespaces': set(), 'links': set()}


def claims_of(actions):
    """What ``actions`` and their undos mark for an owner, or leave stale: namespaces and (netns, name) links.

    An operation that takes an ``owner`` puts a mark on what it makes (the
    namespace's lo, the link, both ends of a veth); a link's restore makes it
    again with its mark; removing a namespace passes through a stale file.
    """
    claims = empty_claims()
    for action in actions:
        for op, args in ((action.op, action.args), (action.undo_op, action.undo_args)):
            if op is None:
                continue
            if op in ('create_namespace', 'delete_namespace', 'remove_stale_namespace', 'restore_stale_namespace'):
                claims['namespaces'].add(args['netns'])
            elif op == 'restore_link':
                snapshot = args['snapshot']
                claims['links'].add((snapshot['netns'], snapshot['name']))
                if snapshot.get('peer'):
                    claims['links'].add((snapshot['peer']['netns'], snapshot['peer']['name']))
            elif 'owner' in args and 'name' in args and op != 'set_link':
                claims['links'].add((args['netns'], args['name']))
                options = args.get('options') or {}  # add_link's: a veth's peer is made and marked with it
                if 'peer_name' in options:
                    claims['links'].add((options['peer_netns'], options['peer_name']))
    return claims


def merge_claims(*many):
    merged = empty_claims()
    for claims in many:
        for key in merged:
            merged[key] |= claims[key]
    return merged


def read_claims(owner, directory=JOURNAL_DIR):
    """The claims an interrupted run of ``owner`` left; empty when there is no journal.

    An unreadable journal is reported, never taken for an empty one or for a
    list of claims: it is removed only by hand.
    """
    path = journal_path(owner, directory)
    try:
        with open(path) as f:
            data = json.load(f)
        return {'namespaces': set(data['namespaces']),
                'links': set((netns, name) for netns, name in data['links'])}
    except (IOError, OSError) as e:
        if e.errno == errno.ENOENT:
            return empty_claims()
        raise JournalError('cannot read the journal %s: %s' % (path, e.strerror))
    except (ValueError, KeyError, TypeError):
        raise JournalError('the journal %s is not one this collection wrote; look at it, and remove it by hand '
                           'if no run of owner %s was interrupted' % (path, owner))


def write_claims(owner, claims, directory=JOURNAL_DIR):
    """Replace the journal of ``owner`` with ``claims`` (none: remove it), atomically."""
    path = journal_path(owner, directory)
    if not claims['namespaces'] and not claims['links']:
        try:
            os.unlink(path)
        except OSError as e:
            if e.errno != errno.ENOENT:
                raise JournalError('cannot remove the journal %s: %s' % (path, e.strerror))
        return
    data = {'owner': owner, 'namespaces': sorted(claims['namespaces']),
            'links': [[netns, name] for netns, name in sorted(claims['links'], key=lambda k: (k[0] or '', k[1]))]}
    tmp = path + '.tmp'
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, exist_ok=True)
        with open(tmp, 'w') as f:
            json.dump(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)
    except (IOError, OSError) as e:
        raise JournalError('cannot write the journal %s: %s' % (path, e.strerror))


class JournalError(Exception):
    """The journal cannot be read or written; the message names it."""
