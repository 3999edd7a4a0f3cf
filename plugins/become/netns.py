# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: netns
short_description: Run a task inside a named network namespace
version_added: 0.1.0
description:
  - With C(become_method=netvirt.linux.netns) and C(become_user=NAME), a task runs inside the network
    namespace NAME of the target host, like C(ip netns exec NAME), over any connection (local, SSH).
  - The module also sees the namespace's C(/etc/netns/NAME) files (C(resolv.conf), C(hosts)) in place of
    C(/etc), as C(ip netns exec) arranges.
  - A namespace that does not exist stops the task with a message naming it; the task runs nowhere else.
  - Entering a namespace needs root on the target. Log in as root, or log in as a user who may run C(ip) as root
    with sudo without a password and set O(sudo=true); the plugin then runs C(sudo -n ip netns exec NAME ...) itself.
    A login that is not root without O(sudo=true) stops the task with a message saying so; nothing runs.
author: netvirt.linux contributors (@netvirt-linux)
options:
  become_user:
    description: The namespace to run in.
    required: true
    type: string
    ini:
      - section: privilege_escalation
        key: become_user
      - section: netns_become_plugin
        key: user
    vars:
      - name: ansible_become_user
      - name: ansible_netns_user
    env:
      - name: ANSIBLE_BECOME_USER
      - name: ANSIBLE_NETNS_USER
    keyword:
      - name: become_user
  become_exe:
    description: The C(ip) command of iproute2.
    default: ip
    type: string
    ini:
      - section: privilege_escalation
        key: become_exe
      - section: netns_become_plugin
        key: executable
    vars:
      - name: ansible_become_exe
      - name: ansible_netns_exe
    env:
      - name: ANSIBLE_BECOME_EXE
      - name: ANSIBLE_NETNS_EXE
    keyword:
      - name: become_exe
  sudo:
    description:
      - Enter the namespace through C(sudo -n), for a login that is not root (most fleets allow SSH only to
        an unprivileged user with a sudo rule).
      - The login needs a C(NOPASSWD) sudoers rule that lets it run the C(ip) command as root (as for
        C(become_method=sudo), in practice C(ALL), since the task's own shell runs under it). C(-n) makes sudo
        fail at once rather than wait for a password; the plugin never sends one. When sudo refuses, the task
        stops with a message naming the login, the command and the rule it needs; nothing runs.
      - With C(Defaults requiretty) in sudoers, sudo refuses every command that has no terminal, and Ansible
        gives a module none when pipelining is on; turn pipelining off for such hosts (C(ansible_pipelining=false)),
        so that the SSH connection asks for one (C(ssh -tt)).
      - The task's C(become_method) is this plugin, so C(become_method=sudo) set for the host does not apply
        to it; this option is how such a task still gets root.
    type: bool
    default: false
    ini:
      - section: netns_become_plugin
        key: sudo
    vars:
      - name: ansible_netns_sudo
    env:
      - name: ANSIBLE_NETNS_SUDO
'''

EXAMPLES = r'''
- name: Fetch a page from the client namespace
  ansible.builtin.uri:
    url: http://10.0.2.2:8000/
  become: true
  become_method: netvirt.linux.netns
  become_user: client

- name: Wait for the server inside its namespace
  ansible.builtin.wait_for:
    host: 10.0.2.2
    port: 8000
  become: true
  become_method: netvirt.linux.netns
  become_user: server

- name: From a login that is not root (ansible_user=deploy, with a NOPASSWD sudo rule)
  ansible.builtin.command: ip -j addr
  become: true
  become_method: netvirt.linux.netns
  become_user: client
  vars:
    ansible_netns_sudo: true
'''

import re
import shlex

from ansible.errors import AnsibleError
from ansible.plugins.become import BecomeBase

# The same rule as the collection's model: a plain name that stays inside /run/netns.
NAME = re.compile(r'^[^/\s:]{1,15}\Z')
# A NUL or another control character cannot be in a path or an argument: Python would fail
# deep inside with "embedded null byte", a terminal would show something else than is there.
CONTROL = re.compile(r'[\x00-\x1f\x7f]')


class BecomeModule(BecomeBase):

    name = 'netvirt.linux.netns'

    def get_option(self, option, *args, **kwargs):
        # The task keeps the user it connected as (root, or root through sudo): become_user names a namespace, not a
        # user. Ansible reads become_user to decide whether the target user is unprivileged (and
        # then re-owns its temporary files for it) and whether becoming is needed at all (not
        # when it equals the connecting user). Neither applies to a namespace, and no user name
        # answers both, so the rest of Ansible is told there is none; build_become_command reads
        # the namespace itself.
        # Every other argument goes on as it came: ansible-core 2.16-2.18 pass playcontext= too.
        if option == 'become_user':
            return None
        return super(BecomeModule, self).get_option(option, *args, **kwargs)

    def build_become_command(self, cmd, shell):
        super(BecomeModule, self).build_become_command(cmd, shell)
        if not cmd:
            return cmd
        netns = super(BecomeModule, self).get_option('become_user')
        if netns and CONTROL.search(netns):
            raise AnsibleError('become_user %r is not a namespace name: it contains the control character %r '
                               '(a namespace name is at most 15 bytes; no "/", ":", whitespace, NUL or other '
                               'control characters, "." or "..")' % (netns, CONTROL.search(netns).group()))
        if not netns or not NAME.match(netns) or netns in ('.', '..') or len(netns.encode('utf-8')) > 15:
            raise AnsibleError('become_user %r is not a namespace name (at most 15 bytes; no "/", ":", '
                               'whitespace, "." or "..")' % (netns,))
        exe = shlex.quote(self.get_option('become_exe') or 'ip')
        quoted = shlex.quote(netns)
        inner = '%s netns exec %s %s' % (exe, quoted, self._build_success_command(cmd, shell))
        # Checked first, so that a missing namespace says so by name and nothing runs.
        check = 'test -e /run/netns/%s || { echo "netvirt.linux.netns: namespace" %s "does not exist on this host" >&2; ' \
                'exit 1; }' % (quoted, quoted)
        if not self.get_option('sudo'):
            # Without root, ip netns exec fails with a bare "Operation not permitted": say what to do instead.
            root = '[ "$(id -u)" = 0 ] || { echo "netvirt.linux.netns: entering namespace" %s "needs root, and this ' \
                   'login is $(id -un): set ansible_netns_sudo=true (the plugin then runs sudo -n itself)' \
                   ' or log in as root" >&2; exit 1; }' % quoted
            return '%s && %s && %s' % (check, root, inner)
        # sudo exits 1 when it refuses, as a failing module does; only then is sudo asked again, with -l,
        # whether it lets this login run the command at all, so a task that works pays for one sudo.
        refused = '"netvirt.linux.netns: sudo refused to run" %s "as root for $(id -un) on this host without a ' \
                  'password (sudo -n): that login needs a NOPASSWD sudoers rule for it; with requiretty in ' \
                  'sudoers, also turn pipelining off for this host"' % shlex.quote('%s netns exec %s' % (exe, quoted))
        return '%s && { sudo -n -- %s || { rc=$?; [ "$rc" != 1 ] || sudo -n -l -- %s netns exec %s >/dev/null 2>&1 ' \
               '|| echo %s >&2; exit "$rc"; }; }' % (check, inner, exe, quoted, refused)
