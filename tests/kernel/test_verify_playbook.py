# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/verify.yml end to end on the real kernel, without the lab: three hostgw "nodes" as network namespaces
on one switch namespace, each with its bridge, its peers' routes (proto 94) and a CNI conflist, as site.yml leaves
them. Ansible reaches each node with the local connection and an interpreter that enters the node's namespace (and
mounts that namespace's sysfs in a private mount namespace, since facts read /sys/class/net). Every address exists
only in these namespaces.

Proves: a healthy cluster passes with every pair measured on both paths; a deleted podnet route fails the play with
a message naming the node, the route and the pod pairs that lost each other, also under --limit podnet_nodes;
neither run leaves a probe pod, a namespace or a directory behind; --check is refused before anything is attached.
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(REPO, 'playbooks', 'verify.yml')
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
TAG = 'pv%d' % os.getpid()
NODES = (1, 2, 3)

pytestmark = [
    pytest.mark.skipif(not os.path.exists('/usr/lib/cni/bridge'), reason='needs containernetworking-plugins'),
    pytest.mark.skipif(not os.path.exists(ANSIBLE_PLAYBOOK), reason='needs ansible-playbook beside the python'),
    pytest.mark.skipif(not (shutil.which('nsenter') and shutil.which('unshare')), reason='needs util-linux'),
]


def sh(*argv):
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, '%s: %s' % (' '.join(argv), proc.stderr)
    return proc.stdout


def ns(node):
    return '%s-node%d' % (TAG, node)


@pytest.fixture
def cluster(tmp_path):
    created = []
    try:
        sh('ip', 'netns', 'add', TAG + '-sw')
        created.append(TAG + '-sw')
        sh('ip', '-n', TAG + '-sw', 'link', 'add', 'br0', 'type', 'bridge')
        sh('ip', '-n', TAG + '-sw', 'link', 'set', 'br0', 'up')
        hosts = {}
        for n in NODES:
            name = ns(n)
            sh('ip', 'netns', 'add', name)
            created.append(name)
            for argv in (['link', 'set', 'lo', 'up'],
                         ['link', 'add', 'ens5', 'type', 'veth', 'peer', 'name', 'p%d' % n, 'netns', TAG + '-sw'],
                         ['addr', 'add', '10.250.0.1%d/24' % n, 'dev', 'ens5'], ['link', 'set', 'ens5', 'up'],
                         ['link', 'add', 'cni0', 'type', 'bridge'],
                         ['addr', 'add', '10.244.%d.1/24' % (n - 1), 'dev', 'cni0'], ['link', 'set', 'cni0', 'up']):
                sh('ip', '-n', name, *argv)
            sh('ip', '-n', TAG + '-sw', 'link', 'set', 'p%d' % n, 'master', 'br0', 'up')
            sh('ip', 'netns', 'exec', name, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=2')
            for m in NODES:
                if m != n:
                    sh('ip', '-n', name, 'route', 'add', '10.244.%d.0/24' % (m - 1), 'via', '10.250.0.1%d' % m,
                       'dev', 'ens5', 'proto', '94')
            conf_dir = tmp_path / ('net%d' % n)
            conf_dir.mkdir()
            (conf_dir / '10-podnet.conflist').write_text(json.dumps({
                'cniVersion': '0.4.0', 'name': TAG, 'plugins': [{
                    'type': 'bridge', 'bridge': 'cni0', 'isGateway': True, 'ipMasq': False, 'mtu': 1500,
                    'ipam': {'type': 'host-local', 'routes': [{'dst': '0.0.0.0/0'}], 'ranges': [[{
                        'subnet': '10.244.%d.0/24' % (n - 1), 'gateway': '10.244.%d.1' % (n - 1)}]]}}]}))
            python = tmp_path / ('python%d' % n)
            python.write_text('#!/bin/sh\nexec nsenter --net=/run/netns/%s unshare --mount --propagation unchanged '
                              'sh -c \'mount --make-rprivate /sys && mount -t sysfs sysfs /sys && exec %s "$@"\' '
                              'python "$@"\n' % (name, sys.executable))
            python.chmod(0o755)
            hosts['node%d' % n] = {'ansible_python_interpreter': str(python), 'podnet_node_ip': '10.250.0.1%d' % n,
                                   'podnet_uplink': 'ens5', 'podnet_cni_conf_dir': str(conf_dir),
                                   'podnet_verify_pod': name + '-probe'}
        inventory = tmp_path / 'inventory.json'
        inventory.write_text(json.dumps({'all': {
            'vars': {'ansible_connection': 'local', 'podnet_mode': 'hostgw', 'podnet_cni_network': TAG,
                     'podnet_verify_count': 10, 'podnet_verify_interval': 0.05},
            'children': {'podnet_nodes': {'hosts': hosts}}}}))
        yield inventory
    finally:
        for n in NODES:
            subprocess.run(['ip', 'netns', 'delete', ns(n) + '-probe'], capture_output=True, check=False)
        for name in reversed(created):
            subprocess.run(['ip', 'netns', 'delete', name], capture_output=True, check=False)


def run_verify(inventory, report_dir, *options):
    # One fork: the three "nodes" share this host's file system, so each sees /var/lib/cni/networks/<network> as
    # created by its own probe pod, and parallel forks would race to remove the one directory (on real nodes each
    # has its own). Tasks still run for every node before the next task starts, as they do with many forks.
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, 'ansible.cfg'), ANSIBLE_FORCE_COLOR='0', ANSIBLE_FORKS='1')
    return subprocess.run([ANSIBLE_PLAYBOOK, '-i', str(inventory), PLAYBOOK, '-e', 'podnet_verify_dir=%s' % report_dir]
                          + list(options), capture_output=True, text=True, timeout=300, cwd=REPO, env=env)


def verify(inventory, report_dir, *options):
    proc = run_verify(inventory, report_dir, *options)
    with open(os.path.join(str(report_dir), 'report.json')) as handle:
        return proc, json.load(handle)


def leftovers():
    netns = {entry['name'] for entry in json.loads(sh('ip', '-json', 'netns', 'list') or '[]')}
    return sorted(name for name in netns if name.endswith('-probe') and name.startswith(TAG)) + [
        path for path in ('/var/lib/cni/networks/' + TAG, '/var/lib/podnet/cni/pods/%s-node1-probe' % TAG)
        if os.path.exists(path)]


# What attaching the probe pod may create on the host (host-local's and cni_pod's directories).
CREATED_DIRS = ('/var/lib/cni', '/var/lib/cni/networks', '/var/lib/podnet', '/var/lib/podnet/cni',
                '/var/lib/podnet/cni/pods')


def dirs_state():
    return dict((path, os.path.isdir(path)) for path in CREATED_DIRS)


def test_verify_passes_healthy_names_a_deleted_route_and_leaves_nothing(cluster, tmp_path):
    dirs_before = dirs_state()
    proc, report = verify(cluster, tmp_path / 'healthy')
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert report['healthy'] and report['problems'] == []
    assert len(report['latency']) == 12
    assert all(pair['received'] == 10 and pair['rtt_p99_ms'] is not None for pair in report['latency'])
    assert {entry['ifname'] for entry in report['traffic']['node1']} == {'ens5', 'cni0', 'pod-veths'}
    for name in ('report.txt', 'podnet.prom', 'report.html'):
        assert (tmp_path / 'healthy' / name).stat().st_size > 0
    assert leftovers() == []

    sh('ip', '-n', ns(1), 'route', 'del', '10.244.1.0/24', 'proto', '94')
    # --limit podnet_nodes: the verdict is part of the nodes' play, so a limit to them cannot skip it.
    proc, report = verify(cluster, tmp_path / 'fault', '--limit', 'podnet_nodes')
    assert proc.returncode != 0
    missing = 'routes: node1: missing route (proto podnet) 10.244.1.0/24 via 10.250.0.12 dev ens5'
    assert missing in proc.stdout
    assert [problem.split(' (')[0] for problem in report['problems']] == [
        'loss: pod node1 -> node2', 'loss: pod node2 -> node1', missing.split(' (')[0]]
    assert report['problems'][2] == missing
    assert leftovers() == []
    # Every directory the probe pods created is gone again, and none that existed before was touched.
    assert dirs_state() == dirs_before


def test_check_mode_is_refused_before_anything_is_attached(cluster, tmp_path):
    proc = run_verify(cluster, tmp_path / 'check', '--check')
    assert proc.returncode != 0
    assert 'run it without --check' in proc.stdout
    assert not (tmp_path / 'check').exists()
    assert leftovers() == []
