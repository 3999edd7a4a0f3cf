#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: topology
short_description: Build a whole lab of namespaces, links and routes in one task
version_added: 0.1.0
description:
  - The same engine as the per-object modules, given a whole lab at once and applied in one process.
    The order of entries never matters; actions run in dependency order (namespaces, links, moves and
    renames, link options, bridge ports, addresses, links up, routes, sysctls, files).
  - The whole document is validated before anything changes. Every problem is reported with its path,
    for example C(links[12].peer.netns).
  - Everything it creates is marked with O(owner). With O(purge=true), what this owner created earlier and
    the document no longer lists is removed, so editing the lab and re-running converges to the new lab.
    With O(state=absent), everything this owner created is removed, and nothing else.
  - If an action fails, the actions before it are undone in reverse and the error names the failing object.
  - Each namespace the lab touches is read once, before planning; from 64 namespaces up the reading is shared
    among forked processes, one per CPU (at most 4).
  - The result's C(invocation) (shown at C(-vvv)) does not echo the lab. C(invocation.module_args) holds the scalar
    options and C(invocation.entries) the number of entries of each list; at 1,000 namespaces the echo would be 200 KB.
author: netvirt.linux contributors (@netvirt-linux)
requirements:
  - pyroute2 >= 0.7.2 on the managed node (Debian and Ubuntu package C(python3-pyroute2))
options:
  owner:
    description:
      - Name of the lab. It is recorded on every namespace and link the task creates.
    type: str
    required: true
  namespaces:
    description:
      - Namespaces, each with the options of M(netvirt.linux.netns) (C(name), C(loopback), C(sysctls),
        C(nameservers), C(hosts), C(state)).
    type: list
    elements: dict
    default: []
  links:
    description:
      - Links, each with a C(kind) (C(veth), C(bridge), C(macvlan), C(macvtap), C(ipvlan), C(vlan), C(vxlan),
        C(geneve), C(tuntap) or C(dummy)) and the options of that kind's module (M(netvirt.linux.veth), M(netvirt.linux.bridge), and so on).
      - A link refers to namespaces by name; each must be listed in O(namespaces) or exist already.
      - Entries are not typed by Ansible as a module's options are, so a boolean (C(up), C(recreate), C(stp),
        C(learning), C(loopback)) must be C(true) or C(false); a string such as C("false") is refused, naming it.
      - "Each end (a link, and a veth's C(peer)) takes C(tc) and C(tc_ingress) as the link modules do, or the
        name of one of O(tc_profiles) (C(tc: wan)), or a profile with changes (C(tc: {profile: wan, loss: 2%}))."
    type: list
    elements: dict
    default: []
  tc_profiles:
    description:
      - "Named shapings that a link end's C(tc) or C(tc_ingress) names, each with the fields of C(tc) (see
        M(netvirt.linux.veth)'s O(netvirt.linux.veth#module:tc)), for example
        C({wan: {delay: 40ms, jitter: 5ms, loss: 0.5%}, narrow: {rate: 10mbit}})."
    type: dict
    default: {}
  routes:
    description:
      - Routes, each with the options of M(netvirt.linux.route).
      - A gateway must be on the subnet of an address that the document gives a link in that namespace,
        when it gives any.
    type: list
    elements: dict
    default: []
  nat:
    description:
      - NAT tables, each with the options of M(netvirt.linux.nat) (C(netns), C(name), C(masquerade), C(snat),
        C(dnat), C(state)).
    type: list
    elements: dict
    default: []
  state:
    description:
      - C(present) builds the lab. C(absent) removes everything created for O(owner), whatever the document lists,
        and its persistence (O(persist)).
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - Remove the namespaces, links, routes and NAT tables created for O(owner) that the document no longer lists.
      - A NAT table records its owner, so this owner's tables are purged wherever they are. A route carries no
        owner's name, so only routes with protocol 245 inside this owner's namespaces are purged.
    type: bool
    default: false
  force:
    description:
      - Allow changing, removing or replacing objects that this collection did not create for O(owner),
        where the document names them, and removing a namespace that holds links of others.
      - Without it the whole run fails before changing anything, naming each such object, its
        owner, and the steps it would take.
    type: bool
    default: false
  persist:
    description:
      - V(true) makes the lab come back at boot. The task saves the lab as given (with O(purge)) in
        C(/etc/netvirt.linux/labs/OWNER.json), installs the unit template C(/etc/systemd/system/netvirt-lab@.service),
        copies the collection's engine to C(/usr/local/lib/netvirt.linux), and enables C(netvirt-lab@OWNER.service)
        for C(multi-user.target). At boot the unit plans and applies the saved lab with the same engine, ownership
        and rollback as this task, before C(network-pre.target); it needs Python, pyroute2 and, for O(nat), nft,
        not Ansible. The unit runs the interpreter that ran this task.
      - V(false) disables the owner's unit and removes its saved lab; the last persisted owner also takes the unit
        template and the engine. O(state=absent) does the same. Left out, nothing of it is managed.
      - Check mode and C(--diff) report these files as they report links, and a re-run with the same lab changes
        none of them. What does not persist is what runs inside the namespaces.
    type: bool
  persist_timeout:
    description:
      - How many seconds the unit keeps trying at boot when something the lab needs is not there yet (a parent link
        that udev has not named, a module not loaded). Each failed try changes nothing or is undone; after the last,
        the unit fails with its message in the journal, and the host is as it found it.
    type: int
    default: 30
  verify:
    description:
      - Probes to run once the lab is built, each with the fields of O(netvirt.linux.probe#module:probes)
        (C(from), C(to), C(proto), C(port), C(expect), C(count), C(timeout)); C(to) may name a namespace,
        which stands for its one address.
      - They run in this task, under the same lock as the apply, after every action, and also when there is
        nothing to change. When any disagrees, the task fails, naming each such probe with what it expected and
        what it got, and (see O(verify_rollback)) every change of the run is undone, so the host is as it was
        before the task.
      - A probe naming a namespace that is neither in O(namespaces) nor on the host, or one that this run removes
        (O(purge), O(state=absent)), fails the task before any change.
        So does a C(to) naming a namespace of the lab to which the lab gives two IPv4 addresses, or, when it is
        new, none, since it could not stand for one address once the lab is built.
      - A namespace this run removes goes only once the probes agree, since removing it cannot be undone; until
        then it is cut off (the veth ends outside it are down), and an undo brings them up again. One that holds
        a link on a parent outside it or a device of the host's, or whose veth end outside has addresses,
        routes or links of its own, is in no named namespace, or is named by another action of the run, cannot
        be cut off so; it is removed at once, and a failed verify says it could not be undone.
      - In check mode the probes whose namespaces exist run against the host as it is, and the others are
        reported as V(not run). When the run would change nothing, a disagreement fails the task as the real
        run would; otherwise it is a warning, since the planned changes may make the probe agree.
    type: list
    elements: dict
    default: []
  verify_retries:
    description:
      - How many more times to run the probes that disagree, O(verify_delay) seconds apart, before the run
        counts as failed; a link that was just made may take a moment to carry traffic.
    type: int
    default: 2
  verify_delay:
    description:
      - Seconds between two runs of the probes that disagree.
    type: float
    default: 1.0
  verify_rollback:
    description:
      - When O(verify) fails, undo every change of the run (V(true)), or keep the changes and fail (V(false)).
    type: bool
    default: true
extends_documentation_fragment:
  - netvirt.linux.link.ATTRIBUTES
'''

EXAMPLES = r'''
- name: Seed 002 as one task - three containers on docker0
  netvirt.linux.topology:
    owner: seed002
    namespaces:
      - {name: ns0}
      - {name: ns1}
      - {name: ns2}
    links:
      - {kind: bridge, name: docker0, addresses: [172.17.0.1/16]}
      - {kind: veth, name: veth0, master: docker0, peer: {name: eth0, netns: ns0, addresses: [172.17.0.101/16]}}
      - {kind: veth, name: veth1, master: docker0, peer: {name: eth0, netns: ns1, addresses: [172.17.0.102/16]}}
      - {kind: veth, name: veth2, master: docker0, peer: {name: eth0, netns: ns2, addresses: [172.17.0.103/16]}}
    routes:
      - {netns: ns0, dest: default, via: 172.17.0.1}
      - {netns: ns1, dest: default, via: 172.17.0.1}
      - {netns: ns2, dest: default, via: 172.17.0.1}
    purge: true

- name: The same lab, undone by itself when a container cannot reach its gateway or another container
  netvirt.linux.topology:
    owner: seed002
    namespaces: "{{ seed002_namespaces }}"
    links: "{{ seed002_links }}"
    routes: "{{ seed002_routes }}"
    verify:
      - {from: ns0, to: 172.17.0.1}
      - {from: ns0, to: ns1}
      - {from: ns2, to: ns0, proto: tcp, port: 22, expect: blocked}

- name: The same lab, built again at every boot by the unit netvirt-lab@seed002.service
  netvirt.linux.topology:
    owner: seed002
    namespaces: "{{ seed002_namespaces }}"
    links: "{{ seed002_links }}"
    routes: "{{ seed002_routes }}"
    persist: true

- name: Remove everything the lab created
  netvirt.linux.topology:
    owner: seed002
    state: absent
'''

RETURN = r'''
actions:
  description: The actions taken, in order (in check mode, the actions that would be taken).
  returned: always
  type: list
  elements: str
  sample: ['create netns ns0', 'add veth veth0 in the current namespace (peer eth0 in ns0)',
           'add address 172.17.0.101/16 to eth0 in ns0']
verify:
  description:
    - Each probe of O(verify), in the order given, with what it got, as M(netvirt.linux.probe) returns them
      (RV(netvirt.linux.probe#module:results)). On a failure, the last run of the probes.
  returned: when O(verify) is given and its probes could run
  type: list
  elements: dict
  sample:
    - {from: ns0, to: ns1, address: 172.17.0.102, proto: icmp, port: null, expected: reach, got: reach,
       detail: 1 of 1 replies, rtt_ms: 0.071, ok: true}
rolled_back:
  description: Whether the run's changes were undone because O(verify) failed.
  returned: when O(verify) failed outside check mode
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netvirt.linux.plugins.module_utils._runner import run_module
# AnsiballZ bundles only the module_utils a module imports, and persist copies the restore to the host.
from ansible_collections.netvirt.linux.plugins.module_utils import _restore  # noqa: F401 pylint: disable=unused-import
from ansible_collections.netvirt.linux.plugins.module_utils._verify import VERIFY_OPTIONS


def main():
    module = AnsibleModule(
        argument_spec=dict(
            owner=dict(type='str', required=True),
            namespaces=dict(type='list', elements='dict', default=[]),
            links=dict(type='list', elements='dict', default=[]),
            tc_profiles=dict(type='dict', default={}),
            routes=dict(type='list', elements='dict', default=[]),
            nat=dict(type='list', elements='dict', default=[]),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            purge=dict(type='bool', default=False),
            force=dict(type='bool', default=False),
            persist=dict(type='bool'),
            persist_timeout=dict(type='int', default=30),
            **VERIFY_OPTIONS
        ),
        supports_check_mode=True,
    )
    params = module.params
    sections = ('namespaces', 'links', 'routes', 'nat', 'tc_profiles', 'persist', 'persist_timeout')
    document = dict((key, params[key]) for key in sections)
    if params['state'] == 'absent':
        if params['persist']:
            module.warn('state: absent removes the lab of owner %s and its persistence; persist: true is not kept'
                        % params['owner'])
        # Validate what was given, then remove all that the owner made, and its persistence.
        run_module(module, dict(document, persist=False), single=False, purge=True, remove_all=True)
    run_module(module, document, single=False, purge=params['purge'])


if __name__ == '__main__':
    main()
