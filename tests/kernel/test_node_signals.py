# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kernel test for podnet.netmodes.node_signals: a throwaway "node" namespace with a pod bridge and one pod
namespace on it, an uplink veth to a "peer" namespace, a podnet route and an IPIP guard table. The module runs
inside the node namespace (nsenter) and pings the peer from the node and from the pod. Every address belongs to
these namespaces; nothing leaves them.
"""
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moduleexec import run_module  # noqa: E402

PEER_IP = '10.99.0.2'
UNUSED_IP = '10.99.0.3'  # on the test's own uplink segment, held by nobody: its train must end by its deadline


def sh(*argv):
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, '%s: %s' % (' '.join(argv), proc.stderr)
    return proc.stdout


@pytest.fixture
def node(netns, other_netns):
    """(node netns, pod netns): pod 10.98.0.2 behind bridge cni0 10.98.0.1; uplink ens5 10.99.0.1 to the peer."""
    pod = 'pnt-pod-%d' % os.getpid()
    sh('ip', 'netns', 'add', pod)
    try:
        for argv in (
                ['ip', '-n', netns, 'link', 'set', 'lo', 'up'],
                ['ip', '-n', netns, 'link', 'add', 'cni0', 'type', 'bridge'],
                ['ip', '-n', netns, 'addr', 'add', '10.98.0.1/24', 'dev', 'cni0'],
                ['ip', '-n', netns, 'link', 'add', 'vethpod0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod],
                ['ip', '-n', netns, 'link', 'set', 'vethpod0', 'master', 'cni0', 'up'],
                ['ip', '-n', netns, 'link', 'set', 'cni0', 'up'],
                ['ip', '-n', pod, 'addr', 'add', '10.98.0.2/24', 'dev', 'eth0'],
                ['ip', '-n', pod, 'link', 'set', 'eth0', 'up'],
                ['ip', '-n', pod, 'link', 'set', 'lo', 'up'],
                ['ip', '-n', pod, 'route', 'add', 'default', 'via', '10.98.0.1'],
                ['ip', '-n', netns, 'link', 'add', 'ens5', 'type', 'veth', 'peer', 'name', 'ens5', 'netns', other_netns],
                ['ip', '-n', netns, 'addr', 'add', '10.99.0.1/24', 'dev', 'ens5'],
                ['ip', '-n', netns, 'link', 'set', 'ens5', 'up'],
                ['ip', '-n', other_netns, 'addr', 'add', PEER_IP + '/24', 'dev', 'ens5'],
                ['ip', '-n', other_netns, 'link', 'set', 'ens5', 'up'],
                ['ip', '-n', other_netns, 'route', 'add', '10.98.0.0/24', 'via', '10.99.0.1'],
                ['ip', 'netns', 'exec', netns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'],
                ['ip', '-n', netns, 'route', 'add', '10.97.0.0/24', 'via', PEER_IP, 'dev', 'ens5', 'proto', '94']):
            sh(*argv)
        yield netns, pod
    finally:
        subprocess.run(['ip', 'netns', 'delete', pod], capture_output=True, check=False)


def module_args(pod, **extra):
    args = {'netns': pod, 'count': 5, 'interval': 0.05, 'timeout': 1,
            'targets': [{'name': 'peer', 'address': PEER_IP, 'source': 'node'},
                        {'name': 'peer', 'address': PEER_IP, 'source': 'pod'},
                        {'name': 'nobody', 'address': UNUSED_IP, 'source': 'node'}],
            'devices': ['ens5', 'cni0', 'tunl0'], 'bridge': 'cni0', 'pod_cidr': '10.98.0.0/24', 'route_proto': 94,
            'ipam_dir': '/nonexistent-podnet-test'}
    args.update(extra)
    return args


def test_probes_counters_routes_and_nothing_changed(node):
    host, pod = node
    before = sh('ip', '-4', '-n', host, '-json', 'route', 'show', 'table', 'all')
    started = time.monotonic()
    result = run_module('node_signals', module_args(pod), netns=host)
    elapsed = time.monotonic() - started
    assert not result.failed, result
    assert result['changed'] is False
    signals = result['signals']

    by_path = dict(((p['name'], p['source']), p) for p in signals['probes'])
    for key in (('peer', 'node'), ('peer', 'pod')):
        probe = by_path[key]
        assert probe['error'] is None, probe
        assert (probe['transmitted'], probe['received'], len(probe['rtts'])) == (5, 5, 5), probe
        assert all(0 < rtt < 1000 for rtt in probe['rtts'])
    lost = by_path[('nobody', 'node')]
    assert lost['received'] == 0 and lost['transmitted'] >= 5 and lost['rtts'] == []
    # Three trains of at most 0.25 s + 1 s each, in parallel: the unanswered one stops at its own deadline.
    assert elapsed < 10

    # Counters are read before the trains run: a second read sees the trains' packets.
    signals = run_module('node_signals', module_args(pod, targets=[]), netns=host)['signals']
    links = dict((link['ifname'], link) for link in signals['links'])
    assert links['tunl0'] == {'ifname': 'tunl0', 'role': 'device', 'present': False}
    assert links['ens5']['present'] and links['ens5']['tx_packets'] >= 10
    assert links['cni0']['kind'] == 'bridge'
    assert links['vethpod0']['role'] == 'pod_veth' and links['vethpod0']['rx_packets'] >= 5
    assert [(r['dst'], r['gateway'], r['dev']) for r in signals['routes']['podnet']] == [('10.97.0.0/24', PEER_IP, 'ens5')]
    assert signals['routes']['bird'] is None and signals['bird'] is None
    assert signals['routes']['main_count'] == 3
    assert signals['ipam'] == {'dir': '/nonexistent-podnet-test/podnet', 'addresses': None}
    assert sh('ip', '-4', '-n', host, '-json', 'route', 'show', 'table', 'all') == before


def test_check_mode_measures_the_same(node):
    host, pod = node
    result = run_module('node_signals', module_args(pod, targets=[{'name': 'peer', 'address': PEER_IP}]),
                        check=True, netns=host)
    assert not result.failed and result['changed'] is False
    assert result['signals']['probes'][0]['received'] == 5


def test_pod_target_without_probe_pod_is_an_error_entry_not_a_failure(node):
    host, dummy = node
    result = run_module('node_signals', module_args('pnt-no-such-pod', targets=[
        {'name': 'peer', 'address': PEER_IP, 'source': 'pod'}]), netns=host)
    assert not result.failed
    assert result['signals']['probes'][0]['error'] == 'no probe pod: network namespace pnt-no-such-pod is missing'


@pytest.mark.skipif(not shutil.which('nft'), reason='needs nft')
def test_ipip_guard_counter_is_read(node):
    host, pod = node
    sh('ip', 'netns', 'exec', host, 'nft', 'add table ip podnet_ipip; add chain ip podnet_ipip input '
       '{ type filter hook input priority 0; policy accept; }; add rule ip podnet_ipip input ip protocol 4 '
       'ip saddr != { 10.99.0.2 } counter drop')
    result = run_module('node_signals', module_args(pod, targets=[]), netns=host)
    assert result['signals']['ipip_guard'] == {'packets': 0, 'bytes': 0}
    sh('ip', 'netns', 'exec', host, 'nft', 'delete table ip podnet_ipip')
    result = run_module('node_signals', module_args(pod, targets=[]), netns=host)
    assert result['signals']['ipip_guard'] is None


def test_refused_target_probes_nothing(node):
    host, pod = node
    result = run_module('node_signals', module_args(pod, targets=[{'name': 'x', 'address': 'example.org'}]),
                        netns=host)
    assert result.failed and "address 'example.org' is not a valid IPv4 address" in result['msg']
    assert 'signals' not in result


def test_result_is_json_serialisable(node):
    host, pod = node
    result = run_module('node_signals', module_args(pod, targets=[]), netns=host)
    json.dumps(result)
