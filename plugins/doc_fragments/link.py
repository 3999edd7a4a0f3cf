# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Options every link module shares.
    DOCUMENTATION = r'''
options:
  name:
    description:
      - Interface name. At most 15 bytes; no C(/), C(:), whitespace, C(.) or C(..).
    type: str
    required: true
  netns:
    description:
      - Named network namespace (under C(/run/netns)) the link lives in.
      - Omitted means the namespace the module runs in.
    type: str
  state:
    description:
      - C(present) creates the link or brings it to the requested options.
      - C(absent) removes it. Only links this collection created (for O(owner)) are removed,
        unless O(force=true).
    type: str
    choices: [present, absent]
    default: present
  up:
    description:
      - Administrative state of the link.
    type: bool
    default: true
  mtu:
    description:
      - MTU, 68 to 65535. Left alone when omitted.
    type: int
  mac:
    description:
      - Unicast MAC address such as C(02:42:ac:11:00:02). Left alone when omitted.
    type: str
  addresses:
    description:
      - The exact list of addresses (CIDR, IPv4 or IPv6) the link should have.
      - Addresses not listed are removed, except the IPv6 link-local address the kernel makes itself. A
        link-local address that the list names (C(fe80::1234/64)) is managed like any other (added once, and
        removed when the list no longer names it). On kernels before 5.18, which do not mark the kernel's own
        address, every link-local address is left alone. Omitted means addresses are not managed.
      - An address an interface cannot hold is refused, naming it - unspecified (C(0.0.0.0/0), C(::/64)),
        multicast, or C(255.255.255.255) - and so is a zone (C(fe80::1%br0/64)), since the address belongs to
        the link it is listed on.
      - Replacing the link's only IPv4 address makes the kernel drop the IPv4 routes through the link; the same
        run puts them back (C(restore route ...)) when their gateway is on the new addresses, and warns about
        those it cannot.
    type: list
    elements: str
  master:
    description:
      - Bridge, in the same namespace, to attach the link to.
    type: str
  tc:
    description:
      - Shaping of what leaves this end, by one root qdisc on it. Omitted means shaping is not managed.
      - Only O(tc.rate) makes a C(tbf) qdisc (a token bucket, in every kernel with traffic control); any other
        field makes a C(netem) qdisc (with O(tc.rate) as netem's own rate), which needs the kernel's
        C(sch_netem). A change replaces the whole qdisc; the kernel keeps times in ticks of 64 ns, and two
        values that come to the same ticks are the same.
      - The two ends of a veth shape the two directions. A qdisc this collection did not set (another root
        handle than C(4e56:)) is not replaced without O(force), and one of another kind than C(tbf) or
        C(netem) not at all, since it could not be put back if the run is undone.
      - Not supported - delay distributions, correlations, loss models, ECN, slots, and rates above 34gbit.
    type: dict
    suboptions:
      delay:
        description: Delay added to each packet - C(20ms), C(500us), C(1s) (a bare number is milliseconds).
        type: str
      jitter:
        description: Random variation of the delay, up to this much either way; needs O(tc.delay).
        type: str
      loss:
        description: Share of packets dropped - C(1%), C(0.5%) (a bare number is percent).
        type: str
      duplicate:
        description: Share of packets sent twice.
        type: str
      reorder:
        description: Share of packets sent at once, ahead of the delayed others; needs O(tc.delay).
        type: str
      corrupt:
        description: Share of packets with a bit flipped.
        type: str
      rate:
        description:
          - The most this end sends - C(500kbit), C(10mbit), C(1gbit) (C(bit), C(kbit), C(mbit), C(gbit),
            C(tbit); C(bps), C(kbps), C(mbps), C(gbps) are bytes).
          - Alone, a C(tbf) qdisc with a burst of 10 frames or 4 ms, and a queue of 50 ms at the rate.
        type: str
      limit:
        description: Packets the netem queue holds (1000 unless given).
        type: int
      enabled:
        description:
          - V(false) removes the shaping this collection set and keeps the declaration, to switch it back on
            with V(true).
        type: bool
        default: true
  tc_ingress:
    description:
      - Shaping of what arrives at this end, with the fields of O(tc). Omitted means it is not managed.
      - As the CNI bandwidth plugin does it - the end's C(ingress) qdisc holds a filter of this collection
        (a C(u32) match of every packet, priority 20054) that redirects what arrives to an C(ifb) device of the
        end, in its namespace, named C(nvi) and 12 hex digits; that device's root qdisc is the shaping, as
        O(tc) makes it. The kernel needs C(ifb), C(sch_ingress), C(cls_u32) and C(act_mirred).
      - The device is a part of the end; M(netvirt.linux.netns_info) does not list it as a link. It is renamed
        with the end, and goes with the end, when the end leaves its namespace, and with O(tc_ingress.enabled=false).
      - Another owner's filters on the end's ingress stay; the ingress qdisc goes when the last filter does.
      - On a veth, the other end's O(tc) shapes the same direction without a device. O(tc_ingress) is for an
        end whose sender this collection does not manage - a macvlan, a vxlan, a device of the host.
    type: dict
    suboptions:
      delay:
        description: Delay added to each packet that arrives.
        type: str
      jitter:
        description: Random variation of the delay; needs O(tc_ingress.delay).
        type: str
      loss:
        description: Share of arriving packets dropped.
        type: str
      duplicate:
        description: Share of arriving packets passed on twice.
        type: str
      reorder:
        description: Share of packets passed on at once, ahead of the delayed others; needs O(tc_ingress.delay).
        type: str
      corrupt:
        description: Share of arriving packets with a bit flipped.
        type: str
      rate:
        description: The most this end takes in, in the units of O(tc.rate).
        type: str
      limit:
        description: Packets the netem queue holds (1000 unless given).
        type: int
      enabled:
        description:
          - V(false) removes the shaping of what arrives, with its ifb device, and keeps the declaration.
        type: bool
        default: true
'''

    OWNERSHIP = r'''
options:
  owner:
    description:
      - Name recorded on what this task creates (in the link alias C(netvirt:OWNER), or the alias of
        the namespace's loopback). C(state=absent) removes only objects recorded for this owner.
    type: str
    default: netvirt
  force:
    description:
      - Allow changing, removing or replacing an object that this collection did not create for O(owner),
        such as a link another owner or a person made (its MTU, state, addresses, a veth's peer), a
        namespace's loopback, sysctls and C(/etc/netns) files, or a namespace that holds
        links of others, which would go with it.
      - Without it such a task fails before changing anything, and the message names the
        object, its owner, and the steps it would take. Naming an object that is already as
        asked is not a change and needs no O(force).
      - Any link may become a port of a bridge without it, unless it is a port of a bridge
        that is not O(owner)'s. Another lab may set sysctls in O(owner)'s namespace.
    type: bool
    default: false
'''

    ATTRIBUTES = r'''
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: Check mode reports the exact actions the real run takes, and changes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation
      indicates no change.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
    details: Linux only. Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) on the managed node.
'''

    # The read-only modules (netns_info, managed_node_info): nothing to diff.
    READ_ONLY_ATTRIBUTES = r'''
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
'''
