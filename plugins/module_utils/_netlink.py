# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rtnetlink transport of the kernel layer, one class per pyroute2 generation.

PRIVATE: not a public API of the collection.

``Netlink`` is the class for the pyroute2 this process imported, chosen once,
here; the kernel layer never asks which one it has.  Every class answers the
same calls, each for a namespace (None: the one we run in):

- ``request(netns, method, command, kwargs)``: one request as IPRoute's
  ``method`` (link, addr or route) takes it; the answer's messages.
- ``links(netns)``, ``addresses(netns)``, ``routes(netns, family, table)``:
  dumps.  ``routes`` gives one table's routes, or every table's when ``table``
  is None; it may give more tables than the one asked for.
- ``netnsid(netns, fd)``: what IPRoute.get_netnsid(fd=fd) answers.
- ``fdb(netns, command, **kwargs)``: IPRoute.fdb.
- ``qdiscs(netns)``: a dump of the namespace's qdiscs; ``qdisc(netns, command, msg)``: one tcmsg
  sent as RTM_NEWQDISC (``replace``: create or replace) or RTM_DELQDISC (``del``), or for filters as
  RTM_NEWTFILTER (``add-filter``), RTM_DELTFILTER (``del-filter``), or a dump of the filters under the
  message's link and parent (``filters``).
- ``drop(netns)``: close the namespace's sockets (it is going away).
- ``close()``.

Failures are pyroute2's own: NetlinkError from the kernel, and
NetlinkDumpInterrupted for a dump the kernel marked interrupted.

A socket belongs to the namespace of the thread that makes it: a transport is
given ``in_namespace(netns, opener)``, which calls ``opener()`` inside the
namespace (setns, no fork) and returns what it made.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import resource

try:
    import pyroute2
    from pyroute2 import IPRoute, IPRSocket
    from pyroute2.netlink import (
        NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR,
    )
    # NetlinkError is for _kernel, which catches what the transport raises.
    from pyroute2.netlink.exceptions import NetlinkDumpInterrupted, NetlinkError  # pylint: disable=unused-import
    from pyroute2.netlink.rtnl import (
        RTM_DELADDR, RTM_DELLINK, RTM_DELQDISC, RTM_DELROUTE, RTM_DELTFILTER, RTM_GETADDR, RTM_GETLINK, RTM_GETNSID,
        RTM_GETQDISC, RTM_GETROUTE, RTM_GETTFILTER, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWQDISC, RTM_NEWROUTE,
        RTM_NEWTFILTER,
    )
    from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
    from pyroute2.netlink.rtnl.nsidmsg import nsidmsg
    from pyroute2.netlink.rtnl.rtmsg import rtmsg
    from pyroute2.netlink.rtnl.tcmsg import tcmsg
    from pyroute2.nftables.main import NFTables
    HAS_PYROUTE2 = True
    PYROUTE2_IMPORT_ERROR = None
except ImportError as e:  # reported by the module through missing_required_lib
    IPRoute = tcmsg = None
    NetlinkError = OSError

    class NetlinkDumpInterrupted(Exception):
        """Stands in for pyroute2's when pyroute2 is missing (the module then fails before any read)."""
    HAS_PYROUTE2 = False
    PYROUTE2_IMPORT_ERROR = e


def version_of(text):
    """(major, minor) of a version string.  Not ansible's LooseVersion: the kernel layer stays
    importable without ansible, as the pyroute2 0.7 kernel lane runs it."""
    parts = []
    for part in text.split('.')[:2]:
        digits = ''.join(c for c in part if c.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


# From pyroute2 0.9, IPRoute runs every request through an asyncio event loop
# (about a millisecond each) and holds four descriptors; IPRSocket is one bare
# socket whose get() returns each datagram's messages as they come.  Links,
# addresses and routes go through _BareSocket there: a namespace is read in
# about 60% of the time and a lab is written in about half.  Older versions
# reassemble answers in IPRSocket.get() and keep IPRoute, which is light there.
BARE_SOCKETS = HAS_PYROUTE2 and version_of(getattr(pyroute2, '__version__', '0')) >= (0, 9)
if BARE_SOCKETS:
    # IPRoute's own request builder, which _BareSocket uses; pyroute2 0.7 and 0.8 have neither name.
    from pyroute2.iproute.linux import get_arguments_processor
    from pyroute2.netlink.nlsocket import NetlinkRequest
else:
    get_arguments_processor = NetlinkRequest = None

RTEXT_FILTER_SKIP_STATS = 8
NLM_F_DUMP_INTR = 0x10
IFF_UP = 1
AF_INET = 2
AF_INET6 = 10
RTN_UNICAST = 1


NFPROTO_IPV4 = 2


def nf_table_names(family=NFPROTO_IPV4):
    """Names of the nf_tables tables of a family in the namespace of the calling thread.

    Over nfnetlink, for when nft is not installed: what the kernel holds is still known.
    """
    sock = NFTables()
    try:
        return [msg.get_attr('NFTA_TABLE_NAME') for msg in sock.get_tables() if msg['nfgen_family'] == family]
    finally:
        sock.close()


class _SocketCache:
    """Sockets by namespace, at most ``limit`` open; the least recently used is closed first.

    A socket per namespace of a large lab would otherwise hit RLIMIT_NOFILE,
    whose soft limit is 1,024 on most systems (pyroute2 0.9's IPRoute holds four
    descriptors).  A namespace whose socket was closed gets a new one when asked.
    """

    def __init__(self, opener, limit=None):
        self._opener = opener
        self._limit = limit or _socket_limit()
        self._open = collections.OrderedDict()

    def get(self, netns):
        sock = self._open.get(netns)
        if sock is not None:
            self._open.move_to_end(netns)
            return sock
        if len(self._open) >= self._limit:
            self._open.popitem(last=False)[1].close()
        sock = self._opener(netns)
        self._open[netns] = sock
        return sock

    def drop(self, netns):
        sock = self._open.pop(netns, None)
        if sock is not None:
            sock.close()

    def close(self):
        while self._open:
            self._open.popitem()[1].close()


def _socket_limit():
    """Sockets one cache may keep open: an eighth of the descriptors this process may open."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft == resource.RLIM_INFINITY or soft > 65536:
        soft = 65536
    return max(16, soft // 8)


class IPRouteNetlink:
    """pyroute2 0.7 and 0.8: an IPRoute per namespace."""

    def __init__(self, in_namespace):
        self._iproutes = _SocketCache(lambda netns: in_namespace(netns, IPRoute))

    def request(self, netns, method, command, kwargs):
        return getattr(self._iproutes.get(netns), method)(command, **kwargs)

    def links(self, netns):
        return self._iproutes.get(netns).get_links()

    def addresses(self, netns):
        return self._iproutes.get(netns).get_addr()

    def routes(self, netns, family, table):
        query = {'family': family}
        if table is not None:
            query['table'] = table
        return self._iproutes.get(netns).get_routes(**query)

    def netnsid(self, netns, fd):
        return self._iproutes.get(netns).get_netnsid(fd=fd)

    def fdb(self, netns, command, **kwargs):
        return self._iproutes.get(netns).fdb(command, **kwargs)

    def qdiscs(self, netns):
        return self._iproutes.get(netns).get_qdiscs()

    def qdisc(self, netns, command, msg):
        return self._iproutes.get(netns).nlm_request(msg, *_QDISC_REQUESTS[command])

    def drop(self, netns):
        self._iproutes.drop(netns)

    def close(self):
        self._iproutes.close()


class BareNetlink(IPRouteNetlink):
    """pyroute2 0.9 and later: links, addresses, routes and netns ids through a _BareSocket per
    namespace.  Forwarding entries, which a lab has few of, keep IPRoute."""

    def __init__(self, in_namespace):
        super(BareNetlink, self).__init__(in_namespace)
        self._bare = _SocketCache(lambda netns: in_namespace(netns, _BareSocket))

    def request(self, netns, method, command, kwargs):
        return self._bare.get(netns).request(method, command, kwargs)

    def links(self, netns):
        return self._bare.get(netns).links()

    def addresses(self, netns):
        return self._bare.get(netns).addresses()

    def routes(self, netns, family, table):
        return self._bare.get(netns).routes(family)

    def netnsid(self, netns, fd):
        return self._bare.get(netns).netnsid(fd)

    def qdiscs(self, netns):
        return self._bare.get(netns).qdiscs()

    def qdisc(self, netns, command, msg):
        return self._bare.get(netns).qdisc(command, msg)

    def drop(self, netns):
        super(BareNetlink, self).drop(netns)
        self._bare.drop(netns)

    def close(self):
        super(BareNetlink, self).close()
        self._bare.close()


Netlink = BareNetlink if BARE_SOCKETS else IPRouteNetlink


class _BareSocket:
    """One namespace's rtnetlink socket without IPRoute's asyncio machinery (pyroute2 >= 0.9).

    Requests are built by pyroute2's own argument filters, as IPRoute builds
    them, and sent with NLM_F_ACK: every answer ends with an NLMSG_ERROR
    message (an ack, or the error) or, for a dump, NLMSG_DONE.
    """

    def __init__(self):
        self.sock = IPRSocket()
        self.sock.socket.fileno()  # the socket is made on first use: now, in the caller's namespace
        self.seq = 0

    def close(self):
        self.sock.close()

    def _answer(self, seq):
        """The messages answering request ``seq``; raises the kernel's NetlinkError."""
        messages = []
        interrupted = False
        while True:
            for message in self.sock.get():
                header = message['header']
                if header['sequence_number'] != seq:
                    continue
                interrupted = interrupted or bool(header['flags'] & NLM_F_DUMP_INTR)
                if header['type'] == NLMSG_ERROR:
                    if header.get('error') is not None:
                        raise header['error']
                    return messages
                if header['type'] == NLMSG_DONE:
                    if interrupted:  # read to the end first, so the next request starts clean
                        raise NetlinkDumpInterrupted()
                    return messages
                messages.append(message)

    def _send(self, msg, msg_type, msg_flags):
        self.seq += 1
        self.sock.put(msg, msg_type=msg_type, msg_flags=msg_flags, msg_seq=self.seq)
        return self._answer(self.seq)

    def request(self, method, command, kwargs):
        """What IPRoute's ``method`` (link, addr or route) sends for (command, **kwargs),
        and the answer's messages."""
        direct = _direct_request(method, command, kwargs)
        if direct is not None:
            return self._send(*direct)
        self.seq += 1
        self.sock.send(_filtered_request(self.sock, method, command, kwargs, self.seq))
        return self._answer(self.seq)

    def _dump(self, msg, msg_type):
        return self._send(msg, msg_type, NLM_F_REQUEST | NLM_F_DUMP)

    def links(self):
        msg = ifinfmsg()
        msg['attrs'] = [('IFLA_EXT_MASK', RTEXT_FILTER_SKIP_STATS)]  # no per-protocol counters to decode
        return self._dump(msg, RTM_GETLINK)

    def addresses(self):
        return self._dump(ifaddrmsg(), RTM_GETADDR)

    def routes(self, family):
        msg = rtmsg()
        msg['family'] = family
        return self._dump(msg, RTM_GETROUTE)

    def qdiscs(self):
        return self._dump(tcmsg(), RTM_GETQDISC)

    def qdisc(self, command, msg):
        return self._send(msg, *_QDISC_REQUESTS[command])

    def netnsid(self, fd):
        """What IPRoute.get_netnsid(fd=fd) answers."""
        msg = nsidmsg()
        msg['attrs'] = [('NETNSA_FD', fd)]
        for reply in self._send(msg, RTM_GETNSID, NLM_F_REQUEST | NLM_F_ACK):
            return {'nsid': reply.get_attr('NETNSA_NSID')}
        return None


if HAS_PYROUTE2:
    # {command: (message type, flags)} of a tc request: `qdisc replace`, `qdisc del`, `filter add`,
    # `filter del` and `filter show`.
    _QDISC_REQUESTS = {
        'replace': (RTM_NEWQDISC, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE),
        'del': (RTM_DELQDISC, NLM_F_REQUEST | NLM_F_ACK),
        'add-filter': (RTM_NEWTFILTER, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL),
        'del-filter': (RTM_DELTFILTER, NLM_F_REQUEST | NLM_F_ACK),
        'filters': (RTM_GETTFILTER, NLM_F_REQUEST | NLM_F_DUMP),
    }
    # {method: (message class, {command: (message type, flags name)})}, as IPRoute maps them.
    _REQUESTS = {
        'link': (ifinfmsg, {'add': (RTM_NEWLINK, 'create'), 'set': (RTM_NEWLINK, 'req'),
                            'del': (RTM_DELLINK, 'req'), 'get': (RTM_GETLINK, 'get')}),
        'addr': (ifaddrmsg, {'add': (RTM_NEWADDR, 'create'), 'del': (RTM_DELADDR, 'req')}),
        'route': (rtmsg, {'add': (RTM_NEWROUTE, 'create'), 'replace': (RTM_NEWROUTE, 'replace'),
                          'del': (RTM_DELROUTE, 'req')}),
    }

# The argument filters cost about 0.1 ms a request, as much as the rest of it;
# a lab of 1,000 containers sends 11,000 requests.  The few shapes a lab is
# built of are filled in directly, field for field and attribute for
# attribute what the filters make of them (a unit test compares the bytes).
_DIRECT_LINK_ATTRS = (('ifname', 'IFLA_IFNAME'), ('master', 'IFLA_MASTER'), ('ifalias', 'IFLA_IFALIAS'))
_DIRECT_ROUTE_ATTRS = (('table', 'RTA_TABLE'), ('priority', 'RTA_PRIORITY'), ('dst', 'RTA_DST'),
                       ('gateway', 'RTA_GATEWAY'), ('oif', 'RTA_OIF'))
_DIRECT_KEYS = {
    'link': frozenset(('ifname', 'index', 'master', 'ifalias', 'state')),
    'addr': frozenset(('index', 'address', 'prefixlen')),
    'route': frozenset(('family', 'table', 'priority', 'proto', 'dst', 'dst_len', 'gateway', 'oif')),
}


def _filtered_request(sock, method, command, kwargs, seq):
    """The bytes IPRoute's ``method`` sends for (command, **kwargs): pyroute2's argument filters."""
    msg_class, commands = _REQUESTS[method]
    kwargs = dict(kwargs)
    parameters = None
    if method == 'route':
        parameters = {'strict_check': False}
        if command != 'del':  # IPRoute.route's defaults
            kwargs['proto'] = kwargs.get('proto') or 'static'
            kwargs['type'] = kwargs.get('type') or 'unicast'
    arguments = get_arguments_processor(method, command, kwargs, parameters)
    request = NetlinkRequest(sock, msg_class(), command, commands, None, arguments, msg_seq=seq)
    request.msg.encode()
    return request.msg.data


def _direct_request(method, command, kwargs):
    """(message, type, flags) for a request of a shape built directly, else None."""
    keys = _DIRECT_KEYS.get(method)
    if keys is None or not keys.issuperset(kwargs) or None in kwargs.values():
        return None
    msg_class, commands = _REQUESTS[method]
    if command not in commands:
        return None
    msg = msg_class()
    attrs = []
    if method == 'link':
        msg['index'] = kwargs.get('index', 0)
        if 'state' in kwargs:
            if kwargs['state'] not in ('up', 'down'):
                return None
            msg['flags'] = IFF_UP if kwargs['state'] == 'up' else 0
            msg['change'] = IFF_UP
        attrs = [(nla, kwargs[key]) for key, nla in _DIRECT_LINK_ATTRS if key in kwargs]
    elif method == 'addr':
        if set(kwargs) != keys:
            return None
        family = AF_INET6 if ':' in kwargs['address'] else AF_INET
        msg['family'] = family
        msg['prefixlen'] = kwargs['prefixlen']
        msg['index'] = kwargs['index']
        attrs = [('IFA_ADDRESS', kwargs['address'])]
        if family == AF_INET:
            attrs.append(('IFA_LOCAL', kwargs['address']))
    else:
        if not {'family', 'table', 'proto', 'dst_len'}.issubset(kwargs) or \
                not isinstance(kwargs['proto'], int) or kwargs['table'] > 255:
            return None
        msg['family'] = kwargs['family']
        msg['dst_len'] = kwargs['dst_len']
        msg['table'] = kwargs['table']
        msg['proto'] = kwargs['proto']
        msg['type'] = 0 if command == 'del' else RTN_UNICAST
        attrs = [(nla, kwargs[key]) for key, nla in _DIRECT_ROUTE_ATTRS if key in kwargs]
    msg['attrs'] = attrs
    return (msg,) + tuple(NetlinkRequest.calculate_request_type(command, commands))
