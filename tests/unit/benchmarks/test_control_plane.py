# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure helpers of benchmarks/control_plane.py: the plan and configs it gives each BIRD, and what it reads back."""
import argparse
import importlib.util
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SPEC = importlib.util.spec_from_file_location('control_plane', os.path.join(ROOT, 'benchmarks', 'control_plane.py'))
control_plane = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(control_plane)

DEFAULTS = control_plane.role_variables()
needs_bird = pytest.mark.skipif(not os.access(control_plane.BIRD, os.X_OK), reason='bird2 is not installed')


def test_synthetic_hosts_sit_on_one_segment_in_racks_with_facts_that_hold_their_address():
    hosts = control_plane.synthetic_hosts(30, rack_size=25)
    assert [host['podnet_rack'] for host in (hosts[0], hosts[24], hosts[25])] == ['rack00', 'rack00', 'rack01']
    first = hosts[0]
    assert (first['inventory_hostname'], first['podnet_node_ip']) == ('n000', '10.250.0.1')
    assert first['ansible_facts']['ens5']['ipv4'] == {'address': '10.250.0.1', 'network': '10.250.0.0',
                                                      'prefix': '16'}
    assert len(set(host['podnet_node_ip'] for host in hosts)) == 30


def test_the_settings_are_the_roles_defaults_with_the_pool_and_the_forced_topology():
    settings = control_plane.plan_settings(DEFAULTS, 'rr')
    assert settings['podnet_bgp_mesh_max_nodes'] == 0
    assert settings['podnet_bgp_rr_per_rack'] == DEFAULTS['podnet_bgp_rr_per_rack']
    assert (settings['podnet_mode'], settings['podnet_cluster_cidr']) == ('bgp', '10.251.0.0/16')
    assert all(name.startswith('podnet_') for name in settings)
    assert control_plane.plan_settings(DEFAULTS, 'mesh')['podnet_bgp_mesh_max_nodes'] >= 1000


def test_a_forced_mesh_peers_every_node_with_every_other():
    plan = control_plane.build_plan(30, 'mesh', DEFAULTS)
    assert plan['bgp']['topology'] == 'mesh'
    assert plan['bgp']['sessions'] == 30 * 29 // 2
    assert all(control_plane.planned_sessions(plan, name) == 29 for name in plan['nodes'])


def test_forced_route_reflectors_give_two_per_rack_and_clients_two_sessions():
    plan = control_plane.build_plan(50, 'rr', DEFAULTS)
    assert plan['bgp']['topology'] == 'route-reflectors'
    assert len(plan['bgp']['route_reflectors']) == 4
    roles = [node['bgp']['role'] for node in plan['nodes'].values()]
    assert roles.count('rr') == 4
    assert set(len(node['bgp']['peers']) for node in plan['nodes'].values() if node['bgp']['role'] == 'client') == {2}


def test_each_node_expects_every_other_nodes_block_but_not_its_own():
    plan = control_plane.build_plan(3, 'mesh', DEFAULTS)
    own = plan['nodes']['n001']['pod_cidr']
    expected = control_plane.expected_blocks(plan, 'n001')
    assert own not in expected and len(expected) == 2
    assert all(block.startswith('10.251.') and block.endswith('/26') for block in expected)


def test_the_config_is_the_roles_template_with_this_nodes_identity_and_its_own_log():
    plan = control_plane.build_plan(3, 'mesh', DEFAULTS)
    text = control_plane.bird_config(plan, 'n002', DEFAULTS, '/run/x/n002.log')
    lines = text.splitlines()
    assert 'router id 10.250.0.3;' in lines
    assert '  route %s blackhole;' % plan['nodes']['n002']['pod_cidr'] in lines
    assert [line for line in lines if line.startswith('protocol bgp')] == [
        'protocol bgp peer_n000 from podnet_peer {', 'protocol bgp peer_n001 from podnet_peer {']
    assert text.endswith('# podnet_bgp_extra_config\nlog "/run/x/n002.log" all;\ntimeformat log "%F %T.%3f";\n'
                         'timeformat protocol "%F %T.%3f";\n')


@needs_bird
def test_bird_accepts_a_route_reflectors_config(tmp_path):
    plan = control_plane.build_plan(30, 'rr', DEFAULTS)
    reflector = plan['bgp']['route_reflectors'][0]
    conf = tmp_path / 'bird.conf'
    conf.write_text(control_plane.bird_config(plan, reflector, DEFAULTS, str(tmp_path / 'bird.log')))
    result = subprocess.run([control_plane.BIRD, '-p', '-c', str(conf)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr + result.stdout
    assert 'rr client;' in conf.read_text()


def test_a_node_gets_its_address_and_the_blackhole_the_role_holds():
    node = {'node_ip': '10.250.0.7', 'pod_cidr': '10.251.1.128/26'}
    assert control_plane.node_setup_lines(node, 94) == [
        'link set lo up', 'address add 10.250.0.7/16 dev ens5', 'link set ens5 up',
        'route add blackhole 10.251.1.128/26 proto 94']


def test_route_destinations_of_ip_json():
    shown = '[{"dst":"10.251.0.64/26","gateway":"10.250.0.2","dev":"ens5","protocol":"bird","flags":[]}]'
    assert control_plane.route_destinations(shown) == {'10.251.0.64/26'}
    assert control_plane.route_destinations('') == set()


SHOW_PROTOCOLS = '''\
BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
podnet_blocks Static     master4    up     2026-11-27 18:51:26.330
device1    Device     ---        up     2026-11-27 18:51:26.330
podnet_kernel Kernel     master4    up     2026-11-27 18:51:26.330
peer_n001  BGP        ---        up     2026-11-27 18:51:30.325  Established
peer_n002  BGP        ---        start  2026-11-27 18:51:26.330  Connect       Socket: No route to host
peer_n003  BGP        ---        start  2026-11-27 18:51:26.330  Active
peer_n004  BGP        ---        up     2026-11-27 18:51:30.746  Established
'''


def test_only_established_bgp_sessions_are_counted():
    assert control_plane.established_sessions(SHOW_PROTOCOLS) == 2
    assert control_plane.established_sessions('BIRD 2.0.12 ready.\n') == 0


SHOW_MEMORY = '''\
BIRD 2.0.12 ready.
BIRD memory usage
                  Effective    Overhead
Routing tables:     14 kB       4 kB
Total:             162 kB     103 kB
'''


def test_established_since_reads_the_millisecond_since_column_of_established_sessions_only():
    since = control_plane.established_since(SHOW_PROTOCOLS)
    assert len(since) == 2
    assert round(since[1] - since[0], 3) == 0.421


def test_memory_total_is_the_effective_column_in_bytes():
    assert control_plane.memory_total_bytes(SHOW_MEMORY) == 162 * 1024
    assert control_plane.memory_total_bytes('Total: 1.5 MB 200 kB') == int(1.5 * 1024 ** 2)
    with pytest.raises(ValueError):
        control_plane.memory_total_bytes('BIRD 2.0.12 ready.\n')


def test_rss_and_cpu_come_from_proc():
    assert control_plane.vm_rss_bytes('Name:\tbird\nVmRSS:\t    2740 kB\n') == 2740 * 1024
    stat = '4242 (bird x) S 1 4242 4242 0 -1 4194624 100 0 0 0 150 50 0 0 20 0 1 0 99 1000 500'
    assert control_plane.cpu_seconds(stat, 100) == 2.0


def test_backlog_drops_add_up_the_second_column_of_every_cpu():
    softnet = '00ba9e92 0020b25d 000000f7 00000000\n00bd3e5e 00000010 000000dd 00000000\n'
    assert control_plane.backlog_drops(softnet) == 0x20b25d + 0x10


def test_sessions_are_reported_apart_for_reflectors_and_the_others():
    plan = {'nodes': {'a': {'bgp': {'role': 'rr'}}, 'b': {'bgp': {'role': 'rr'}},
                      'c': {'bgp': {'role': 'client'}}, 'd': {'bgp': {'role': 'client'}}}}
    assert control_plane.sessions_by_role(plan, {'a': 30, 'b': 29, 'c': 2, 'd': 2}) == ('2', '29-30')
    assert control_plane.spread([]) == '-'


def row(**changes):
    base = {'topology': 'rr', 'nodes': 100, 'racks': 4, 'route_reflectors': 8, 'sessions_planned': 212,
            'sessions_established': 212, 'startup_s': 1.1, 'converged_s': 6.34, 'converged_nodes': 100,
            'median_node_s': 5.6, 'sessions_s': 6.4, 'sessions_other': '2', 'sessions_rr': '30',
            'load_before': 4.03, 'load_after': 3.94, 'memory_median': 162 * 1024, 'memory_max': 396 * 1024,
            'rss_median': 2.7 * 1024 ** 2, 'rss_total': 267.4 * 1024 ** 2, 'cpu_s': 0.3, 'sweep_s': 0.4,
            'backlog_drops': 2055, 'session_up_s': [4.0, 4.4, 5.3]}
    base.update(changes)
    return base


def test_the_tables_show_a_converged_run_and_say_when_a_run_did_not_converge():
    stalled = row(topology='mesh', converged_s=None, converged_nodes=37, sessions_s=None)
    table = control_plane.convergence_table([row(), stalled])
    lines = table.splitlines()
    assert lines[2].startswith(
        '| route reflectors | 100 | 4 | 8 | 212 / 212 | 1.1 | 6.3 | 5.6 | 6.4 | 4.4 / 5.3 | 2 | 30 |')
    assert '| not reached (37 of 100 nodes) |' in lines[3]
    resources = control_plane.resource_table([row()]).splitlines()[2]
    assert resources == '| route reflectors | 100 | 162 / 396 | 2.7 | 267.4 | 0.3 | 2055 |'


def test_extra_mesh_sizes_run_after_every_size_and_topology():
    args = argparse.Namespace(sizes=[25, 50], topologies=['mesh', 'rr'], extra_mesh_sizes=[150])
    assert control_plane.cases(args) == [(25, 'mesh'), (25, 'rr'), (50, 'mesh'), (50, 'rr'), (150, 'mesh')]


def test_neighbour_table_holds_every_node_for_every_node_and_never_shrinks_below_the_defaults():
    assert control_plane.neighbour_thresholds_for(100) == (128, 10000, 20000)
    assert control_plane.neighbour_thresholds_for(10) == (128, 512, 1024)
