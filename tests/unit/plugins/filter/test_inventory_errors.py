# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.podnet.netmodes.plugins.filter.inventory_errors import FilterModule

inventory_errors = FilterModule().filters()['inventory_errors']

GOOD_SETTINGS = {
    'mode': 'bgp', 'cluster_cidr': '10.244.0.0/16', 'node_prefix': 24, 'bridge_name': 'cni0',
    'ipip_mode': 'CrossSubnet', 'bgp_as': 64512,
}


def good_nodes():
    return [
        {'name': 'node1', 'node_ip': '10.89.10.11', 'pod_cidr': '10.244.7.0/24', 'pod_gateway': '10.244.7.1'},
        {'name': 'node2', 'node_ip': '10.89.10.12', 'allocated_pod_cidr': '10.244.0.0/24',
         'pod_gateway': '10.244.0.254'},
        {'name': 'node3', 'node_ip': '10.89.10.13'},
    ]


def settings_with(**changes):
    result = dict(GOOD_SETTINGS)
    result.update(changes)
    return result


def nodes_with(name, **changes):
    nodes = good_nodes()
    for node in nodes:
        if node['name'] == name:
            node.update(changes)
    return nodes


def test_valid_inventory_has_no_errors():
    assert inventory_errors(good_nodes(), GOOD_SETTINGS) == []


@pytest.mark.parametrize('mode', ['bridge', 'hostgw'])
def test_bgp_as_is_only_needed_in_bgp_mode(mode):
    assert inventory_errors(good_nodes(), settings_with(mode=mode, bgp_as=None)) == []


def test_optional_settings_may_be_left_out():
    assert inventory_errors(good_nodes(), settings_with(bridge_name=None, ipip_mode=None)) == []


def test_digit_strings_are_accepted_for_integers():
    assert inventory_errors(good_nodes(), settings_with(node_prefix='24', bgp_as='65000')) == []


SETTINGS_CASES = [
    pytest.param({'mode': 'flannel'}, ['podnet_mode', "'flannel'", 'bridge, hostgw, bgp', 'Fix:'], id='mode'),
    pytest.param({'mode': None}, ['podnet_mode None', 'Fix:'], id='mode-missing'),
    pytest.param({'cluster_cidr': '10.244.0.1/16'},
                 ['podnet_cluster_cidr', "'10.244.0.1/16'", 'host bits', 'Fix:'], id='cluster-host-bits'),
    pytest.param({'cluster_cidr': '10.244.0.0'},
                 ['podnet_cluster_cidr', "'10.244.0.0'", 'no prefix length', 'Fix:'], id='cluster-no-prefix'),
    pytest.param({'cluster_cidr': 'fd00::/48'},
                 ['podnet_cluster_cidr', "'fd00::/48'", 'IPv6', 'Fix:'], id='cluster-ipv6'),
    pytest.param({'node_prefix': 16},
                 ['podnet_node_prefix 16', 'longer than the prefix of podnet_cluster_cidr', 'Fix:'],
                 id='prefix-not-longer'),
    pytest.param({'node_prefix': 31}, ['podnet_node_prefix 31', 'longer than 30', 'Fix:'], id='prefix-31'),
    pytest.param({'node_prefix': True}, ['podnet_node_prefix True', 'boolean', 'Fix:'], id='prefix-bool'),
    pytest.param({'node_prefix': '24a'}, ['podnet_node_prefix', "'24a'", 'not an integer', 'Fix:'], id='prefix-str'),
    pytest.param({'bridge_name': ''}, ['podnet_bridge_name', "''", 'Fix:'], id='bridge-empty'),
    pytest.param({'bridge_name': 'a' * 16}, ['podnet_bridge_name', "'" + 'a' * 16 + "'", '16 characters', 'Fix:'],
                 id='bridge-long'),
    pytest.param({'bridge_name': 'br/0'}, ['podnet_bridge_name', "'br/0'", 'slash', 'Fix:'], id='bridge-slash'),
    pytest.param({'bridge_name': 'br 0'}, ['podnet_bridge_name', "'br 0'", 'whitespace', 'Fix:'], id='bridge-space'),
    pytest.param({'bridge_name': '..'}, ['podnet_bridge_name', "'..'", 'Fix:'], id='bridge-dotdot'),
    pytest.param({'bridge_name': '.'}, ['podnet_bridge_name', "'.'", 'Fix:'], id='bridge-dot'),
    pytest.param({'ipip_mode': 'always'}, ['podnet_ipip_mode', "'always'", 'Always, CrossSubnet, Never', 'Fix:'],
                 id='ipip'),
    pytest.param({'bgp_as': 23456}, ['podnet_bgp_as 23456', 'AS_TRANS', 'Fix:'], id='as-trans'),
    pytest.param({'bgp_as': 0}, ['podnet_bgp_as 0', 'outside 1..4294967295', 'Fix:'], id='as-zero'),
    pytest.param({'bgp_as': 4294967296}, ['podnet_bgp_as 4294967296', 'outside', 'Fix:'], id='as-too-big'),
    pytest.param({'bgp_as': None}, ['podnet_bgp_as None', 'not set', 'Fix:'], id='as-missing'),
    pytest.param({'bgp_as': 'sixty'}, ['podnet_bgp_as', "'sixty'", 'not an integer', 'Fix:'], id='as-text'),
]


@pytest.mark.parametrize('changes, fragments', SETTINGS_CASES)
def test_setting_errors_name_scope_variable_value_and_fix(changes, fragments):
    errors = inventory_errors(good_nodes(), settings_with(**changes))
    assert len(errors) == 1
    assert errors[0].startswith('all hosts in podnet_nodes: ')
    for fragment in fragments:
        assert fragment in errors[0]


def test_settings_host_label_can_be_overridden():
    errors = inventory_errors(good_nodes(), settings_with(mode='x', host='group k8s'))
    assert errors[0].startswith('group k8s: podnet_mode')


NODE_CASES = [
    pytest.param('node2', {'node_ip': None}, ['node2: podnet_node_ip None', 'not set', 'Fix: set podnet_node_ip for node2'],
                 id='ip-missing'),
    pytest.param('node2', {'node_ip': '10.89.10.300'}, ['node2: podnet_node_ip', "'10.89.10.300'", 'not a valid IPv4',
                                                       'Fix:'], id='ip-invalid'),
    pytest.param('node2', {'node_ip': '10.89.10.12/24'}, ['node2: podnet_node_ip', "'10.89.10.12/24'", 'prefix length',
                                                         'Fix:'], id='ip-with-prefix'),
    pytest.param('node2', {'node_ip': '10.89.10.11'}, ['node2: podnet_node_ip', "'10.89.10.11'", 'node1',
                                                      'Fix: give node1 and node2 different'], id='ip-duplicate'),
    pytest.param('node3', {'node_ip': '10.244.200.5'}, ['node3: podnet_node_ip', "'10.244.200.5'",
                                                       'inside podnet_cluster_cidr 10.244.0.0/16', 'shadow', 'Fix:'],
                 id='ip-inside-cluster'),
    pytest.param('node3', {'pod_cidr': '10.244.7.128/25'}, ['node3: podnet_pod_cidr', "'10.244.7.128/25'", 'overlaps',
                                                           'node1', 'Fix:'], id='override-overlap'),
    pytest.param('node3', {'pod_cidr': '10.245.0.0/24'}, ['node3: podnet_pod_cidr', "'10.245.0.0/24'", 'outside',
                                                         'Fix:'], id='override-outside'),
    pytest.param('node3', {'pod_cidr': '10.244.1.1/24'}, ['node3: podnet_pod_cidr', "'10.244.1.1/24'", 'host bits',
                                                         'Fix:'], id='override-host-bits'),
    pytest.param('node1', {'pod_gateway': '10.244.8.1'}, ['node1: podnet_pod_gateway', "'10.244.8.1'",
                                                         'outside the pod subnet 10.244.7.0/24', 'Fix:'],
                 id='gateway-outside-override'),
    pytest.param('node2', {'pod_gateway': '10.244.0.0'}, ['node2: podnet_pod_gateway', "'10.244.0.0'",
                                                         'network or broadcast', '10.244.0.0/24', 'Fix:'],
                 id='gateway-network-address'),
    pytest.param('node2', {'pod_gateway': '10.244.0.255'}, ['node2: podnet_pod_gateway', "'10.244.0.255'",
                                                           'network or broadcast', 'Fix:'], id='gateway-broadcast'),
    pytest.param('node3', {'pod_gateway': 'gw'}, ['node3: podnet_pod_gateway', "'gw'", 'not a valid IPv4', 'Fix:'],
                 id='gateway-invalid-even-without-subnet'),
]


@pytest.mark.parametrize('host, changes, fragments', NODE_CASES)
def test_node_errors_name_host_variable_value_and_fix(host, changes, fragments):
    errors = inventory_errors(nodes_with(host, **changes), GOOD_SETTINGS)
    assert len(errors) == 1
    for fragment in fragments:
        assert fragment in errors[0]


def test_gateway_is_not_checked_against_an_unknown_subnet():
    assert inventory_errors(nodes_with('node3', pod_gateway='10.99.0.1'), GOOD_SETTINGS) == []


def test_empty_node_list_is_an_error():
    errors = inventory_errors([], GOOD_SETTINGS)
    assert len(errors) == 1
    assert 'group podnet_nodes is empty or missing' in errors[0] and 'Fix:' in errors[0]


def test_duplicate_names_are_reported():
    nodes = good_nodes() + [{'name': 'node1', 'node_ip': '10.89.10.99'}]
    errors = inventory_errors(nodes, GOOD_SETTINGS)
    assert any("node1: name 'node1' appears more than once" in error for error in errors)


def test_every_problem_is_listed():
    nodes = nodes_with('node1', node_ip='bad')
    nodes[1]['pod_cidr'] = 'worse'
    errors = inventory_errors(nodes, settings_with(mode='nope', ipip_mode='sometimes'))
    assert len(errors) == 4
    assert [error.split(':')[0] for error in errors] == ['all hosts in podnet_nodes'] * 2 + ['node1', 'node2']
