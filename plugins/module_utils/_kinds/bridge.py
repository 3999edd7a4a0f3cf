# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""bridge: a software switch; other links name it as their master, and ``ports`` lists them.

PRIVATE: not a public API of the collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.netvirt.linux.plugins.module_utils._kinds._base import LinkKind, Option, attr
from ansible_collections.netvirt.linux.plugins.module_utils._ops import SET_LINK
from ansible_collections.netvirt.linux.plugins.module_utils._values import (
    check_bool, check_int, check_interface_name, join_path,
)


class Bridge(LinkKind):
    name = 'bridge'
    options = (
        Option('ports', 'list', 'The exact set of ports, in the bridge\'s namespace.', elements='str'),
        Option('stp', 'bool', 'Spanning tree protocol.'),
        Option('forward_delay', 'int', 'Forward delay in seconds (0-30; 2 or more with STP).'),
    )
    add_options = ((), ('stp', 'forward_delay', 'index'))
    takes_ports = True
    # Left to itself the bridge has its lowest port's MAC, and another one's when that port leaves: every
    # neighbour's ARP entry for the bridge's address then names a MAC nobody has, and the containers lose
    # their gateway until the entry goes stale (up to 30 s).  Docker's bridge driver gives its own too.
    pins_address = True
    changeable = ('stp', 'forward_delay')
    reported = changeable

    def normalise(self, c, entry, path, state, link):
        options = {'ports': None, 'stp': None, 'forward_delay': None}
        ports = entry.get('ports')
        if ports is not None:
            if not isinstance(ports, list):
                c.add(join_path(path, 'ports'), 'must be a list of interface names, got %r' % (ports,))
            else:
                names = []
                for i, port in enumerate(ports):
                    name = c.check(join_path(path, 'ports[%d]' % i), check_interface_name, port, 'port')
                    if name is not None and name in names:
                        c.add(join_path(path, 'ports[%d]' % i), 'port %s is listed twice' % name)
                    elif name is not None:
                        if name == link['name']:
                            c.add(join_path(path, 'ports[%d]' % i), 'a bridge cannot be its own port')
                        names.append(name)
                options['ports'] = sorted(names)
        if entry.get('stp') is not None:
            options['stp'] = c.check(join_path(path, 'stp'), check_bool, entry['stp'], 'stp')
        if entry.get('forward_delay') is not None:
            options['forward_delay'] = c.check(join_path(path, 'forward_delay'), check_int,
                                               entry['forward_delay'], 0, 30, 'forward_delay')
            if options['stp'] and options['forward_delay'] is not None and options['forward_delay'] < 2:
                c.add(join_path(path, 'forward_delay'),
                      'forward_delay %d is below 2 seconds, which STP does not allow' % options['forward_delay'])
        if link['master'] is not None:
            c.add(join_path(path, 'master'), 'a bridge cannot be enslaved to another bridge')
        return options

    def create_options(self, link):
        return {'stp': link['stp'], 'forward_delay': link['forward_delay']}

    def snapshot(self, current, link, reader):
        return {'ports': reader.ports(current['netns'], current['name'])}

    def encode(self, options, request):
        kwargs = {'kind': 'bridge'}
        if options.get('stp') is not None:
            kwargs['br_stp_state'] = 1 if options['stp'] else 0
        if options.get('forward_delay') is not None:
            kwargs['br_forward_delay'] = options['forward_delay'] * 100
        return kwargs

    def decode(self, link, data, attrs, name_of):
        link['stp'] = bool(attr(data, 'IFLA_BR_STP_STATE', 0))
        link['forward_delay'] = attr(data, 'IFLA_BR_FORWARD_DELAY', 0) // 100

    def restore_steps(self, snapshot):
        return [SET_LINK(netns=snapshot['netns'], name=port, master=snapshot['name'])
                for port in snapshot.get('ports') or []]


KIND = Bridge()
