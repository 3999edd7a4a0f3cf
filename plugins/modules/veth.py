#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: veth
short_description: Manage a veth pair whose ends live in any namespaces
version_added: 0.1.0
description:
  - Creates a veth pair with each end already in its namespace and with its final name, so a peer called
    C(eth0) inside a container never collides with the host's C(eth0).
  - An existing pair is identified by O(name) in O(netns). If its other end has another name or lives in
    another namespace, it is moved and renamed to O(peer) (seed 002's C(ip link set veth1 netns ns0) and
    C(ip link set veth1 name eth0)).
  - Removing either end removes the pair.
author: netvirt.linux contributors (@netvirt-linux)
requirements:
  - pyroute2 >= 0.7.2 on the managed node (Debian and Ubuntu package C(python3-pyroute2))
options:
  peer:
    description:
      - The other end. Required with O(state=present).
    type: dict
    suboptions:
      name:
        description: Interface name of the other end.
        type: str
        required: true
      netns:
        description: Namespace of the other end; omitted means the namespace the module runs in.
        type: str
      up:
        description: Administrative state of the other end.
        type: bool
        default: true
      mtu:
        description: MTU of the other end.
        type: int
      mac:
        description: MAC address of the other end.
        type: str
      addresses:
        description: Exact list of addresses (CIDR) of the other end.
        type: list
        elements: str
      master:
        description: Bridge in the other end's namespace to attach it to.
        type: str
      tc:
        description: Shaping of what leaves the other end, as O(tc) (the other direction of the pair).
        type: dict
        suboptions:
          delay:
            description: Delay added to each packet.
            type: str
          jitter:
            description: Random variation of the delay.
            type: str
          loss:
            description: Share of packets dropped.
            type: str
          duplicate:
            description: Share of packets sent twice.
            type: str
          reorder:
            description: Share of packets sent ahead of the delayed others.
            type: str
          corrupt:
            description: Share of packets with a bit flipped.
            type: str
          rate:
            description: The most the other end sends.
            type: str
          limit:
            description: Packets the netem queue holds.
            type: int
          enabled:
            description: V(false) removes the shaping and keeps the declaration.
            type: bool
            default: true
      tc_ingress:
        description: Shaping of what arrives at the other end, as O(tc_ingress).
        type: dict
        suboptions:
          delay:
            description: Delay added to each packet.
            type: str
          jitter:
            description: Random variation of the delay.
            type: str
          loss:
            description: Share of packets dropped.
            type: str
          duplicate:
            description: Share of packets passed on twice.
            type: str
          reorder:
            description: Share of packets passed on ahead of the delayed others.
            type: str
          corrupt:
            description: Share of packets with a bit flipped.
            type: str
          rate:
            description: The most the other end takes in.
            type: str
          limit:
            description: Packets the netem queue holds.
            type: int
          enabled:
            description: V(false) removes the shaping and keeps the declaration.
            type: bool
            default: true
extends_documentation_fragment:
  - netvirt.linux.link
  - netvirt.linux.link.OWNERSHIP
  - netvirt.linux.link.ATTRIBUTES
'''

EXAMPLES = r'''
- name: Seed 002, one container on docker0 - host end on the bridge, eth0 inside ns0
  netvirt.linux.veth:
    name: veth0
    master: docker0
    peer:
      name: eth0
      netns: ns0
      addresses: [172.17.0.101/16]

- name: Two namespaces joined directly (seed 001, experiment 2)
  netvirt.linux.veth:
    name: veth1
    netns: ns1
    addresses: [10.0.0.1/24]
    peer:
      name: veth2
      netns: ns2
      addresses: [10.0.0.2/24]

- name: An asymmetric WAN link - ns1 sends at 10 Mbit/s, ns2 with 40 ms of delay and 0.5% loss (needs sch_netem)
  netvirt.linux.veth:
    name: veth1
    netns: ns1
    tc: {rate: 10mbit}
    peer:
      name: veth2
      netns: ns2
      tc: {delay: 40ms, jitter: 5ms, loss: 0.5%}
'''

RETURN = r'''
actions:
  description: The actions taken, in order (in check mode, the actions that would be taken).
  returned: always
  type: list
  elements: str
  sample: ['add veth veth0 in the current namespace (peer eth0 in ns0)', 'attach veth0 to bridge docker0']
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netvirt.linux.plugins.module_utils._runner import link_module_arguments, run_link_module


def main():
    # The argument spec is made from the kind's option schema (plugins/module_utils/_kinds/veth.py).
    run_link_module(AnsibleModule(**link_module_arguments('veth')), 'veth')


if __name__ == '__main__':
    main()
