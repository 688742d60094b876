# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The golden-signal report on a podnet_bgp_topology tor cluster: other racks' blocks via the rack's routers (ECMP
over two), and the sessions with the routers, against the real plan of two racks."""
import copy
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_fixtures as fx  # noqa: E402

from ansible_collections.podnet.netmodes.plugins.plugin_utils._golden import golden_report  # noqa: E402
from ansible_collections.podnet.netmodes.plugins.plugin_utils._plan import plan_cluster  # noqa: E402

# r1: a1, a2 behind two routers; r2: b1 behind one. Racks on their own networks, joined only by the routers.
RACK_NETWORKS = {'r1': ('10.89.70.0', ['10.89.70.251', '10.89.70.252']), 'r2': ('10.89.71.0', ['10.89.71.251'])}
NODES = {'a1': ('10.89.70.11', 'r1'), 'a2': ('10.89.70.12', 'r1'), 'b1': ('10.89.71.11', 'r2')}
RACKS = {'r1': {'as': 65101, 'tors': [{'address': '10.89.70.251', 'as': 65001},
                                      {'address': '10.89.70.252', 'as': 65001}]},
         'r2': {'as': 65102, 'tors': [{'address': '10.89.71.251', 'as': 65002}]}}


def hostvars(name):
    node_ip, rack = NODES[name]
    return {'inventory_hostname': name, 'podnet_node_ip': node_ip, 'podnet_uplink': 'ens5', 'podnet_rack': rack,
            'ansible_facts': {'interfaces': ['lo', 'ens5'], 'all_ipv4_addresses': [node_ip],
                              'ens5': {'device': 'ens5', 'mtu': 1500, 'ipv4': {
                                  'address': node_ip, 'network': RACK_NETWORKS[rack][0], 'prefix': '24'}}}}


def plan(**settings):
    values = dict(fx.SETTINGS, podnet_mode='bgp', podnet_bgp_topology='tor', podnet_tor_peers='nodes',
                  podnet_tor_password='', podnet_racks=copy.deepcopy(RACKS))
    values.update(settings)
    result = plan_cluster([hostvars(name) for name in sorted(NODES)], values)
    assert result['problems'] == [], result['problems']
    return result


def signals(the_plan, name):
    """What node_signals reads on a healthy node: rack-mates' blocks via their node IP, the other rack's via every
    router of the node's rack (ip -json prints a two-router route as nexthops), every session Established."""
    rack = NODES[name][1]
    tors = RACK_NETWORKS[rack][1]
    bird_routes = []
    for peer in sorted(NODES):
        if peer == name:
            continue
        dst = the_plan['nodes'][peer]['pod_cidr']
        if NODES[peer][1] == rack:
            bird_routes.append({'dst': dst, 'gateway': NODES[peer][0], 'dev': 'ens5', 'flags': []})
        elif len(tors) == 1:
            bird_routes.append({'dst': dst, 'gateway': tors[0], 'dev': 'ens5', 'flags': []})
        else:
            bird_routes.append({'dst': dst, 'flags': [], 'nexthops': [
                {'gateway': tor, 'dev': 'ens5', 'weight': 1, 'flags': []} for tor in reversed(tors)]})
    bgp = the_plan['nodes'][name]['bgp']
    protocols = [{'name': protocol, 'proto': 'BGP', 'table': '---', 'state': 'up', 'info': 'Established'}
                 for protocol in [peer['protocol'] for peer in bgp['peers']]
                 + [router['protocol'] for router in bgp['tor']['sessions']]]
    probes = [{'name': peer, 'address': address, 'source': source, 'transmitted': 20, 'received': 20,
               'rtts': fx.rtts(), 'error': None}
              for peer in sorted(NODES) if peer != name
              for source, address in (('node', NODES[peer][0]), ('pod', probe_ip(the_plan, peer)))]
    own = [{'dst': route['dest'], 'type': route['type'], 'flags': []} for route in bgp['routes']]
    return {'changed': False, 'signals': {
        'links': [fx.link('ens5'), fx.link('veth1234', role='pod_veth')],
        'routes': {'podnet': own, 'bird': bird_routes, 'main_count': 9},
        'bird': {'error': None, 'protocols': protocols}, 'ipip_guard': None,
        'conntrack': {'count': 10, 'max': 1000},
        'ipam': {'dir': '/var/lib/cni/networks/podnet', 'addresses': [probe_ip(the_plan, name)]},
        'probes': probes}}


def probe_ip(the_plan, name):
    return the_plan['nodes'][name]['pod_cidr'].split('/')[0].rsplit('.', 1)[0] + '.5'


def report(results=None, the_plan=None):
    the_plan = the_plan or plan()
    results = results or dict((name, signals(the_plan, name)) for name in NODES)
    return golden_report(results, the_plan, dict((name, probe_ip(the_plan, name)) for name in NODES))


def test_a_healthy_tor_cluster_has_no_problems_and_reports_the_router_sessions():
    result = report()
    assert result['problems'] == []
    assert [(s['peer'], s['protocol'], s['established']) for s in result['errors']['a1']['bgp_sessions']] == [
        ('a2', 'peer_a2', True),
        ('r1 top-of-rack router 1', 'tor_10_89_70_251', True),
        ('r1 top-of-rack router 2', 'tor_10_89_70_252', True)]
    assert [s['peer'] for s in result['errors']['b1']['bgp_sessions']] == ['r2 top-of-rack router 1']


def test_a_router_session_down_and_the_path_it_took_away_are_named():
    the_plan = plan()
    results = dict((name, signals(the_plan, name)) for name in NODES)
    a1 = results['a1']['signals']
    a1['bird']['protocols'][2].update(state='start', info='Active Socket: Connection refused')
    b1_block = the_plan['nodes']['b1']['pod_cidr']
    route = next(r for r in a1['routes']['bird'] if r['dst'] == b1_block)
    route.pop('nexthops')
    route.update(gateway='10.89.70.251', dev='ens5')
    assert report(results, the_plan)['problems'] == [
        'routes: a1: wrong route (proto bird) %s via 10.89.70.251 dev ens5 '
        '(plan: %s via 10.89.70.251 and 10.89.70.252 dev ens5)' % (b1_block, b1_block),
        'bgp: a1: session tor_10_89_70_252 with r1 top-of-rack router 2 (10.89.70.252) is not Established: '
        'Active Socket: Connection refused']


def test_another_racks_block_via_its_owner_is_wrong_and_a_route_the_routers_sent_beyond_the_plan_is_stale():
    the_plan = plan()
    results = dict((name, signals(the_plan, name)) for name in NODES)
    b1 = results['b1']['signals']['routes']['bird']
    a1_block = the_plan['nodes']['a1']['pod_cidr']
    next(r for r in b1 if r['dst'] == a1_block)['gateway'] = '10.89.70.11'
    b1.append({'dst': '0.0.0.0/0', 'gateway': '10.89.71.251', 'dev': 'ens5', 'flags': []})
    assert report(results, the_plan)['problems'] == [
        'routes: b1: stale route (proto bird) 0.0.0.0/0 via 10.89.71.251 dev ens5',
        'routes: b1: wrong route (proto bird) %s via 10.89.70.11 dev ens5 (plan: %s via 10.89.71.251 dev ens5)'
        % (a1_block, a1_block)]


def test_a_third_path_or_a_path_on_another_device_is_wrong():
    the_plan = plan()
    for change in ({'gateway': '10.89.70.253', 'dev': 'ens5'}, {'gateway': '10.89.70.252', 'dev': 'ens6'}):
        results = dict((name, signals(the_plan, name)) for name in NODES)
        route = next(r for r in results['a2']['signals']['routes']['bird'] if 'nexthops' in r)
        if change['gateway'] == '10.89.70.253':
            route['nexthops'].append(dict(change, weight=1, flags=[]))
        else:
            route['nexthops'][0].update(change)
        problems = report(results, the_plan)['problems']
        assert len(problems) == 1 and problems[0].startswith('routes: a2: wrong route (proto bird)'), problems


def test_route_reflector_clients_expect_the_routers_as_next_hops_and_no_router_session():
    # podnet_tor_peers route_reflectors: only the reflectors speak to the routers; they pass the routers' next hop on.
    the_plan = plan(podnet_tor_peers='route_reflectors', podnet_bgp_rr_per_rack=1)
    clients = [name for name, node in the_plan['nodes'].items() if not node['bgp']['tor']['sessions']]
    assert clients, the_plan['nodes']
    results = dict((name, signals(the_plan, name)) for name in NODES)
    result = report(results, the_plan)
    assert result['problems'] == []
    for client in clients:
        assert not any(s['protocol'].startswith('tor_') for s in result['errors'][client]['bgp_sessions'])
