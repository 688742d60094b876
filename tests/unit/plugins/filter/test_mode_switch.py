# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import itertools

import pytest

from ansible_collections.podnet.netmodes.plugins.filter.cluster_plan import FilterModule
from ansible_collections.podnet.netmodes.plugins.plugin_utils._switch import BUILDS, PARTS, switch_part, switch_problems

from test_cluster_plan import SETTINGS, three_hosts

cluster_plan = FilterModule().filters()['cluster_plan']
MODES = ('bridge', 'hostgw', 'bgp')


@pytest.mark.parametrize('old, new, removed', [
    ('bridge', 'hostgw', []),
    ('hostgw', 'bgp', ['peer_routes', 'bridge']),
    ('bgp', 'bridge', ['bird', 'block_route', 'tunnel']),
    ('bridge', 'bgp', ['bridge']),
    ('bgp', 'hostgw', ['bird', 'block_route']),
    ('hostgw', 'bridge', ['peer_routes', 'tunnel']),
])
def test_a_switch_removes_what_the_old_mode_built_and_the_new_one_does_not(old, new, removed):
    assert switch_part(old, new) == {'from': old, 'remove': removed}


@pytest.mark.parametrize('old, new', list(itertools.permutations(MODES, 2)))
def test_nothing_the_new_mode_builds_is_removed_and_nothing_of_the_old_stays(old, new):
    removed = set(switch_part(old, new)['remove'])
    assert not removed & BUILDS[new]
    assert removed | (BUILDS[old] & BUILDS[new]) == BUILDS[old]
    # The removal keeps its order: BIRD before the routes it exported, routes before tunl0, tunl0 before the bridge.
    assert switch_part(old, new)['remove'] == [part for part in PARTS if part in removed]


@pytest.mark.parametrize('recorded', [None, '', 'hostgw'])
def test_no_switch_without_a_recorded_mode_or_with_the_same_mode(recorded):
    assert switch_part(recorded, 'hostgw') is None


def node(name='node1', mode='hostgw', cidr='10.244.0.0/24', pin=None):
    return {'name': name, 'recorded_mode': mode, 'recorded_pod_cidr': cidr, 'pod_cidr': pin}


def test_a_switch_that_would_renumber_a_node_is_refused_with_the_prefix_to_set():
    problems = switch_problems([node()], 'bgp', 26, False)
    assert len(problems) == 1
    assert problems[0].startswith("node1: podnet_mode 'bgp' switches node1 from hostgw, which holds '10.244.0.0/24'")
    assert 'set podnet_node_prefix: 24' in problems[0]


@pytest.mark.parametrize('args', [
    ([node()], 'bgp', 24, False),                      # same length anyway
    ([node()], 'bgp', 26, True),                       # the inventory chose to renumber
    ([node(pin='10.244.64.0/26')], 'bgp', 26, False),  # the node's subnet is pinned
    ([node(mode='bgp')], 'bgp', 26, False),            # no switch: the recorded subnet check applies as before
    ([node(mode=None)], 'bgp', 26, False),
])
def test_no_switch_problem_when_the_subnets_stay_or_the_inventory_decides(args):
    assert switch_problems(*args) == []


def test_an_unknown_recorded_mode_is_refused_with_the_way_out():
    problems = switch_problems([node(mode='vxlan')], 'bgp', 24, True)
    assert len(problems) == 1
    assert "node1: recorded mode 'vxlan'" in problems[0]
    assert 'playbooks/remove.yml --limit node1' in problems[0]


def recorded(mode, prefix=24):
    hosts = three_hosts()
    for index, hostvars in enumerate(hosts):
        hostvars['ansible_local'] = {'podnet': {'mode': mode, 'pod_cidr': '10.244.%d.0/%d' % (index, prefix),
                                                'managed_by': 'podnet.netmodes'}}
    return hosts


def test_the_plan_gives_every_node_its_switch_from_its_recorded_mode():
    result = cluster_plan(recorded('bgp'), dict(SETTINGS, podnet_mode='hostgw'))
    assert result['problems'] == []
    assert [result['nodes'][name]['switch'] for name in ('node1', 'node2', 'node3')] == [
        {'from': 'bgp', 'remove': ['bird', 'block_route']}] * 3
    # Recorded /24s are kept.
    assert result['nodes']['node2']['pod_cidr'] == '10.244.1.0/24'


def test_the_plan_has_no_switch_when_the_mode_stays():
    result = cluster_plan(recorded('hostgw'), dict(SETTINGS, podnet_mode='hostgw'))
    assert [part['switch'] for part in result['nodes'].values()] == [None] * 3


def test_the_plan_refuses_a_switch_to_bgp_that_would_renumber_and_plans_it_with_the_prefix_set():
    refused = cluster_plan(recorded('hostgw'), dict(SETTINGS, podnet_mode='bgp'))
    assert len(refused['problems']) == 3 and refused['nodes'] == {}
    assert all('set podnet_node_prefix: 24' in text for text in refused['problems'])
    planned = cluster_plan(recorded('hostgw'), dict(SETTINGS, podnet_mode='bgp', podnet_node_prefix=24))
    assert planned['problems'] == []
    assert planned['nodes']['node3']['pod_cidr'] == '10.244.2.0/24'
    assert planned['nodes']['node3']['switch'] == {'from': 'hostgw', 'remove': ['peer_routes', 'bridge']}
