# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The diff of a plan: each object's before and after, over the options a task set.

PRIVATE: not a public API of the collection.

Every diff a plan reports is built by one ``DiffTracker``, and every key and
every object's fields come from the functions here, so that an object reads
the same whichever part of a plan touches it (a route named absent, or one a
purge removes).  ``before`` is None for an object that does not exist before
the plan, ``after`` None for one that is gone after it (or stays absent).
Imports _values only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.netvirt.linux.plugins.module_utils._values import ns_label


def netns_key(name):
    return 'netns %s' % name


def link_key(kind, netns, name):
    return '%s %s/%s' % (kind, ns_label(netns), name)


def route_key(netns, route):
    """``route``: its dest, metric (the kernel's, after IPv6's default) and table."""
    return 'route %s/%s%s table %d' % (ns_label(netns), route['dest'],
                                       ' metric %d' % route['metric'] if route['metric'] else '', route['table'])


def route_fields(route):
    return dict((field, route[field]) for field in ('dest', 'via', 'dev', 'metric', 'table'))


def nat_key(netns, name):
    return 'nat %s/%s' % (ns_label(netns), name)


class ObjectDiff:
    """One object's before and after; fields are added as the plan compares them."""

    __slots__ = ('before', 'after')

    def __init__(self, before, after):
        self.before = before
        self.after = after

    def field(self, name, before, after, known=True):
        """An option the task set: what the object has now, and what it will have.  ``before`` is
        left out when the object does not exist yet, or when it cannot be read (``known`` False:
        a stale entry where a namespace should be)."""
        if self.before is not None and known:
            self.before[name] = before
        self.after[name] = after

    def nest(self, name, other):
        """Another object's diff inside this one's (a veth's peer)."""
        self.field(name, other.before, other.after)


class DiffTracker:
    """The diff of one plan, object by object, in the order the plan first named each."""

    def __init__(self):
        self.objects = {}

    def track(self, key, before, after):
        """The diff of ``key``'s object, whose fields its ObjectDiff then takes."""
        return self.record(key, ObjectDiff(before, after))

    def record(self, key, diff):
        """``key``'s object has ``diff`` (an ObjectDiff); a second record of a key replaces the first."""
        self.objects[key] = diff
        return diff

    def result(self):
        return {'before': dict((key, diff.before) for key, diff in self.objects.items()),
                'after': dict((key, diff.after) for key, diff in self.objects.items())}
