# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kernel tests: run the modules for real against throwaway network namespaces (needs root)."""
import os
import subprocess
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kernelstate import ip, ipip_answer  # noqa: E402

# Tests that need a kernel with ipip (they skip on this machine; tests/vmlab runs them in a VM with -m ipip_kernel)
# or one without it, known by the fixture they take: a marker that cannot drift from what a test really needs.
KERNEL_MARKERS = {
    'ipip_kernel': ('ipip_netns', 'unloaded_ipip_netns'),
    'no_ipip_kernel': ('no_ipip_netns',),
}


def pytest_configure(config):
    config.addinivalue_line('markers', 'ipip_kernel: needs a kernel with the ipip module (run in the VM lab)')
    config.addinivalue_line('markers', 'no_ipip_kernel: needs a kernel without the ipip module')


def pytest_collection_modifyitems(items):
    for item in items:
        for marker, fixtures in KERNEL_MARKERS.items():
            if any(name in getattr(item, 'fixturenames', ()) for name in fixtures):
                item.add_marker(marker)


@pytest.fixture(autouse=True)
def _needs_root():
    if os.geteuid() != 0:
        pytest.skip('kernel tests create network namespaces and links: they must run as root')


def _throwaway_netns():
    name = 'pnt-' + uuid.uuid4().hex[:10]
    subprocess.run(['ip', 'netns', 'add', name], check=True, capture_output=True)
    try:
        yield name
    finally:
        subprocess.run(['ip', 'netns', 'delete', name], check=False, capture_output=True)


@pytest.fixture
def netns():
    """A fresh, empty network namespace; deleted afterwards whatever happens."""
    yield from _throwaway_netns()


@pytest.fixture
def other_netns():
    """A second fresh namespace, e.g. for the pod end of a veth pair."""
    yield from _throwaway_netns()


@pytest.fixture
def ipip_netns(netns):
    """A namespace whose kernel has ipip, with an uplink bridge up0 (10.100.0.11/24, MTU 1500)."""
    answer = ipip_answer(netns)
    if 'Unknown device type' in answer:
        pytest.skip('this kernel has no ipip module (%s); the VM lab runs these tests' % answer.strip())
    assert answer == '', answer
    ip('link', 'add', 'up0', 'type', 'bridge', netns=netns)
    ip('address', 'add', '10.100.0.11/24', 'dev', 'up0', netns=netns)
    ip('link', 'set', 'up0', 'up', netns=netns)
    return netns
