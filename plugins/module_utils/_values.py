# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Single values of the desired state: names, addresses, numbers, and how errors are gathered.

PRIVATE: not a public API of the collection.

Pure functions, importing nothing of this collection: the model, each kind of
object and the kernel layer use them, so none of those has to import another
to check a name.  Each raises ValueError with a message that names the value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import re

# IFNAMSIZ is 16 including the terminating NUL.
MAX_NAME_BYTES = 15
MIN_MTU = 68
MAX_MTU = 65535
MAX_U32 = 2 ** 32 - 1
# Patterns end in \Z, not $: '$' also matches before a final newline, which would let 'x\n' through.
OWNER_PATTERN = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z')
MAC_PATTERN = re.compile(r'^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}\Z')
SYSCTL_COMPONENT = re.compile(r'^[A-Za-z0-9_/-]+\Z')
# An /etc/hosts name: RFC 1123 labels (and '_', which resolvers accept), so that no
# name can end a line, start a comment ('#') or run into the next name.
HOST_LABEL = re.compile(r'^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\Z')
MAX_HOST_NAME = 253
# A NAT table's name (the table is netvirt_NAME): what nft's own grammar takes as a bare
# word, so `nft list table ip netvirt_NAME` typed by a person means the same table.
NAT_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}\Z')
ROUTE_TABLES = {'main': 254, 'local': 255, 'default': 253}


class ModelError(Exception):
    """The desired state is invalid.  ``errors`` holds one line per problem."""

    def __init__(self, errors):
        self.errors = list(errors)
        super(ModelError, self).__init__('; '.join(self.errors))


def join_path(prefix, field):
    if not prefix:
        return field
    if field.startswith('['):
        return prefix + field
    return prefix + '.' + field


class Collector:
    """Gathers every problem of a document instead of stopping at the first."""

    def __init__(self):
        self.errors = []

    def add(self, path, message):
        self.errors.append('%s: %s' % (path, message))

    def check(self, path, func, value, *args):
        try:
            return func(value, *args)
        except ValueError as e:
            self.add(path, str(e))
            return None


# --- single values ---------------------------------------------------------

def check_name(value, what='name'):
    """Validate an interface or namespace name as the kernel and `ip` do.

    The same rules keep a namespace name from ever becoming a path outside
    /run/netns: no '/', and never '.' or '..'.
    """
    if not isinstance(value, str):
        raise ValueError('%s must be a string, got %r' % (what, value))
    if value == '':
        raise ValueError('%s must not be empty' % what)
    if len(value.encode('utf-8')) > MAX_NAME_BYTES:
        raise ValueError('%s %r is %d bytes long; the limit is %d'
                         % (what, value, len(value.encode('utf-8')), MAX_NAME_BYTES))
    if value in ('.', '..'):
        raise ValueError('%s %r is not allowed' % (what, value))
    if '/' in value:
        raise ValueError("%s %r must not contain '/'" % (what, value))
    if ':' in value:
        raise ValueError("%s %r must not contain ':'" % (what, value))
    if any(c.isspace() for c in value) or '\x00' in value:
        raise ValueError('%s %r must not contain whitespace' % (what, value))
    if not value.isprintable():
        # The kernel takes them, and `ip link` then prints a name no one can type.
        raise ValueError('%s %r must not contain control characters' % (what, value))
    return value


def check_interface_name(value, what='name'):
    """An interface name: a name (check_name) without '%'.

    The kernel takes a '%d' in a new link's name as a template and makes the first
    free name of that form (`br%d` becomes `br0`), so the link we made would not be
    the one the document names.
    """
    check_name(value, what)
    if '%' in value:
        raise ValueError("%s %r must not contain '%%': the kernel would make a name of its own from it"
                         % (what, value))
    return value


def check_owner(value):
    if not isinstance(value, str) or not OWNER_PATTERN.match(value):
        raise ValueError('owner %r must be 1-64 characters of letters, digits, '
                         "'_', '.' or '-', starting with a letter or digit" % (value,))
    return value


def _refuse_zone(value, what):
    """A zone ('%br0') is not part of an address the kernel keeps: it names an interface."""
    if '%' in value:
        zone = value.split('%', 1)[1].split('/', 1)[0]
        raise ValueError('%s %r has a zone (%%%s), which the kernel does not keep; leave it out and '
                         'name the interface with dev' % (what, value, zone))


def normalise_cidr(value):
    """'10.0.0.1/24' -> '10.0.0.1/24'; IPv6 compressed; prefix required.

    Only an address an interface can hold: not unspecified (0.0.0.0, ::),
    which the kernel drops without a word, nor multicast, nor broadcast.
    """
    if not isinstance(value, str) or '/' not in value:
        raise ValueError('address %r must be ADDRESS/PREFIX, e.g. 10.0.0.1/24' % (value,))
    _refuse_zone(value, 'address')
    try:
        iface = ipaddress.ip_interface(value.strip())
    except ValueError:
        raise ValueError('address %r is not a valid IPv4 or IPv6 CIDR' % (value,))
    _refuse_unusable(iface.ip, 'address', value)
    return str(iface)


def _refuse_unusable(address, what, value):
    if address.is_unspecified:
        raise ValueError('%s %r is the unspecified address, which no interface can hold' % (what, value))
    if address.is_multicast:
        raise ValueError('%s %r is a multicast address; an interface needs a unicast one' % (what, value))
    if address == ipaddress.IPv4Address('255.255.255.255'):
        raise ValueError('%s %r is the broadcast address, which no interface can hold' % (what, value))


def normalise_network(value):
    """A route destination: 'default' or a network CIDR without host bits.

    0.0.0.0/0 and ::/0 are 'default' too, as `ip route` reads them back; the
    family they were written in comes from network_family.
    """
    if value == 'default':
        return 'default'
    if not isinstance(value, str) or '/' not in value:
        raise ValueError("dest %r must be 'default' or a network CIDR such as 10.0.0.0/24" % (value,))
    _refuse_zone(value, 'dest')
    try:
        net = ipaddress.ip_network(value.strip(), strict=True)
    except ValueError as e:
        if 'has host bits set' in str(e):
            net = ipaddress.ip_network(value.strip(), strict=False)
            raise ValueError('dest %r has host bits set; did you mean %s?' % (value, net))
        raise ValueError('dest %r is not a valid network CIDR' % (value,))
    return 'default' if net.prefixlen == 0 else str(net)


def network_family(value):
    """4 or 6 for a route destination written as a CIDR (::/0 is IPv6); None for 'default'."""
    if value == 'default' or not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_network(value.strip(), strict=False).version
    except ValueError:
        return None


def normalise_ip(value, what=None):
    """An IP address, without a zone; ``what`` names the field in the message."""
    label = '%s %r' % (what, value) if what else '%r' % (value,)
    if isinstance(value, str) and '%' in value:
        _refuse_zone(value, what or 'address')
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise ValueError('%s is not a valid IP address' % label)


def normalise_gateway(value):
    """A route's via: a unicast address a neighbour can have."""
    address = normalise_ip(value, 'via')
    _refuse_unusable(ipaddress.ip_address(address), 'via', value)
    return address


def normalise_mac(value):
    if not isinstance(value, str) or not MAC_PATTERN.match(value):
        raise ValueError('mac %r must be six hex octets such as 02:42:ac:11:00:02' % (value,))
    mac = value.lower().replace('-', ':')
    if int(mac[:2], 16) & 1:
        raise ValueError('mac %r is a multicast address; an interface needs a unicast one' % (value,))
    if mac == '00:00:00:00:00:00':
        raise ValueError('mac %r is all zeros' % (value,))
    return mac


def random_mac():
    """A random locally administered unicast MAC address, as the kernel gives a new bridge or veth."""
    octets = bytearray(os.urandom(6))
    octets[0] = (octets[0] & 0xfe) | 0x02
    return ':'.join('%02x' % octet for octet in octets)


def check_int(value, low, high, what):
    if isinstance(value, bool):
        raise ValueError('%s must be a whole number, got %r' % (what, value))
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError('%s must be a whole number, got %r' % (what, value))
    if str(number) != str(value).strip() and not isinstance(value, int):
        raise ValueError('%s must be a whole number, got %r' % (what, value))
    if number < low or number > high:
        raise ValueError('%s %d is out of range %d-%d' % (what, number, low, high))
    return number


def check_bool(value, what):
    if isinstance(value, bool):
        return value
    raise ValueError('%s must be true or false, got %r' % (what, value))


def normalise_table(value):
    if value is None:
        return ROUTE_TABLES['main']
    if isinstance(value, str) and value in ROUTE_TABLES:
        return ROUTE_TABLES[value]
    return check_int(value, 1, MAX_U32, 'table')


def sysctl_path_parts(key):
    """'net.ipv4.conf.eth0/100.forwarding' -> ['net', 'ipv4', 'conf', 'eth0.100', 'forwarding'].

    As in sysctl(8), a '/' inside a dotted key stands for a '.' in the
    component (an interface name such as eth0.100).  Only net.* keys are
    allowed: they are the ones that belong to a network namespace.
    """
    if not isinstance(key, str) or not key.startswith('net.'):
        raise ValueError('sysctl key %r must start with "net." (only per-namespace network '
                         'sysctls can be set)' % (key,))
    parts = []
    for raw in key.split('.'):
        if not raw or not SYSCTL_COMPONENT.match(raw):
            raise ValueError('sysctl key %r has an invalid component %r' % (key, raw))
        part = raw.replace('/', '.')
        if part in ('.', '..'):
            raise ValueError('sysctl key %r has an invalid component %r' % (key, raw))
        parts.append(part)
    return parts


def normalise_sysctl_value(value, key):
    if isinstance(value, bool):
        return '1' if value else '0'
    if isinstance(value, (int, float, str)):
        # Spaces and tabs separate a value's fields (the kernel itself lists tcp_rmem with
        # tabs); any other control character would be folded or cut by the kernel, and the
        # value read back would never equal the one asked for.
        bad = [ch for ch in str(value) if (ord(ch) < 32 and ch not in ' \t') or ord(ch) == 127]
        if bad:
            raise ValueError('sysctl %s value %r contains the control character %r; a value is one line '
                             'of text' % (key, value, bad[0]))
        text = ' '.join(str(value).split())
        if text == '':
            raise ValueError('sysctl %s has an empty value' % key)
        return text
    raise ValueError('sysctl %s value %r must be a string or a number' % (key, value))


def check_host_name(value):
    """A name for /etc/netns/NAME/hosts."""
    allowed = ("labels of letters, digits, '-' and '_' joined by '.', each 1-63 characters and not "
               "starting or ending with '-', at most %d characters in all" % MAX_HOST_NAME)
    if not isinstance(value, str) or value == '':
        raise ValueError('host name %r must be a non-empty string: %s' % (value, allowed))
    name = value[:-1] if value.endswith('.') else value
    if len(value) > MAX_HOST_NAME or not all(HOST_LABEL.match(label) for label in name.split('.')):
        raise ValueError('host name %r is not a valid host name: %s' % (value, allowed))
    return value


def check_nat_name(value):
    """The NAME of a NAT table netvirt_NAME."""
    if not isinstance(value, str) or not NAT_NAME.match(value):
        raise ValueError("name %r must be 1-32 characters of letters, digits, '_', '.' or '-', starting with a "
                         "letter or digit (the table is netvirt_NAME)" % (value,))
    return value


# --- the frame every entry's normaliser shares ----------------------------------

def entry_normaliser(what):
    """The frame every entry's normaliser shares.

    Called alone (``c`` omitted) it raises ModelError with every problem;
    within a document it adds them to the document's collector.
    """
    def wrap(func):
        def normalise(entry, path='', c=None):
            own = c is None
            c = c or Collector()
            result = None
            if isinstance(entry, dict):
                result = func(entry, path, c)
            else:
                c.add(path or what, 'must be a dictionary')
            if own and c.errors:
                raise ModelError(c.errors)
            return result
        normalise.__name__ = func.__name__
        normalise.__doc__ = func.__doc__
        return normalise
    return wrap


def check_state(c, entry, path):
    state = entry.get('state') or 'present'
    if state not in ('present', 'absent'):
        c.add(join_path(path, 'state'), "state %r must be 'present' or 'absent'" % (state,))
    return state


def check_unknown_keys(c, entry, allowed, path):
    for key in sorted(set(entry) - set(allowed)):
        c.add(join_path(path, key), 'unknown option')


def route_family(dest, via=None, family=None):
    """4 or 6; None when dest and via disagree.  'default' takes ``family`` (from a
    dest of ::/0 or 0.0.0.0/0), else via's family, else IPv4."""
    fam = family
    if dest != 'default':
        fam = ipaddress.ip_network(dest).version
    if via is not None:
        vfam = ipaddress.ip_address(via).version
        if fam is not None and fam != vfam:
            return None
        fam = vfam
    return fam or 4


def ns_name(netns):
    return netns if netns else 'the current namespace'


def where(netns):
    """' in c1' or ' in the host namespace': for messages."""
    return ' in %s' % netns if netns else ' in the current namespace'


def ns_label(netns):
    """'c1' or '(current)': a namespace in a diff's keys and fields."""
    return netns if netns else '(current)'
