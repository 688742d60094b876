# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import itertools

from hypothesis import given, settings, strategies as st

from ansible_collections.podnet.netmodes.plugins.module_utils._rules import parse_ipv4_address
from ansible_collections.podnet.netmodes.plugins.plugin_utils import _adjacency
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


def test_the_fix_names_the_ipip_setting_that_spans_segments():
    nodes = [node('node1', '10.89.30.11', ['10.89.30.0/24']), node('node2', '10.89.31.11', ['10.89.31.0/24'])]
    for mode in ('hostgw', 'bgp'):
        for message in adjacency_problems(nodes, mode):
            assert 'Fix: set podnet_ipip_mode: CrossSubnet' in message
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


# ---- the sorted-address check gives what a walk over every pair gives, and stays bounded at scale -------------

def reference_adjacency_problems(nodes, mode):
    """The walk over every pair the plan used before: the reference for the sorted-address version."""
    problems = []
    peers = []
    for item in nodes:
        address = parse_ipv4_address(item.get('node_ip'))[0]
        networks = _adjacency.uplink_networks(item)
        if not networks:
            problems.append(_adjacency._no_network_message(item))
        if address is not None:
            peers.append({'name': item['name'], 'address': address, 'networks': networks,
                          'uplink': item.get('uplink') or 'its uplink'})

    def reaches(source, target):
        return any(target['address'] in network for network in source['networks'])

    for index, first in enumerate(peers):
        for second in peers[index + 1:]:
            if first['networks'] and not reaches(first, second):
                problems.append(_adjacency._unreachable_message(first, second, mode))
            elif second['networks'] and not reaches(second, first):
                problems.append(_adjacency._unreachable_message(second, first, mode))
    return problems


uplink_network_choices = st.sampled_from(['10.89.0.0/24', '10.89.1.0/24', '10.89.0.0/23', '10.89.2.0/23',
                                          '10.89.0.0/16', '10.89.1.7/24', '10.89.0.12/30', 'fd00::/64', 'bogus'])
node_ips = st.one_of(st.builds('10.89.{}.{}'.format, st.integers(0, 3), st.integers(1, 20)),
                     st.sampled_from([None, '10.89.0.300']))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(node_ips, st.lists(uplink_network_choices, max_size=3), st.sampled_from(['ens5', None])),
                max_size=14), st.sampled_from(['hostgw', 'bgp']))
def test_pair_messages_equal_a_walk_over_every_pair(shapes, mode):
    nodes = [node('n%d' % index, ip, networks, uplink) for index, (ip, networks, uplink) in enumerate(shapes)]
    # 14 nodes give at most 182 one-way failures: always below PAIR_MESSAGES_MAX, so every pair is named.
    assert adjacency_problems(nodes, mode) == reference_adjacency_problems(nodes, mode)


def racks(count, size):
    return [node('r%02dn%02d' % (rack, slot), '10.89.%d.%d' % (rack, slot + 1), ['10.89.%d.0/24' % rack])
            for rack in range(count) for slot in range(size)]


def test_many_pairs_are_named_by_segment_with_a_bounded_number_of_messages():
    errors = adjacency_errors(racks(3, 40))
    assert len(errors) == 4
    assert errors[0].startswith('all hosts in podnet_nodes: 120 of 120 nodes cannot reach every peer without a '
                                'gateway (9600 one-way pairs)')
    assert errors[1].startswith('r00n00, r00n01, r00n02 and 37 more (on ens5, 10.89.0.0/24) cannot reach the 80 '
                                'node(s) outside 10.89.0.0/24, such as r01n00 (10.89.1.1), r01n01 (10.89.1.2), '
                                'r01n02 (10.89.1.3) and 77 more, without a gateway; host-gw routes')
    assert all('Fix:' in error for error in errors)


def test_segments_beyond_the_limit_are_summed_up_in_one_message():
    errors = adjacency_errors(racks(30, 10))
    assert len(errors) == 1 + _adjacency.SEGMENT_MESSAGES_MAX + 1
    assert errors[-1].startswith('10 more segment(s) with 100 node(s), such as r20n00, r21n00, r22n00 and 7 more, '
                                 'cannot reach every peer either. Fix:')


def test_one_node_on_a_narrow_network_is_the_only_one_named():
    nodes = [node('n%03d' % index, '10.89.0.%d' % (index + 1), ['10.89.0.0/24']) for index in range(250)]
    nodes[7]['uplink_networks'] = ['10.89.0.8/30']
    errors = adjacency_errors(nodes)
    assert len(errors) == 2
    assert errors[1].startswith('n007 (on ens5, 10.89.0.8/30) cannot reach the 246 node(s) outside 10.89.0.8/30')
