# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Removal with the modules, as roles/remove runs them, against a real namespace: apply podnet's bridge, routes and
masquerade table, remove them, and the namespace's links, addresses, routes and nftables are as before - with the
things around them that are not podnet's (other protocols' routes, other links and tables, same-named ones without
podnet's mark) untouched. The modules run inside the namespace (nsenter), as on a host, with boot files in tmp."""
import json
import subprocess

import pytest

from kernelstate import ip, ip_json
from moduleexec import run_module

ALIEN_NFT = 'table ip admin_nat {\n chain post {\n  type nat hook postrouting priority 100; policy accept;\n }\n}\n'


def nft(netns, *args, stdin=None):
    proc = subprocess.run(['nsenter', '--net=/run/netns/%s' % netns, 'nft'] + list(args), input=stdin,
                          capture_output=True, text=True, check=True)
    return proc.stdout


def state(netns):
    """Everything a removal must give back as it found it."""
    ruleset = json.loads(nft(netns, '-j', 'list', 'ruleset'))['nftables']
    return {
        'links': ip_json('link', 'show', netns=netns),
        'addresses': ip_json('address', 'show', netns=netns),
        'routes4': ip_json('-4', 'route', 'show', 'table', 'all', netns=netns),
        'routes6': ip_json('-6', 'route', 'show', 'table', 'all', netns=netns),
        'nft': [item for item in ruleset if 'metainfo' not in item],
    }


@pytest.fixture
def node(netns, tmp_path):
    """A host with what is not podnet's: an uplink, a static route, a route of another protocol (BIRD's, 12),
    an admin's nat table."""
    # No duplicate address detection: IPv6 link-local addresses are final at once, so snapshots are stable.
    for scope in ('all', 'default'):
        subprocess.run(['nsenter', '--net=/run/netns/%s' % netns, 'sysctl', '-qw',
                        'net.ipv6.conf.%s.accept_dad=0' % scope], check=True)
    ip('link', 'set', 'lo', 'up', netns=netns)
    ip('link', 'add', 'ens5', 'type', 'veth', 'peer', 'name', 'ens5-wire', netns=netns)
    ip('address', 'add', '10.89.20.11/24', 'dev', 'ens5', netns=netns)
    ip('link', 'set', 'ens5-wire', 'up', netns=netns)
    ip('link', 'set', 'ens5', 'up', netns=netns)
    ip('route', 'add', '10.9.0.0/16', 'via', '10.89.20.1', 'proto', 'static', netns=netns)
    ip('route', 'add', '10.244.7.0/24', 'via', '10.89.20.17', 'proto', '12', netns=netns)
    nft(netns, '-f', '-', stdin=ALIEN_NFT)
    return netns, tmp_path


def apply_args(tmp_path):
    return [
        ('ip_link', dict(name='cni0', kind='bridge', mtu=1500, addresses=['10.244.1.1/24'], boot=True,
                         boot_file=str(tmp_path / '10-bridge-cni0.batch'))),
        ('ip_routes', dict(route_lines=['10.244.2.0/24 via 10.89.20.12 dev ens5', 'blackhole 10.244.1.0/26'],
                           purge=True, boot=True, boot_file=str(tmp_path / '50-routes.batch'))),
        ('nft_table', dict(name='podnet', chains=[dict(name='postrouting', type='nat', hook='postrouting',
                                                       priority=100, rules=['ip saddr 10.244.1.0/24 masquerade'])],
                           path=str(tmp_path / 'ip-podnet.nft'))),
    ]


def removal_args(tmp_path):
    """roles/remove's module calls: routes first (all of proto 94), then the bridge, then the table."""
    return [
        ('ip_routes', dict(routes=[], purge=True, boot=True, boot_file=str(tmp_path / '50-routes.batch'))),
        ('ip_link', dict(name='cni0', kind='bridge', state='absent', boot=True,
                         boot_file=str(tmp_path / '10-bridge-cni0.batch'))),
        ('nft_table', dict(name='podnet', state='absent', path=str(tmp_path / 'ip-podnet.nft'))),
    ]


def run_all(netns, calls, **kwargs):
    results = [run_module(name, args, netns=netns, **kwargs) for name, args in calls]
    for (name, _), result in zip(calls, results):
        assert not result.failed, (name, result)
    return results


def test_apply_then_remove_leaves_the_namespace_as_before_and_check_mode_predicts_it(node):
    netns, tmp_path = node
    before = state(netns)
    run_all(netns, apply_args(tmp_path))
    applied = state(netns)
    assert applied != before
    assert sorted(path.name for path in tmp_path.iterdir()) == ['10-bridge-cni0.batch', '50-routes.batch',
                                                               'ip-podnet.nft']
    predicted = run_all(netns, removal_args(tmp_path), check=True, diff=True)
    assert state(netns) == applied
    done = run_all(netns, removal_args(tmp_path), diff=True)
    assert [r['changed'] for r in predicted] == [r['changed'] for r in done] == [True, True, True]
    assert [r['diff'] for r in predicted] == [r['diff'] for r in done]
    assert state(netns) == before
    assert list(tmp_path.iterdir()) == []
    again = run_all(netns, removal_args(tmp_path))
    assert [r['changed'] for r in again] == [False, False, False]


def test_same_names_without_the_mark_and_other_protocols_survive(node):
    """Another owner's cni0 and ip podnet table are refused, never deleted; routes of other protocols to podnet's
    own destinations stay."""
    netns, tmp_path = node
    ip('link', 'add', 'cni0', 'type', 'bridge', netns=netns)
    ip('link', 'set', 'dev', 'cni0', 'alias', 'docker-managed', netns=netns)
    ip('route', 'add', 'blackhole', '10.244.1.0/26', 'proto', 'static', netns=netns)
    nft(netns, '-f', '-', stdin='table ip podnet {\n chain post {\n  type nat hook postrouting priority 100;\n }\n}\n')
    before = state(netns)
    results = [run_module(name, args, netns=netns) for name, args in removal_args(tmp_path)]
    assert [r.failed for r in results] == [False, True, True]
    assert results[0]['changed'] is False
    assert 'not created by podnet' in results[1]['msg']
    assert "is not podnet's" in results[2]['msg']
    assert state(netns) == before
