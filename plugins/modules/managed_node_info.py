#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: managed_node_info
short_description: Report the Python that runs modules on a host, whether it imports pyroute2, and whether nft is there
version_added: 0.3.0
description:
  - Reads, without changing anything, what the collection needs on a managed node, in one round trip
    - the Python that runs Ansible's modules there (whichever way the interpreter was chosen - discovered,
      C(interpreter_python) in C(ansible.cfg), C(ANSIBLE_PYTHON_INTERPRETER) or C(ansible_python_interpreter)),
    - whether that Python imports pyroute2 and which version,
    - and whether C(nft) is on the PATH.
  - Unlike the collection's other modules it does not need pyroute2; the M(netvirt.linux.managed_node) role
    runs it before anything else.
author: netvirt.linux contributors (@netvirt-linux)
options: {}
extends_documentation_fragment:
  - netvirt.linux.link.READ_ONLY_ATTRIBUTES
'''

EXAMPLES = r'''
- name: What this host has
  netvirt.linux.managed_node_info:
  register: node

- name: Say it
  ansible.builtin.debug:
    msg: "{{ node.python.executable }} {{ 'has pyroute2 ' ~ node.pyroute2.version if node.pyroute2.found else 'lacks pyroute2' }}"
'''

RETURN = r'''
python:
  description: The Python that ran this module, the one that runs the collection's modules on this host.
  returned: always
  type: dict
  contains:
    executable:
      description: Its path (C(sys.executable)).
      type: str
      sample: /usr/bin/python3
    version:
      description: Its version.
      type: str
      sample: 3.11.2
pyroute2:
  description: Whether that Python imports pyroute2.
  returned: always
  type: dict
  contains:
    found:
      description: Whether C(import pyroute2) succeeds.
      type: bool
      sample: true
    version:
      description: Its version, null when it is not found.
      type: str
      sample: 0.7.2
    error:
      description: Why the import failed, null when it is found.
      type: str
      sample: "No module named 'pyroute2'"
nft:
  description: Whether the C(nft) command is on the PATH.
  returned: always
  type: dict
  contains:
    found:
      description: Whether it is there.
      type: bool
      sample: true
    path:
      description: Its path, null when it is not found.
      type: str
      sample: /usr/sbin/nft
'''

import importlib
import platform
import shutil
import sys

from ansible.module_utils.basic import AnsibleModule


def _pyroute2():
    try:
        module = importlib.import_module('pyroute2')
    except Exception as e:  # an ImportError, or whatever a broken install raises on import
        return dict(found=False, version=None, error='%s: %s' % (type(e).__name__, e))
    version = getattr(module, '__version__', None)
    if not version or version == 'unknown':
        # Debian's python3-pyroute2 says 'unknown' there; its package metadata has the number.
        try:
            from importlib.metadata import version as installed_version
            version = installed_version('pyroute2')
        except Exception:
            version = version or 'unknown'
    return dict(found=True, version=str(version), error=None)


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    # Looked up as the nat and topology modules look it up (the kernel layer's shutil.which), not with
    # get_bin_path, which adds sbin directories: a host must not pass here and fail there.
    nft = shutil.which('nft')
    module.exit_json(
        changed=False,
        python=dict(executable=sys.executable, version=platform.python_version()),
        pyroute2=_pyroute2(),
        nft=dict(found=nft is not None, path=nft),
    )


if __name__ == '__main__':
    main()
