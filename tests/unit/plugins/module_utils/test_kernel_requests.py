"""The write requests _BareSocket fills in directly are, byte for byte, what
its other path, pyroute2's argument filters (and so IPRoute), makes of the same arguments."""

import pytest

from ansible_collections.netvirt.linux.plugins.module_utils import _netlink as netlink

pyroute2 = pytest.importorskip('pyroute2')

CASES = [
    ('link', 'set', {'ifname': 'eth0', 'ifalias': 'netvirt:bench'}),
    ('link', 'set', {'ifname': 'eth0', 'ifalias': ''}),
    ('link', 'set', {'ifname': 'eth0', 'state': 'up'}),
    ('link', 'set', {'ifname': 'eth0', 'state': 'down'}),
    ('link', 'set', {'index': 7, 'state': 'down'}),
    ('link', 'set', {'index': 7, 'ifname': 'v1'}),
    ('link', 'set', {'ifname': 'v1', 'master': 5}),
    ('link', 'set', {'ifname': 'v1', 'master': 0}),
    ('link', 'get', {'ifname': 'eth0'}),
    ('link', 'get', {'index': 7}),
    ('link', 'del', {'ifname': 'eth0'}),
    ('addr', 'add', {'index': 3, 'address': '10.88.1.2', 'prefixlen': 16}),
    ('addr', 'del', {'index': 3, 'address': '10.88.1.2', 'prefixlen': 16}),
    ('addr', 'add', {'index': 3, 'address': 'fd00::2', 'prefixlen': 64}),
    ('addr', 'del', {'index': 3, 'address': 'fd00::2', 'prefixlen': 64}),
    ('route', 'add', {'family': 2, 'table': 254, 'priority': 0, 'proto': 99, 'dst_len': 0,
                      'gateway': '10.88.0.1'}),
    ('route', 'add', {'family': 2, 'table': 100, 'priority': 20, 'proto': 99, 'dst': '10.9.0.0',
                      'dst_len': 16, 'gateway': '10.88.0.1', 'oif': 3}),
    ('route', 'add', {'family': 2, 'table': 254, 'priority': 0, 'proto': 99, 'dst': '10.9.0.0',
                      'dst_len': 16, 'oif': 3}),
    ('route', 'replace', {'family': 10, 'table': 254, 'priority': 1024, 'proto': 3, 'dst_len': 0,
                          'gateway': 'fd00::1'}),
    ('route', 'del', {'family': 10, 'table': 254, 'priority': 1024, 'proto': 99, 'dst': 'fd00:1::',
                      'dst_len': 64, 'gateway': 'fd00::1'}),
    ('route', 'del', {'family': 2, 'table': 254, 'priority': 0, 'proto': 4, 'dst_len': 0,
                      'gateway': '10.88.0.1'}),
]


def _without_seq_and_pid(data):
    return data[:8] + data[16:]


@pytest.fixture(scope='module')
def socket():
    if not netlink.BARE_SOCKETS:
        pytest.skip('pyroute2 %s writes through IPRoute' % pyroute2.__version__)
    sock = pyroute2.IPRSocket()
    yield sock
    sock.close()


def _direct(sock, method, command, kwargs):
    msg, msg_type, flags = netlink._direct_request(method, command, kwargs)
    request = netlink.NetlinkRequest(sock, msg, msg_type=msg_type, msg_flags=flags, msg_seq=1)
    request.msg.encode()
    return request.msg.data


@pytest.mark.parametrize('method,command,kwargs', CASES)
def test_direct_request_is_what_the_filters_make(socket, method, command, kwargs):
    assert _without_seq_and_pid(_direct(socket, method, command, kwargs)) == \
        _without_seq_and_pid(netlink._filtered_request(socket, method, command, kwargs, 1))


@pytest.mark.parametrize('method,command,kwargs', [
    ('link', 'add', {'ifname': 'br0', 'kind': 'bridge', 'index': 0}),
    ('link', 'set', {'ifname': 'eth0', 'mtu': 1400}),
    ('link', 'set', {'ifname': 'eth0', 'state': 'dormant'}),
    ('link', 'set', {'ifname': 'eth0', 'ifalias': None}),
    ('addr', 'add', {'index': 3, 'address': '10.0.0.1'}),
    ('route', 'add', {'family': 2, 'table': 1000, 'priority': 0, 'proto': 99, 'dst_len': 0, 'gateway': '10.0.0.1'}),
    ('route', 'add', {'family': 2, 'table': 254, 'priority': 0, 'proto': 'static', 'dst_len': 0}),
    ('route', 'add', {'family': 2, 'table': 254, 'dst_len': 0, 'scope': 253, 'proto': 99}),
])
def test_other_shapes_go_through_the_filters(method, command, kwargs):
    assert netlink._direct_request(method, command, kwargs) is None
