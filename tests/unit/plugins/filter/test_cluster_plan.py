# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import ipaddress

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from ansible_collections.podnet.netmodes.plugins.filter.cluster_plan import FilterModule
from ansible_collections.podnet.netmodes.plugins.module_utils import _rules
from ansible_collections.podnet.netmodes.plugins.modules import ip_routes
from ansible_collections.podnet.netmodes.plugins.plugin_utils._plan import hostgw_part

cluster_plan = FilterModule().filters()['cluster_plan']

SETTINGS = {
    'podnet_mode': 'hostgw', 'podnet_cluster_cidr': '10.244.0.0/16', 'podnet_bridge_name': 'cni0',
    'podnet_route_proto': 94, 'podnet_cni_network': 'podnet', 'podnet_masquerade': True,
    'podnet_hostgw_purge': True, 'podnet_bgp_as': 64512, 'podnet_bgp_mesh_max_nodes': 50,
    'podnet_bgp_rr_per_rack': 2, 'podnet_bgp_password': '',
}


def host(name, ip, network='10.89.10.0/24', uplink='ens5', mtu=1500, **variables):
    """The hostvars of one host as Ansible hands them over: inventory variables plus gathered network facts."""
    net = ipaddress.IPv4Network(network)
    hostvars = {
        'inventory_hostname': name, 'podnet_node_ip': ip, 'podnet_uplink': uplink,
        'ansible_facts': {
            'interfaces': ['lo', 'ens5', 'eth0'],
            'all_ipv4_addresses': [ip, '192.168.99.2'],
            'ens5': {'device': 'ens5', 'mtu': mtu,
                     'ipv4': {'address': ip, 'network': str(net.network_address), 'prefix': str(net.prefixlen)}},
            'eth0': {'device': 'eth0', 'mtu': 1500,
                     'ipv4': {'address': '192.168.99.2', 'network': '192.168.99.0', 'prefix': '24'}},
        },
    }
    hostvars.update(variables)
    return hostvars


def three_hosts(**variables):
    return [host('node%d' % i, '10.89.10.1%d' % i, **variables) for i in (1, 2, 3)]


def plan(hosts=None, **changes):
    settings = dict(SETTINGS)
    settings.update(changes)
    return cluster_plan(three_hosts() if hosts is None else hosts, settings)


def only_problem(result):
    assert len(result['problems']) == 1, result['problems']
    assert result['nodes'] == {}
    return result['problems'][0]


# ---- what the roles get ---------------------------------------------------------------------------------------

def test_a_hostgw_peer_route_is_ready_for_the_ip_routes_module():
    node2 = hostgw_part(plan(), 'node2')
    assert node2['routes'] == [
        {'dest': '10.244.0.0/24', 'via': '10.89.10.11', 'dev': 'ens5'},
        {'dest': '10.244.2.0/24', 'via': '10.89.10.13', 'dev': 'ens5'},
    ]
    assert [peer['encap'] for peer in node2['peers']] == ['none', 'none']
    assert [peer['route'] for peer in node2['peers']] == node2['routes']


def test_hostgw_nodes_of_one_segment_share_one_list_of_every_node_s_route():
    result = plan()
    assert list(result['hostgw']['segments']) == ['ens5']
    every = result['hostgw']['segments']['ens5']['routes']
    assert [route['dest'] for route in every] == ['10.244.0.0/24', '10.244.1.0/24', '10.244.2.0/24']
    assert result['nodes']['node2']['hostgw'] == {'segment': 'ens5', 'exclude': '10.244.1.0/24'}
    assert result['hostgw']['segments']['ens5']['route_lines'] == [
        '10.244.0.0/24 via 10.89.10.11 dev ens5', '10.244.1.0/24 via 10.89.10.12 dev ens5',
        '10.244.2.0/24 via 10.89.10.13 dev ens5']
    assert plan(podnet_mode='bridge')['hostgw'] is None


def test_every_node_gets_address_uplink_rack_subnet_gateway_and_mtu():
    node1 = cluster_plan(three_hosts(podnet_rack='r1'), SETTINGS)['nodes']['node1']
    assert {key: node1[key] for key in ('node_ip', 'uplink', 'rack', 'mtu', 'pod_cidr', 'pod_gateway', 'pod_prefix')} == {
        'node_ip': '10.89.10.11', 'uplink': 'ens5', 'rack': 'r1', 'mtu': 1500, 'pod_cidr': '10.244.0.0/24',
        'pod_gateway': '10.244.0.1', 'pod_prefix': 24}
    # The bridge's own MAC: 0a:58 and the gateway's octets, so each node's differs and no pod changes it.
    assert node1['bridge'] == {'name': 'cni0', 'mtu': 1500, 'mac': '0a:58:0a:f4:00:01', 'addresses': ['10.244.0.1/24']}
    assert node1['bgp'] is None


def test_mtu_follows_the_uplink_unless_the_inventory_sets_a_smaller_one():
    hosts = [host('node1', '10.89.10.11', mtu=9000), host('node2', '10.89.10.12', mtu=9000, podnet_pod_mtu='8950')]
    nodes = cluster_plan(hosts, SETTINGS)['nodes']
    assert (nodes['node1']['mtu'], nodes['node2']['mtu']) == (9000, 8950)


def test_bridge_mode_has_no_routes_and_needs_no_uplink():
    hosts = [host('node1', '10.89.10.11', podnet_uplink=None), host('node2', '10.89.20.12', network='10.89.20.0/24')]
    result = cluster_plan(hosts, dict(SETTINGS, podnet_mode='bridge'))
    assert result['problems'] == []
    assert result['nodes']['node1']['hostgw'] is None and result['nodes']['node1']['uplink'] is None
    assert result['nodes']['node1']['mtu'] == 1500


def test_bgp_mode_plans_blocks_peers_and_the_blackhole_route():
    result = plan(podnet_mode='bgp')
    node1 = result['nodes']['node1']
    assert result['node_prefix'] == 26 and node1['pod_cidr'] == '10.244.0.0/26'
    assert node1['bridge'] is None and node1['hostgw'] is None
    assert node1['bgp']['role'] == 'mesh'
    assert [peer['name'] for peer in node1['bgp']['peers']] == ['node2', 'node3']
    assert node1['bgp']['routes'] == [{'dest': '10.244.0.0/26', 'type': 'blackhole'}]
    assert result['bgp']['topology'] == 'mesh' and result['bgp']['sessions'] == 3


def test_recorded_subnets_are_kept_and_pins_respected():
    hosts = three_hosts()
    hosts[0]['ansible_local'] = {'podnet': {'pod_cidr': '10.244.5.0/24'}}
    hosts[1]['podnet_pod_cidr'] = '10.244.0.0/24'
    hosts[2]['podnet_pod_gateway'] = '10.244.1.254'
    nodes = cluster_plan(hosts, SETTINGS)['nodes']
    assert [nodes[name]['pod_cidr'] for name in ('node1', 'node2', 'node3')] == [
        '10.244.5.0/24', '10.244.0.0/24', '10.244.1.0/24']
    assert nodes['node3']['pod_gateway'] == '10.244.1.254'
    assert nodes['node3']['bridge']['mac'] == '0a:58:0a:f4:01:fe'
    assert len(set(node['bridge']['mac'] for node in nodes.values())) == 3


# ---- the one place where the inventory is checked --------------------------------------------------------------

SETTING_CASES = [
    pytest.param({'podnet_mode': 'flannel'}, ['podnet_mode', "'flannel'", 'bridge, hostgw, bgp'], id='mode'),
    pytest.param({'podnet_cluster_cidr': '10.244.0.1/16'}, ['podnet_cluster_cidr', 'host bits'], id='cluster-host-bits'),
    pytest.param({'podnet_cluster_cidr': '10.244.0.0/33'}, ['podnet_cluster_cidr'], id='cluster-33'),
    pytest.param({'podnet_cluster_cidr': 'fd00::/48'}, ['podnet_cluster_cidr', 'IPv6'], id='cluster-ipv6'),
    pytest.param({'podnet_node_prefix': 16}, ['podnet_node_prefix 16', 'longer than the prefix'], id='prefix-16'),
    pytest.param({'podnet_node_prefix': 31}, ['podnet_node_prefix 31', 'longer than 30'], id='prefix-31'),
    pytest.param({'podnet_node_prefix': True}, ['podnet_node_prefix True', 'boolean'], id='prefix-bool'),
    pytest.param({'podnet_bridge_name': 'br:0'}, ['podnet_bridge_name', "'br:0'", 'alias'], id='bridge-colon'),
    pytest.param({'podnet_bridge_name': 'br#0'}, ['podnet_bridge_name', "'br#0'", '#'], id='bridge-hash'),
    pytest.param({'podnet_bridge_name': ['a']}, ['podnet_bridge_name', "['a']", 'not a non-empty string'],
                 id='bridge-list'),
    pytest.param({'podnet_bridge_name': 'a' * 16}, ['podnet_bridge_name', '16 bytes'], id='bridge-long'),
    pytest.param({'podnet_bridge_name': u'br' + u'\u00e9' * 7 + u'0'}, ['podnet_bridge_name', 'bytes'],
                 id='bridge-15-chars-but-more-bytes'),
    pytest.param({'podnet_bridge_name': 'br 0'}, ['podnet_bridge_name', 'whitespace'], id='bridge-space'),
    pytest.param({'podnet_bridge_name': '..'}, ['podnet_bridge_name'], id='bridge-dotdot'),
    pytest.param({'podnet_route_proto': 2}, ['podnet_route_proto 2', 'kernel'], id='proto-kernel'),
    pytest.param({'podnet_route_proto': 256}, ['podnet_route_proto 256', 'outside'], id='proto-256'),
    pytest.param({'podnet_cni_network': 'pod net'}, ['podnet_cni_network', 'CNI'], id='cni-space'),
    pytest.param({'podnet_cni_network': '../x'}, ['podnet_cni_network'], id='cni-path'),
    pytest.param({'podnet_ipip_mode': 'Sometimes'}, ["podnet_ipip_mode 'Sometimes'", 'is not one of Never'],
                 id='ipip-unknown'),
    pytest.param({'podnet_ipip_mode': 'CrossSubnet', 'podnet_mode': 'bridge'},
                 ['podnet_ipip_mode', 'bridge mode routes no pod traffic between nodes'], id='ipip-bridge'),
]


@pytest.mark.parametrize('changes, fragments', SETTING_CASES)
def test_setting_problems_name_scope_variable_value_and_fix(changes, fragments):
    message = only_problem(plan(**changes))
    assert message.startswith('all hosts in podnet_nodes: ')
    for fragment in fragments + ['Fix:']:
        assert fragment in message


BGP_CASES = [
    pytest.param({'podnet_bgp_as': 23456}, ['podnet_bgp_as 23456', 'AS_TRANS'], id='as-trans'),
    pytest.param({'podnet_bgp_as': 0}, ['podnet_bgp_as 0', 'outside'], id='as-zero'),
    pytest.param({'podnet_bgp_as': 4294967296}, ['podnet_bgp_as 4294967296'], id='as-too-big'),
    pytest.param({'podnet_bgp_as': None}, ['podnet_bgp_as None', 'not set'], id='as-missing'),
    pytest.param({'podnet_bgp_password': 'has"quote'}, ['podnet_bgp_password', 'double quote'], id='pw-quote'),
    pytest.param({'podnet_bgp_password': 'back\\slash'}, ['podnet_bgp_password', 'backslash'], id='pw-backslash'),
    pytest.param({'podnet_bgp_password': 'new\nline'}, ['podnet_bgp_password', 'control'], id='pw-newline'),
    pytest.param({'podnet_bgp_password': 'x' * 81}, ['podnet_bgp_password', '80 bytes'], id='pw-long'),
    pytest.param({'podnet_bgp_mesh_max_nodes': -1}, ['podnet_bgp_mesh_max_nodes'], id='mesh-negative'),
    pytest.param({'podnet_bgp_rr_per_rack': 0}, ['podnet_bgp_rr_per_rack 0'], id='rr-zero'),
]


@pytest.mark.parametrize('changes, fragments', BGP_CASES)
def test_bgp_setting_problems_only_in_bgp_mode(changes, fragments):
    message = only_problem(plan(podnet_mode='bgp', **changes))
    for fragment in fragments + ['Fix:']:
        assert fragment in message
    assert plan(**changes)['problems'] == []


def test_bgp_peers_carry_their_bird_protocol_name():
    hosts = [host('rack-a.node1', '10.89.10.11'), host('rack-a.node2', '10.89.10.12')]
    node = cluster_plan(hosts, dict(SETTINGS, podnet_mode='bgp'))['nodes']['rack-a.node1']
    assert node['bgp']['peers'] == [{'name': 'rack-a.node2', 'ip': '10.89.10.12', 'rr_client': False,
                                     'protocol': 'peer_rack_a_node2', 'multihop': False, 'encap': 'none'}]


def test_hostnames_that_give_one_bird_protocol_name_are_refused_in_bgp_mode():
    hosts = [host('node-1', '10.89.10.11'), host('node_1', '10.89.10.12')]
    message = only_problem(cluster_plan(hosts, dict(SETTINGS, podnet_mode='bgp')))
    assert message.startswith('node_1: the inventory hostname gives the same BIRD protocol name peer_node_1 as node-1')
    assert cluster_plan(hosts, SETTINGS)['problems'] == []


def test_a_bad_bgp_password_is_never_echoed():
    message = only_problem(plan(podnet_mode='bgp', podnet_bgp_password='s3cret"'))
    assert 's3cret' not in message


def with_host(index, **changes):
    hosts = three_hosts()
    hosts[index].update(changes)
    return hosts


NODE_CASES = [
    pytest.param(1, {'podnet_node_ip': None}, ['node2: podnet_node_ip None', 'not set'], id='ip-missing'),
    pytest.param(1, {'podnet_node_ip': '10.89.10.300'}, ['node2: podnet_node_ip', 'not a valid IPv4'], id='ip-bad'),
    pytest.param(1, {'podnet_uplink': 'ens5:1'}, ['node2: podnet_uplink', "'ens5:1'", 'alias'], id='uplink-alias'),
    pytest.param(1, {'podnet_uplink': None}, ['node2: podnet_uplink None', 'not set'], id='uplink-missing'),
    pytest.param(1, {'podnet_pod_mtu': 67}, ['node2: podnet_pod_mtu 67', 'outside 68..65535'], id='mtu-small'),
    pytest.param(1, {'podnet_pod_mtu': 'big'}, ['node2: podnet_pod_mtu', 'not an integer'], id='mtu-text'),
    pytest.param(2, {'podnet_pod_cidr': '10.245.0.0/24'}, ['node3: podnet_pod_cidr', 'outside'], id='pin-outside'),
    pytest.param(2, {'podnet_pod_cidr': '10.244.1.1/24'}, ['node3: podnet_pod_cidr', 'host bits'], id='pin-host-bits'),
    pytest.param(2, {'podnet_pod_gateway': '10.99.0.1'}, ['node3: podnet_pod_gateway', 'outside the pod subnet'],
                 id='gateway-outside'),
    pytest.param(2, {'podnet_pod_gateway': '10.244.2.255'}, ['node3: podnet_pod_gateway', 'broadcast'],
                 id='gateway-broadcast'),
    pytest.param(2, {'podnet_pod_gateway': 'gw'}, ['node3: podnet_pod_gateway', 'not a valid IPv4'], id='gateway-bad'),
]


@pytest.mark.parametrize('index, changes, fragments', NODE_CASES)
def test_node_problems_name_host_variable_value_and_fix(index, changes, fragments):
    message = only_problem(cluster_plan(with_host(index, **changes), SETTINGS))
    for fragment in fragments + ['Fix:']:
        assert fragment in message


def test_a_node_ip_given_twice_is_refused():
    hosts = [host('node1', '10.89.10.11'), host('node2', '10.89.10.11')]
    message = only_problem(cluster_plan(hosts, SETTINGS))
    assert message.startswith("node2: podnet_node_ip '10.89.10.11' is also the podnet_node_ip of node1. Fix:")


def test_node_ip_inside_the_cluster_cidr_is_refused():
    hosts = [host('node1', '10.244.200.5', network='10.244.200.0/24'), host('node2', '10.244.200.6',
                                                                             network='10.244.200.0/24')]
    problems = cluster_plan(hosts, SETTINGS)['problems']
    assert any('inside podnet_cluster_cidr' in message for message in problems)


# ---- the inventory must agree with what the host says about itself ---------------------------------------------

def test_an_uplink_the_host_does_not_have_is_refused():
    message = only_problem(cluster_plan(with_host(0, podnet_uplink='ens9'), SETTINGS))
    assert message.startswith("node1: podnet_uplink 'ens9' is not an interface of node1 (it has ens5, eth0, lo)")
    assert 'Fix:' in message


def test_a_node_ip_on_another_interface_names_that_interface():
    hosts = three_hosts()
    hosts[0]['podnet_uplink'] = 'eth0'
    problems = cluster_plan(hosts, SETTINGS)['problems']
    assert any("node1: podnet_node_ip '10.89.10.11' is not an address of podnet_uplink eth0" in message
               and 'Fix: set podnet_uplink for node1 to ens5' in message for message in problems)


def test_a_node_ip_the_host_does_not_hold_is_refused_in_bridge_mode_too():
    hosts = three_hosts()
    hosts[1]['podnet_uplink'] = None
    hosts[1]['ansible_facts']['all_ipv4_addresses'] = ['192.168.99.2']
    message = only_problem(cluster_plan(hosts, dict(SETTINGS, podnet_mode='bridge')))
    assert message.startswith("node2: podnet_node_ip '10.89.10.12' is not an address of node2")


def test_a_pod_mtu_above_the_uplink_mtu_is_refused():
    message = only_problem(cluster_plan(with_host(2, podnet_pod_mtu=9000), SETTINGS))
    assert 'node3: podnet_pod_mtu 9000 is larger than the MTU 1500 of podnet_uplink ens5 on node3' in message


def test_hosts_without_gathered_facts_are_refused():
    hosts = three_hosts()
    del hosts[0]['ansible_facts']
    message = only_problem(cluster_plan(hosts, SETTINGS))
    assert message.startswith('node1: no network facts were gathered') and 'Fix:' in message


def test_a_partial_run_is_refused():
    result = cluster_plan(three_hosts(), SETTINGS, {}, ['node1', 'node2'])
    assert 'node3: podnet plans pod subnets and routes from every node' in only_problem(result)


def test_an_empty_group_is_refused():
    assert 'group podnet_nodes is empty' in only_problem(cluster_plan([], SETTINGS))


# ---- one L2 segment without tunnels ----------------------------------------------------------------------------

TWO_RACKS = [host('node1', '10.89.30.11', network='10.89.30.0/24'), host('node2', '10.89.31.11', network='10.89.31.0/24')]


@pytest.mark.parametrize('mode', ['hostgw', 'bgp'])
def test_routed_modes_refuse_peers_on_different_segments(mode):
    message = only_problem(cluster_plan(TWO_RACKS, dict(SETTINGS, podnet_mode=mode)))
    assert 'cannot reach node2 (10.89.31.11) without a gateway' in message and 'one L2 segment' in message
    assert 'Fix: set podnet_ipip_mode: CrossSubnet' in message


def test_bridge_mode_does_not_need_one_segment():
    assert cluster_plan(TWO_RACKS, dict(SETTINGS, podnet_mode='bridge'))['problems'] == []


# ---- properties ------------------------------------------------------------------------------------------------

def cluster(count, mode, order):
    hosts = [host('n%02d' % i, '10.89.0.%d' % (i + 10), network='10.89.0.0/24') for i in range(count)]
    return cluster_plan([hosts[i] for i in order], dict(SETTINGS, podnet_mode=mode))


@hsettings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=12).flatmap(
    lambda n: st.tuples(st.just(n), st.permutations(range(n)))))
def test_hostgw_every_node_routes_every_peer_subnet_via_that_peer(case):
    count, order = case
    result = cluster(count, 'hostgw', order)
    assert result['problems'] == []
    nodes = result['nodes']
    subnets = [ipaddress.IPv4Network(node['pod_cidr']) for node in nodes.values()]
    assert all(subnet.subnet_of(ipaddress.IPv4Network('10.244.0.0/16')) for subnet in subnets)
    assert all(not a.overlaps(b) for i, a in enumerate(subnets) for b in subnets[i + 1:])
    for name, node in nodes.items():
        routes = hostgw_part(result, name)['routes']
        assert len(routes) == count - 1
        for peer in hostgw_part(result, name)['peers']:
            assert peer['route'] == {'dest': nodes[peer['name']]['pod_cidr'], 'via': nodes[peer['name']]['node_ip'],
                                     'dev': node['uplink']}
            assert peer['encap'] == 'none'
        assert ipaddress.IPv4Address(node['pod_gateway']) in ipaddress.IPv4Network(node['pod_cidr'])
    # The plan does not depend on inventory order.
    assert result == cluster(count, 'hostgw', range(count))


@hsettings(max_examples=30, deadline=None)
@given(st.integers(min_value=1, max_value=10))
def test_bgp_peering_is_symmetric(count):
    nodes = cluster(count, 'bgp', range(count))['nodes']
    pairs = set((name, peer['name']) for name, node in nodes.items() for peer in node['bgp']['peers'])
    assert pairs == set((b, a) for a, b in pairs)


@hsettings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=20), st.integers(), st.none(), st.lists(st.text(max_size=3), max_size=2)))
def test_a_bridge_name_is_refused_exactly_when_the_rule_book_refuses_it(value):
    problems = plan(podnet_bridge_name=value)['problems']
    refused = _rules.ifname_problem(value) is not None
    assert refused == any('podnet_bridge_name' in message for message in problems)


@hsettings(max_examples=200, deadline=None)
@given(st.one_of(st.integers(min_value=-10, max_value=70000), st.text(max_size=6)))
def test_mtu_and_proto_are_refused_exactly_when_the_rule_book_refuses_them(value):
    mtu_refused = _rules.mtu_problem(value) is not None
    problems = cluster_plan(with_host(0, podnet_pod_mtu=value), SETTINGS)['problems']
    if isinstance(value, str) and not value.strip():
        return  # unset: the uplink's MTU is used
    if not mtu_refused and int(value) > 1500:
        return  # above the uplink's MTU: a facts problem, tested above
    assert mtu_refused == any('podnet_pod_mtu' in message for message in problems)
    proto_refused = _rules.route_proto_problem(value) is not None
    assert proto_refused == bool(plan(podnet_route_proto=value)['problems'])


def reference_hostgw_part(nodes, name):
    """Each node's peers built one by one and sorted, as the plan did before it shared entries between nodes."""
    own = nodes[name]
    peers = [{'name': other['name'], 'node_ip': other['node_ip'], 'pod_cidr': other['pod_cidr'], 'encap': 'none',
              'route': {'dest': other['pod_cidr'], 'via': other['node_ip'], 'dev': own['uplink']}}
             for other in nodes.values() if other['name'] != name]
    peers.sort(key=lambda peer: peer['route']['dest'])
    return {'peers': peers, 'routes': [peer['route'] for peer in peers]}


@hsettings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(['ens5', 'ens6', 'bond0']), min_size=1, max_size=14), st.randoms(use_true_random=False))
def test_hostgw_shared_peer_entries_equal_peers_built_for_each_node(uplinks, rnd):
    hosts = []
    for index, uplink in enumerate(uplinks):
        hostvars = host('n%02d' % index, '10.89.0.%d' % (index + 10), network='10.89.0.0/24')
        facts = hostvars['ansible_facts']
        facts[uplink] = dict(facts.pop('ens5'), device=uplink)
        facts['interfaces'] = ['lo', uplink, 'eth0']
        hostvars['podnet_uplink'] = uplink
        hosts.append(hostvars)
    rnd.shuffle(hosts)
    result = cluster_plan(hosts, SETTINGS)
    nodes = result['nodes']
    assert len(nodes) == len(uplinks)
    assert sorted(result['hostgw']['segments']) == sorted(set(uplinks))
    for name, node in nodes.items():
        assert hostgw_part(result, name) == reference_hostgw_part(nodes, name)


def test_a_big_inventory_across_segments_is_refused_with_a_bounded_number_of_messages():
    hosts = [host('r%dn%02d' % (rack, slot), '10.89.%d.%d' % (rack, slot + 10), network='10.89.%d.0/24' % rack)
             for rack in range(4) for slot in range(40)]
    problems = cluster_plan(hosts, SETTINGS)['problems']
    assert len(problems) == 5
    assert problems[0].startswith('all hosts in podnet_nodes: 160 of 160 nodes cannot reach every peer')
    assert all('Fix:' in message for message in problems)


# ---- IPIP -------------------------------------------------------------------------------------------------------

RACKS_2_1 = [host('node1', '10.89.60.11', network='10.89.60.0/24'), host('node2', '10.89.60.12', network='10.89.60.0/24'),
             host('node3', '10.89.61.11', network='10.89.61.0/24')]


def ipip_plan(mode='hostgw', ipip='CrossSubnet', hosts=None, **changes):
    result = cluster_plan(RACKS_2_1 if hosts is None else hosts,
                          dict(SETTINGS, podnet_mode=mode, podnet_ipip_mode=ipip, **changes))
    assert result['problems'] == []
    return result


def routes_by_peer(result, name):
    return dict((peer['name'], (peer['encap'], peer['route'])) for peer in hostgw_part(result, name)['peers'])


def test_cross_subnet_hostgw_routes_same_rack_direct_and_other_racks_through_tunl0():
    result = ipip_plan()
    node1 = hostgw_part(result, 'node1')
    assert routes_by_peer(result, 'node1') == {
        'node2': ('none', {'dest': node1['peers'][0]['pod_cidr'], 'via': '10.89.60.12', 'dev': 'ens5'}),
        'node3': ('ipip', {'dest': node1['peers'][1]['pod_cidr'], 'via': '10.89.61.11', 'dev': 'tunl0',
                           'onlink': True}),
    }
    assert node1['routes'] == [peer['route'] for peer in node1['peers']]
    # One list per segment (uplink and its networks): rack 10.89.60.0/24 and rack 10.89.61.0/24.
    assert sorted(result['hostgw']['segments']) == ['ens5 10.89.60.0/24', 'ens5 10.89.61.0/24']
    rack1 = result['hostgw']['segments']['ens5 10.89.60.0/24']
    assert rack1['route_lines'][2] == '%s via 10.89.61.11 dev tunl0 onlink' % rack1['routes'][2]['dest']
    assert [encap for encap, _ in routes_by_peer(result, 'node3').values()] == ['ipip', 'ipip']
    assert result['ipip'] == {'mode': 'CrossSubnet', 'node_ips': ['10.89.60.11', '10.89.60.12', '10.89.61.11']}


def test_a_tunnelling_node_gets_tunl0_and_pod_interfaces_that_fit_through_it():
    result = ipip_plan()
    for name in ('node1', 'node2', 'node3'):
        node = result['nodes'][name]
        assert node['ipip'] == {'device': 'tunl0', 'mtu': 1480, 'addresses': ['%s/32' % node['pod_gateway']]}
        assert node['mtu'] == node['bridge']['mtu'] == 1480


def test_the_tunnel_mtu_follows_each_node_s_uplink():
    hosts = [host('node1', '10.89.60.11', network='10.89.60.0/24', mtu=9000),
             host('node3', '10.89.61.11', network='10.89.61.0/24')]
    result = ipip_plan(hosts=hosts)
    assert (result['nodes']['node1']['ipip']['mtu'], result['nodes']['node1']['mtu']) == (8980, 8980)
    assert (result['nodes']['node3']['ipip']['mtu'], result['nodes']['node3']['mtu']) == (1480, 1480)


def test_always_tunnels_same_rack_peers_too():
    result = ipip_plan(ipip='Always')
    for name in ('node1', 'node2', 'node3'):
        assert set(route['dev'] for route in hostgw_part(result, name)['routes']) == {'tunl0'}
        assert all(route['onlink'] for route in hostgw_part(result, name)['routes'])


def test_cross_subnet_on_one_segment_tunnels_nothing():
    result = ipip_plan(hosts=three_hosts())
    for name, node in result['nodes'].items():
        assert node['ipip'] is None and node['mtu'] == 1500
        assert set(route['dev'] for route in hostgw_part(result, name)['routes']) == {'ens5'}


def test_never_keeps_today_s_plan():
    with_never = cluster_plan(three_hosts(), dict(SETTINGS, podnet_ipip_mode='Never'))
    without = cluster_plan(three_hosts(), SETTINGS)
    assert with_never == without
    assert without['ipip']['mode'] == 'Never'
    assert all(node['ipip'] is None for node in without['nodes'].values())


def test_a_pod_mtu_that_does_not_fit_through_the_tunnel_is_refused_and_a_smaller_one_kept():
    hosts = [dict(h, podnet_pod_mtu=1500) if h['inventory_hostname'] == 'node3' else h for h in RACKS_2_1]
    message = only_problem(cluster_plan(hosts, dict(SETTINGS, podnet_ipip_mode='CrossSubnet')))
    assert message.startswith('node3: podnet_pod_mtu 1500 is larger than the tunnel MTU 1480 of node3')
    assert 'Fix: set podnet_pod_mtu for node3 to at most 1480' in message
    hosts = [dict(h, podnet_pod_mtu=1400) for h in RACKS_2_1]
    result = ipip_plan(hosts=hosts)
    assert [node['mtu'] for node in result['nodes'].values()] == [1400, 1400, 1400]
    assert [node['ipip']['mtu'] for node in result['nodes'].values()] == [1480, 1480, 1480]


def test_cross_subnet_bgp_sessions_to_other_racks_are_multihop_and_next_hops_resolve_per_network():
    result = ipip_plan(mode='bgp')
    node1 = result['nodes']['node1']['bgp']
    assert [(peer['name'], peer['multihop'], peer['encap']) for peer in node1['peers']] == [
        ('node2', False, 'none'), ('node3', True, 'ipip')]
    assert node1['next_hop_routes'] == [
        {'dest': '10.89.60.0/24', 'dev': 'ens5', 'encap': 'none'},
        {'dest': '10.89.61.0/24', 'dev': 'tunl0', 'encap': 'ipip'}]
    assert result['nodes']['node3']['bgp']['next_hop_routes'] == [
        {'dest': '10.89.60.0/24', 'dev': 'tunl0', 'encap': 'ipip'},
        {'dest': '10.89.61.0/24', 'dev': 'ens5', 'encap': 'none'}]
    assert result['nodes']['node1']['mtu'] == 1480


def test_always_bgp_resolves_every_next_hop_through_tunl0_but_keeps_same_rack_sessions_direct():
    node1 = ipip_plan(mode='bgp', ipip='Always')['nodes']['node1']['bgp']
    assert [(peer['name'], peer['multihop'], peer['encap']) for peer in node1['peers']] == [
        ('node2', False, 'ipip'), ('node3', True, 'ipip')]
    assert set(route['dev'] for route in node1['next_hop_routes']) == {'tunl0'}


def test_bgp_without_ipip_has_no_next_hop_routes():
    node1 = cluster_plan(three_hosts(), dict(SETTINGS, podnet_mode='bgp'))['nodes']['node1']['bgp']
    assert node1['next_hop_routes'] == []
    assert all(not peer['multihop'] and peer['encap'] == 'none' for peer in node1['peers'])


@hsettings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3), min_size=2, max_size=12),
       st.sampled_from(['CrossSubnet', 'Always']), st.sampled_from(['hostgw', 'bgp']))
def test_a_peer_tunnels_exactly_when_the_mode_says_so(racks, ipip, mode):
    hosts = [host('n%d' % index, '10.89.%d.%d' % (60 + rack, 10 + index), network='10.89.%d.0/24' % (60 + rack))
             for index, rack in enumerate(racks)]
    result = ipip_plan(mode=mode, ipip=ipip, hosts=hosts)
    rack_of = dict(('n%d' % index, rack) for index, rack in enumerate(racks))
    for name, node in result['nodes'].items():
        if mode == 'hostgw':
            pairs = [(peer['name'], peer['encap'], peer['route']['dev']) for peer in hostgw_part(result, name)['peers']]
        else:
            pairs = [(peer['name'], peer['encap'], None) for peer in node['bgp']['peers']]
        crosses = [rack_of[peer] != rack_of[name] for peer, _, _ in pairs]
        for (peer, encap, dev), cross in zip(pairs, crosses):
            tunnelled = ipip == 'Always' or cross
            assert encap == ('ipip' if tunnelled else 'none'), (name, peer)
            assert dev in (None, 'tunl0' if tunnelled else 'ens5')
        tunnels_any = ipip == 'Always' or any(rack_of[other] != rack_of[name] for other in rack_of)
        assert (node['ipip'] is not None) == tunnels_any
        assert node['mtu'] == (1480 if tunnels_any else 1500)


@hsettings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=10),
       st.sampled_from(['Never', 'CrossSubnet', 'Always']))
def test_hostgw_route_lines_declare_exactly_the_routes_of_the_plan(racks, ipip):
    hosts = [host('n%d' % index, '10.89.%d.%d' % (60 + rack, 10 + index), network='10.89.%d.0/24' % (60 + rack))
             for index, rack in enumerate(racks)]
    if ipip == 'Never':
        hosts = [host('n%d' % index, '10.89.60.%d' % (10 + index), network='10.89.60.0/24') for index in range(len(racks))]
    result = ipip_plan(ipip=ipip, hosts=hosts)
    for segment in result['hostgw']['segments'].values():
        assert len(segment['route_lines']) == len(segment['routes']) == len(hosts)
        for line, route in zip(segment['route_lines'], segment['routes']):
            spec, problem = ip_routes.route_line_spec(line)
            assert problem is None
            assert dict((key, spec[key]) for key in ('dest', 'via', 'dev')) == dict(
                (key, route[key]) for key in ('dest', 'via', 'dev'))
            assert spec['onlink'] == route.get('onlink', False) and spec['type'] == 'unicast'
    # Every node's routes (its segment's list without its own subnet) are every other node's subnet.
    for name, node in result['nodes'].items():
        own = result['hostgw']['segments'][node['hostgw']['segment']]
        kept = [line for line in own['route_lines'] if line.split()[0] != node['hostgw']['exclude']]
        assert len(kept) == len(hosts) - 1
        assert sorted(line.split()[0] for line in kept) == sorted(
            other['pod_cidr'] for other_name, other in result['nodes'].items() if other_name != name)


# ---- a node's record (podnet.fact) unreadable ---------------------------------------------------------------------

UNREADABLE = [
    pytest.param('error loading facts as JSON or ini - please check content: /etc/ansible/facts.d/podnet.fact',
                 'please check content', id='neither-json-nor-ini'),
    pytest.param({}, 'it holds no pod_cidr', id='empty'),
    pytest.param({'mode': 'hostgw'}, 'it holds no pod_cidr', id='no-pod-cidr'),
    pytest.param([1], 'it holds no pod_cidr', id='json-not-a-mapping'),
]


def with_bridge(hostvars, *addresses):
    hostvars['ansible_facts']['cni0'] = {'device': 'cni0', 'ipv4': {'address': addresses[0][0], 'netmask': addresses[0][1]},
                                         'ipv4_secondaries': [{'address': a, 'netmask': m} for a, m in addresses[1:]]}
    return hostvars


@pytest.mark.parametrize('record, reason', UNREADABLE)
def test_unreadable_record_keeps_the_subnet_the_node_s_bridge_holds_and_says_so(record, reason):
    # node3 uses 10.244.7.0/24, not the lowest free subnet a node without a record would get.
    hosts = three_hosts()
    hosts[0]['ansible_local'] = {'podnet': {'pod_cidr': '10.244.0.0/24'}}
    hosts[1]['ansible_local'] = {'podnet': {'pod_cidr': '10.244.1.0/24'}}
    hosts[2]['ansible_local'] = {'podnet': record}
    with_bridge(hosts[2], ('10.244.7.1', '255.255.255.0'), ('169.254.1.1', '255.255.0.0'))
    result = cluster_plan(hosts, SETTINGS)
    assert result['problems'] == []
    assert result['nodes']['node3']['pod_cidr'] == '10.244.7.0/24'
    assert len(result['repairs']) == 1
    assert result['repairs'][0].startswith('node3: /etc/ansible/facts.d/podnet.fact is unreadable (')
    assert reason in result['repairs'][0] and 'its pod subnet 10.244.7.0/24 is read from its bridge cni0' in result['repairs'][0]


@pytest.mark.parametrize('mode, bridge', [('hostgw', None), ('hostgw', ('10.244.7.1', '255.255.255.128')),
                                          ('bridge', ('10.9.0.1', '255.255.255.0')), ('bgp', ('10.244.7.1', '255.255.255.0'))])
def test_unreadable_record_without_the_subnet_on_the_bridge_is_a_problem_not_a_new_subnet(mode, bridge):
    hosts = three_hosts()
    hosts[2]['ansible_local'] = {'podnet': {}}
    if bridge:
        with_bridge(hosts[2], bridge)
    settings = dict(SETTINGS, podnet_mode=mode, podnet_node_prefix=24)
    problem = only_problem(cluster_plan(hosts, settings))
    assert problem.startswith('node3: /etc/ansible/facts.d/podnet.fact is unreadable (it holds no pod_cidr)')
    assert 'Fix: set podnet_pod_cidr for node3' in problem
    assert ('ip route show type blackhole proto podnet' in problem) == (mode == 'bgp')


def test_a_pinned_subnet_or_a_missing_record_needs_no_repair():
    hosts = three_hosts()
    hosts[1]['ansible_local'] = {'podnet': 'error loading facts as JSON or ini - please check content: x'}
    hosts[1]['podnet_pod_cidr'] = '10.244.9.0/24'
    hosts[2]['ansible_local'] = {'other': {}}
    result = cluster_plan(hosts, SETTINGS)
    assert result['problems'] == [] and result['repairs'] == []
    assert [result['nodes'][n]['pod_cidr'] for n in ('node1', 'node2', 'node3')] == [
        '10.244.0.0/24', '10.244.9.0/24', '10.244.1.0/24']
