# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel layer: the only code that talks to pyroute2, /run/netns and /proc/sys.

PRIVATE: not a public API of the collection.

Requests and dumps go through _netlink's transport, the one for the pyroute2
that is installed; nothing here asks which pyroute2 that is.

A netlink socket for a named namespace is opened *inside* it without a
fork: the thread enters the namespace with setns(2), opens the socket (a
socket stays bound to the namespace it was created in) and returns.  Links are
looked up by name with one RTM_GETLINK request, never by dumping all links.

Readers return plain dicts; operations (``op_*``, each marked with the operation
of _ops it runs) take names, never ifindexes, so that an undo still works after
a link was recreated.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import ctypes
import errno
import grp
import ipaddress
import json
import os
import pickle
import pwd
import shutil
import socket
import stat
import struct
import subprocess
import time

from ansible_collections.netvirt.linux.plugins.module_utils._kinds import BY_KERNEL_KIND, CHANGEABLE, KINDS
from ansible_collections.netvirt.linux.plugins.module_utils._ops import (
    ADD_ADDRESS, ADD_FDB, ADD_LINK, ADD_ROUTE, BRING_UP_LINKS, CREATE_NAMESPACE, DELETE_ADDRESS, DELETE_FDB,
    DELETE_INGRESS, DELETE_LINK, DELETE_NAMESPACE, DELETE_NAT_TABLE, DELETE_QDISC, DELETE_ROUTE, LOAD_NAT_TABLE, MOVE_LINK,
    INSTALL_PERSISTENCE, PARTIAL_FILE_SUFFIX, QUIET_NAMESPACE, REMOVE_STALE_NAMESPACE, REPLACE_ROUTE, RESTORE_LINK,
    RESTORE_STALE_NAMESPACE, SET_INGRESS, SET_LINK, SET_QDISC, SET_SYSCTL,
    UNDONE_WITH_NAMESPACE, WRITE_FILE, executes, executors,
)
from ansible_collections.netvirt.linux.plugins.module_utils._nft import (
    TABLE_PREFIX, delete_payload, list_table_payload, list_tables_payload, state_lines, table_state,
)
# HAS_PYROUTE2 and PYROUTE2_IMPORT_ERROR are the modules' to report (missing_required_lib).
from ansible_collections.netvirt.linux.plugins.module_utils._netlink import (
    AF_INET, AF_INET6, HAS_PYROUTE2, IFF_UP, PYROUTE2_IMPORT_ERROR, RTN_UNICAST, IPRoute, Netlink,
    NetlinkDumpInterrupted, NetlinkError, nf_table_names, tcmsg, version_of,
)
from ansible_collections.netvirt.linux.plugins.module_utils._persist import OWN_DIRS
from ansible_collections.netvirt.linux.plugins.module_utils._tc import (
    HANDLE, INGRESS_HANDLE, INGRESS_PARENT, INGRESS_PRIO, ROOT, decode, encode_options, ingress_device,
    is_ingress_device, redirect_filter, redirect_target, text_of,
)
from ansible_collections.netvirt.linux.plugins.module_utils._values import random_mac, sysctl_path_parts

NETNS_RUN_DIR = '/run/netns'
# Which owner added which route: the kernel has no place for that mark.
ROUTE_RECORD_DIR = '/run/netvirt.linux/routes'
# A dump the kernel marks interrupted (its list changed meanwhile) is made again
# until this many seconds have passed, waiting a little longer each time.
DUMP_RETRY_SECONDS = 30.0
# Below this many namespaces a read is not worth a process of its own.
PARALLEL_READ_MIN = 32
MAX_READ_PROCESSES = 4
CLONE_NEWNET = 0x40000000
MS_REC = 16384
MS_BIND = 4096
MS_SHARED = 1 << 20
MNT_DETACH = 2
RTPROT_KERNEL = 2
NUD_NOARP = 0x40
NUD_PERMANENT = 0x80
# Routes this collection adds carry their own protocol number, so that they
# can be told apart from routes the kernel, DHCP or a person added.  Add
# "245 netvirt" to /etc/iproute2/rt_protos.d/ to see the name in `ip route`.
RTPROT_NETVIRT = 245
# Links carry this prefix in their alias (IFLA_IFALIAS), the loopback of a
# namespace carries it for the namespace.  The rest is the owner.
OWNER_ALIAS_PREFIX = 'netvirt:'
# The kernel marks the addresses it makes itself (its IPv6 link-local one, IFAPROT_KERNEL_LL)
# with IFA_PROTO since 5.18; pyroute2 before 0.9 does not name the attribute.  Before 5.18 its
# own link-local address cannot be told from one a person added, so every link-local
# address is left aside there, as it was.
IFA_PROTO = 11
KERNEL_MARKS_ADDRESSES = version_of(os.uname().release) >= (5, 18)


_NOWHERE = object()


class KernelError(Exception):
    """A kernel operation failed; the message names the object."""


def _write_file(path, content):
    """Write ``path`` whole or not at all: a partial file first, renamed onto it."""
    tmp = path + PARTIAL_FILE_SUFFIX
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, 'w') as f:
            f.write(content)
        os.rename(tmp, path)
    except (IOError, OSError) as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise KernelError('cannot write %s: %s' % (path, e.strerror))


def _remove_file(path):
    try:
        os.unlink(path)
    except OSError as e:
        if e.errno != errno.ENOENT:
            raise KernelError('cannot remove %s: %s' % (path, e.strerror))


def _make_symlink(path, target):
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(target, path)
    except (IOError, OSError) as e:
        raise KernelError('cannot link %s to %s: %s' % (path, target, e.strerror))


def _set_path(path, state):
    """Make ``path`` ('file', content), ('link', target) or nothing (None)."""
    if state is None:
        _remove_file(path)
        _prune_own_dirs(os.path.dirname(path))
    elif state[0] == 'link':
        _make_symlink(path, state[1])
    else:
        _write_file(path, state[1])


def _reload_systemd():
    try:
        # No AnsibleModule here (the unit runs this layer at boot without Ansible), so no run_command.
        done = subprocess.run(['systemctl', 'daemon-reload'], capture_output=True, text=True,  # pylint: disable=ansible-bad-function
                              check=False)
    except OSError as e:
        raise KernelError('cannot run systemctl daemon-reload: %s' % e.strerror)
    if done.returncode != 0:
        raise KernelError('systemctl daemon-reload failed: %s' % (done.stderr.strip() or done.returncode))


def _prune_own_dirs(directory):
    """Remove ``directory`` and its parents while they are empty and among OWN_DIRS."""
    while any(directory == own or directory.startswith(own + os.sep) for own in OWN_DIRS):
        try:
            os.rmdir(directory)
        except OSError:
            return  # not empty
        directory = os.path.dirname(directory)


def owner_of_alias(alias):
    if alias and alias.startswith(OWNER_ALIAS_PREFIX):
        return alias[len(OWNER_ALIAS_PREFIX):]
    return None


def namespace_path(name):
    """/run/netns/NAME, refusing anything that would resolve elsewhere."""
    path = os.path.join(NETNS_RUN_DIR, name)
    if os.path.dirname(os.path.normpath(path)) != NETNS_RUN_DIR or name in ('', '.', '..'):
        raise KernelError('namespace name %r is not a plain name under %s' % (name, NETNS_RUN_DIR))
    return path


def sysctl_path(key):
    return os.path.join('/proc/sys', *sysctl_path_parts(key))


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
    libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
    return libc


def _attr(msg, name, default=None):
    value = msg.get_attr(name)
    return default if value is None else value


class _Attrs:
    """A decoded message's attributes by name, each the first of its name (what get_attr answers).

    get_attr scans every attribute of the message for each name asked: a link
    has about fifty, and describing one asks for eight.  One pass here makes
    the rest lookups; values are still decoded only when asked for.
    """

    __slots__ = ('_slots',)

    def __init__(self, msg):
        slots = {}
        for slot in reversed(msg['attrs']):
            slots[slot[0]] = slot
        self._slots = slots

    def get(self, name, default=None):
        slot = self._slots.get(name)
        if slot is None:
            return default
        value = slot[1]
        return default if value is None else value


def _made_by_kernel(msg):
    """Whether an address message carries IFA_PROTO: only the kernel sets it on its own
    addresses unless a person asks `ip address add ... proto N`."""
    for slot in msg['attrs']:
        if slot[0] == 'IFA_PROTO':
            return bool(slot[1])
        if slot[0] == 'UNKNOWN' and isinstance(slot[1], dict) and slot[1].get('header', {}).get('type') == IFA_PROTO:
            return True
    return False


def _link_kind(msg):
    info = msg.get_attr('IFLA_LINKINFO')
    return info.get_attr('IFLA_INFO_KIND') if info is not None else None


def _describe_error(e):
    code = getattr(e, 'code', None)
    if code is None and e.args and isinstance(e.args[0], int):
        code = e.args[0]
    if isinstance(code, int) and code > 0:
        return '%s (errno %d)' % (os.strerror(code), code)
    return str(e)


def _qdisc_error(e, attrs):
    """The kernel's refusal of a qdisc; ENOENT for a kind means the kernel lacks its module."""
    kind = dict(attrs).get('TCA_KIND')
    if getattr(e, 'code', None) == errno.ENOENT and kind:
        needs = 'delay, jitter, loss, duplicate, reorder, corrupt and limit need it' if kind == 'netem' \
            else 'it is needed here'
        return 'this kernel has no %s qdisc (module sch_%s); %s' % (kind, kind, needs)
    return _describe_error(e)


def _where(netns):
    return ' in namespace %s' % netns if netns else ' in the current namespace'


class Kernel:
    """Sockets per namespace, readers and operations.  Use as a context manager."""

    def __init__(self):
        if not HAS_PYROUTE2:
            raise KernelError('pyroute2 is not installed: %s' % PYROUTE2_IMPORT_ERROR)
        self._libc = _libc()
        self._home = os.open('/proc/thread-self/ns/net', os.O_RDONLY)
        self._nsfs_dev = os.fstat(self._home).st_dev  # the device of every namespace file
        # A socket belongs to the namespace of the thread that makes it.
        self._netlink = Netlink(self._in_namespace)
        self._run_dir_shared = False
        self._nsid_maps = {}
        self._indexes = {}  # netns -> {name: ifindex}
        self._names = {}  # netns -> {ifindex: name} from the last dump, until the next operation
        self._found_by_nsid = []  # namespaces lately found by their nsid, most recent first
        # (netns, ifindex) of veth ends whose peers were in namespaces we removed
        self._dying = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._netlink.close()
        if self._home is not None:
            os.close(self._home)
            self._home = None

    # --- entering namespaces ------------------------------------------------

    def _setns(self, fd, netns):
        if self._libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise KernelError('cannot enter namespace %s: %s' % (netns or '(home)', os.strerror(err)))

    def _enter(self, netns):
        """Enter a named namespace; the caller must call self._leave()."""
        try:
            fd = os.open(namespace_path(netns), os.O_RDONLY)
        except OSError:
            raise KernelError('namespace %s does not exist' % netns)
        try:
            self._setns(fd, netns)
        finally:
            os.close(fd)

    def _leave(self):
        self._setns(self._home, None)

    def _rtnl(self, netns, method, command, **kwargs):
        """One request in a namespace as IPRoute's ``method`` (link, addr or route)
        takes it; the answer's messages.  Raises NetlinkError."""
        return self._netlink.request(netns, method, command, kwargs)

    def _dump(self, netns, dump):
        """The messages of ``dump()``, made again while the kernel marks it interrupted.

        Removing a namespace makes the kernel delete the veth peers it had
        elsewhere, later and on its own: the links of a bridge's namespace keep
        changing while a lab around it comes down.
        """
        deadline = time.monotonic() + DUMP_RETRY_SECONDS
        wait = 0.005
        while True:
            try:
                return list(dump())
            except NetlinkDumpInterrupted:
                if time.monotonic() > deadline:
                    raise KernelError('cannot read%s: it kept changing for %d seconds'
                                      % (_where(netns), DUMP_RETRY_SECONDS))
                time.sleep(wait)
                wait = min(wait * 2, 0.2)
            except NetlinkError as e:
                raise KernelError('cannot read%s: %s' % (_where(netns), _describe_error(e)))

    def _link_messages(self, netns):
        return self._dump(netns, lambda: self._netlink.links(netns))

    def _address_messages(self, netns):
        return self._dump(netns, lambda: self._netlink.addresses(netns))

    def _route_messages(self, netns, family, table):
        """Route messages of a family; of one table, or of every table when ``table`` is None,
        or of more than the one asked for (a bare dump has every table)."""
        return self._dump(netns, lambda: self._netlink.routes(netns, family, table))

    def namespace_fd(self, netns):
        """An open fd of a namespace, for moving links; the caller closes it."""
        if netns is None:
            return os.dup(self._home)
        try:
            return os.open(namespace_path(netns), os.O_RDONLY)
        except OSError:
            raise KernelError('namespace %s does not exist' % netns)

    # --- namespaces --------------------------------------------------------------

    def namespace_exists(self, netns):
        """Whether /run/netns/NETNS is a namespace; a stale entry (see stale_namespaces) is not."""
        if netns is None:
            return True
        return self._entry_mode(namespace_path(netns)) is True

    def _entry_mode(self, path):
        """True for a namespace's bind mount, the mode of a stale entry, None when there is nothing.

        A namespace under /run/netns is a file of nsfs, the pseudo file system
        /proc/PID/ns/net is on, mounted there; anything else is not.
        """
        try:
            st = os.stat(path)
        except OSError:
            return None
        if st.st_dev == self._nsfs_dev:
            return True
        return st.st_mode & 0o7777

    def list_namespaces(self):
        """The named namespaces, without stale entries."""
        return [name for name in self._run_dir_entries() if self._entry_mode(os.path.join(NETNS_RUN_DIR, name)) is True]

    def stale_namespaces(self):
        """{name: mode} of the entries of /run/netns that are not a namespace.

        A process killed between creating the file of `ip netns add` (or of
        create_namespace) and mounting the namespace on it, or between the
        unmount and the unlink of a removal, leaves a plain file, mode 000:
        entering it fails with EINVAL.  Everything that lists namespaces
        passes over these; the plan repairs or removes one the document names,
        and warns of the others.
        """
        stale = {}
        for name in self._run_dir_entries():
            mode = self._entry_mode(os.path.join(NETNS_RUN_DIR, name))
            if mode is not True and mode is not None:
                stale[name] = mode
        return stale

    @staticmethod
    def _run_dir_entries():
        try:
            return sorted(os.listdir(NETNS_RUN_DIR))
        except OSError:
            return []

    def namespace_owner(self, netns):
        lo = self.read_link(netns, 'lo')
        return lo['owner'] if lo else None

    def _share_run_dir(self):
        """Make /run/netns a shared mount, as `ip netns add` does, so that the
        bind mounts of namespaces propagate to other mount namespaces.  Once per handle."""
        if self._run_dir_shared:
            return
        try:
            os.makedirs(NETNS_RUN_DIR)
        except OSError as e:
            if e.errno != errno.EEXIST:
                raise
        path = NETNS_RUN_DIR.encode()
        if self._libc.mount(b'', path, b'none', MS_SHARED | MS_REC, None) != 0:
            if self._libc.mount(path, path, b'none', MS_BIND | MS_REC, None) != 0:
                raise KernelError('cannot bind-mount %s: %s' % (NETNS_RUN_DIR, os.strerror(ctypes.get_errno())))
            if self._libc.mount(b'', path, b'none', MS_SHARED | MS_REC, None) != 0:
                raise KernelError('cannot share %s: %s' % (NETNS_RUN_DIR, os.strerror(ctypes.get_errno())))
        self._run_dir_shared = True

    @executes(CREATE_NAMESPACE)
    def op_create_namespace(self, netns, owner):
        path = namespace_path(netns)
        self._share_run_dir()
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0)
        os.close(fd)
        try:
            # unshare(2) moves only this thread into a new namespace; the bind
            # mount keeps it alive after we return home.
            if self._libc.unshare(CLONE_NEWNET) != 0:
                raise KernelError('cannot create namespace %s: %s'
                                  % (netns, os.strerror(ctypes.get_errno())))
            try:
                if self._libc.mount(b'/proc/thread-self/ns/net', path.encode(), b'none', MS_BIND, None) != 0:
                    raise KernelError('cannot bind namespace %s: %s'
                                      % (netns, os.strerror(ctypes.get_errno())))
            finally:
                self._leave()
        except Exception:
            self._libc.umount2(path.encode(), MNT_DETACH)
            os.unlink(path)
            raise
        self._set_alias(netns, 'lo', OWNER_ALIAS_PREFIX + owner)

    @executes(REMOVE_STALE_NAMESPACE)
    def op_remove_stale_namespace(self, netns):
        """Remove an entry of /run/netns that is not a namespace, as `ip netns del` would."""
        path = namespace_path(netns)
        mode = self._entry_mode(path)
        if mode is None:
            return
        if mode is True:
            raise KernelError('%s is a namespace again, not the stale entry the plan found; left alone' % path)
        if self._libc.umount2(path.encode(), MNT_DETACH) != 0 and ctypes.get_errno() != errno.EINVAL:
            raise KernelError('cannot unmount %s: %s' % (path, os.strerror(ctypes.get_errno())))
        try:
            os.unlink(path)
        except OSError as e:
            raise KernelError('cannot remove %s: %s' % (path, e.strerror))

    @executes(RESTORE_STALE_NAMESPACE)
    def op_restore_stale_namespace(self, netns, mode):
        """The undo of remove_stale_namespace: the plain file again, with its mode."""
        path = namespace_path(netns)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0)
            try:
                os.fchmod(fd, mode)
            finally:
                os.close(fd)
        except OSError as e:
            raise KernelError('cannot put back %s: %s' % (path, e.strerror))

    @executes(DELETE_NAMESPACE)
    def op_delete_namespace(self, netns):
        """Unmount the namespace, as `ip netns del` does; the kernel tears it down on its own.

        The veth ends whose peers live elsewhere are noted first, so that
        settle() can wait until the kernel has taken those peers away too.
        Only veth ends: a macvlan, ipvlan or vlan names its parent the same
        way (IFLA_LINK, IFLA_LINK_NETNSID), but the kernel destroys the child
        with the namespace and the parent stays.
        """
        path = namespace_path(netns)
        home_nsid = self._nsid(netns, None)
        orphans = []  # the ifb devices of peers' tc_ingress, which outlive the peers
        for msg in self._link_messages(netns):
            peer_nsid = msg.get_attr('IFLA_LINK_NETNSID')
            if peer_nsid is None or not msg.get_attr('IFLA_LINK') or _link_kind(msg) != 'veth':
                continue
            peer_netns = None if peer_nsid == home_nsid else self._namespace_with_nsid(netns, peer_nsid)
            if peer_netns is not _NOWHERE:
                self._dying.append((peer_netns, msg.get_attr('IFLA_LINK')))
                target = self._ingress_target(peer_netns, msg.get_attr('IFLA_LINK'))
                if target is not None:
                    orphans.append((peer_netns, self._name_of(peer_netns, target)))
        self._netlink.drop(netns)
        self._forget(netns)
        self._nsid_maps = {}
        if self._libc.umount2(path.encode(), MNT_DETACH) != 0:
            err = ctypes.get_errno()
            if err != errno.EINVAL:
                raise KernelError('cannot unmount namespace %s: %s' % (netns, os.strerror(err)))
        try:
            os.unlink(path)
        except OSError as e:
            raise KernelError('cannot remove %s: %s' % (path, e.strerror))
        for peer_netns, device in orphans:
            if device is not None:
                self._delete_ingress_device(peer_netns, device)

    @executes(QUIET_NAMESPACE)
    def op_quiet_namespace(self, netns, keep, gone):
        """Cut a namespace off as its removal will, in a way an undo reverses: each veth end outside it whose
        peer is inside goes down (the bridge it is a port of forgets the MACs behind it), and the ends inside
        lose their carrier but keep their addresses and routes.  Returns the ends brought down, [(netns, name)].
        An end in a namespace of ``gone`` is left alone: it goes with its own namespace.

        None, before any change, when that would not cut it off or could not be undone whole: a link inside on
        a parent outside (a macvlan, a vlan) or a device of the host's, a peer in no named namespace, or an end
        outside that ``keep`` names, or that has addresses, routes or links on it of its own (a link that goes
        down loses its routes, and takes a vlan on it down with it).
        """
        home_nsid = self._nsid(netns, None)
        keep = set(tuple(end) for end in keep)
        outside, seen = [], {}
        for msg in self._link_messages(netns):
            kind = _link_kind(msg)
            peer_nsid = msg.get_attr('IFLA_LINK_NETNSID')
            if msg.get_attr('IFLA_IFNAME') == 'lo' or (kind != 'veth' and kind is not None and peer_nsid is None):
                continue
            if kind != 'veth' or not msg.get_attr('IFLA_LINK'):
                return None
            if peer_nsid is None:
                continue  # both ends inside
            peer_netns = None if peer_nsid == home_nsid else self._namespace_with_nsid(netns, peer_nsid)
            if peer_netns is _NOWHERE:
                return None
            if peer_netns in gone:
                continue
            if peer_netns not in seen:  # what stands on each end there, from one dump of each kind
                seen[peer_netns] = self._standing_on_links(peer_netns)
            links, standing = seen[peer_netns]
            peer = links.get(msg.get_attr('IFLA_LINK'))
            if peer is None:
                return None
            name = peer.get_attr('IFLA_IFNAME')
            if not peer['flags'] & IFF_UP:
                continue
            if (peer_netns, name) in keep or peer['index'] in standing:
                return None
            outside.append((peer_netns, name))
        done = []
        try:
            for peer_netns, name in outside:
                self._set_one(peer_netns, name, 'up', False)
                done.append((peer_netns, name))
        except KernelError:
            self.op_bring_up_links(done)
            raise
        return outside

    def _standing_on_links(self, netns):
        """({ifindex: link message}, ifindexes with something of their own on them) of a namespace: an address
        (the kernel's own IPv6 link-local aside), a route a person or program added, or another link."""
        links = dict((msg['index'], msg) for msg in self._link_messages(netns))
        standing = set(msg['index'] for msg in self._address_messages(netns) if self._cidr_of(msg) is not None)
        standing.update(msg.get_attr('IFLA_LINK') for msg in links.values()
                        if msg.get_attr('IFLA_LINK') and msg.get_attr('IFLA_LINK_NETNSID') is None
                        and _link_kind(msg) != 'veth')
        names = dict((index, msg.get_attr('IFLA_IFNAME')) for index, msg in links.items())
        for route in self.read_all_routes(netns):
            if route['proto'] != RTPROT_KERNEL:
                standing.update(index for index, name in names.items() if name == route['dev'])
        return links, standing

    @executes(BRING_UP_LINKS)
    def op_bring_up_links(self, links):
        for netns, name in links:
            self._set_one(netns, name, 'up', True)

    def settle(self, timeout=30.0):
        """Wait until the kernel has torn down the namespaces this handle removed.

        Until then the other ends of their veth pairs linger, and a name they
        hold cannot be used again.
        """
        deadline = time.monotonic() + timeout
        while self._dying:
            netns, index = self._dying[-1]
            if (netns is not None and not self.namespace_exists(netns)) or \
                    self._get_link(netns, index=index) is None:
                self._dying.pop()
                continue
            if time.monotonic() > deadline:
                raise KernelError('the kernel has not finished removing namespaces after %d seconds' % timeout)
            time.sleep(0.01)

    # --- links: reading ----------------------------------------------------------

    def _get_link(self, netns, name=None, index=None):
        try:
            if name is not None:
                return self._rtnl(netns, 'link', 'get', ifname=name)[0]
            return self._rtnl(netns, 'link', 'get', index=index)[0]
        except NetlinkError as e:
            if e.code == errno.ENODEV:
                return None
            raise KernelError('cannot read link %s%s: %s' % (name or index, _where(netns), _describe_error(e)))

    def _index(self, netns, name):
        """A link's ifindex, for requests that take no name (addresses, routes, masters).

        Remembered until this handle deletes, moves or renames the link.
        """
        known = self._indexes.setdefault(netns, {})
        if name not in known:
            msg = self._get_link(netns, name)
            if msg is None:
                raise KernelError('link %s does not exist%s' % (name, _where(netns)))
            known[name] = msg['index']
        return known[name]

    def _forget(self, netns, name=None):
        if name is None:
            self._indexes.pop(netns, None)
        else:
            self._indexes.get(netns, {}).pop(name, None)

    def read_link(self, netns, name):
        """The link as a dict in the model's shape, or None.  One request."""
        msg = self._get_link(netns, name)
        if msg is None:
            return None
        return self._describe(netns, msg)

    def read_links(self, netns):
        """Every link of a namespace, described, from one dump."""
        msgs = [(m, _Attrs(m)) for m in self._link_messages(netns)]
        names = dict((m['index'], attrs.get('IFLA_IFNAME')) for m, attrs in msgs)
        self._names[netns] = names
        # The ifb device that shapes what arrives at an end is a part of the end, not a link of the lab.
        return [self._describe(netns, m, names, attrs) for m, attrs in msgs
                if not is_ingress_device(_link_kind(m), attrs.get('IFLA_IFNAME'))]

    def namespace_addresses(self, netns):
        """Every address of a namespace as [(link, CIDR)], lo's included; None when there is no such namespace."""
        if not self.namespace_exists(netns):
            return None
        names = dict((m['index'], _Attrs(m).get('IFLA_IFNAME')) for m in self._link_messages(netns))
        found = []
        for msg in self._address_messages(netns):
            cidr = self._cidr_of(msg)
            if cidr is not None:
                found.append((names.get(msg['index']), cidr))
        return sorted(found)

    def socket_in(self, netns, family, kind, proto=0):
        """A socket of namespace ``netns`` (None: this one).  It stays in it whichever namespace
        the thread is in later: a probe makes its socket here and is driven from anywhere."""
        return self._in_namespace(netns, lambda: socket.socket(family, kind, proto))

    def read_namespace(self, netns, addresses=True, route_keys=(), owner=None, qdiscs=False):
        """What a plan reads of one namespace, as plain data, entering it once.

        Its links; with ``addresses``, every address by ifindex; the routes of each
        (table, family) in ``route_keys``; when its loopback names ``owner``,
        every route (what a purge looks through); with ``qdiscs``, its root qdiscs.
        """
        links = self.read_links(netns)
        lo = [link for link in links if link['name'] == 'lo']
        state = {
            'links': links,
            'addresses': self.read_all_addresses(netns) if addresses else None,
            'routes': dict((key, self.read_routes(netns, key[0], key[1])) for key in route_keys),
            'all_routes': None,
            'qdiscs': self.read_root_qdiscs(netns) if qdiscs else None,
        }
        if owner is not None and netns is not None and lo and lo[0]['owner'] == owner:
            state['all_routes'] = self.read_all_routes(netns)
        return state

    def read_namespaces(self, requests, processes=None):
        """read_namespace for many namespaces: {netns: state}.

        ``requests`` are (netns, addresses, route_keys, owner, qdiscs).  Decoding netlink
        messages in Python is what a large read costs, so a large one is shared
        among forked processes, one per CPU (at most MAX_READ_PROCESSES); each
        opens its own sockets and sends back plain data.  ``processes``
        overrides the choice.
        """
        if processes is None:
            processes = min(len(os.sched_getaffinity(0)), MAX_READ_PROCESSES, len(requests) // PARALLEL_READ_MIN)
        if processes < 2:
            return self._remember(dict((request[0], self.read_namespace(*request)) for request in requests))
        # Namespaces differ in size (the host may hold a thousand links), so the
        # readers take small chunks from one queue instead of fixed shares.
        chunk = max(1, len(requests) // (processes * 8))
        queue_out, queue_in = os.pipe()
        children = []
        for dummy in range(processes):
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read_end)
                os.close(queue_in)
                _read_in_child(queue_out, write_end, requests, chunk)
            os.close(write_end)
            children.append((pid, read_end))
        os.close(queue_out)
        # At most processes * 8 + 1 starts, written at once: far below PIPE_BUF, so atomic.
        os.write(queue_in, b''.join(struct.pack('I', start) for start in range(0, len(requests), chunk)))
        os.close(queue_in)
        result, errors = {}, []
        for pid, read_end in children:
            with os.fdopen(read_end, 'rb') as pipe:
                data = pipe.read()
            os.waitpid(pid, 0)
            if not data:
                errors.append('a process reading namespaces ended without an answer')
                continue
            status, payload = pickle.loads(data)
            if status == 'ok':
                result.update(payload)
            else:
                errors.append(payload)
        if errors:
            raise KernelError(errors[0])
        return self._remember(result)

    def _remember(self, states):
        """Each namespace's links by ifindex and by name from read_namespaces' ``states``: a plan applied right
        after, under the host lock, then needs no request to look a link up (_index)."""
        for netns, state in states.items():
            self._names[netns] = dict((link['index'], link['name']) for link in state['links'])
            self._indexes[netns] = dict((link['name'], link['index']) for link in state['links'])
        return states

    def _describe(self, netns, msg, names=None, attrs=None):
        attrs = attrs or _Attrs(msg)
        info = attrs.get('IFLA_LINKINFO')
        kind = info.get_attr('IFLA_INFO_KIND') if info is not None else None
        name = attrs.get('IFLA_IFNAME')
        if kind is None and name == 'lo':
            kind = 'loopback'
        link = {
            'kind': kind or 'device',
            'name': name,
            'netns': netns,
            'index': msg['index'],
            'up': bool(msg['flags'] & IFF_UP),
            'mtu': attrs.get('IFLA_MTU'),
            'mac': attrs.get('IFLA_ADDRESS'),
            'owner': owner_of_alias(attrs.get('IFLA_IFALIAS')),
            'master': None,
        }
        master = attrs.get('IFLA_MASTER')
        if master and names is not None:
            link['master'] = names.get(master)
        elif master:
            master_msg = self._get_link(netns, index=master)
            link['master'] = master_msg.get_attr('IFLA_IFNAME') if master_msg else None
        handler = BY_KERNEL_KIND.get(kind)
        if handler is not None:
            link['kind'] = handler.name
            handler.decode(link, info.get_attr('IFLA_INFO_DATA'), attrs,
                           lambda index: (names or {}).get(index) or self._name_of(netns, index))
        return link

    def _name_of(self, netns, index):
        msg = self._get_link(netns, index=index)
        return msg.get_attr('IFLA_IFNAME') if msg is not None else None

    def read_macvlan_parent(self, link, parent_netns):
        """The parent of a macvlan as (netns, name), when it is in ``parent_netns``; else None."""
        if link['parent_netnsid'] is None:
            return (link['netns'], self._name_of(link['netns'], link['parent_index']))
        if parent_netns != link['netns'] and self.namespace_exists(parent_netns) and \
                self._nsid(link['netns'], parent_netns) == link['parent_netnsid']:
            return (parent_netns, self._name_of(parent_netns, link['parent_index']))
        return None

    def read_parent(self, link):
        """(netns, name) of a macvlan's or ipvlan's parent, wherever it is; None if in no named namespace."""
        if link['parent_netnsid'] is None:
            return (link['netns'], self._name_of(link['netns'], link['parent_index']))
        netns = self._namespace_with_nsid(link['netns'], link['parent_netnsid'])
        if netns is _NOWHERE:
            return None
        return (netns, self._name_of(netns, link['parent_index']))

    def read_fdb(self, netns, name):
        """The static forwarding entries of a VXLAN: [{mac, dst}], sorted."""
        entries = []
        index = self._index(netns, name)
        for msg in self._dump(netns, lambda: self._netlink.fdb(netns, 'dump', ifindex=index)):
            if msg['ifindex'] == index and msg.get_attr('NDA_DST') and \
                    msg['state'] & (NUD_PERMANENT | NUD_NOARP):
                entries.append({'mac': msg.get_attr('NDA_LLADDR'), 'dst': msg.get_attr('NDA_DST')})
        return sorted(entries, key=lambda e: (e['mac'], e['dst']))

    def read_all_addresses(self, netns):
        """{ifindex: [CIDR, ...]} for a whole namespace, from one dump."""
        result = {}
        for msg in self._address_messages(netns):
            cidr = self._cidr_of(msg)
            if cidr is not None:
                result.setdefault(msg['index'], []).append(cidr)
        return dict((index, sorted(cidrs)) for index, cidrs in result.items())

    @staticmethod
    def _cidr_of(msg):
        """CIDR of an address message; None for the IPv6 link-local address the kernel made itself.

        A link-local address a person or a document added is read like any other, so a
        document that lists one finds it on the second run and can remove it later.
        """
        address = msg.get_attr('IFA_LOCAL') or msg.get_attr('IFA_ADDRESS')
        iface = ipaddress.ip_interface('%s/%d' % (address, msg['prefixlen']))
        if msg['family'] == AF_INET6 and iface.ip.is_link_local and (
                not KERNEL_MARKS_ADDRESSES or _made_by_kernel(msg)):
            return None
        return str(iface)

    def read_addresses(self, netns, name):
        """CIDRs on a link, the kernel's own IPv6 link-local address aside (see _cidr_of)."""
        index = self._index(netns, name)
        result = []
        for msg in self._address_messages(netns):
            if msg['index'] != index:
                continue
            cidr = self._cidr_of(msg)
            if cidr is not None:
                result.append(cidr)
        return sorted(result)

    def read_veth_peer(self, link, hint_netns):
        """The other end of a veth, described; None if it is in no named namespace.

        IFLA_LINK is the peer's ifindex in the peer's own namespace, and
        IFLA_LINK_NETNSID names that namespace by its id as seen from the
        link's namespace.  The namespace the caller expects is asked first.
        """
        if not link['peer_elsewhere']:
            netns = link['netns']
        elif hint_netns != link['netns'] and self.namespace_exists(hint_netns) and \
                self._nsid(link['netns'], hint_netns) == link['peer_netnsid']:
            netns = hint_netns
        else:
            netns = self._namespace_with_nsid(link['netns'], link['peer_netnsid'])
            if netns is _NOWHERE:
                return None
        msg = self._get_link(netns, index=link['peer_index'])
        return self._describe(netns, msg) if msg is not None else None

    def _nsid(self, from_netns, netns):
        """The id ``from_netns`` knows ``netns`` by, or None when it has none."""
        fd = self.namespace_fd(netns)
        try:
            reply = self._netlink.netnsid(from_netns, fd)
        except NetlinkError:
            return None
        finally:
            os.close(fd)
        nsid = reply.get('nsid') if reply else None
        return None if nsid is None or nsid < 0 or nsid >= 2 ** 31 else nsid

    def _namespace_with_nsid(self, from_netns, nsid):
        """The namespace (None: ours) that ``from_netns`` knows by ``nsid``; _NOWHERE if no named one.

        Labs are mostly stars (containers around one namespace with the bridge),
        so the namespaces found this way before are asked first: removing a
        thousand containers asks one namespace each, not every namespace each.
        """
        for netns in self._found_by_nsid:
            if netns != from_netns and self.namespace_exists(netns) and self._nsid(from_netns, netns) == nsid:
                return netns
        netns = self._nsid_map(from_netns).get(nsid, _NOWHERE)
        if netns is not _NOWHERE:
            self._found_by_nsid = [netns] + [n for n in self._found_by_nsid if n != netns][:7]
        return netns

    def _nsid_map(self, from_netns):
        """{nsid: namespace name} as seen from one namespace; kept until the next operation."""
        if from_netns not in self._nsid_maps:
            found = {}
            for netns in [None] + self.list_namespaces():
                if netns != from_netns:
                    nsid = self._nsid(from_netns, netns)
                    if nsid is not None:
                        found[nsid] = netns
            self._nsid_maps[from_netns] = found
        return self._nsid_maps[from_netns]

    def read_ports(self, netns, bridge):
        index = self._index(netns, bridge)
        return sorted(m.get_attr('IFLA_IFNAME') for m in self._link_messages(netns)
                      if m.get_attr('IFLA_MASTER') == index)

    # --- links: operations ---------------------------------------------------------

    def _link_call(self, what, netns, name, *args, **kwargs):
        try:
            return self._rtnl(netns, 'link', *args, **kwargs)
        except NetlinkError as e:
            raise KernelError('cannot %s %s%s: %s' % (what, name, _where(netns), _describe_error(e)))

    def _set_alias(self, netns, name, alias):
        # The kernel finds a link by IFLA_IFNAME when no index is given: no lookup first.
        self._link_call('mark', netns, name, 'set', ifname=name, ifalias=alias)

    def _finish_new_link(self, netns, name, steps):
        """Run the steps that complete a link just created; if one fails, the link goes again.

        An action is all or nothing, so rollback never has to undo half of one.
        """
        try:
            for step in steps:
                step()
        except Exception:
            try:
                self.op_delete_link(netns, name)
            except KernelError:
                pass
            raise

    @executes(ADD_LINK)
    def op_add_link(self, netns, name, kind, owner, options, index=None):
        """Create a link of a kind of _kinds, with the owner's mark; ``index`` 0 or None lets the kernel choose.

        The kind encodes its options; a link on a parent is asked of the parent's
        namespace (where IFLA_LINK means something) and placed by IFLA_NET_NS_FD.
        """
        handler = KINDS[kind]
        for end in handler.marked_ends(netns, name, options):
            # A link of that name may have gone on its own (with its peer's namespace): its ifindex is not this one's.
            self._forget(end[0], end[1])
        request = _AddRequest(self, netns)
        try:
            kwargs = handler.encode(options, request)
            if options.get('mtu') and not handler.made_in_namespace:
                kwargs['mtu'] = options['mtu']
            if options.get('mac') and not handler.made_in_namespace:
                kwargs['address'] = options['mac']
            elif handler.pins_address:
                kwargs['address'] = random_mac()
            parent = handler.parent(netns, options)
            if handler.made_in_namespace:
                self._in_namespace(netns, lambda: self._add_by_ioctl(netns, name, handler.label(options), kwargs))
            elif parent is not None:
                link_netns, link = parent
                if netns != link_netns:
                    kwargs['net_ns_fd'] = request.namespace_fd(netns)
                try:
                    self._rtnl(link_netns, 'link', 'add', ifname=name, index=index or 0,
                               link=self._index(link_netns, link), **kwargs)
                except NetlinkError as e:
                    raise KernelError('cannot create %s %s%s on %s%s: %s' % (
                        handler.label(options), name, _where(netns), link, _where(link_netns), _describe_error(e)))
            else:
                self._link_call('create %s' % handler.label(options), netns, name, 'add', ifname=name,
                                index=index or 0, **kwargs)
        finally:
            request.close()
        # The kernel ignores IFLA_IFALIAS in a create request: the marks need their own.
        steps = [lambda end=end: self._set_alias(end[0], end[1], OWNER_ALIAS_PREFIX + owner)
                 for end in handler.marked_ends(netns, name, options)]
        if handler.made_in_namespace:
            steps.append(lambda: self.op_set_link(netns, name, mtu=options.get('mtu'), mac=options.get('mac')))
        self._finish_new_link(netns, name, steps)

    @staticmethod
    def _add_by_ioctl(netns, name, label, kwargs):
        """A device made by an ioctl, which acts in the namespace of the calling thread (tun/tap)."""
        sock = IPRoute()
        try:
            sock.link('add', ifname=name, **kwargs)
        except NetlinkError as e:
            raise KernelError('cannot create %s %s%s: %s' % (label, name, _where(netns), _describe_error(e)))
        finally:
            sock.close()

    @staticmethod
    def user_id(user):
        if isinstance(user, int) or str(user).isdigit():
            return int(user)
        try:
            return pwd.getpwnam(user).pw_uid
        except KeyError:
            raise KernelError('user %s does not exist on this host' % user)

    @staticmethod
    def group_id(group):
        if isinstance(group, int) or str(group).isdigit():
            return int(group)
        try:
            return grp.getgrnam(group).gr_gid
        except KeyError:
            raise KernelError('group %s does not exist on this host' % group)

    @executes(ADD_FDB)
    def op_add_fdb(self, netns, name, mac, dst):
        self._fdb_call('append', netns, name, mac, dst)

    @executes(DELETE_FDB)
    def op_delete_fdb(self, netns, name, mac, dst):
        self._fdb_call('del', netns, name, mac, dst)

    def _fdb_call(self, what, netns, name, mac, dst):
        try:
            # pyroute2 sends these as static entries of the device itself (NTF_SELF, permanent).
            self._netlink.fdb(netns, what, ifindex=self._index(netns, name), lladdr=mac, dst=dst)
        except NetlinkError as e:
            raise KernelError('cannot %s fdb entry %s -> %s on %s%s: %s' % (
                'add' if what == 'append' else 'remove', mac, dst, name, _where(netns), _describe_error(e)))

    def read_root_qdiscs(self, netns):
        """{ifindex: {'handle', 'kind', 'params'}} of the root qdiscs of a namespace, from one dump; a link
        whose root is the kernel's default (handle 0:) is not listed.  ``params`` (_tc's) is None for a
        kind this collection does not set."""
        roots = {}
        for msg in self._dump(netns, lambda: self._netlink.qdiscs(netns)):
            if msg['parent'] != ROOT or not msg['handle']:
                continue
            kind = msg.get_attr('TCA_KIND')
            roots[msg['index']] = {'handle': msg['handle'], 'kind': kind,
                                   'params': decode(kind, msg.get_attr('TCA_OPTIONS'))}
        return roots

    @executes(SET_QDISC)
    def op_set_qdisc(self, netns, name, handle, params):
        """The end's root qdisc with ``handle`` becomes ``params`` (_tc's), whole."""
        self._set_root_qdisc(netns, name, handle, params)

    def _set_root_qdisc(self, netns, name, handle, params, option='tc', shown=None):
        """op_set_qdisc on link ``name``; messages name ``option`` and the end ``shown`` (the link itself unless
        given: the end whose tc_ingress the link, an ifb device, is)."""
        index = self._index(netns, name)
        shown = shown or name
        kind, options = encode_options(params)
        attrs = [['TCA_KIND', kind], ['TCA_OPTIONS', options]]
        what = 'set %s %s on' % (option, text_of(params))
        try:
            self._qdisc_call(what, netns, shown, 'replace', index, handle, attrs, raw=True)
            return
        except NetlinkError as e:
            current = self.read_root_qdiscs(netns).get(index)
            if e.code != errno.EINVAL or current is None or current['handle'] != handle or current['kind'] == kind:
                raise KernelError('cannot %s %s%s: %s' % (what, shown, _where(netns), _qdisc_error(e, attrs)))
        # The kernel replaces a qdisc in place only with one of its kind: the other kind goes first, and
        # comes back if the new one cannot be set (a kernel without sch_netem), so the action is all or nothing.
        self._qdisc_call('remove the %s qdisc from' % current['kind'], netns, shown, 'del', index, handle)
        try:
            self._qdisc_call(what, netns, shown, 'replace', index, handle, attrs)
        except KernelError:
            if current['params'] is not None:
                old_kind, old_options = encode_options(current['params'])
                self._qdisc_call('put back the %s qdisc on' % old_kind, netns, shown, 'replace', index, handle,
                                 [['TCA_KIND', old_kind], ['TCA_OPTIONS', old_options]])
            raise

    @executes(DELETE_QDISC)
    def op_delete_qdisc(self, netns, name, handle):
        index = self._index(netns, name)
        if self.read_root_qdiscs(netns).get(index, {}).get('handle') == handle:
            self._qdisc_call('remove tc from', netns, name, 'del', index, handle)

    def _qdisc_call(self, what, netns, name, command, index, handle, attrs=(), raw=False, parent=ROOT, info=0):
        """One tc request; ``raw`` lets the kernel's NetlinkError through (for a caller that handles it)."""
        msg = tcmsg()
        msg['index'] = index
        msg['handle'] = handle
        msg['parent'] = parent
        msg['info'] = info
        msg['attrs'] = list(attrs)
        try:
            return list(self._netlink.qdisc(netns, command, msg) or ())
        except NetlinkError as e:
            if raw:
                raise
            raise KernelError('cannot %s %s%s: %s' % (what, name, _where(netns), _qdisc_error(e, attrs)))

    # --- what arrives at an end (tc_ingress, _tc) ------------------------------------

    def _ingress_target(self, netns, index):
        """The ifindex our filter on the ingress of link ``index`` redirects to, None without one."""
        try:
            msgs = self._qdisc_call('read the filters of', netns, index, 'filters', index, 0, raw=True,
                                    parent=INGRESS_HANDLE)
        except NetlinkError as e:
            if e.code in (errno.EINVAL, errno.ENOENT, errno.ENODEV):  # no ingress qdisc, or no such link
                return None
            raise KernelError('cannot read the tc filters of link %s%s: %s' % (index, _where(netns), _describe_error(e)))
        for msg in msgs or []:
            if msg['info'] >> 16 == INGRESS_PRIO and msg.get_attr('TCA_KIND') == 'u32':
                target = redirect_target(msg.get_attr('TCA_OPTIONS'))
                if target is not None:
                    return target
        return None

    def read_ingress(self, netns, index, roots=None):
        """What shapes what arrives at link ``index``: {'device', 'params'} (params: _tc's, of the device's
        root qdisc, None when that is not ours), or None when no filter of ours sends its traffic to a device.
        ``roots``: the namespace's read_root_qdiscs, when the caller has it."""
        target = self._ingress_target(netns, index)
        if target is None:
            return None
        device = self._name_of(netns, target)
        if roots is None:
            roots = self.read_root_qdiscs(netns)
        root = roots.get(target)
        return {'device': device,
                'params': root['params'] if root is not None and root['handle'] == HANDLE else None}

    def read_ingresses(self, netns, roots=None):
        """read_ingress of every link of a namespace that has an ingress qdisc: {ifindex: {'device', 'params'}}."""
        if roots is None:
            roots = self.read_root_qdiscs(netns)
        found = {}
        for msg in self._dump(netns, lambda: self._netlink.qdiscs(netns)):
            if msg['parent'] == INGRESS_PARENT:
                ingress = self.read_ingress(netns, msg['index'], roots)
                if ingress is not None:
                    found[msg['index']] = ingress
        return found

    def _has_ingress_qdisc(self, netns, index):
        return any(msg['index'] == index and msg['parent'] == INGRESS_PARENT
                   for msg in self._dump(netns, lambda: self._netlink.qdiscs(netns)))

    @executes(SET_INGRESS)
    def op_set_ingress(self, netns, name, params):
        """What arrives at the end is shaped by ``params``: an ifb device of its own (made if missing) with
        that root qdisc, the end's ingress qdisc (added if missing) and our filter that redirects every
        packet to the device.  All or nothing: a device made here goes again if a later step fails."""
        index = self._index(netns, name)
        target = self._ingress_target(netns, index)
        device = self._name_of(netns, target) if target is not None else ingress_device(name)
        made = added = False
        if target is None:
            found = self._get_link(netns, device)
            if found is not None and not is_ingress_device(_link_kind(found), device):
                raise KernelError('cannot set tc_ingress on %s%s: a %s named %s is there, which netvirt.linux did '
                                  'not make' % (name, _where(netns), _link_kind(found) or 'device', device))
            if found is None:
                self._link_call('create the ifb device %s for' % device, netns, name, 'add', ifname=device,
                                kind='ifb')
                made = True
        try:
            self._link_call('bring up the ifb device %s of' % device, netns, name, 'set', ifname=device, state='up')
            self._set_root_qdisc(netns, device, HANDLE, params, 'tc_ingress', name)
            if not self._has_ingress_qdisc(netns, index):
                self._qdisc_call('add an ingress qdisc to', netns, name, 'replace', index, INGRESS_HANDLE,
                                 [['TCA_KIND', 'ingress']], parent=INGRESS_PARENT)
                added = True
            if target is None:
                kind, options, info = redirect_filter(self._index(netns, device))
                self._qdisc_call('add the filter of tc_ingress to', netns, name, 'add-filter', index, 0,
                                 [['TCA_KIND', kind], ['TCA_OPTIONS', options]], parent=INGRESS_HANDLE, info=info)
        except KernelError:
            if added:
                self._qdisc_call('remove the ingress qdisc from', netns, name, 'del', index, INGRESS_HANDLE,
                                 parent=INGRESS_PARENT)
            if made:
                self._delete_ingress_device(netns, device)
            raise

    @executes(DELETE_INGRESS)
    def op_delete_ingress(self, netns, name):
        """The end's traffic is no longer redirected, and its ifb device goes; so does its ingress qdisc when
        no filter is left on it (one of somebody's, with filters of its own, stays)."""
        index = self._index(netns, name)
        target = self._ingress_target(netns, index)
        if target is None:
            return
        device = self._name_of(netns, target)
        self._delete_ingress_filter(netns, name, index)
        try:
            left = self._qdisc_call('read the filters of', netns, name, 'filters', index, 0, parent=INGRESS_HANDLE)
        except KernelError:
            left = None
        if left == []:
            self._qdisc_call('remove the ingress qdisc from', netns, name, 'del', index, INGRESS_HANDLE,
                             parent=INGRESS_PARENT)
        if device is not None:
            self._delete_ingress_device(netns, device)

    def _delete_ingress_filter(self, netns, name, index):
        # One priority of one protocol names our filter: every handle under it goes.
        self._qdisc_call('remove the filter of tc_ingress from', netns, name, 'del-filter', index, 0,
                         parent=INGRESS_HANDLE, info=redirect_filter(0)[2])

    def _delete_ingress_device(self, netns, device):
        """Delete an ifb device of ours, when it is there."""
        found = self._get_link(netns, device)
        if found is not None and is_ingress_device(_link_kind(found), device):
            self._link_call('delete the ifb device', netns, device, 'del', index=found['index'])
            self._forget(netns, device)

    @executes(DELETE_LINK)
    def op_delete_link(self, netns, name, ingress=()):
        self._link_call('delete link', netns, name, 'del', ifname=name)
        self._forget(netns, name)
        for device_netns, device in ingress:
            self._delete_ingress_device(device_netns, device)

    @executes(SET_LINK)
    def op_set_link(self, netns, name, mtu=None, mac=None, up=None, master=None,
                    stp=None, forward_delay=None, owner=None):
        """Change attributes; None leaves an attribute alone, master '' detaches.

        All or nothing: if one change fails, those made before it are reverted.
        """
        wanted = [(key, value) for key, value in (('mtu', mtu), ('mac', mac), ('stp', stp),
                                                  ('forward_delay', forward_delay), ('master', master),
                                                  ('owner', owner), ('up', up)) if value is not None]
        if len(wanted) == 1:
            self._set_one(netns, name, *wanted[0])
            return
        if not wanted:
            return
        old = self.read_link(netns, name)
        if old is None:
            raise KernelError('link %s does not exist%s' % (name, _where(netns)))
        done = []
        try:
            for key, value in wanted:
                self._set_one(netns, name, key, value)
                done.append(key)
        except KernelError:
            for key in reversed(done):
                try:
                    previous = old.get(key)
                    self._set_one(netns, name, key, '' if previous is None and key in ('master', 'owner')
                                  else previous)
                except KernelError:
                    pass
            raise

    def _set_one(self, netns, name, key, value):
        if key == 'mtu':
            self._link_call('set mtu %d on' % value, netns, name, 'set', ifname=name, mtu=value)
        elif key == 'mac':
            self._link_call('set mac %s on' % value, netns, name, 'set', ifname=name, address=value)
        elif key in CHANGEABLE:
            self._link_call('set %s on' % key, netns, name, 'set', ifname=name,
                            **CHANGEABLE[key].encode({key: value}, None))
        elif key == 'master':
            master_index = self._index(netns, value) if value else 0
            self._link_call('set master %s on' % (value or 'none'), netns, name, 'set',
                            ifname=name, master=master_index)
        elif key == 'owner':
            self._set_alias(netns, name, OWNER_ALIAS_PREFIX + value if value else '')
        elif key == 'up':
            self._link_call('bring %s' % ('up' if value else 'down'), netns, name, 'set',
                            ifname=name, state='up' if value else 'down')

    @executes(MOVE_LINK)
    def op_move_link(self, netns, name, to_netns, to_name, up=False, master=None, addresses=None, routes=None,
                     qdisc=None, ingress=None):
        """Move and/or rename a link in one request.

        The kernel leaves a moved link down, outside any bridge, without its
        addresses (IPv6 ones even on a rename), without the routes through it
        and, moved to another namespace, without its qdiscs.  ``up``,
        ``master``, ``addresses``, ``routes``, ``qdisc`` (SET_QDISC's handle
        and params) and ``ingress`` (SET_INGRESS's params) put those back, as an undo must.
        The ifb device of its tc_ingress is renamed with it, or goes when it leaves the namespace.
        """
        old = self.read_link(netns, name)
        if old is None:
            raise KernelError('link %s does not exist%s' % (name, _where(netns)))
        index = old['index']
        target = self._ingress_target(netns, index)
        device = self._name_of(netns, target) if target is not None else None
        self._forget(netns, name)
        self._link_call('bring down', netns, name, 'set', index=index, state='down')
        try:
            if to_netns == netns:
                self._link_call('rename to %s' % to_name, netns, name, 'set', index=index, ifname=to_name)
            else:
                fd = self.namespace_fd(to_netns)
                try:
                    self._link_call('move to %s as %s' % (to_netns or 'the current namespace', to_name),
                                    netns, name, 'set', index=index, net_ns_fd=fd, ifname=to_name)
                finally:
                    os.close(fd)
        except KernelError:
            if old['up']:
                self._link_call('bring up', netns, name, 'set', index=index, state='up')
            raise
        if device is not None and to_netns != netns:
            self._delete_ingress_device(netns, device)
        elif device is not None and device != ingress_device(to_name):
            # Down to be renamed, as the kernel wants; what it shapes waits a moment.
            self._link_call('bring down', netns, device, 'set', index=target, state='down')
            self._link_call('rename to %s' % ingress_device(to_name), netns, device, 'set', index=target,
                            ifname=ingress_device(to_name))
            self._link_call('bring up', netns, ingress_device(to_name), 'set', index=target, state='up')
            self._forget(netns, device)
        present = self.read_addresses(to_netns, to_name) if addresses else []
        for cidr in addresses or []:
            if cidr not in present:
                self.op_add_address(to_netns, to_name, cidr)
        self.op_set_link(to_netns, to_name, master=master, up=up or None)
        if qdisc:
            self.op_set_qdisc(to_netns, to_name, **qdisc)
        if ingress:
            self.op_set_ingress(to_netns, to_name, ingress)
        for route in routes or []:
            self.op_replace_route(to_netns, dict(route, dev=to_name))

    @executes(RESTORE_LINK)
    def op_restore_link(self, snapshot):
        """Undo of a deletion: recreate a link from what read_link saw before, as its kind snapshots it."""
        link = snapshot
        handler = KINDS.get(link['kind'])
        if handler is None:
            raise KernelError('cannot recreate link %s of kind %s' % (link['name'], link['kind']))
        options = dict(handler.restore_options(link), mtu=link['mtu'], mac=link['mac'])
        self.op_add_link(link['netns'], link['name'], handler.name, link['owner'] or '', options,
                         None if handler.made_in_namespace else link['index'])
        for op, args in handler.restore_steps(link):
            getattr(self, EXECUTORS[op])(**args)
        for end in handler.snapshot_ends(link):
            if not end['owner']:
                self._set_alias(end['netns'], end['name'], '')
            for cidr in end.get('addresses') or []:
                self.op_add_address(end['netns'], end['name'], cidr)
            self.op_set_link(end['netns'], end['name'], master=end['master'] or None, up=end['up'])
            if end.get('qdisc'):
                self.op_set_qdisc(end['netns'], end['name'], **end['qdisc'])
            if end.get('ingress'):
                self.op_set_ingress(end['netns'], end['name'], end['ingress'])
        for route in link.get('routes') or []:  # a recreated link's: they went with the old one
            self.op_replace_route(link['netns'], route)

    # --- addresses ----------------------------------------------------------------

    def _addr_call(self, what, netns, name, cidr):
        iface = ipaddress.ip_interface(cidr)
        try:
            self._rtnl(netns, 'addr', what, index=self._index(netns, name), address=str(iface.ip),
                       prefixlen=iface.network.prefixlen)
        except NetlinkError as e:
            raise KernelError('cannot %s address %s on %s%s: %s'
                              % ('add' if what == 'add' else 'remove', cidr, name, _where(netns),
                                 _describe_error(e)))

    @executes(ADD_ADDRESS)
    def op_add_address(self, netns, name, cidr, routes=None):
        """Add an address; ``routes`` are those the kernel dropped when the link lost its
        last IPv4 address, put back by the undo of that removal."""
        self._addr_call('add', netns, name, cidr)
        for route in routes or []:
            self.op_replace_route(netns, route)

    @executes(DELETE_ADDRESS)
    def op_delete_address(self, netns, name, cidr):
        self._addr_call('del', netns, name, cidr)

    # --- routes ----------------------------------------------------------------------

    def read_routes(self, netns, table, family):
        """Unicast routes of one table and family, in the model's shape plus 'proto'."""
        return [r for r in self._dump_routes(netns, family, table) if r['table'] == table]

    def read_all_routes(self, netns):
        """Unicast routes of every table, IPv4 and IPv6."""
        return self._dump_routes(netns, 4, None) + self._dump_routes(netns, 6, None)

    def read_routes_via(self, netns, name):
        """Routes a person or program added through one link (all tables, both families).

        The kernel drops them when the link goes down for a rename or a move;
        an undo puts them back.  Routes the kernel made itself come back on their own.
        """
        routes = []
        for family in (4, 6):
            routes.extend(r for r in self._dump_routes(netns, family, None)
                          if r['dev'] == name and r['proto'] != RTPROT_KERNEL)
        return routes

    def _dump_routes(self, netns, family, table):
        names = {}
        result = []
        # read_routes keeps the table it asked for.
        for msg in self._route_messages(netns, AF_INET6 if family == 6 else AF_INET, table):
            if msg['type'] != RTN_UNICAST:
                continue
            dst = msg.get_attr('RTA_DST')
            dest = 'default' if msg['dst_len'] == 0 else str(
                ipaddress.ip_network('%s/%d' % (dst, msg['dst_len'])))
            oif = msg.get_attr('RTA_OIF')
            if oif and oif not in names and oif in self._names.get(netns, {}):
                names[oif] = self._names[netns][oif]  # from a dump made in this read phase
            if oif and oif not in names:
                found = self._get_link(netns, index=oif)
                names[oif] = found.get_attr('IFLA_IFNAME') if found else None
            result.append({
                'netns': netns,
                'dest': dest,
                'via': msg.get_attr('RTA_GATEWAY'),
                'dev': names.get(oif),
                'metric': _attr(msg, 'RTA_PRIORITY', 0),
                'table': _attr(msg, 'RTA_TABLE', msg['table']),
                'family': family,
                'proto': msg['proto'],
                'ours': msg['proto'] == RTPROT_NETVIRT,
            })
        return result

    def _route_call(self, what, netns, route):
        kwargs = {
            'family': AF_INET6 if route['family'] == 6 else AF_INET,
            'table': route['table'],
            'priority': route['metric'],
            'proto': route.get('proto', RTPROT_NETVIRT),
        }
        if route['dest'] == 'default':
            kwargs['dst_len'] = 0
        else:
            net = ipaddress.ip_network(route['dest'])
            kwargs['dst'] = str(net.network_address)
            kwargs['dst_len'] = net.prefixlen
        if route.get('via'):
            kwargs['gateway'] = route['via']
        if route.get('dev'):
            kwargs['oif'] = self._index(netns, route['dev'])
        try:
            self._rtnl(netns, 'route', what, **kwargs)
        except NetlinkError as e:
            raise KernelError('cannot %s route %s%s: %s' % (
                {'add': 'add', 'del': 'remove', 'replace': 'replace'}[what], route['dest'],
                _where(netns), _describe_error(e)))

    @executes(ADD_ROUTE)
    def op_add_route(self, netns, route):
        self._route_call('add', netns, route)

    @executes(REPLACE_ROUTE)
    def op_replace_route(self, netns, route):
        self._route_call('replace', netns, route)

    @executes(DELETE_ROUTE)
    def op_delete_route(self, netns, route):
        self._route_call('del', netns, route)

    # --- sysctls and files ------------------------------------------------------------

    def _in_namespace(self, netns, func):
        if netns is None:
            return func()
        self._enter(netns)
        try:
            return func()
        finally:
            self._leave()

    def read_sysctl(self, netns, key):
        """The value with whitespace folded, or None when the key does not exist there.

        /proc/sys/net shows the namespace of the thread that opens the file.
        """
        path = sysctl_path(key)

        def read():
            try:
                with open(path) as f:
                    return ' '.join(f.read().split())
            except (IOError, OSError):
                return None
        return self._in_namespace(netns, read)

    @executes(UNDONE_WITH_NAMESPACE)
    def op_undone_with_namespace(self, netns):
        pass

    @executes(SET_SYSCTL)
    def op_set_sysctl(self, netns, key, value):
        path = sysctl_path(key)

        def write():
            try:
                with open(path, 'w') as f:
                    f.write(value)
            except (IOError, OSError) as e:
                raise KernelError('cannot set sysctl %s=%s%s: %s' % (key, value, _where(netns), e.strerror))
        self._in_namespace(netns, write)

    def read_file(self, path):
        try:
            with open(path) as f:
                return f.read()
        except (IOError, OSError):
            return None

    def list_files(self, directory):
        """The paths of the files and symlinks under ``directory``, sorted; [] when there is none."""
        found = []
        for root, _dirs, names in os.walk(directory):
            found.extend(os.path.join(root, name) for name in names)
        return sorted(found)

    def systemd_running(self):
        """Whether systemd is this host's init (sd_booted's test)."""
        return os.path.isdir('/run/systemd/system')

    @executes(WRITE_FILE)
    def op_write_file(self, path, content):
        """Write a file (None removes it), creating its directory."""
        if content is None:
            _remove_file(path)
            try:
                os.rmdir(os.path.dirname(path))
            except OSError:
                pass  # not empty: someone else's files are there too
            return
        _write_file(path, content)

    @executes(INSTALL_PERSISTENCE)
    def op_install_persistence(self, paths, reload):
        """Give each path what ``paths`` says: removals first (each taking the directories of OWN_DIRS it
        leaves empty), then files, then symlinks.  All or nothing: on a failure, what it changed is put back
        before the error is raised, since a plan undoes only the actions before the one that failed."""
        order = {None: 0, 'file': 1, 'link': 2}
        done = []  # (path, what was there)
        try:
            for path, want in sorted(paths.items(), key=lambda item: (order[item[1] and item[1][0]], item[0])):
                done.append((path, self.read_path(path)))
                _set_path(path, want)
            if reload:
                _reload_systemd()
        except KernelError:
            for path, was in reversed(done):
                try:
                    _set_path(path, was)
                except (KernelError, IOError, OSError):
                    pass  # the error raised names the first failure; the plan's undo tries the rest again
            raise

    def read_path(self, path):
        """What is at ``path``: ('link', target), ('file', content), or None (nothing, or nothing we read)."""
        if os.path.islink(path):
            return ('link', os.readlink(path))
        content = self.read_file(path)
        return None if content is None else ('file', content)

    def path_type(self, path):
        """'file', 'link', 'directory' or 'other' for what is at ``path``, None for nothing."""
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return None
        if stat.S_ISLNK(mode):
            return 'link'
        if stat.S_ISREG(mode):
            return 'file'
        return 'directory' if stat.S_ISDIR(mode) else 'other'

    # --- what each owner added where the kernel keeps no mark ---------------------------

    def read_route_records(self):
        """{owner: set of route keys} that each owner's record says it added (see write_route_record).

        Newest record last, so that when two name a route, the owner that added
        it most recently is the one a dict built from them keeps.  A record that
        cannot be read proves nothing: no route is taken as its owner's.
        """
        records = []
        try:
            filenames = os.listdir(ROUTE_RECORD_DIR)
        except OSError:
            return {}
        for filename in filenames:
            if not filename.endswith('.json'):
                continue
            path = os.path.join(ROUTE_RECORD_DIR, filename)
            try:
                with open(path) as f:
                    record = json.load(f)
                identities = dict((netns or None, identity) for netns, identity in record['namespaces'])
                keys = set(tuple(key) for key in record['routes']
                           if identities.get(key[0]) == self._namespace_identity(key[0]))
                records.append((os.stat(path).st_mtime, filename[:-len('.json')], keys))
            except (IOError, OSError, ValueError, KeyError, TypeError, IndexError):
                continue
        return collections.OrderedDict((owner, keys) for dummy, owner, keys in sorted(records))

    def _namespace_identity(self, netns):
        """The inode of a namespace: the same name may come back as another namespace, whose routes
        no record of the old one speaks for."""
        try:
            if netns is None:
                return os.fstat(self._home).st_ino
            return os.stat(namespace_path(netns)).st_ino
        except (OSError, KernelError):
            return None

    def write_route_record(self, owner, keys):
        """Replace an owner's record of the routes it added: (netns, table, dest, metric, family) each,
        with the identity of each namespace they are in.

        Under /run, so a reboot, which takes the routes, takes the record too.
        """
        path = os.path.join(ROUTE_RECORD_DIR, owner + '.json')
        namespaces = sorted(set(key[0] for key in keys), key=lambda netns: netns or '')
        try:
            if not keys:
                if os.path.exists(path):
                    os.unlink(path)
                return
            os.makedirs(ROUTE_RECORD_DIR, exist_ok=True)
            with open(path + '.tmp', 'w') as f:
                json.dump({'namespaces': [[netns, self._namespace_identity(netns)] for netns in namespaces],
                           'routes': [list(key) for key in keys]}, f)
            os.rename(path + '.tmp', path)
        except (IOError, OSError) as e:
            raise KernelError('cannot write the record of routes of owner %s in %s: %s'
                              % (owner, ROUTE_RECORD_DIR, e.strerror))

    # --- nftables -----------------------------------------------------------------------

    def _nft(self, netns, args, payload=None):
        """Run nft inside a namespace, with JSON on stdin; no shell, no command string."""
        nft = shutil.which('nft')
        if nft is None:
            raise KernelError('nft is not installed on this host; install the nftables package '
                              '(Debian and Ubuntu: apt-get install nftables)')
        argv = [nft] + args
        if netns is not None:
            nsenter = shutil.which('nsenter')
            if nsenter is None:
                raise KernelError('nsenter is not installed; install util-linux')
            argv = [nsenter, '--net=' + namespace_path(netns), '--'] + argv
        # No AnsibleModule here, so no run_command: this layer stays importable without ansible, as
        # the kernel suites run it. An argv list and JSON on stdin, never a shell or a command string.
        proc = subprocess.run(argv, input=None if payload is None else json.dumps(payload),  # pylint: disable=ansible-bad-function
                              capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr.strip()

    def read_nat_table(self, netns, table):
        """(state, text lines) of our table in a namespace, or None when there is none.

        The name goes to nft inside a JSON command, never as text it would parse, and
        the text lines are rendered from the JSON listing (nft 1.0.6 answers a JSON
        command only in JSON).
        """
        code, out, err = self._nft(netns, ['-j', '-f', '-'], list_table_payload(table))
        if code != 0:
            if 'No such file or directory' in err or 'does not exist' in err:
                return None
            raise KernelError('cannot read NAT table %s%s: %s' % (table, _where(netns), err))
        listing = json.loads(out)
        if not any(item.get('table', {}).get('name') == table for item in listing.get('nftables', [])):
            return None
        state = table_state(listing, table)
        return state, state_lines(table, state)

    def read_nat_table_names(self, netns):
        """Names of the ip-family tables in a namespace.

        Without nft, the kernel is asked over netlink: none of ours there is an
        empty list (a host that never used NAT needs no nftables package); one of
        ours cannot be read or removed, and saying nothing would keep it.
        """
        if shutil.which('nft') is None:
            ours = sorted(name for name in self._in_namespace(netns, nf_table_names)
                          if name.startswith(TABLE_PREFIX))
            if ours:
                raise KernelError('nft is not installed on this host, and%s there are NAT tables this '
                                  'collection made (%s); install the nftables package to change or remove them'
                                  % (_where(netns), ', '.join(ours)))
            return []
        code, out, err = self._nft(netns, ['-j', '-f', '-'], list_tables_payload())
        if code != 0:
            raise KernelError('cannot list nft tables%s: %s' % (_where(netns), err))
        return [item['table']['name'] for item in json.loads(out).get('nftables', [])
                if 'table' in item and item['table'].get('family') == 'ip']

    @executes(LOAD_NAT_TABLE)
    def op_load_nat_table(self, netns, table, payload):
        """Replace the whole table in one transaction: all of it loads, or nothing changes."""
        code, _out, err = self._nft(netns, ['-j', '-f', '-'], payload)
        if code != 0:
            hint = ''
            if 'No such file or directory' in err or 'Operation not supported' in err:
                hint = ' (the kernel lacks nf_tables NAT support: load nft_chain_nat and nf_nat)'
            raise KernelError('cannot load NAT table %s%s: %s%s' % (table, _where(netns), err, hint))

    @executes(DELETE_NAT_TABLE)
    def op_delete_nat_table(self, netns, table):
        code, _out, err = self._nft(netns, ['-j', '-f', '-'], delete_payload(table))
        if code != 0 and 'No such file or directory' not in err:
            raise KernelError('cannot remove NAT table %s%s: %s' % (table, _where(netns), err))

    # --- running actions -----------------------------------------------------------------

    def run(self, op, args):
        """Run one step of a plan: ``op`` names an operation of _ops, ``args`` are its arguments."""
        self._nsid_maps = {}  # an operation may create, move or remove namespaces and links
        self._names = {}
        return getattr(self, EXECUTORS[op])(**args)


# Built once, at import: an operation of _ops without an executor fails here.
EXECUTORS = executors(Kernel)


class _AddRequest:
    """What a kind's encode asks of the kernel for one add request: ifindexes, namespace descriptors, ids.

    Descriptors stay open until the request is sent, then close().
    """

    def __init__(self, kernel, netns):
        self._kernel = kernel
        self._netns = netns
        self._fds = []

    def index(self, name):
        """The ifindex of a link in the new link's namespace (a vxlan's underlay)."""
        return self._kernel._index(self._netns, name)

    def namespace_fd(self, netns):
        fd = self._kernel.namespace_fd(netns)
        self._fds.append(fd)
        return fd

    def user_id(self, user):
        return self._kernel.user_id(user)

    def group_id(self, group):
        return self._kernel.group_id(group)

    def close(self):
        while self._fds:
            os.close(self._fds.pop())


def _read_in_child(queue, fd, requests, chunk):
    """In a forked reader: take chunks of ``requests`` from ``queue`` until it is
    empty, write the answer to ``fd``, and exit without running the parent's
    clean-up (its sockets and files are the parent's)."""
    try:
        try:
            states = {}
            with Kernel() as kernel:
                while True:
                    item = os.read(queue, 4)  # unbuffered: one start, never another reader's
                    if not item:
                        break
                    start = struct.unpack('I', item)[0]
                    for request in requests[start:start + chunk]:
                        states[request[0]] = kernel.read_namespace(*request)
            payload = ('ok', states)
        except KernelError as e:
            payload = ('error', str(e))
        except Exception as e:  # reported by the parent, which raises it as a KernelError
            payload = ('error', 'unexpected error reading namespaces (%s): %s' % (type(e).__name__, e))
        with os.fdopen(fd, 'wb') as pipe:
            pipe.write(pickle.dumps(payload, 2))
    finally:
        os._exit(0)
