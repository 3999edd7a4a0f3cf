# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every link kind shares, and the interface the engine calls a kind through.

PRIVATE: not a public API of the collection.

A kind is one instance of a ``LinkKind`` subclass, in a file of its own.  The model,
the plan, the kernel and the inventory never ask which kind a link is: they call
its kind.  The defaults here are those of a link with nothing of its own.
Kinds import _values and _ops only (neither imports anything of ours), and never
pyroute2: ``encode`` returns the keywords of pyroute2's ``link('add')`` and
``decode`` reads a decoded message, so that the kernel layer stays the one
place that talks to the kernel.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.netvirt.linux.plugins.module_utils._ops import ADD_LINK
from ansible_collections.netvirt.linux.plugins.module_utils._tc import normalise_tc
from ansible_collections.netvirt.linux.plugins.module_utils._values import (
    MIN_MTU, MAX_MTU, join_path, check_interface_name, check_name, check_int, check_bool, normalise_cidr,
    normalise_mac, ns_label, where,
)


class Option:
    """One option of a kind: the one schema its module's argument_spec is made from (see
    argument_spec) and its DOCUMENTATION must declare (tests/unit's test_kinds holds them to it).

    ``required``: needed when the link is present.  ``default``: what the model fills in.
    ``elements`` and ``suboptions`` (Options): a list's items, a dict's (or list of dicts') keys.
    """

    __slots__ = ('name', 'type', 'default', 'choices', 'required', 'description', 'elements', 'suboptions')

    def __init__(self, name, type, description, default=None, choices=None, required=False, elements=None,
                 suboptions=None):
        self.name = name
        self.type = type
        self.default = default
        self.choices = tuple(choices) if choices else None
        self.required = required
        self.description = description
        self.elements = elements
        self.suboptions = tuple(suboptions) if suboptions else None

    def __repr__(self):
        return 'Option(%r)' % self.name

    def argument_spec(self, required=False):
        """This option in an AnsibleModule argument_spec (``required``: there, whatever the state)."""
        spec = {'type': self.type}
        for key, value in (('default', self.default), ('elements', self.elements)):
            if value is not None:
                spec[key] = value
        if self.choices:
            spec['choices'] = list(self.choices)
        if required:
            spec['required'] = True
        if self.suboptions:
            spec['options'] = argument_spec(self.suboptions, required=True)
        return spec


def argument_spec(options, required=False):
    """An argument_spec of ``options``; ``required`` makes their required ones required in it (not only
    when the link is present: within a dict, such as a veth's peer or a VXLAN's fdb entry)."""
    return dict((option.name, option.argument_spec(required and option.required)) for option in options)


# A link end's shaping (_tc), as a module and a veth's peer take it.
TC_SCHEMA = (
    Option('delay', 'str', 'Delay added to each packet (20ms, 500us, 1s).'),
    Option('jitter', 'str', 'Random variation of the delay, with delay.'),
    Option('loss', 'str', 'Share of packets dropped (1%, 0.5%).'),
    Option('duplicate', 'str', 'Share of packets sent twice.'),
    Option('reorder', 'str', 'Share of packets sent at once, ahead of the delayed others, with delay.'),
    Option('corrupt', 'str', 'Share of packets with one bit flipped.'),
    Option('rate', 'str', 'Rate the end sends at, at most (500kbit, 10mbit, 1gbit).'),
    Option('limit', 'int', 'Packets the impairment queue holds (1000 unless given).'),
    Option('enabled', 'bool', 'False removes the shaping and keeps the declaration.', default=True),
)

# The options of one link end, as a module and a veth's peer take them (the model: normalise_end).
END_SCHEMA = (
    Option('name', 'str', 'Interface name.', required=True),
    Option('netns', 'str', 'Named network namespace the link lives in.'),
    Option('up', 'bool', 'Administrative state of the link.', default=True),
    Option('mtu', 'int', 'MTU.'),
    Option('mac', 'str', 'Unicast MAC address.'),
    Option('addresses', 'list', 'The exact list of addresses (CIDR).', elements='str'),
    Option('master', 'str', 'Bridge, in the same namespace, to attach the link to.'),
    Option('tc', 'dict', 'Shaping of what leaves the end: delay, loss, rate.', suboptions=TC_SCHEMA),
    Option('tc_ingress', 'dict', 'Shaping of what arrives at the end, with the fields of tc.', suboptions=TC_SCHEMA),
)
END_OPTIONS = tuple(option.name for option in END_SCHEMA)
# The options of every link entry.
ENTRY_OPTIONS = ('kind', 'state') + END_OPTIONS + ('recreate',)


def normalise_end(c, entry, path, defaults_up=True):
    """Common options of one link end (a link, or the peer of a veth)."""
    end = {
        'name': c.check(join_path(path, 'name'), check_interface_name, entry.get('name'), 'name'),
        'netns': None,
        'up': None,
        'mtu': None,
        'mac': None,
        'addresses': None,
        'master': None,
        'tc': None,
        'tc_ingress': None,
    }
    if entry.get('netns') is not None:
        end['netns'] = c.check(join_path(path, 'netns'), check_name, entry['netns'], 'netns')
    up = entry.get('up', defaults_up)
    if up is not None:
        end['up'] = c.check(join_path(path, 'up'), check_bool, up, 'up')
    if entry.get('mtu') is not None:
        end['mtu'] = c.check(join_path(path, 'mtu'), check_int, entry['mtu'], MIN_MTU, MAX_MTU, 'mtu')
    if entry.get('mac') is not None:
        end['mac'] = c.check(join_path(path, 'mac'), normalise_mac, entry['mac'])
    if entry.get('addresses') is not None:
        addresses = entry['addresses']
        if not isinstance(addresses, list):
            c.add(join_path(path, 'addresses'), 'must be a list of CIDR strings, got %r' % (addresses,))
        else:
            normal = []
            for i, cidr in enumerate(addresses):
                value = c.check(join_path(path, 'addresses[%d]' % i), normalise_cidr, cidr)
                if value is not None and value in normal:
                    c.add(join_path(path, 'addresses[%d]' % i), 'address %s is listed twice' % value)
                elif value is not None:
                    normal.append(value)
            end['addresses'] = normal
    if entry.get('master') is not None:
        end['master'] = c.check(join_path(path, 'master'), check_interface_name, entry['master'], 'master')
    for field in ('tc', 'tc_ingress'):
        if entry.get(field) is not None:
            end[field] = normalise_tc(c, entry[field], join_path(path, field))
    return end


def attr(nla, name, default=None):
    """An attribute of a decoded message, ``default`` when it is absent."""
    value = nla.get_attr(name)
    return default if value is None else value


class LinkKind:
    """A link kind.  Subclasses set the class attributes and override what differs."""

    name = None  # the kind in a document (kind: macvlan)
    kernel_kind = None  # IFLA_INFO_KIND, when it differs from ``name``
    options = ()  # Option, beyond the options of every link entry
    immutable = ()  # options the kernel cannot change on an existing link: a difference means recreating it
    exclusive = ()  # pairs of options a link cannot have both of (its module refuses them together)
    # Options changed in place (SET_LINK takes them), encoded by ``encode`` as on creation.
    changeable = ()
    # Options the add step takes beyond mtu and mac: (required, optional).
    add_options = ((), ())
    # What the model cannot check alone: a link with a peer (two ends), a link that is others' master.
    paired = False
    takes_ports = False
    # Made by an ioctl inside its namespace (tun/tap): no ifindex can be asked for, mtu and mac come after.
    made_in_namespace = False
    # Made with an address of its own when the entry gives none, so that the kernel never picks another
    # (a bridge takes its lowest port's, and another one's when that port leaves).
    pins_address = False
    # Read back by decode, and reported by netns_info as the document writes them.
    reported = ()

    def __init__(self):
        self._add_required = frozenset(self.add_options[0])
        self._add_takes = frozenset(self.add_options[0] + self.add_options[1] + ('mtu', 'mac'))
        # What the model fills in for an option left out: the schema's, which the module's argument_spec has too.
        self.defaults = dict((option.name, option.default) for option in self.options)

    def __repr__(self):
        return 'LinkKind(%r)' % self.name

    @property
    def option_names(self):
        return tuple(option.name for option in self.options)

    # --- model ---------------------------------------------------------------

    def normalise(self, c, entry, path, state, link):
        """The kind's own options of one entry, validated and with defaults (errors go to ``c``)."""
        return {}

    # --- plan ----------------------------------------------------------------

    def namespaces(self, link):
        """[(netns, option)]: namespaces other than its own that creating the link needs."""
        return []

    def references(self, link):
        """[(netns, name, option, what)]: links that must exist (or be planned) to create this one."""
        return []

    def create_text(self, link, verb):
        return '%s %s %s%s' % (verb, self.name, link['name'], where(link['netns']))

    def create_options(self, link):
        """The kind's options of the add step, from a normalised entry."""
        return {}

    def add_step(self, netns, name, owner, options, index=None):
        """The ADD_LINK step; a misspelt or missing option fails here, when the plan is made."""
        if not (options.keys() >= self._add_required and self._add_takes.issuperset(options)):
            raise TypeError('adding a %s: unknown option %s; missing option %s; it takes %s' % (
                self.name, ', '.join(sorted(set(options) - self._add_takes)) or 'none',
                ', '.join(sorted(self._add_required - set(options))) or 'none', ', '.join(sorted(self._add_takes))))
        args = {'netns': netns, 'name': name, 'kind': self.name, 'owner': owner, 'options': options}
        if index is not None:
            args['index'] = index
        return ADD_LINK(**args)

    def immutable_differences(self, link, current, reader):
        """[(option, wanted, found)] for what the kernel cannot change on an existing link."""
        differences = []
        for option in self.immutable:
            wanted = link.get(option)
            if wanted is None:
                continue
            found = current.get(option)
            if wanted != found:
                differences.append((option, wanted, found))
        return differences

    def diff_immutable(self, link, current, reader, diff):
        """Put the immutable options the task set into the link's diff (_diff.ObjectDiff; current None: a new link)."""
        for option in self.immutable:
            if link.get(option) is not None:
                diff.field(option, current and current.get(option), link[option])

    def snapshot(self, current, link, reader):
        """What undoing the removal of ``current`` needs beyond its ends' attributes and addresses.

        None when it cannot be brought back (its parent is in no namespace we can name).
        """
        return {}

    # --- kernel --------------------------------------------------------------

    def parent(self, netns, options):
        """(netns, name) of the parent a link is made on (the request goes to its namespace), or None."""
        return None

    def encode(self, options, request):
        """Keywords of pyroute2's link('add') for the kind's options (mtu and mac aside).

        ``request`` gives ifindexes and namespace descriptors (see _kernel's _AddRequest).
        """
        return {'kind': self.kernel_kind or self.name}

    def label(self, options):
        """What the link is called in an error message."""
        return self.name

    def marked_ends(self, netns, name, options):
        """(netns, name) of each end the owner's mark goes on."""
        return [(netns, name)]

    def decode(self, link, data, attrs, name_of):
        """Put the kind's fields read from IFLA_INFO_DATA (``data``) into ``link``.

        ``attrs`` are the message's attributes by name, ``name_of(ifindex)`` names a
        link of the same namespace.
        """

    def restore_options(self, snapshot):
        """The add step's options that bring back a removed link, from its snapshot."""
        return self.create_options(snapshot)

    def snapshot_ends(self, snapshot):
        return [snapshot]

    def restore_steps(self, snapshot):
        """Steps (of _ops) that complete a restored link before its ends' addresses and state."""
        return []

    # --- diagram -------------------------------------------------------------

    def far_ends(self, link):
        """(addresses, label): the remote hosts a diagram draws this link's dashed edges to."""
        return [], None

    # --- inventory -----------------------------------------------------------

    def report(self, link, kernel):
        """The kind's fields of a link as netns_info reports it (and the topology module takes it)."""
        return dict((option, link[option]) for option in self.reported if option in link)


# The options every kind made on a parent link in another namespace shares (macvlan, ipvlan, macvtap).
PARENT_OPTIONS = (
    Option('link', 'str', 'The parent interface.', required=True),
    Option('link_netns', 'str', 'Namespace of the parent; omitted means the namespace the module runs in.'),
)


class ParentKind(LinkKind):
    """A link made on a parent interface that may live in another namespace (macvlan, ipvlan, macvtap)."""

    immutable = ('link', 'link_netns', 'mode')
    add_options = (('link', 'link_netns', 'mode'), ('index',))
    modes = ()
    # The IFLA_INFO_DATA attribute of the mode, and the kernel's numbers of the modes.
    mode_attr = None
    mode_numbers = {}
    # pyroute2 takes a macvlan's mode by name, an ipvlan's by number.
    mode_by_number = False

    def normalise(self, c, entry, path, state, link):
        options = {'link': None, 'link_netns': None, 'mode': entry.get('mode') or self.defaults['mode']}
        if entry.get('link') is not None:
            options['link'] = c.check(join_path(path, 'link'), check_interface_name, entry['link'], 'link')
        elif state == 'present':
            c.add(join_path(path, 'link'), 'a %s needs link: the parent interface' % self.name)
        if entry.get('link_netns') is not None:
            options['link_netns'] = c.check(join_path(path, 'link_netns'), check_name, entry['link_netns'],
                                            'link_netns')
        if options['mode'] not in self.modes:
            c.add(join_path(path, 'mode'), 'mode %r is not one of %s' % (options['mode'], ', '.join(self.modes)))
        return options

    def namespaces(self, link):
        return [(link['link_netns'], 'link_netns')]

    def references(self, link):
        return [(link['link_netns'], link['link'], 'link', 'parent')]

    def create_text(self, link, verb):
        return '%s %s %s%s (parent %s%s, mode %s)' % (verb, self.name, link['name'], where(link['netns']),
                                                      link['link'], where(link['link_netns']), link['mode'])

    def create_options(self, link):
        return {'link': link['link'], 'link_netns': link['link_netns'], 'mode': link['mode']}

    def immutable_differences(self, link, current, reader):
        differences = []
        parent = reader.macvlan_parent(current, link['link_netns'])
        current['link'], current['link_netns'] = (parent[1], parent[0]) if parent else ('(elsewhere)', None)
        if parent is None or parent[0] != link['link_netns']:
            differences.append(('link_netns', ns_label(link['link_netns']),
                                ns_label(parent[0]) if parent else 'another namespace'))
        for option in ('link', 'mode'):
            wanted = link.get(option)
            if wanted is not None and wanted != current.get(option):
                differences.append((option, wanted, current.get(option)))
        return differences

    def diff_immutable(self, link, current, reader, diff):
        for option in self.immutable:
            # link_netns None is the namespace the module runs in: always compared.
            if link.get(option) is not None or option == 'link_netns':
                diff.field(option, current and current.get(option), link[option])

    def snapshot(self, current, link, reader):
        parent = reader.macvlan_parent(current, link.get('link_netns'))
        return {'parent': parent} if parent is not None else None

    def parent(self, netns, options):
        return options['link_netns'], options['link']

    def encode(self, options, request):
        mode = self.mode_numbers[options['mode']] if self.mode_by_number else options['mode']
        return {'kind': self.name, self.name + '_mode': mode}

    def decode(self, link, data, attrs, name_of):
        mode = attr(data, self.mode_attr, 0)  # pyroute2 decodes it to a name; older ones may not
        if not isinstance(mode, str):
            mode = dict((v, k) for k, v in self.mode_numbers.items()).get(mode, 'unknown')
        link['mode'] = mode
        link['parent_index'] = attrs.get('IFLA_LINK')
        link['parent_netnsid'] = attrs.get('IFLA_LINK_NETNSID')

    def restore_options(self, snapshot):
        return {'link': snapshot['parent'][1], 'link_netns': snapshot['parent'][0], 'mode': snapshot['mode']}

    def report(self, link, kernel):
        entry = {'mode': link['mode']}
        parent = kernel.read_parent(link)
        entry['link'], entry['link_netns'] = (parent[1], parent[0]) if parent else (None, None)
        return entry


# The kernel's numbers of the MACVLAN modes; macvlan and macvtap share them (IFLA_MACVLAN_MODE).
MACVLAN_MODE_NUMBERS = {'private': 1, 'vepa': 2, 'bridge': 4, 'passthru': 8, 'source': 16}
MACVLAN_MODES = ('private', 'vepa', 'bridge', 'passthru', 'source')
