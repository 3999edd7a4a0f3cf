"""Print the network state a test compares before and after: every namespace's
links, addresses, routes, qdiscs, forwarding sysctls, /etc/netns files, the nft
ruleset and what persist installs, as JSON with the fields that change on their own (timers, counters)
left out.  It reads with `ip -j`, `tc -j` and `nft -j`, not with the collection's code,
so a bug in our kernel layer cannot hide itself.  Run it inside the sandbox:
    python3 tests/bin/snapshot.py"""

import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

# Counters, timers and what STP computes (bridge and root ids follow the MAC
# and the ports) change on their own; configuration is what is compared.
VOLATILE = ('timer', 'gc_', 'topology_change', 'stats', 'valid_life', 'preferred_life',
            'operstate', 'linkmode', 'hello_time', 'age', 'bridge_id', 'root_id', 'root_port',
            'root_path_cost', 'designated_', 'refcnt')


def ip_json(netns, *args):
    cmd = ['ip'] + (['-n', netns] if netns else []) + ['-j'] + list(args)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out or '[]')


# Carrier is the kernel's reading of the wire, not configuration: an empty
# bridge gains or loses it on its own timers.
CARRIER_FLAGS = ('LOWER_UP', 'NO-CARRIER', 'M-DOWN')


def scrub(value):
    if isinstance(value, dict):
        clean = dict((k, scrub(v)) for k, v in sorted(value.items())
                     if not any(word in k for word in VOLATILE))
        if isinstance(clean.get('flags'), list):
            clean['flags'] = [f for f in clean['flags'] if f not in CARRIER_FLAGS]
        # A bridge port's STP state (listening, learning, forwarding) runs on the forward-delay timer.
        if isinstance(clean.get('info_slave_data'), dict):
            clean['info_slave_data'].pop('state', None)
        return clean
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def in_netns(netns, argv):
    return (['ip', 'netns', 'exec', netns] if netns else []) + argv


def namespace(netns):
    # Links and addresses by name: a dump's order is the kernel's (Debian 6.1 walks its ifindex hash
    # buckets, newer kernels go by ifindex), and a link made again gets another ifindex.
    links = sorted(scrub(ip_json(netns, '-d', 'link', 'show')), key=lambda link: link['ifname'])
    for link in links:
        # The ifb device of an end's tc_ingress is named for the end: one made again is the same device,
        # with the kernel's next ifindex and a random MAC.
        if link.get('linkinfo', {}).get('info_kind') == 'ifb' and re.match(r'^nvi[0-9a-f]{12}$', link['ifname']):
            link.pop('ifindex', None)
            link.pop('address', None)
    # IPv6 link-local addresses are left out: the kernel derives them from the
    # MAC whenever a link gets carrier, so they come and go on their own.
    addrs = [{'ifname': a['ifname'],
              'addr': sorted('%s/%s' % (i['local'], i['prefixlen']) for i in a.get('addr_info', [])
                             if not (i['family'] == 'inet6' and i['local'].startswith('fe80:')))}
             for a in sorted(ip_json(netns, 'addr', 'show'), key=lambda a: a['ifname'])]
    # Sorted, since routes to one prefix are listed in the order they were
    # added; the kernel's IPv6 link-local and multicast routes follow carrier.
    routes = sorted((scrub(r) for r in ip_json(netns, 'route', 'show', 'table', 'all')
                     if not str(r.get('dst', '')).startswith(('fe80:', 'ff00:'))),
                    key=lambda r: json.dumps(r, sort_keys=True))
    keys = ('net/ipv4/ip_forward', 'net/ipv6/conf/all/forwarding')
    # One process for both (entering a namespace is most of its cost); one each if a file is missing.
    out = subprocess.run(in_netns(netns, ['cat'] + ['/proc/sys/' + key for key in keys]),
                         capture_output=True, text=True, check=False)
    values = out.stdout.split('\n')[:len(keys)] if out.returncode == 0 else []
    if len(values) != len(keys):
        values = [subprocess.run(in_netns(netns, ['cat', '/proc/sys/' + key]), capture_output=True, text=True,
                                 check=False).stdout for key in keys]
    sysctls = dict((key, value.strip()) for key, value in zip(keys, values))
    nft = None
    if shutil.which('nft'):
        out = subprocess.run(in_netns(netns, ['nft', '-j', 'list', 'ruleset']), capture_output=True, text=True, check=False)
        nft = scrub(json.loads(out.stdout)) if out.returncode == 0 and out.stdout.strip() else out.stderr.strip()
    # Each link's qdiscs (tc's shaping), by link name: `tc` reads them, not the collection.
    out = subprocess.run(['tc'] + (['-n', netns] if netns else []) + ['-j', 'qdisc', 'show'],
                         capture_output=True, text=True, check=True).stdout
    qdiscs = sorted((scrub(q) for q in json.loads(out or '[]')), key=lambda q: json.dumps(q, sort_keys=True))
    # The filters on each ingress qdisc, where tc_ingress redirects what arrives; an action's index is
    # the kernel's next number, and tc shows a filter's parent, or not, by how the last filter was added.
    filters = {}
    for qdisc in qdiscs:
        if qdisc['kind'] == 'ingress':
            out = subprocess.run(['tc'] + (['-n', netns] if netns else []) + ['-j', 'filter', 'show', 'dev',
                                 qdisc['dev'], 'ingress'], capture_output=True, text=True, check=True).stdout
            found = scrub(json.loads(out or '[]'))
            for entry in found:
                entry.pop('parent', None)
                entry.pop('ingress', None)
                for action in entry.get('options', {}).get('actions', []):
                    action.pop('index', None)
            filters[qdisc['dev']] = found
    return {'links': links, 'addresses': addrs, 'routes': routes, 'sysctls': sysctls, 'nft': nft, 'qdiscs': qdiscs,
            'filters': filters}


# Where persist saves a lab, its unit and the engine that unit runs, and where a role keeps a switch of the
# host's on at boot (the sandbox's own tmpfs).
PERSIST_DIRS = ('/etc/netvirt.linux', '/usr/local/lib/netvirt.linux', '/etc/systemd/system', '/etc/sysctl.d')


def persisted():
    """Each file under PERSIST_DIRS: a symlink's target, a document's or a unit's text, the digest of
    the engine's sources."""
    found = {}
    for directory in PERSIST_DIRS:
        for root, _dirs, filenames in os.walk(directory):
            for filename in filenames:
                path = os.path.join(root, filename)
                if os.path.islink(path):
                    found[path] = '-> ' + os.readlink(path)
                elif path.endswith(('.json', '.service', '.conf')):
                    found[path] = read(path)
                else:
                    with open(path, 'rb') as f:
                        found[path] = 'sha256 ' + hashlib.sha256(f.read()).hexdigest()
    return found


def state():
    """The whole snapshot, as main prints it."""
    names = sorted(os.listdir('/run/netns')) if os.path.isdir('/run/netns') else []
    found = {'namespaces': names, 'host': namespace(None)}
    nsfs = os.stat('/proc/self/ns/net').st_dev
    real = []
    for name in names:
        st = os.stat(os.path.join('/run/netns', name))
        if st.st_dev == nsfs:
            real.append(name)
        else:  # not a namespace: a stale entry, as a killed `ip netns add` leaves; `ip -n` would fail on it
            found['stale ' + name] = oct(st.st_mode)
    # The reading is all waiting for `ip` and `nft` processes: a few at once take a third of the time.
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for name, described in zip(real, pool.map(namespace, real)):
            found['netns ' + name] = described
    files = {}
    if os.path.isdir('/etc/netns'):
        for root, _dirs, filenames in os.walk('/etc/netns'):
            for filename in filenames:
                path = os.path.join(root, filename)
                files[path] = read(path)
    found['etc_netns'] = files
    found['persisted'] = persisted()
    return found


def main():
    json.dump(state(), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
