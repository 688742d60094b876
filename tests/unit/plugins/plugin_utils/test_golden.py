# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The golden-signal report: percentiles, thresholds, route staleness, sessions, saturation, probe targets."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_fixtures as fx  # noqa: E402

from ansible_collections.podnet.netmodes.plugins.plugin_utils._golden import (  # noqa: E402
    compare_routes,
    golden_report,
    ipam_pool_size,
    percentile,
    probe_targets,
)


def report(results=None, mode='hostgw', probe_ips=None, settings=None):
    return golden_report(fx.results(mode) if results is None else results, fx.plan(mode),
                         fx.probe_ips() if probe_ips is None else probe_ips, settings)


def test_percentile_is_nearest_rank_and_never_interpolates():
    values = [float(v) for v in range(1, 21)]  # 1..20, shuffled order must not matter
    assert percentile(list(reversed(values)), 50) == 10.0
    assert percentile(values, 99) == 20.0
    assert percentile(values, 95) == 19.0
    assert percentile([3.0], 99) == 3.0
    assert percentile([], 50) is None
    assert percentile([1.0, 2.0], 0) == 1.0


def test_healthy_cluster_has_no_problems_and_every_pair_both_paths():
    result = report()
    assert result['healthy'], result['problems']
    assert result['problems'] == [] and result['warnings'] == []
    assert len(result['latency']) == 3 * 2 * 2
    pair = result['latency'][0]
    assert pair['rtt_p50_ms'] == 0.19 and pair['rtt_p99_ms'] == 0.29 and pair['loss_percent'] == 0.0


def test_loss_at_the_threshold_passes_and_above_it_fails_naming_the_pair():
    results = fx.results()
    probe = results['node2']['signals']['probes'][1]  # node2 -> node1, pod path
    probe['received'] = 19  # 5 % == threshold: healthy
    assert report(results)['healthy']
    probe['received'] = 18
    result = report(results)
    assert not result['healthy']
    assert result['problems'] == ['loss: pod node2 -> node1 (10.244.0.5): 10% lost (2 of 20), threshold 5%']


def test_loss_threshold_is_configurable():
    results = fx.results()
    results['node1']['signals']['probes'][0]['received'] = 19
    assert not report(results, settings={'loss_max_percent': 0})['healthy']
    assert report(results, settings={'loss_max_percent': None})['healthy']


def test_slow_pair_is_a_warning_not_a_problem():
    results = fx.results()
    results['node3']['signals']['probes'][0]['rtts'] = fx.rtts(base=80.0)
    result = report(results)
    assert result['healthy']
    assert result['warnings'] == ['latency: node node3 -> node1 (10.89.20.11): p99 80.190 ms above 50 ms']


def test_a_train_that_could_not_run_is_a_problem():
    results = fx.results()
    results['node1']['signals']['probes'][0].update(transmitted=0, received=0, rtts=[], error='ping failed (rc=2)')
    result = report(results)
    assert result['problems'] == ['latency: node node1 -> node2 (10.89.20.12): ping failed (rc=2)']


def test_missing_node_signals_and_missing_probe_pod_are_named():
    results = fx.results()
    results['node3'] = {'failed': True, 'msg': 'ip: command not found'}
    probe_ips = fx.probe_ips()
    del probe_ips['node2']
    results['node1']['signals']['probes'] = [p for p in results['node1']['signals']['probes']
                                             if not (p['name'] == 'node2' and p['source'] == 'pod')]
    result = report(results, probe_ips=probe_ips)
    assert result['problems'] == [
        'node: node3: no signals (ip: command not found)',
        'probe pod: node2: no probe pod attached, pod paths from and to it are not measured',
    ]
    assert not [p for p in result['latency'] if p['source'] == 'node3']
    # node1 did not probe node2's pod (it has none): no pair, and no "not probed" problem either
    assert not [p for p in result['latency'] if p['path'] == 'pod' and (p['source'], p['target']) == ('node1', 'node2')]


def test_a_probe_the_node_did_not_run_is_reported_as_not_probed():
    results = fx.results()
    results['node1']['signals']['probes'].pop(0)
    assert report(results)['problems'] == ['latency: node node1 -> node2 (None): not probed']


def test_missing_stale_and_wrong_hostgw_routes_are_named():
    results = fx.results()
    routes = results['node1']['signals']['routes']['podnet']
    routes.pop(0)  # node2's block
    routes[0]['gateway'] = '10.89.20.99'  # node3's block via a wrong gateway
    routes.append({'dst': '10.244.7.0/24', 'gateway': '10.89.20.17', 'dev': 'ens5', 'flags': []})
    result = report(results)
    assert result['problems'] == [
        'routes: node1: missing route (proto podnet) 10.244.1.0/24 via 10.89.20.12 dev ens5',
        'routes: node1: stale route (proto podnet) 10.244.7.0/24 via 10.89.20.17 dev ens5',
        'routes: node1: wrong route (proto podnet) 10.244.2.0/24 via 10.89.20.99 dev ens5 '
        '(plan: 10.244.2.0/24 via 10.89.20.13 dev ens5)',
    ]
    assert result['errors']['node1']['routes']['podnet']['missing'] == ['10.244.1.0/24 via 10.89.20.12 dev ens5']


def test_compare_routes_matches_type_and_onlink_routes():
    planned = [{'dest': '10.244.0.0/26', 'type': 'blackhole'},
               {'dest': '10.244.2.0/24', 'via': '10.89.61.11', 'dev': 'tunl0', 'onlink': True}]
    kernel = [{'dst': '10.244.0.0/26', 'type': 'blackhole', 'flags': []},
              {'dst': '10.244.2.0/24', 'gateway': '10.89.61.11', 'dev': 'tunl0', 'flags': ['onlink']}]
    assert compare_routes(planned, kernel) == {'missing': [], 'stale': [], 'wrong': []}
    kernel[0]['type'] = 'unicast'
    assert compare_routes(planned, kernel)['wrong'] == ['10.244.0.0/26 (plan: blackhole 10.244.0.0/26)']


def test_bgp_healthy_then_a_session_down_and_its_route_gone_are_named():
    assert report(mode='bgp')['healthy'], report(mode='bgp')['problems']
    results = fx.results('bgp')
    protocols = results['node1']['signals']['bird']['protocols']
    protocols[2].update(state='start', info='Active Socket: Connection refused')
    results['node1']['signals']['routes']['bird'].pop(1)
    result = report(results, mode='bgp')
    assert result['problems'] == [
        'routes: node1: missing route (proto bird) 10.244.2.0/24 via 10.89.20.13 dev ens5',
        'bgp: node1: session peer_node3 with node3 (10.89.20.13) is not Established: Active Socket: Connection refused',
    ]
    assert [s['established'] for s in result['errors']['node1']['bgp_sessions']] == [True, False]


def test_bgp_when_bird_cannot_be_asked_every_session_is_down_with_the_reason():
    results = fx.results('bgp')
    results['node2']['signals']['bird'] = {'error': 'birdc show protocols failed (rc=1): Unable to connect',
                                           'protocols': []}
    problems = report(results, mode='bgp')['problems']
    assert problems == ['bgp: node2: session peer_%s with %s (%s) is not Established: birdc show protocols failed '
                        '(rc=1): Unable to connect' % (peer, peer, fx.NODES[peer][0]) for peer in ('node1', 'node3')]


def test_bgp_expects_tunnelled_next_hops_on_tunl0():
    # podnet_ipip_mode Always: the plan resolves every BGP next hop through tunl0, so BIRD's routes must leave there.
    the_plan = fx.plan('bgp', podnet_ipip_mode='Always')
    assert the_plan['nodes']['node1']['bgp']['next_hop_routes'][0]['dev'] == 'tunl0'
    result = golden_report(fx.results('bgp'), the_plan, fx.probe_ips())
    assert 'routes: node1: wrong route (proto bird) 10.244.1.0/24 via 10.89.20.12 dev ens5 ' \
           '(plan: 10.244.1.0/24 via 10.89.20.12 dev tunl0)' in result['problems']


def test_hostgw_routes_are_the_segment_list_without_the_node_s_own_subnet():
    # The plan keeps one list of every node's route per segment; a node's own subnet in the kernel is stale.
    the_plan = fx.plan()
    assert len(the_plan['hostgw']['segments']['ens5']['routes']) == 3
    results = fx.results()
    results['node2']['signals']['routes']['podnet'].append(
        {'dst': '10.244.1.0/24', 'gateway': '10.89.20.12', 'dev': 'ens5', 'flags': []})
    assert report(results)['problems'] == [
        'routes: node2: stale route (proto podnet) 10.244.1.0/24 via 10.89.20.12 dev ens5']


def test_hostgw_through_tunl0_expects_the_tunnel_device():
    the_plan = fx.plan('hostgw', podnet_ipip_mode='Always')
    problems = golden_report(fx.results(), the_plan, fx.probe_ips())['problems']
    assert 'routes: node1: wrong route (proto podnet) 10.244.1.0/24 via 10.89.20.12 dev ens5 ' \
           '(plan: 10.244.1.0/24 via 10.89.20.12 dev tunl0)' in problems


def test_missing_or_down_device_is_a_problem_counters_are_warnings():
    results = fx.results()
    links = results['node2']['signals']['links']
    links[1] = {'ifname': 'cni0', 'role': 'device', 'present': False}
    links[0]['rx_dropped'] = 3
    links[2]['tx_errors'] = 1  # a pod veth: reported on the summed pod-veths entry
    results['node3']['signals']['links'][0]['operstate'] = 'DOWN'
    result = report(results)
    assert result['problems'] == ['device: node2: cni0 is missing', 'device: node3: ens5 is down']
    assert result['warnings'] == ['interface: node2: ens5 has rx_dropped 3', 'interface: node2: pod-veths has tx_errors 1']
    veths = result['traffic']['node1'][-1]
    assert veths['ifname'] == 'pod-veths' and veths['count'] == 2 and veths['rx_bytes'] == 2000


def test_guard_drops_are_reported_not_failed():
    results = fx.results()
    results['node1']['signals']['ipip_guard'] = {'packets': 4, 'bytes': 336}
    result = report(results)
    assert result['healthy']
    assert result['errors']['node1']['ipip_guard_drops'] == 4
    assert result['warnings'] == ['ipip guard: node1: dropped 4 IPIP packets from addresses that are no node']


def test_saturation_counts_and_thresholds():
    results = fx.results()
    results['node1']['signals']['conntrack'] = {'count': 900, 'max': 1000}
    results['node2']['signals']['routes']['main_count'] = 90
    result = report(results, settings={'route_table_limit': 100})
    saturation = result['saturation']['node1']
    # the probe pod's own address is not counted
    assert saturation['ipam'] == {'used': 1, 'limit': 253, 'percent': 0.4}
    assert saturation['conntrack'] == {'used': 900, 'limit': 1000, 'percent': 90.0}
    assert result['warnings'] == ['saturation: node1: conntrack at 90% (900 of 1000), above 80%',
                                  'saturation: node2: routes at 90% (90 of 100), above 80%']
    assert result['healthy']


def test_ipam_pool_size_leaves_out_network_broadcast_and_gateway():
    assert ipam_pool_size(24) == 253
    assert ipam_pool_size(26) == 61
    assert ipam_pool_size(31) == 0


def test_probe_targets_are_only_cluster_addresses():
    probe_ips = fx.probe_ips()
    probe_ips['node3'] = '192.0.2.1'  # not in node3's pod subnet: never probed
    targets = probe_targets(fx.plan(), 'node1', probe_ips)
    assert targets == [{'name': 'node2', 'address': '10.89.20.12', 'source': 'node'},
                       {'name': 'node2', 'address': '10.244.1.5', 'source': 'pod'},
                       {'name': 'node3', 'address': '10.89.20.13', 'source': 'node'}]


@pytest.mark.parametrize('address', ['10.244.1.0', '10.244.1.255', '10.244.2.5', '10.89.20.12', 'pod-ip', ''])
def test_probe_targets_never_take_a_pod_address_that_is_not_one_pod_of_its_block(address):
    probe_ips = fx.probe_ips()
    probe_ips['node2'] = address
    assert [(t['name'], t['source']) for t in probe_targets(fx.plan(), 'node1', probe_ips)] == [
        ('node2', 'node'), ('node3', 'node'), ('node3', 'pod')]
    probe_ips = fx.probe_ips()
    probe_ips['node1'] = address.replace('.1.', '.0.')  # the prober's own probe pod: no pod path at all
    assert [t['source'] for t in probe_targets(fx.plan(), 'node1', probe_ips)] == ['node', 'node']


def test_probe_targets_without_own_probe_pod_are_node_paths_only():
    probe_ips = fx.probe_ips()
    probe_ips['node1'] = None
    assert [t['source'] for t in probe_targets(fx.plan(), 'node1', probe_ips)] == ['node', 'node']


@pytest.mark.parametrize('mode', ['hostgw', 'bgp'])
def test_report_is_plain_data(mode):
    import json
    result = report(mode=mode)
    assert json.loads(json.dumps(result)) == result


def test_bridge_mode_probes_and_expects_node_paths_only():
    # bridge mode: pods reach only the pods of their own node, so a pod path across nodes is no measurement
    the_plan = fx.plan('bridge')
    assert [t['source'] for t in probe_targets(the_plan, 'node1', fx.probe_ips())] == ['node', 'node']
    results = fx.results('bridge')
    for name, result in results.items():
        assert result['signals']['routes']['podnet'] == []
        result['signals']['probes'] = [p for p in result['signals']['probes'] if p['source'] == 'node']
    report = golden_report(results, the_plan, fx.probe_ips())
    assert report['healthy'], report['problems']
    assert {pair['path'] for pair in report['latency']} == {'node'} and len(report['latency']) == 6
    # a podnet route in bridge mode is planned by nobody
    results['node1']['signals']['routes']['podnet'] = [{'dst': '10.244.1.0/24', 'gateway': '10.89.20.12',
                                                        'dev': 'ens5', 'flags': []}]
    assert golden_report(results, the_plan, fx.probe_ips())['problems'] == [
        'routes: node1: stale route (proto podnet) 10.244.1.0/24 via 10.89.20.12 dev ens5']


def test_damaged_boot_files_and_a_repaired_record_are_state_problems_while_they_last():
    results = fx.results()
    results['node3']['signals']['boot_files'] = [
        {'path': '/etc/podnet/iproute2/10-bridge-cni0.batch', 'podnet': True},
        {'path': '/etc/podnet/iproute2/50-routes-proto94-table254.batch', 'podnet': False},
    ]
    the_plan = dict(fx.plan(), repairs=['node2: /etc/ansible/facts.d/podnet.fact is unreadable (x); ...'])
    result = golden_report(results, the_plan, fx.probe_ips())
    assert not result['healthy']
    assert result['problems'] == [
        'state: node2: /etc/ansible/facts.d/podnet.fact is unreadable (x); ...',
        "state: node3: boot file /etc/podnet/iproute2/50-routes-proto94-table254.batch does not start with podnet's "
        "header (damaged): the next boot would not restore the node from it; a converge writes it anew",
    ]
