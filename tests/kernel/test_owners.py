"""Two owners and a bystander in the same namespaces (issue 17, items 11, 13, 14, 15).

An object another owner, or nobody we know, made is never changed, moved or removed
without force: each step below compares the whole kernel state before and after a
refusal, and the message names the object and who owns it.
"""

import os

import pytest

from conftest import converge, ip, ip_json, link, plan, snapshot
from ansible_collections.netvirt.linux.plugins.module_utils._kernel import Kernel
from ansible_collections.netvirt.linux.plugins.module_utils._plan import PlanError


def lab_a():
    """Owner a: a namespace with a bridge and one container on it."""
    return {
        'namespaces': [{'name': 'shared'}, {'name': 'a1'}],
        'links': [{'kind': 'bridge', 'name': 'br-a', 'netns': 'shared', 'addresses': ['10.70.0.1/24']},
                  {'kind': 'veth', 'name': 'va1', 'netns': 'shared', 'master': 'br-a',
                   'peer': {'name': 'eth0', 'netns': 'a1', 'addresses': ['10.70.0.2/24']}}],
    }


def lab_b():
    """Owner b: its own container, wired into a's namespace (allowed: it changes nothing of a's)."""
    return {
        'namespaces': [{'name': 'b1'}],
        'links': [{'kind': 'veth', 'name': 'vb1', 'netns': 'shared',
                   'peer': {'name': 'eth0', 'netns': 'b1', 'addresses': ['10.71.0.2/24']}}],
    }


@pytest.fixture
def two_owners_and_a_bystander():
    converge(lab_a(), owner='a')
    converge(lab_b(), owner='b')
    # The bystander: a namespace, a bridge in the host and a veth inside a's namespace, by hand.
    ip('netns', 'add', 'by')
    ip('link', 'add', 'by-br', 'type', 'bridge')
    ip('link', 'add', 'by0', 'netns', 'shared', 'type', 'veth', 'peer', 'name', 'by1')
    return snapshot()


def refused(doc, owner, match, **kwargs):
    """The plan is refused with a message matching ``match``, and nothing changed."""
    before = snapshot()
    with pytest.raises(PlanError, match=match):
        converge(doc, owner=owner, **kwargs)
    with Kernel() as kernel, pytest.raises(PlanError, match=match):
        plan(doc, kernel, owner=owner, check_mode=True, **kwargs)
    assert snapshot() == before


def test_another_owners_bridge_is_not_rewritten(two_owners_and_a_bystander):
    # Item 11: b names a's bridge with other settings.
    for change, text in (({'mtu': 1400}, 'set mtu 1400 on br-a in shared'),
                         ({'up': False}, 'bring br-a in shared down'),
                         ({'addresses': ['10.72.0.1/24']}, 'remove address 10.70.0.1/24 from br-a in shared')):
        doc = {'links': [dict({'kind': 'bridge', 'name': 'br-a', 'netns': 'shared'}, **change)]}
        refused(doc, 'b', r'links\[0\]\.name: bridge br-a in shared belongs to owner a, not b; set force: true '
                          r'to change or remove it; without force this task would not: .*%s' % text)
    # Naming it unchanged is fine: it is only read.
    assert converge({'links': [{'kind': 'bridge', 'name': 'br-a', 'netns': 'shared',
                                'addresses': ['10.70.0.1/24']}]}, owner='b').texts == []
    # With force the change is made, and the bridge stays a's.
    assert converge({'links': [{'kind': 'bridge', 'name': 'br-a', 'netns': 'shared', 'mtu': 1400}]},
                    owner='b', force=True).texts == ['set mtu 1400 on br-a in shared']
    assert link('br-a', 'shared')['mtu'] == 1400 and link('br-a', 'shared')['ifalias'] == 'netvirt:a'


def test_a_foreign_object_of_the_same_name_is_not_adopted(two_owners_and_a_bystander):
    # Item 14: a present task on what a person made.
    refused({'links': [{'kind': 'bridge', 'name': 'by-br', 'addresses': ['10.73.0.1/24']}]}, 'a',
            r'bridge by-br in the current namespace was not created by netvirt.linux; set force: true .*'
            r'add address 10.73.0.1/24 to by-br')
    refused({'namespaces': [{'name': 'by', 'sysctls': {'net.ipv4.ip_forward': 1}}]}, 'a',
            r'namespaces\[0\]\.name: namespace by was not created by netvirt.linux; .*'
            r'set sysctl net.ipv4.ip_forward=1 in by')
    refused({'namespaces': [{'name': 'by'}]}, 'a', r'namespace by was not created by netvirt.linux; .*bring lo up in by')
    refused({'links': [{'kind': 'veth', 'name': 'by0', 'netns': 'shared', 'peer': {'name': 'by9', 'netns': 'shared'}}]},
            'a', r'veth by0 in shared was not created by netvirt.linux; .*move veth peer by1')
    # Any link may become a port of our bridge, but taking one from a bridge that is not ours changes that bridge.
    ip('-n', 'shared', 'link', 'add', 'by-br2', 'type', 'bridge')
    ip('-n', 'shared', 'link', 'set', 'by0', 'master', 'by-br2')
    refused({'links': [{'kind': 'bridge', 'name': 'br-a', 'netns': 'shared', 'ports': ['by0', 'va1']}]}, 'a',
            r'links\[0\]\.ports\[0\]: bridge by-br2 in shared, which has port by0, was not created by '
            r'netvirt.linux; .*attach by0 in shared to bridge br-a')
    ip('-n', 'shared', 'link', 'set', 'by0', 'nomaster')
    assert converge({'links': [{'kind': 'bridge', 'name': 'br-a', 'netns': 'shared', 'ports': ['by0', 'va1']}]},
                    owner='a').texts == ['attach by0 in shared to bridge br-a']
    # What is absent stays refused, and the foreign object is as it was.
    refused({'links': [{'kind': 'bridge', 'name': 'by-br', 'state': 'absent'}]}, 'a',
            r'bridge by-br in the current namespace was not created by netvirt.linux')


def test_a_namespace_holding_other_owners_links_is_not_removed(two_owners_and_a_bystander):
    # Item 13: a's namespace holds b's veth and the bystander's: removing it would destroy them.
    refused({'namespaces': [{'name': 'shared', 'state': 'absent'}]}, 'a',
            r"namespaces\[0\]\.name: namespace shared holds links owner a did not create: .*"
            r"veth by0 \(not made by netvirt.linux\).*veth vb1 \(owner b\).*set force: true")
    # The same through a purge of a's lab.
    refused({'namespaces': [{'name': 'a1'}], 'links': []}, 'a', r'namespace shared holds links owner a did not create',
            purge=True)
    # Once they are gone, a removes its own namespace.
    converge({'links': [{'kind': 'veth', 'name': 'vb1', 'netns': 'shared', 'state': 'absent'}]}, owner='b')
    ip('-n', 'shared', 'link', 'del', 'by0')
    assert converge({'namespaces': [{'name': 'shared', 'state': 'absent'}]}, owner='a').texts == [
        'remove netns shared']


def test_another_labs_namespace_takes_its_forwarding_but_not_its_loopback(two_owners_and_a_bystander):
    # The default lab puts its containers in the routers' namespace and turns forwarding on there.
    assert converge({'namespaces': [{'name': 'shared', 'sysctls': {'net.ipv4.ip_forward': 1}}]},
                    owner='b').texts == ['set sysctl net.ipv4.ip_forward=1 in shared']
    refused({'namespaces': [{'name': 'shared', 'loopback': False}]}, 'b',
            r'namespace shared belongs to owner a, not b; .*bring lo down in shared')


def test_hand_written_netns_files_are_not_overwritten(two_owners_and_a_bystander):
    # Item 15: /etc/netns/NAME files a person wrote, even in our own namespace.
    os.makedirs('/etc/netns/a1', exist_ok=True)
    with open('/etc/netns/a1/resolv.conf', 'w') as f:
        f.write('nameserver 10.70.0.53\n')
    refused({'namespaces': [{'name': 'a1', 'nameservers': ['10.70.0.1']}]}, 'a',
            r'namespaces\[0\]\.nameservers: file /etc/netns/a1/resolv.conf was not created by netvirt.linux; '
            r'set force: true .*write /etc/netns/a1/resolv.conf')
    assert converge({'namespaces': [{'name': 'a1', 'nameservers': ['10.70.0.1']}]}, owner='a',
                    force=True).texts == ['write /etc/netns/a1/resolv.conf']
    # Ours now: the next change needs no force.
    assert converge({'namespaces': [{'name': 'a1', 'nameservers': ['10.70.0.2']}]}, owner='a').texts == [
        'write /etc/netns/a1/resolv.conf']


def routes(netns):
    return sorted((r['dst'], r.get('gateway'), r.get('protocol')) for r in ip_json('route', 'show', netns=netns))


def test_two_owners_routes_in_one_namespace_converge(two_owners_and_a_bystander):
    # Item 12: a's purge took b's routes, b put them back, every run.
    ip('-n', 'shared', 'route', 'add', '10.99.0.0/16', 'via', '10.70.0.9')  # the bystander's
    lab = lab_a()
    lab['routes'] = [{'netns': 'shared', 'dest': '10.80.0.0/16', 'via': '10.70.0.2'}]
    converge(lab, owner='a', purge=True)
    theirs = {'routes': [{'netns': 'shared', 'dest': '10.81.0.0/16', 'via': '10.70.0.2'}]}
    converge(theirs, owner='b')
    for dummy in range(2):
        assert converge(lab, owner='a', purge=True).texts == []
        assert converge(theirs, owner='b').texts == []
    assert [r[0] for r in routes('shared')] == ['10.70.0.0/24', '10.80.0.0/16', '10.81.0.0/16', '10.99.0.0/16']
    # a cannot remove or rewrite b's route, and the refusal names b.
    refused({'routes': [{'netns': 'shared', 'dest': '10.81.0.0/16', 'state': 'absent'}]}, 'a',
            r'routes\[0\]\.dest: route 10.81.0.0/16 in shared belongs to owner b, not a')
    refused({'routes': [{'netns': 'shared', 'dest': '10.81.0.0/16', 'via': '10.70.0.3'}]}, 'a',
            r'the existing route 10.81.0.0/16 in shared \(via 10.70.0.2 dev br-a\) belongs to owner b, not a')
    # a's lab without its route: the purge takes a's route only.
    del lab['routes']
    assert converge(lab, owner='a', purge=True).texts == ['remove route 10.80.0.0/16 via 10.70.0.2 dev br-a in shared']
    assert [r[0] for r in routes('shared')] == ['10.70.0.0/24', '10.81.0.0/16', '10.99.0.0/16']


def test_a_lost_record_fails_safe(two_owners_and_a_bystander):
    lab = dict(lab_a(), routes=[{'netns': 'shared', 'dest': '10.80.0.0/16', 'via': '10.70.0.2'}])
    converge(lab, owner='a')
    for filename in os.listdir('/run/netvirt.linux/routes'):
        os.unlink(os.path.join('/run/netvirt.linux/routes', filename))
    # Nothing proves the route is a's now: a purge leaves it, a change needs force.
    assert converge(lab_a(), owner='a', purge=True).texts == []
    assert '10.80.0.0/16' in [r[0] for r in routes('shared')]
    refused({'routes': [{'netns': 'shared', 'dest': '10.80.0.0/16', 'state': 'absent'}]}, 'a',
            r"route 10.80.0.0/16 in shared \(it carries the mark of netvirt.linux, but no owner's record on this "
            r"host names it.*\) was not created by netvirt.linux; set force: true")
    # The document that names it, as it is, takes it back.
    assert converge(lab, owner='a').texts == []
    assert converge(lab_a(), owner='a', purge=True).texts == [
        'remove route 10.80.0.0/16 via 10.70.0.2 dev br-a in shared']


def test_a_record_speaks_only_for_the_namespace_it_was_written_in():
    # b's route in n; n is removed by hand and made again by a, whose route has the same key.
    converge({'namespaces': [{'name': 'n'}],
              'links': [{'kind': 'bridge', 'name': 'br', 'netns': 'n', 'addresses': ['10.90.0.1/24']}]}, owner='b')
    route = {'netns': 'n', 'dest': '10.91.0.0/16', 'via': '10.90.0.2'}
    converge({'routes': [route]}, owner='b')
    ip('netns', 'del', 'n')
    lab = {'namespaces': [{'name': 'n'}],
           'links': [{'kind': 'bridge', 'name': 'br', 'netns': 'n', 'addresses': ['10.90.0.1/24']}],
           'routes': [route]}
    converge(lab, owner='a')
    # b's old record names the key, but not this namespace: b's purge leaves a's route.
    assert converge({}, owner='b', purge=True).texts == []
    assert converge(lab, owner='a', purge=True).texts == []
    assert converge(dict(lab, routes=[]), owner='a', purge=True).texts == [
        'remove route 10.91.0.0/16 via 10.90.0.2 dev br in n']
