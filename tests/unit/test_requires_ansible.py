# meta/runtime.yml's requires_ansible claims exactly the ansible-core versions that the user lane
# runs (Makefile `user`: one target per minor version, each with its own controller venv), no more.
import os
import re

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def read(name):
    with open(os.path.join(ROOT, name)) as f:
        return f.read()


def lane_minors():
    makefile = read('Makefile')
    targets = re.search(r'^user: (.*)$', makefile, re.M).group(1).split()
    return sorted((Version(t.split('-', 1)[1]) for t in targets), key=lambda v: v.release)


def lane_releases():
    """The exact ansible-core each controller of the lane installs."""
    makefile = read('Makefile')
    releases = [Version(v) for v in re.findall(r'^ANSIBLE_\d+ := ([0-9.]+)$', makefile, re.M)]
    # .venv (the 2.19 controller) takes ansible-core from requirements-lab.txt.
    dev = re.search(r'^ansible-core(.*)$', read('requirements-lab.txt'), re.M).group(1).strip()
    return releases, SpecifierSet(dev)


def requires_ansible():
    return SpecifierSet(yaml.safe_load(read('meta/runtime.yml'))['requires_ansible'])


def test_the_lane_runs_the_three_supported_minors():
    assert [str(v) for v in lane_minors()] == ['2.19', '2.20', '2.21']


def test_requires_ansible_is_the_tested_range_exactly():
    minors = lane_minors()
    low, high = minors[0].release, minors[-1].release
    assert requires_ansible() == SpecifierSet('>=%d.%d.0,<%d.%d.0' % (low[0], low[1], high[0], high[1] + 1))


@pytest.mark.parametrize('version, claimed', [
    ('2.18.99', False), ('2.19.0', True), ('2.20.10', True), ('2.21.99', True), ('2.22.0', False),
])
def test_requires_ansible_edges(version, claimed):
    assert (version in requires_ansible()) is claimed


def test_every_controller_of_the_lane_is_claimed():
    releases, dev = lane_releases()
    assert releases and all(str(v) in requires_ansible() for v in releases)
    assert '2.19.0' in dev and '2.20.0' not in dev
