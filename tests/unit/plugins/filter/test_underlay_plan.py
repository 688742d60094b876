# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_bgp_topology tor in the cluster plan: who speaks to the racks' routers, and every input it refuses."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import ipaddress
import json

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from ansible_collections.podnet.netmodes.plugins.filter.cluster_plan import FilterModule

cluster_plan = FilterModule().filters()['cluster_plan']

SETTINGS = {
    'podnet_mode': 'bgp', 'podnet_cluster_cidr': '10.244.0.0/16', 'podnet_route_proto': 94,
    'podnet_cni_network': 'podnet', 'podnet_bgp_as': 64512, 'podnet_bgp_mesh_max_nodes': 50,
    'podnet_bgp_rr_per_rack': 2, 'podnet_bgp_password': '', 'podnet_bgp_topology': 'tor', 'podnet_tor_peers': 'nodes',
    'podnet_tor_password': '',
}
# Two racks on their own networks, routed only through their routers: r1 has two ToRs, r2 one.
RACK_NETWORKS = {'r1': '10.89.70.0/24', 'r2': '10.89.71.0/24'}
RACKS = {
    'r1': {'as': 65101, 'tors': [{'address': '10.89.70.1', 'as': 65001},
                                 {'address': '10.89.70.2', 'as': 65001, 'password': 'tor-r1b-secret'}]},
    'r2': {'as': 65102, 'tors': [{'address': '10.89.71.1', 'as': 65002}]},
}


def host(name, ip, rack, network=None, **variables):
    net = ipaddress.IPv4Network(network or RACK_NETWORKS[rack])
    hostvars = {
        'inventory_hostname': name, 'podnet_node_ip': ip, 'podnet_uplink': 'ens5', 'podnet_rack': rack,
        'ansible_facts': {
            'interfaces': ['lo', 'ens5'], 'all_ipv4_addresses': [ip],
            'ens5': {'device': 'ens5', 'mtu': 9000,
                     'ipv4': {'address': ip, 'network': str(net.network_address), 'prefix': str(net.prefixlen)}},
        },
    }
    hostvars.update(variables)
    return hostvars


def hosts_2_2_1():
    """a1, a2, a3 in rack r1; b1, b2 in rack r2 (the r1 count makes one route reflector differ from two)."""
    return [host('a1', '10.89.70.11', 'r1'), host('a2', '10.89.70.12', 'r1'), host('a3', '10.89.70.13', 'r1'),
            host('b1', '10.89.71.11', 'r2'), host('b2', '10.89.71.12', 'r2')]


def plan(hosts=None, racks=None, groups=None, **changes):
    settings = dict(SETTINGS, podnet_racks=copy.deepcopy(RACKS if racks is None else racks))
    settings.update(changes)
    return cluster_plan(hosts_2_2_1() if hosts is None else hosts, settings, groups)


def good(**changes):
    result = plan(**changes)
    assert result['problems'] == []
    return result


def peers(result, name):
    return [peer['name'] for peer in result['nodes'][name]['bgp']['peers']]


def tor_addresses(result, name):
    return [session['address'] for session in result['nodes'][name]['bgp']['tor']['sessions']]


# ---- what the plan says ---------------------------------------------------------------------------------------

def test_every_node_speaks_to_its_rack_s_routers_and_meshes_only_inside_its_rack():
    result = good()
    assert result['bgp']['topology'] == 'tor' and result['bgp']['tor_peers'] == 'nodes'
    assert peers(result, 'a1') == ['a2', 'a3'] and peers(result, 'b1') == ['b2']
    assert tor_addresses(result, 'a1') == ['10.89.70.1', '10.89.70.2']
    assert tor_addresses(result, 'b2') == ['10.89.71.1']
    node = result['nodes']['a1']['bgp']
    assert node['role'] == 'mesh' and node['as_number'] == 65101
    assert node['tor'] == {
        'rack': 'r1', 'export': 'own', 'allow_local_as': False,
        'sessions': [
            {'address': '10.89.70.1', 'as_number': 65001, 'index': 0, 'password_from': None,
             'protocol': 'tor_10_89_70_1'},
            {'address': '10.89.70.2', 'as_number': 65001, 'index': 1, 'password_from': 'podnet_racks',
             'protocol': 'tor_10_89_70_2'}]}
    assert result['nodes']['b1']['bgp']['as_number'] == 65102
    # iBGP: 3 in r1 + 1 in r2; eBGP: 3 nodes x 2 routers + 2 nodes x 1 router.
    assert result['bgp']['sessions'] == 4 + 8


def test_each_rack_lists_its_blocks_for_the_filters():
    result = good()
    blocks = dict((name, node['pod_cidr']) for name, node in result['nodes'].items())
    racks = result['bgp']['racks']
    assert racks['r1']['blocks'] == sorted([blocks['a1'], blocks['a2'], blocks['a3']],
                                           key=ipaddress.IPv4Network)
    assert racks['r2'] == {'as_number': 65102, 'tors': [{'address': '10.89.71.1', 'as_number': 65002}],
                           'blocks': sorted([blocks['b1'], blocks['b2']], key=ipaddress.IPv4Network)}


def test_route_reflectors_speak_for_their_rack_and_clients_only_to_them():
    result = good(podnet_tor_peers='route_reflectors', podnet_bgp_rr_per_rack=1)
    nodes = result['nodes']
    reflectors = result['bgp']['route_reflectors']
    assert len(reflectors) == 2 and set(nodes[name]['rack'] for name in reflectors) == {'r1', 'r2'}
    for name, node in nodes.items():
        part = node['bgp']['tor']
        if name in reflectors:
            assert node['bgp']['role'] == 'rr' and part['export'] == 'rack'
            assert tor_addresses(result, name) == [tor['address'] for tor in RACKS[node['rack']]['tors']]
            # No iBGP session leaves the rack, not even between route reflectors.
            assert all(nodes[peer]['rack'] == node['rack'] for peer in peers(result, name))
        else:
            assert node['bgp']['role'] == 'client' and part['export'] is None and part['sessions'] == []
            assert peers(result, name) == [reflector for reflector in reflectors
                                           if nodes[reflector]['rack'] == node['rack']]
    # r1: 2 clients, r2: 1 client, each to its one reflector; 2 routers + 1 router for the reflectors.
    assert result['bgp']['sessions'] == 3 + 3


def test_two_reflectors_of_one_rack_peer_with_each_other_but_not_across_racks():
    result = good(podnet_tor_peers='route_reflectors', podnet_bgp_rr_per_rack=2)
    nodes = result['nodes']
    for name in result['bgp']['route_reflectors']:
        mates = [peer for peer in nodes[name]['bgp']['peers'] if not peer['rr_client']]
        assert [nodes[peer['name']]['rack'] for peer in mates] == [nodes[name]['rack']]


def test_single_as_lets_routes_carry_the_nodes_own_as_once():
    racks = copy.deepcopy(RACKS)
    for entry in racks.values():
        del entry['as']
    result = good(racks=racks)
    for node in result['nodes'].values():
        assert node['bgp']['as_number'] == 64512 and node['bgp']['tor']['allow_local_as'] is True
    assert good()['nodes']['a1']['bgp']['tor']['allow_local_as'] is False


def test_racks_that_share_one_as_allow_it_only_those_racks():
    racks = copy.deepcopy(RACKS)
    racks['r3'] = {'as': 65101, 'tors': [{'address': '10.89.72.1', 'as': 65003}]}
    hosts = hosts_2_2_1() + [host('c1', '10.89.72.11', 'r3', network='10.89.72.0/24')]
    result = good(hosts=hosts, racks=racks)
    assert [result['nodes'][name]['bgp']['tor']['allow_local_as'] for name in ('a1', 'b1', 'c1')] == [
        True, False, True]


def test_passwords_are_referenced_never_copied_into_the_plan():
    result = good(podnet_tor_password='global-tor-secret')
    text = json.dumps(result)
    assert 'tor-r1b-secret' not in text and 'global-tor-secret' not in text
    sources = [session['password_from'] for session in result['nodes']['a1']['bgp']['tor']['sessions']]
    assert sources == ['podnet_tor_password', 'podnet_racks']
    assert result['bgp']['tor_passwords'] is True
    racks = copy.deepcopy(RACKS)
    del racks['r1']['tors'][1]['password']
    assert plan(racks=racks)['bgp']['tor_passwords'] is False


def test_racks_need_no_l2_between_them_but_a_rack_does_inside():
    assert good()['problems'] == []
    hosts = hosts_2_2_1()
    # a3 reaches both routers, but its network (a /30) holds none of its rack mates.
    hosts[2] = host('a3', '10.89.70.3', 'r1', network='10.89.70.0/30')
    problems = plan(hosts=hosts)['problems']
    assert problems and all('without a gateway' in message for message in problems)
    assert any(message.startswith('a3 (10.89.70.3 on ens5, 10.89.70.0/30) cannot reach a1 (10.89.70.11)')
               for message in problems)


def test_other_topologies_carry_no_tor_part_and_keep_their_sessions():
    result = good(podnet_bgp_topology='auto', racks={}, podnet_ipip_mode='CrossSubnet')
    assert result['bgp']['topology'] == 'mesh' and result['bgp']['racks'] is None
    assert result['bgp']['tor_peers'] is None and result['bgp']['tor_passwords'] is False
    assert all(node['bgp']['tor'] is None and node['bgp']['as_number'] == 64512 for node in result['nodes'].values())


def one_rack(count):
    return [host('n%02d' % index, '10.89.70.%d' % (index + 20), 'r1') for index in range(count)]


def test_mesh_and_route_reflectors_can_be_forced_either_way():
    racks = {}
    assert good(hosts=one_rack(4), racks=racks, podnet_bgp_topology='route_reflectors')['bgp']['topology'] == \
        'route-reflectors'
    forced = good(hosts=one_rack(6), racks=racks, podnet_bgp_topology='mesh', podnet_bgp_mesh_max_nodes=3)
    assert forced['bgp']['topology'] == 'mesh' and forced['bgp']['sessions'] == 15
    assert good(hosts=one_rack(6), racks=racks, podnet_bgp_topology='auto',
                podnet_bgp_mesh_max_nodes=3)['bgp']['topology'] == 'route-reflectors'


# ---- what the plan refuses ------------------------------------------------------------------------------------

def only_problem(result):
    assert len(result['problems']) == 1, result['problems']
    assert result['nodes'] == {}
    return result['problems'][0]


def racks_with(change):
    racks = copy.deepcopy(RACKS)
    change(racks)
    return racks


def _set(path, value):
    def change(racks):
        target = racks
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return change


_DELETE = object()

SETTING_CASES = [
    pytest.param({'podnet_bgp_topology': 'leaf-spine'}, ["podnet_bgp_topology 'leaf-spine' is not one of auto, mesh",
                                                         'Fix: set podnet_bgp_topology to auto'], id='topology'),
    pytest.param({'podnet_tor_peers': 'everyone'}, ["podnet_tor_peers 'everyone' is not one of nodes, route_reflectors",
                                                    'Fix:'], id='tor-peers'),
    pytest.param({'podnet_ipip_mode': 'CrossSubnet'}, ["podnet_ipip_mode 'CrossSubnet' asks for IPIP tunnels",
                                                       'route the pod blocks between racks natively'], id='ipip'),
    # With IPIP the racks need no L2 between them, so this is the only problem.
    pytest.param({'podnet_bgp_topology': 'auto', 'podnet_ipip_mode': 'CrossSubnet'},
                 ['podnet_racks describes top-of-rack routers, but podnet_bgp_topology is auto',
                  'Fix: set podnet_bgp_topology: tor'], id='racks-without-tor'),
    pytest.param({'podnet_racks': {}}, ['podnet_racks is not set', 'Fix: describe every rack'], id='racks-missing'),
    pytest.param({'podnet_racks': ['r1']}, ['podnet_racks is a list, not a mapping'], id='racks-list'),
    pytest.param({'podnet_racks': {'r1': RACKS['r1'], 'r2': RACKS['r2'], 3: RACKS['r2']}},
                 ["podnet_racks has the rack name 3, a int. Fix: quote it"], id='rack-name-int'),
    pytest.param({'podnet_racks': racks_with(_set(['r2'], ['10.89.71.1']))},
                 ["podnet_racks['r2'] is a list, not a mapping with tors"], id='rack-list'),
    pytest.param({'podnet_racks': racks_with(_set(['r2', 'AS'], 65102))},
                 ["podnet_racks['r2'] has unknown key(s) AS", 'misspelt'], id='rack-unknown-key'),
    pytest.param({'podnet_racks': racks_with(_set(['r2', 'as'], 23456))},
                 ["podnet_racks['r2'].as 23456 is AS_TRANS", 'Fix:'], id='rack-as-trans'),
    pytest.param({'podnet_racks': racks_with(_set(['r2', 'as'], 0))},
                 ["podnet_racks['r2'].as 0 is outside 1..4294967295"], id='rack-as-zero'),
    pytest.param({'podnet_racks': racks_with(_set(['r2', 'as'], 65535))},
                 ["podnet_racks['r2'].as 65535 is reserved (RFC 7300)"], id='rack-as-65535'),
    pytest.param({'podnet_racks': racks_with(_set(['r2', 'tors'], _DELETE))},
                 ["podnet_racks['r2'].tors None is not a list of one or two routers"], id='tors-missing'),
    pytest.param({'podnet_racks': racks_with(_set(['r2', 'tors'], []))},
                 ["podnet_racks['r2'].tors [] is not a list"], id='tors-empty'),
    pytest.param({'podnet_racks': racks_with(_set(['r2', 'tors'], [
        {'address': '10.89.71.%d' % index, 'as': 65002} for index in (1, 2, 3)]))},
                 ["podnet_racks['r2'].tors lists 3 routers; a rack has one or two", 'at most 2'], id='three-tors'),
    pytest.param({'podnet_racks': racks_with(_set(['r2', 'tors', 0], '10.89.71.1'))},
                 ["podnet_racks['r2'].tors[0] is a str, not a mapping"], id='tor-text'),
    pytest.param({'podnet_racks': racks_with(_set(['r2', 'tors', 0, 'pasword'], 'x'))},
                 ["podnet_racks['r2'].tors[0] has unknown key(s) pasword"], id='tor-unknown-key'),
    pytest.param({'podnet_racks': racks_with(_set(['r2', 'tors', 0, 'address'], _DELETE))},
                 ["podnet_racks['r2'].tors[0].address None is not set"], id='tor-address-missing'),
    pytest.param({'podnet_racks': racks_with(_set(['r2', 'tors', 0, 'address'], '10.89.71.1/24'))},
                 ["podnet_racks['r2'].tors[0].address '10.89.71.1/24' has a prefix length"], id='tor-address-prefix'),
    pytest.param({'podnet_racks': racks_with(_set(['r2', 'tors', 0, 'address'], '224.0.0.5'))},
                 ["'224.0.0.5' is not a unicast host address"], id='tor-address-multicast'),
    pytest.param({'podnet_racks': racks_with(_set(['r2', 'tors', 0, 'address'], '10.244.3.1'))},
                 ["podnet_racks['r2'].tors[0].address '10.244.3.1' is inside podnet_cluster_cidr 10.244.0.0/16"],
                 id='tor-address-in-cluster'),
    pytest.param({'podnet_racks': racks_with(_set(['r2', 'tors', 0, 'as'], _DELETE))},
                 ["podnet_racks['r2'].tors[0].as None is not set"], id='tor-as-missing'),
    pytest.param({'podnet_racks': racks_with(_set(['r2', 'tors', 0, 'as'], 4294967296))},
                 ["podnet_racks['r2'].tors[0].as 4294967296 is outside"], id='tor-as-too-big'),
    pytest.param({'podnet_racks': racks_with(_set(['r2', 'tors', 0, 'as'], 65102))},
                 ["podnet_racks['r2'].tors[0].as 65102 is also the AS of the rack's nodes", 'iBGP'], id='tor-as-ibgp'),
    pytest.param({'podnet_racks': racks_with(_set(['r2', 'as'], _DELETE)), 'podnet_bgp_as': 65002},
                 ["tors[0].as 65002 is also the AS of the rack's nodes (podnet_bgp_as (the AS of rack 'r2'"],
                 id='tor-as-ibgp-single-as'),
]


@pytest.mark.parametrize('changes, fragments', SETTING_CASES)
def test_bad_underlay_settings_are_refused_naming_the_value_and_the_fix(changes, fragments):
    settings = dict(changes)
    racks = settings.pop('podnet_racks', None)
    message = only_problem(plan(racks=racks, **settings))
    assert message.startswith('all hosts in podnet_nodes: ')
    for fragment in fragments + ['Fix:']:
        assert fragment in message


@pytest.mark.parametrize('where, changes', [
    pytest.param("podnet_racks['r1'].tors[1].password", {'podnet_racks': racks_with(_set(
        ['r1', 'tors', 1, 'password'], 'tor-r1b-"secret'))}, id='tor-quote'),
    pytest.param("podnet_racks['r1'].tors[1].password", {'podnet_racks': racks_with(_set(
        ['r1', 'tors', 1, 'password'], 'tor-r1b-secret' * 6))}, id='tor-long'),
    pytest.param('podnet_tor_password', {'podnet_tor_password': 'tor-r1b-secret\\'}, id='global-backslash'),
])
def test_a_bad_router_password_is_refused_and_never_echoed(where, changes):
    settings = dict(changes)
    message = only_problem(plan(racks=settings.pop('podnet_racks', None), **settings))
    assert message.startswith('all hosts in podnet_nodes: %s (value hidden) ' % where)
    assert 'secret' not in message and 'Fix: choose a password' in message


def test_the_bgp_password_rules_apply_to_router_passwords_too():
    for value in ('', 'with space', 'x' * 80):
        assert plan(podnet_tor_password=value)['problems'] == []
    assert 'longer than 80 bytes' in only_problem(plan(podnet_tor_password='x' * 81))


def test_a_node_without_a_rack_is_refused():
    hosts = hosts_2_2_1()
    del hosts[4]['podnet_rack']
    message = only_problem(plan(hosts=hosts))
    assert message.startswith('b2: podnet_rack is not set, but with podnet_bgp_topology tor')


def test_a_rack_without_routers_is_refused_naming_its_nodes():
    racks = racks_with(_set(['r2'], _DELETE))
    message = only_problem(plan(racks=racks))
    assert message.startswith("b1, b2: rack 'r2' (podnet_rack) is not in podnet_racks, so its nodes have no "
                              "top-of-rack router")
    assert 'Fix: add r2: {tors:' in message


def test_a_rack_no_node_is_in_is_refused():
    racks = racks_with(_set(['r9'], {'tors': [{'address': '10.89.79.1', 'as': 65009}]}))
    message = only_problem(plan(racks=racks))
    assert message.startswith("all hosts in podnet_nodes: podnet_racks['r9'] describes a rack no node")


def test_a_router_address_that_is_a_node_ip_is_refused():
    racks = racks_with(_set(['r2', 'tors', 0, 'address'], '10.89.71.12'))
    message = only_problem(plan(racks=racks))
    assert message == ("all hosts in podnet_nodes: podnet_racks['r2'].tors[0].address '10.89.71.12' is the "
                       "podnet_node_ip of b2. Fix: set it to the router's own address.")


def test_a_router_listed_twice_is_refused():
    racks = racks_with(_set(['r1', 'tors', 1, 'address'], '10.89.70.1'))
    message = only_problem(plan(racks=racks))
    assert "podnet_racks['r1'].tors[1].address '10.89.70.1' is also listed as podnet_racks['r1'].tors[0]" in message


def test_a_router_off_the_rack_s_segment_is_refused_for_every_node_of_the_rack():
    racks = racks_with(_set(['r2', 'tors', 0, 'address'], '10.89.70.3'))
    problems = plan(racks=racks)['problems']
    assert [message.split(':')[0] for message in problems] == ['b1', 'b2']
    assert problems[0].startswith("b1: podnet_racks['r2'].tors[0].address '10.89.70.3' is on none of the uplink "
                                  "networks of b1 (10.89.71.0/24)")
    assert 'Fix: give the address the router has on the rack\'s node network' in problems[0]


def test_a_router_on_the_segment_s_broadcast_address_is_refused():
    racks = racks_with(_set(['r2', 'tors', 0, 'address'], '10.89.71.255'))
    problems = plan(racks=racks)['problems']
    assert len(problems) == 2 and 'is the network or broadcast address of b1\'s uplink network' in problems[0]


def test_a_rack_too_big_for_a_mesh_asks_for_route_reflectors():
    message = only_problem(plan(podnet_bgp_mesh_max_nodes=2))
    assert message.startswith("a1, a2, a3: rack 'r1' has 3 nodes, more than podnet_bgp_mesh_max_nodes 2")
    assert 'Fix: set podnet_tor_peers: route_reflectors' in message
    assert good(podnet_bgp_mesh_max_nodes=2, podnet_tor_peers='route_reflectors')['problems'] == []


def test_given_route_reflectors_must_serve_every_rack():
    message = only_problem(plan(groups={'podnet_route_reflectors': ['a1']}, podnet_tor_peers='route_reflectors'))
    assert message.startswith("b1, b2: rack 'r2' has no route reflector in group podnet_route_reflectors")


def test_a_forced_mesh_with_a_reflector_group_is_refused():
    message = only_problem(plan(racks={}, groups={'podnet_route_reflectors': ['a1']}, podnet_bgp_topology='mesh',
                                podnet_ipip_mode='CrossSubnet'))
    assert 'podnet_bgp_topology is mesh, but group podnet_route_reflectors names route reflectors (a1)' in message


def test_underlay_settings_are_judged_only_in_bgp_mode():
    assert plan(podnet_mode='hostgw', podnet_bgp_topology='leaf-spine', podnet_bridge_name='cni0',
                hosts=[host('a1', '10.89.70.11', 'r1')])['problems'] == []


def test_router_problems_come_with_the_node_problems_in_one_run():
    hosts = hosts_2_2_1()
    hosts[0]['podnet_pod_mtu'] = 'big'
    problems = plan(hosts=hosts, racks=racks_with(_set(['r2', 'tors', 0, 'as'], 0)))['problems']
    assert [message.split(' ')[0] for message in problems] == ['a1:', 'all']


@hsettings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=12),
       st.sampled_from(['nodes', 'route_reflectors']), st.booleans())
def test_no_ibgp_session_leaves_a_rack_and_every_router_session_is_with_the_node_s_own_rack(layout, tor_peers,
                                                                                            single_as):
    racks = {}
    hosts = []
    for index, rack_number in enumerate(layout):
        rack = 'r%d' % rack_number
        network = '10.89.%d' % (80 + rack_number)
        racks[rack] = {'tors': [{'address': '%s.1' % network, 'as': 65000 + rack_number},
                                {'address': '%s.2' % network, 'as': 65000 + rack_number}]}
        if not single_as:
            racks[rack]['as'] = 65100 + rack_number
        hosts.append(host('n%02d' % index, '%s.%d' % (network, 10 + index), rack, network='%s.0/24' % network))
    result = plan(hosts=hosts, racks=racks, podnet_tor_peers=tor_peers, podnet_bgp_rr_per_rack=1)
    assert result['problems'] == []
    nodes = result['nodes']
    pairs = set()
    ebgp = 0
    for name, node in nodes.items():
        for peer in node['bgp']['peers']:
            assert nodes[peer['name']]['rack'] == node['rack']
            pairs.add((name, peer['name']))
        sessions = node['bgp']['tor']['sessions']
        ebgp += len(sessions)
        speaks = tor_peers == 'nodes' or node['bgp']['role'] == 'rr'
        assert [session['address'] for session in sessions] == (
            [tor['address'] for tor in racks[node['rack']]['tors']] if speaks else [])
        assert node['bgp']['as_number'] == (64512 if single_as else racks[node['rack']]['as'])
        assert node['bgp']['tor']['allow_local_as'] == (speaks and single_as and len(racks) > 1)
    assert pairs == set((second, first) for first, second in pairs)
    assert result['bgp']['sessions'] == len(pairs) // 2 + ebgp
