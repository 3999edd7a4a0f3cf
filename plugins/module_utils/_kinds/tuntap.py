# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tuntap: a persistent TUN or TAP device, as `ip tuntap add` makes it (no packet information header).

PRIVATE: not a public API of the collection.

The kernel makes it with an ioctl on /dev/net/tun, which acts in the namespace
of the calling thread (see LinkKind.made_in_namespace); it reads back as kind
``tun``, with its owner and group as numeric ids.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.netvirt.linux.plugins.module_utils._kinds._base import LinkKind, Option, attr
from ansible_collections.netvirt.linux.plugins.module_utils._values import check_int, join_path, where

MAX_ID = 2 ** 32 - 2


class Tuntap(LinkKind):
    name = 'tuntap'
    kernel_kind = 'tun'
    options = (
        Option('mode', 'str', 'A layer 3 (tun) or layer 2 (tap) device.', choices=('tun', 'tap'), required=True),
        Option('user', 'str', 'User (name or id) allowed to open the device.'),
        Option('group', 'str', 'Group (name or id) allowed to open the device.'),
    )
    immutable = ('mode', 'user', 'group')
    reported = immutable
    add_options = (('mode',), ('user', 'group'))
    made_in_namespace = True

    def normalise(self, c, entry, path, state, link):
        options = {'mode': entry.get('mode'), 'user': None, 'group': None}
        if options['mode'] not in ('tun', 'tap'):
            if state == 'present' or options['mode'] is not None:
                c.add(join_path(path, 'mode'), "mode %r must be 'tun' or 'tap'" % (options['mode'],))
        for key in ('user', 'group'):
            value = entry.get(key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, str)) or \
                    (isinstance(value, str) and (not value or any(ch.isspace() or ch in ':/' for ch in value))):
                c.add(join_path(path, key), '%s %r must be a name or a numeric id' % (key, value))
            elif isinstance(value, int) or value.lstrip('-').isdigit():
                # The kernel takes an id as a 32-bit number, and (uid_t) -1 means "nobody".
                if c.check(join_path(path, key), check_int, value, 0, MAX_ID, key) is not None:
                    options[key] = value
            else:
                options[key] = value
        return options

    def create_text(self, link, verb):
        return '%s %s %s%s' % (verb, link['mode'], link['name'], where(link['netns']))

    def create_options(self, link):
        return {'mode': link['mode'], 'user': link['user'], 'group': link['group']}

    def immutable_differences(self, link, current, reader):
        differences = []
        for option in self.immutable:
            wanted = link.get(option)
            if wanted is None:
                continue
            found = current.get(option)
            if option in ('user', 'group') and found is not None:
                wanted = reader.numeric_id(option, wanted)
            if wanted != found:
                differences.append((option, wanted, found))
        return differences

    def diff_immutable(self, link, current, reader, diff):
        for option in self.immutable:
            if link.get(option) is None:
                continue
            found = current and current.get(option)
            if option in ('user', 'group') and found is not None and \
                    reader.numeric_id(option, link[option]) == found:
                found = link[option]  # the kernel keeps the id; the task may name it
            diff.field(option, found, link[option])

    def encode(self, options, request):
        kwargs = {'kind': 'tuntap', 'mode': options['mode'], 'ifr': {'no_pi': True}}
        if options.get('user') is not None:
            kwargs['uid'] = request.user_id(options['user'])
        if options.get('group') is not None:
            kwargs['gid'] = request.group_id(options['group'])
        return kwargs

    def label(self, options):
        return options['mode']

    def decode(self, link, data, attrs, name_of):
        link.update(mode={1: 'tun', 2: 'tap'}.get(attr(data, 'IFLA_TUN_TYPE', 0), 'unknown'),
                    user=data.get_attr('IFLA_TUN_OWNER'), group=data.get_attr('IFLA_TUN_GROUP'))


KIND = Tuntap()
