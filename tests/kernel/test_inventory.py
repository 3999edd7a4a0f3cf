"""netns_info's reader: what it reports is what exists, and it goes back into topology unchanged."""

from conftest import converge, ip, plan
from test_topology import container_lab
from ansible_collections.netvirt.linux.plugins.module_utils._kernel import Kernel
from ansible_collections.netvirt.linux.plugins.module_utils._inventory import read_inventory


def test_the_report_is_a_lab_that_needs_nothing_more():
    converge(container_lab(3), owner='lab')
    ip('netns', 'add', 'unrelated')
    with Kernel() as kernel:
        report = read_inventory(kernel, ['h', 'c*'], include_host=False)
    assert [ns['name'] for ns in report['namespaces']] == ['c0', 'c1', 'c2', 'h']
    bridge = [link for link in report['links'] if link['kind'] == 'bridge'][0]
    assert bridge['netns'] == 'h' and bridge['ports'] == ['v-c0', 'v-c1', 'v-c2']
    veth = [link for link in report['links'] if link['name'] == 'v-c1'][0]
    assert veth['peer']['netns'] == 'c1' and veth['peer']['addresses'] == ['10.88.0.11/16']
    assert len([link for link in report['links'] if link['kind'] == 'veth']) == 3  # each pair once
    assert sorted(report['owners']['lab']['namespaces']) == ['c0', 'c1', 'c2', 'h']
    assert 'ip saddr 10.88.0.0/16 oifname != "br0" masquerade' in '\n'.join(report['nat_tables'][0]['rules'])
    lab = dict((key, report[key]) for key in ('namespaces', 'links', 'routes'))
    with Kernel() as kernel:
        assert plan(lab, kernel, owner='lab').texts == []
