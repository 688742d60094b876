# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""node_signals and the golden report against real BIRDs: two bgp-mode "nodes" as throwaway namespaces on one
switch namespace, each running BIRD with the bird.conf roles/bgp renders from the real plan (lab/role_template.py,
as benchmarks/control_plane.py does), its socket in the test's own directory.

Proves what only BIRD can show: `birdc -r show protocols` parses on the installed bird2, Established sessions and
BIRD's routes match the plan, and a disabled session fails the report naming both the session and the block BIRD
withdrew. Also that a BIRD which accepts the connection but never answers costs bird_timeout, not the run.
"""
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moduleexec import run_module  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, 'lab'))
from role_template import render_role_template, role_defaults  # noqa: E402

from ansible_collections.podnet.netmodes.plugins.plugin_utils._golden import golden_report  # noqa: E402
from ansible_collections.podnet.netmodes.plugins.plugin_utils._plan import plan_cluster  # noqa: E402

BIRD = '/usr/sbin/bird'
BIRDC = '/usr/sbin/birdc'
NODES = {'node1': '10.252.0.11', 'node2': '10.252.0.12'}

pytestmark = pytest.mark.skipif(not (os.path.exists(BIRD) and os.path.exists(BIRDC)), reason='needs bird2')


def sh(*argv):
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, '%s: %s' % (' '.join(argv), proc.stderr)
    return proc.stdout


def make_plan(defaults):
    hosts = [{'inventory_hostname': name, 'podnet_node_ip': ip, 'podnet_uplink': 'ens5', 'podnet_rack': 'r1',
              'ansible_facts': {'interfaces': ['lo', 'ens5'], 'ens5': {'device': 'ens5', 'mtu': 1500, 'ipv4': {
                  'address': ip, 'network': '10.252.0.0', 'prefix': '24'}}}} for name, ip in sorted(NODES.items())]
    settings = dict((key, value) for key, value in defaults.items() if key.startswith('podnet_'))
    settings.update(podnet_mode='bgp', podnet_cluster_cidr='10.253.0.0/16')
    plan = plan_cluster(hosts, settings)
    assert plan['problems'] == [], plan['problems']
    return plan


@pytest.fixture
def birds(tmp_path):
    """{node: (netns, control socket)} with both BIRDs running and their session Established."""
    tag = 'pnt-' + uuid.uuid4().hex[:6]
    defaults = role_defaults('common', 'bgp')
    plan = make_plan(defaults)
    namespaces, pids = [tag + '-sw'], []
    nodes = {}
    try:
        sh('ip', 'netns', 'add', tag + '-sw')
        sh('ip', '-n', tag + '-sw', 'link', 'add', 'br0', 'type', 'bridge')
        sh('ip', '-n', tag + '-sw', 'link', 'set', 'br0', 'up')
        for index, name in enumerate(sorted(NODES)):
            netns = '%s-%s' % (tag, name)
            sh('ip', 'netns', 'add', netns)
            namespaces.append(netns)
            port = '%s-p%d' % (tag, index)
            sh('ip', '-n', netns, 'link', 'add', 'ens5', 'type', 'veth', 'peer', 'name', port, 'netns', tag + '-sw')
            sh('ip', '-n', tag + '-sw', 'link', 'set', port, 'master', 'br0', 'up')
            for argv in (['link', 'set', 'lo', 'up'], ['addr', 'add', NODES[name] + '/24', 'dev', 'ens5'],
                         ['link', 'set', 'ens5', 'up'],
                         ['route', 'add', 'blackhole', plan['nodes'][name]['pod_cidr'], 'proto', '94']):
                sh('ip', '-n', netns, *argv)
            conf, ctl, pid = (str(tmp_path / (name + suffix)) for suffix in ('.conf', '.ctl', '.pid'))
            with open(conf, 'w') as stream:
                stream.write(render_role_template('bgp', 'bird.conf.j2', dict(
                    defaults, podnet_plan=plan, inventory_hostname=name, ansible_managed='test',
                    podnet_bgp_extra_config='log "%s" all;' % (tmp_path / (name + '.log')))))
            sh('ip', 'netns', 'exec', netns, BIRD, '-c', conf, '-s', ctl, '-P', pid)
            pids.append(pid)
            nodes[name] = (netns, ctl)
        deadline = time.monotonic() + 60
        while not all('Established' in sh(BIRDC, '-s', ctl, 'show', 'protocols') for dummy, ctl in nodes.values()):
            assert time.monotonic() < deadline, 'the BIRDs did not establish their session within 60 s'
            time.sleep(0.5)
        yield plan, nodes
    finally:
        for pid in pids:
            try:
                with open(pid) as stream:
                    os.kill(int(stream.read().strip()), 15)
            except (OSError, ValueError):
                pass
        time.sleep(0.2)
        for netns in reversed(namespaces):
            subprocess.run(['ip', 'netns', 'delete', netns], capture_output=True, check=False)


def signals(plan, nodes, name):
    netns, ctl = nodes[name]
    targets = [{'name': other, 'address': ip, 'source': 'node'} for other, ip in sorted(NODES.items()) if other != name]
    result = run_module('node_signals', {'targets': targets, 'count': 3, 'interval': 0.05, 'devices': ['ens5'],
                                         'bird': True, 'bird_socket': ctl, 'pod_cidr': plan['nodes'][name]['pod_cidr'],
                                         'ipam_dir': '/nonexistent-podnet-test'}, netns=netns)
    assert not result.failed, result
    return dict(result)


def control_plane_problems(report):
    return [problem for problem in report['problems'] if problem.split(':')[0] in ('bgp', 'routes')]


def wait_for_routes(nodes, name, count):
    deadline = time.monotonic() + 30
    while len(json.loads(sh('ip', '-n', nodes[name][0], '-json', 'route', 'show', 'proto', 'bird') or '[]')) != count:
        assert time.monotonic() < deadline, 'BIRD on %s did not reach %d routes' % (name, count)
        time.sleep(0.2)


def test_sessions_and_bird_routes_match_the_plan_then_a_disabled_session_is_named(birds):
    plan, nodes = birds
    wait_for_routes(nodes, 'node1', 1)
    wait_for_routes(nodes, 'node2', 1)
    results = dict((name, signals(plan, nodes, name)) for name in NODES)
    node1 = results['node1']['signals']
    assert node1['bird']['error'] is None
    assert [(p['name'], p['proto'], p['state'], p['info']) for p in node1['bird']['protocols']
            if p['proto'] == 'BGP'] == [('peer_node2', 'BGP', 'up', 'Established')]
    assert [(r['dst'], r['gateway'], r['dev']) for r in node1['routes']['bird']] == [
        (plan['nodes']['node2']['pod_cidr'], NODES['node2'], 'ens5')]
    assert [p['received'] for p in node1['probes']] == [3]
    report = golden_report(results, plan)
    assert control_plane_problems(report) == []
    assert [s['established'] for s in report['errors']['node1']['bgp_sessions']] == [True]

    sh(BIRDC, '-s', nodes['node2'][1], 'disable', 'peer_node1')
    wait_for_routes(nodes, 'node1', 0)
    results = dict((name, signals(plan, nodes, name)) for name in NODES)
    problems = control_plane_problems(golden_report(results, plan))
    assert [problem.split(' is not Established')[0] for problem in problems if problem.startswith('bgp:')] == [
        'bgp: node1: session peer_node2 with node2 (%s)' % NODES['node2'],
        'bgp: node2: session peer_node1 with node1 (%s)' % NODES['node1']]
    assert 'routes: node1: missing route (proto bird) %s via %s dev ens5' % (
        plan['nodes']['node2']['pod_cidr'], NODES['node2']) in problems


def test_a_bird_that_never_answers_costs_bird_timeout_not_the_run(tmp_path):
    path = str(tmp_path / 'silent.ctl')
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        result = run_module('node_signals', {'bird': True, 'bird_socket': path, 'bird_timeout': 1,
                                             'ipam_dir': '/nonexistent-podnet-test'})
        elapsed = time.monotonic() - started
    finally:
        server.close()
        for connection, dummy in accepted:
            connection.close()
    assert not result.failed, result
    assert result['signals']['bird'] == {'error': 'birdc did not answer within 1 seconds', 'protocols': []}
    assert accepted, 'birdc never connected: the timeout was not what stopped it'
    assert elapsed < 10


BIRD_START = os.path.join(REPO, 'roles', 'bgp', 'files', 'podnet-bird-start')


def bird_routes(netns):
    return json.loads(sh('ip', '-n', netns, '-json', '-4', 'route', 'show', 'proto', 'bird') or '[]')


def restart_gracefully(nodes, name, tmp_path, start):
    """``birdc graceful restart`` on one node, then ``start``; returns (the new BIRD's command line, whether the node
    was ever without its BIRD route from the restart until its session was Established again and 2 s more)."""
    netns, ctl = nodes[name]
    pid_file = str(tmp_path / (name + '.pid'))
    with open(pid_file) as stream:
        old = int(stream.read().strip())
    sh(BIRDC, '-s', ctl, 'graceful', 'restart')
    while os.path.exists('/proc/%d' % old):
        time.sleep(0.05)
    assert len(bird_routes(netns)) == 1, 'a graceful exit leaves the routes in the kernel'
    process = start(netns, str(tmp_path / (name + '.conf')), ctl, pid_file)
    missing, settled = False, None
    deadline = time.monotonic() + 60
    while settled is None or time.monotonic() < settled + 2:
        assert time.monotonic() < deadline, 'the restarted BIRD did not establish its session within 60 s'
        missing = missing or len(bird_routes(netns)) != 1
        if settled is None and os.path.exists(ctl):
            if 'Established' in subprocess.run([BIRDC, '-s', ctl, 'show', 'protocols'], capture_output=True,
                                               text=True, check=False).stdout:
                settled = time.monotonic()
        time.sleep(0.05)
    with open(pid_file) as stream:
        with open('/proc/%s/cmdline' % stream.read().strip()) as cmdline:
            argv = cmdline.read().split('\0')
    return argv, missing, process


def test_bird_started_by_podnet_bird_start_after_a_graceful_exit_keeps_its_kernel_routes(birds, tmp_path):
    # The control first: a plain start after a graceful exit deletes the route it left, until the session is back.
    plan, nodes = birds
    netns = nodes['node1'][0]
    wait_for_routes(nodes, 'node1', 1)
    plain, plain_missing, dummy = restart_gracefully(nodes, 'node1', tmp_path, lambda netns, conf, ctl, pid: sh(
        'ip', 'netns', 'exec', netns, BIRD, '-c', conf, '-s', ctl, '-P', pid))

    def script(netns, conf, ctl, pid):
        env = dict(os.environ, BIRD_RUN_USER='root', BIRD_RUN_GROUP='root',
                   BIRD_ARGS='-c %s -s %s -P %s' % (conf, ctl, pid))
        return subprocess.Popen(['ip', 'netns', 'exec', netns, 'sh', BIRD_START], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    argv, missing, process = restart_gracefully(nodes, 'node1', tmp_path, script)
    try:
        assert '-R' not in plain and plain_missing, 'the control: a plain start deletes the routes it left'
        assert '-R' in argv and '-f' in argv, argv
        assert not missing, 'the route to node2\'s block went missing across the restart'
        assert [route['dst'] for route in bird_routes(netns)] == [plan['nodes']['node2']['pod_cidr']]
        # A clean stop takes the routes away; the next start is plain (no recovery to wait for).
        # The recovery ends when the peer's routes are all in (End-of-RIB), well before graceful restart wait (30 s).
        deadline = time.monotonic() + 20
        while 'recovery in progress' in sh(BIRDC, '-s', nodes['node1'][1], 'show', 'status'):
            assert time.monotonic() < deadline, 'graceful restart recovery still in progress 20 s after the session'
            time.sleep(0.2)
        sh(BIRDC, '-s', nodes['node1'][1], 'down')
        process.wait(timeout=30)
        assert bird_routes(netns) == []
        cold = script(netns, str(tmp_path / 'node1.conf'), nodes['node1'][1], str(tmp_path / 'node1.pid'))
        deadline = time.monotonic() + 30
        while not os.path.exists(str(tmp_path / 'node1.pid')) or not os.path.exists(nodes['node1'][1]):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.5)
        with open(str(tmp_path / 'node1.pid')) as stream:
            with open('/proc/%s/cmdline' % stream.read().strip()) as cmdline:
                assert '-R' not in cmdline.read().split('\0')
        cold.terminate()
    finally:
        process.kill()
