# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import itertools

from hypothesis import given, settings, strategies as st

from ansible_collections.podnet.netmodes.plugins.plugin_utils._adjacency import (
    adjacency_problems,
    hostgw_adjacency_problems as adjacency_errors,
)


def node(name, ip, networks, uplink='ens5'):
    return {'name': name, 'node_ip': ip, 'uplink': uplink, 'uplink_networks': networks}


def test_nodes_on_one_segment_are_adjacent():
    nodes = [node('node%d' % i, '10.89.10.%d' % (10 + i), ['10.89.10.0/24']) for i in range(4)]
    assert adjacency_errors(nodes) == []


def test_secondary_uplink_network_counts():
    nodes = [node('node1', '10.89.30.11', ['10.89.30.0/24', '10.89.31.0/24']),
             node('node2', '10.89.31.11', ['10.89.31.0/24', '10.89.30.0/24'])]
    assert adjacency_errors(nodes) == []


def test_address_prefix_form_of_uplink_networks_is_accepted():
    nodes = [node('node1', '10.89.10.11', ['10.89.10.11/24']), node('node2', '10.89.10.12', ['10.89.10.12/24'])]
    assert adjacency_errors(nodes) == []


def test_two_segments_name_the_pair_once_with_the_fix():
    nodes = [node('node1', '10.89.30.11', ['10.89.30.0/24']), node('node2', '10.89.31.11', ['10.89.31.0/24'])]
    errors = adjacency_errors(nodes)
    assert len(errors) == 1
    assert errors[0].startswith('node1 (10.89.30.11 on ens5, 10.89.30.0/24) cannot reach node2 (10.89.31.11) '
                                'without a gateway')
    assert 'one L2 segment' in errors[0] and 'Fix:' in errors[0]


def test_no_message_points_to_a_feature_that_does_not_exist():
    nodes = [node('node1', '10.89.30.11', ['10.89.30.0/24']), node('node2', '10.89.31.11', ['10.89.31.0/24'])]
    for mode in ('hostgw', 'bgp'):
        for message in adjacency_problems(nodes, mode):
            assert 'ipip' not in message.lower() and 'CrossSubnet' not in message
            assert 'podnet_mode bgp' not in message


def test_bgp_gives_its_own_reason_for_one_segment():
    nodes = [node('node1', '10.89.30.11', ['10.89.30.0/24']), node('node2', '10.89.31.11', ['10.89.31.0/24'])]
    (message,) = adjacency_problems(nodes, 'bgp')
    assert 'bgp mode' in message and 'direct BGP sessions' in message


def test_one_way_reachability_names_the_direction_that_fails():
    nodes = [node('node1', '10.89.30.11', ['10.89.30.0/23']), node('node2', '10.89.31.11', ['10.89.31.0/24'])]
    errors = adjacency_errors(nodes)
    assert len(errors) == 1
    assert errors[0].startswith('node2 (10.89.31.11 on ens5, 10.89.31.0/24) cannot reach node1 (10.89.30.11)')


def test_uplink_without_ipv4_gets_one_message_for_that_node():
    nodes = [node('node1', '10.89.10.11', ['10.89.10.0/24']), node('node2', '10.89.10.12', [], uplink='eth7'),
             node('node3', '10.89.10.13', ['fd00::/64'], uplink='eth8')]
    errors = adjacency_errors(nodes)
    assert len(errors) == 2
    assert errors[0].startswith("node2: podnet_uplink 'eth7' has no IPv4 network")
    assert errors[1].startswith("node3: podnet_uplink 'eth8' has no IPv4 network")
    assert all('probably wrong' in error and 'Fix:' in error for error in errors)


def test_invalid_node_ip_is_left_to_inventory_errors():
    nodes = [node('node1', '10.89.10.11', ['10.89.10.0/24']), node('node2', None, ['10.89.10.0/24'])]
    assert adjacency_errors(nodes) == []


segments = st.lists(st.integers(min_value=0, max_value=3), min_size=0, max_size=12)


@settings(max_examples=60, deadline=None)
@given(segments)
def test_every_cross_segment_pair_is_named_exactly_once(segment_of):
    nodes = [node('n%d' % i, '10.89.%d.%d' % (seg, 10 + i), ['10.89.%d.0/24' % seg])
             for i, seg in enumerate(segment_of)]
    errors = adjacency_errors(nodes)
    expected = set((a['name'], b['name']) for a, b in itertools.combinations(nodes, 2)
                   if a['uplink_networks'] != b['uplink_networks'])
    named = set(tuple(sorted((error.split(' ')[0], error.split('cannot reach ')[1].split(' ')[0]),
                             key=lambda name: int(name[1:])))
                for error in errors)
    assert len(errors) == len(expected)
    assert named == expected
