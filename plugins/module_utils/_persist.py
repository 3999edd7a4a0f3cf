# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ``persist`` leaves on a host so that a lab comes back at boot: the files, their paths
and their contents.

PRIVATE: not a public API of the collection.

A persisted owner has its document in ``LABS_DIR``, and an instance of one systemd unit
template, enabled for multi-user.target.  The unit runs ``_restore`` through the
collection's own engine, copied to ``ENGINE_DIR``: at boot the host needs Python, pyroute2
and (for NAT) nft, not Ansible.  Everything here is pure but ``engine_files``, which reads
the source of the engine this process runs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import importlib
import json
import os

LABS_DIR = '/etc/netvirt.linux/labs'
ENGINE_DIR = '/usr/local/lib/netvirt.linux'
UNIT_DIR = '/etc/systemd/system'
UNIT_TEMPLATE = 'netvirt-lab@.service'
WANTS_DIR = os.path.join(UNIT_DIR, 'multi-user.target.wants')
# The directories persist makes for itself, and removes once they are empty.
OWN_DIRS = ('/etc/netvirt.linux', LABS_DIR, ENGINE_DIR)
# The first line of the unit template and of the bootstrap: a file without it is somebody else's.
HEADER = '# netvirt.linux: restores a persisted lab at boot. Managed by Ansible; do not edit.\n'
BOOTSTRAP = 'restore.py'
DEFAULT_TIMEOUT = 30
MAX_TIMEOUT = 3600
FORMAT = 1

PACKAGE = 'ansible_collections.netvirt.linux.plugins.module_utils'
# The engine the restore runs: every module _restore imports, directly or not.  tests/unit's
# test_persist imports _restore in a fresh interpreter and holds this list to what it loaded.
ENGINE_MODULES = (
    '_apply', '_diff', '_journal', '_kernel', '_kinds', '_kinds._base', '_kinds.bridge', '_kinds.dummy',
    '_kinds.geneve', '_kinds.ipvlan', '_kinds.macvlan', '_kinds.macvtap', '_kinds.tuntap', '_kinds.veth',
    '_kinds.vlan', '_kinds.vxlan', '_model', '_netlink', '_nft', '_ops', '_persist', '_plan', '_planners',
    '_planners._base', '_planners.link', '_planners.namespace', '_planners.nat', '_planners.persist',
    '_planners.route', '_restore', '_tc', '_values',
)


def lab_path(owner):
    return os.path.join(LABS_DIR, owner + '.json')


def unit_name(owner):
    """The owner's instance of the template (an owner is letters, digits, '_', '.' and '-', which
    systemd takes in an instance name as they are)."""
    return 'netvirt-lab@%s.service' % owner


def unit_link(owner):
    """The symlink that enables the owner's instance, as `systemctl enable` makes it."""
    return os.path.join(WANTS_DIR, unit_name(owner))


def render_lab(owner, document, purge, timeout):
    """The saved document: the lab as the task gave it, which the engine validates again at boot."""
    saved = {'format': FORMAT, 'owner': owner, 'purge': bool(purge), 'timeout': timeout, 'document': document}
    return json.dumps(saved, indent=1, sort_keys=True) + '\n'


def describe_lab(content):
    """A saved document in a diff: how many of each it holds, and a digest that shows a change."""
    if content is None:
        return None
    try:
        saved = json.loads(content)
        document = saved.get('document') or {}
    except (ValueError, AttributeError):
        saved, document = {}, {}
    summary = dict((section, len(document.get(section) or []))
                   for section in ('namespaces', 'links', 'routes', 'nat'))
    summary.update((key, saved.get(key)) for key in ('purge', 'timeout'))
    summary['sha256'] = hashlib.sha256(content.encode('utf-8')).hexdigest()[:12]
    return summary


def render_unit(interpreter):
    """The unit template.  It runs before network-pre.target, as nftables.service does, so that what
    configures the network (networkd, NetworkManager, ifupdown) and what starts after it (Docker, a
    service bound to a lab's address) finds the lab there; see docs/guide.md, "Beyond the seeds: a lab restored at boot"."""
    return HEADER + '\n'.join([
        '[Unit]',
        'Description=netvirt.linux lab %i',
        'Documentation=https://github.com/netvirt-linux/netvirt.linux/blob/main/docs/guide.md',
        'DefaultDependencies=no',
        # After the switches systemd-sysctl sets (a role's forwarding), and after nftables.service, whose
        # `flush ruleset` would take the lab's NAT tables.
        'After=local-fs.target systemd-modules-load.service systemd-sysctl.service nftables.service',
        'Wants=network-pre.target',
        'Before=network-pre.target shutdown.target',
        'Conflicts=shutdown.target',
        '',
        '[Service]',
        'Type=oneshot',
        'RemainAfterExit=yes',
        # A oneshot has no start timeout of its own; the restore stops trying at the lab's persist_timeout.
        'TimeoutStartSec=%d' % (MAX_TIMEOUT + 60),
        'ExecStart=%s -I -B %s %%i' % (unit_word(interpreter), os.path.join(ENGINE_DIR, BOOTSTRAP)),
        '',
        '[Install]',
        'WantedBy=multi-user.target',
        '',
    ])


# What a unit's command line cannot hold in a program's path: systemd unquotes and expands it, and
# takes '$', quotes and backslashes in the name of the program as they are.
UNWRITABLE = '"\'\\$'


def unit_word(value):
    """``value`` as one word of a unit's command line: quoted where it holds a space, '%' doubled.
    Raises ValueError for what a unit cannot hold."""
    if not value or any(c in value for c in UNWRITABLE) or not value.isprintable():
        raise ValueError('the interpreter %r that runs this task cannot be written in a systemd unit (no quotes, '
                         "backslashes or '$'): run the task with one at another path" % (value,))
    word = value.replace('%', '%%')
    return '"%s"' % word if any(c.isspace() for c in word) else word


def exec_start(template):
    """The ExecStart line of a unit template's text, or None."""
    for line in (template or '').splitlines():
        if line.startswith('ExecStart='):
            return line[len('ExecStart='):]
    return None


def render_bootstrap():
    """The script the unit runs: the engine beside it, ahead of any other ansible_collections."""
    return '\n'.join([
        HEADER.rstrip('\n'),
        'import os',
        'import sys',
        '',
        'sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))',
        'from %s._restore import main  # noqa: E402' % PACKAGE,
        '',
        'sys.exit(main(sys.argv[1:]))',
        '',
    ])


def engine_files():
    """{path under ENGINE_DIR: content} of the engine this process runs, and the bootstrap.

    Read through each module's loader, so it works from a checkout and from the zip that
    AnsiballZ runs a module from.  The packages above module_utils get empty __init__.py files:
    a regular package is found first on sys.path, where a namespace package would merge with
    an ansible_collections that a system's Ansible installed.
    """
    files = {BOOTSTRAP: render_bootstrap()}
    parts = PACKAGE.split('.')
    for depth in range(1, len(parts) + 1):
        files[os.path.join(*(parts[:depth] + ['__init__.py']))] = ''
    for name in ENGINE_MODULES:
        fullname = '%s.%s' % (PACKAGE, name)
        module = importlib.import_module(fullname)
        loader = getattr(module, '__loader__', None)
        source = loader.get_source(fullname) if loader is not None and hasattr(loader, 'get_source') else None
        if source is None:
            raise ImportError('cannot read the source of %s to install the restore engine' % fullname)
        path = fullname.split('.')
        if hasattr(module, '__path__'):
            path.append('__init__.py')
        else:
            path[-1] += '.py'
        files[os.path.join(*path)] = source
    return files
