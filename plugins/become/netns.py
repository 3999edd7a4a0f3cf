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
  - Entering a namespace needs root on the target; combine with a connection that logs in as root.
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
'''

import re
import shlex

from ansible.errors import AnsibleError
from ansible.plugins.become import BecomeBase

# The same rule as the collection's model: a plain name that stays inside /run/netns.
NAME = re.compile(r'^[^/\s:]{1,15}$')


class BecomeModule(BecomeBase):

    name = 'netvirt.linux.netns'

    def get_option(self, option, *args, **kwargs):
        # The task keeps the user it connected as (root): become_user names a namespace, not a
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
        if not netns or not NAME.match(netns) or netns in ('.', '..') or len(netns.encode('utf-8')) > 15:
            raise AnsibleError('become_user %r is not a namespace name (at most 15 bytes; no "/", ":", '
                               'whitespace, "." or "..")' % (netns,))
        exe = self.get_option('become_exe') or 'ip'
        quoted = shlex.quote(netns)
        # Checked first, so that a missing namespace says so by name and nothing runs.
        check = 'test -e /run/netns/%s || { echo "netvirt.linux.netns: namespace" %s "does not exist on this host" >&2; ' \
                'exit 1; }' % (quoted, quoted)
        return '%s && %s netns exec %s %s' % (check, shlex.quote(exe), quoted, self._build_success_command(cmd, shell))
