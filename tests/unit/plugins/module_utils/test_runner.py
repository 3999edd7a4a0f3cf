from ansible_collections.netvirt.linux.plugins.module_utils._runner import lab_invocation


def test_a_lab_is_counted_not_echoed():
    params = {'owner': 'bench', 'state': 'present', 'purge': False, 'force': False,
              'namespaces': [{'name': 'c%d' % i} for i in range(1000)], 'links': [{'kind': 'bridge', 'name': 'br0'}],
              'routes': [], 'nat': []}
    assert lab_invocation(params) == {
        'module_args': {'owner': 'bench', 'state': 'present', 'purge': False, 'force': False},
        'entries': {'namespaces': 1000, 'links': 1, 'routes': 0, 'nat': 0},
    }
