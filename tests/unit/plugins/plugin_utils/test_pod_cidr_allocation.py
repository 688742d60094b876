# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import ipaddress
import re

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.podnet.netmodes.plugins.module_utils import _rules
from ansible_collections.podnet.netmodes.plugins.plugin_utils import _pod_cidr, _values
from ansible_collections.podnet.netmodes.plugins.plugin_utils._values import PodnetProblems
from ansible_collections.podnet.netmodes.plugins.plugin_utils._pod_cidr import allocate_pod_cidrs as allocate


FACT_FILE = '/etc/ansible/facts.d/podnet.fact'


def nodes_named(*names, **extra):
    return [dict(name=name, **extra.get(name, {})) for name in names]


def with_recorded(nodes, allocation):
    return [dict(node, recorded_pod_cidr=allocation[node['name']]) for node in nodes]


def test_new_nodes_take_lowest_free_subnets_in_name_order():
    nodes = nodes_named('node3', 'node1', 'node2')
    assert allocate(nodes, '10.244.0.0/16', 24) == {
        'node3': '10.244.2.0/24', 'node1': '10.244.0.0/24', 'node2': '10.244.1.0/24'}


def test_override_and_recorded_are_kept_and_skipped_by_new_nodes():
    nodes = [
        {'name': 'a', 'pod_cidr': '10.244.0.0/23'},
        {'name': 'b', 'recorded_pod_cidr': '10.244.2.0/24'},
        {'name': 'c'},
    ]
    assert allocate(nodes, '10.244.0.0/16', 24) == {'a': '10.244.0.0/23', 'b': '10.244.2.0/24', 'c': '10.244.3.0/24'}


def test_override_wins_over_recorded_subnet_of_the_same_node():
    nodes = [{'name': 'a', 'pod_cidr': '10.244.9.0/24', 'recorded_pod_cidr': 'garbage'}]
    assert allocate(nodes, '10.244.0.0/16', 24) == {'a': '10.244.9.0/24'}


def test_small_override_blocks_the_whole_slot_it_sits_in():
    nodes = [{'name': 'a', 'pod_cidr': '10.244.0.128/26'}, {'name': 'b'}]
    assert allocate(nodes, '10.244.0.0/16', 24)['b'] == '10.244.1.0/24'


def test_huge_pool_is_cheap():
    nodes = nodes_named('a', 'b', **{'a': {'pod_cidr': '10.128.0.0/9'}})
    assert allocate(nodes, '10.0.0.0/8', 30) == {'a': '10.128.0.0/9', 'b': '10.0.0.0/30'}


def test_string_prefix_is_accepted():
    assert allocate(nodes_named('a'), '10.244.0.0/16', '24') == {'a': '10.244.0.0/24'}


ERROR_CASES = [
    pytest.param(
        [{'name': 'node2', 'pod_cidr': '10.244.300.0/24'}], '10.244.0.0/16', 24,
        ['node2: podnet_pod_cidr', "'10.244.300.0/24'", 'not a valid IPv4 network', 'Fix: set podnet_pod_cidr for node2'],
        id='override-invalid'),
    pytest.param(
        [{'name': 'node2', 'pod_cidr': '10.244.3.7/24'}], '10.244.0.0/16', 24,
        ['node2: podnet_pod_cidr', "'10.244.3.7/24'", 'host bits', '10.244.3.0/24', 'Fix:'],
        id='override-host-bits'),
    pytest.param(
        [{'name': 'node2', 'pod_cidr': '10.99.0.0/24'}], '10.244.0.0/16', 24,
        ['node2: podnet_pod_cidr', "'10.99.0.0/24'", 'outside podnet_cluster_cidr 10.244.0.0/16',
         'Fix: choose a podnet_pod_cidr for node2 inside 10.244.0.0/16'],
        id='override-outside'),
    pytest.param(
        [{'name': 'node1', 'pod_cidr': '10.244.0.0/23'}, {'name': 'node2', 'pod_cidr': '10.244.1.0/24'}],
        '10.244.0.0/16', 24,
        ['node2: podnet_pod_cidr', "'10.244.1.0/24'", 'overlaps', '10.244.0.0/23', 'node1', 'Fix:'],
        id='overrides-overlap'),
    pytest.param(
        [{'name': 'node1', 'recorded_pod_cidr': '10.244.5.0/24'}, {'name': 'node2', 'pod_cidr': '10.244.5.0/24'}],
        '10.244.0.0/16', 24,
        ['node2: podnet_pod_cidr', "'10.244.5.0/24'", 'node1 recorded', 'Fix:', FACT_FILE],
        id='override-overlaps-recorded'),
    pytest.param(
        [{'name': 'node1', 'recorded_pod_cidr': '10.200.5.0/24'}], '10.244.0.0/16', 24,
        ['node1: recorded pod CIDR', "'10.200.5.0/24'", 'no longer inside podnet_cluster_cidr 10.244.0.0/16',
         'Fix: remove ' + FACT_FILE + ' on node1', 'podnet_pod_cidr'],
        id='recorded-outside'),
    pytest.param(
        [{'name': 'node1', 'recorded_pod_cidr': '10.244.4.0/23'}], '10.244.0.0/16', 24,
        ['node1: recorded pod CIDR', "'10.244.4.0/23'", '/23', 'podnet_node_prefix is now 24', 'Fix: remove'],
        id='recorded-other-prefix'),
    pytest.param(
        [{'name': 'node1', 'recorded_pod_cidr': '10.244.4.0/24'}, {'name': 'node2', 'recorded_pod_cidr': '10.244.4.0/24'}],
        '10.244.0.0/16', 24,
        ['node2: recorded pod CIDR', "'10.244.4.0/24'", 'also recorded by node1', 'Fix: remove'],
        id='recorded-twice'),
    pytest.param(
        nodes_named('n1', 'n2', 'n3', 'n4', 'n5'), '10.244.0.0/23', 24,
        ['n3, n4, n5: got no pod subnet', 'podnet_cluster_cidr 10.244.0.0/23 holds 2 subnet(s) of /24',
         '5 nodes', 'Fix:', 'larger podnet_cluster_cidr (such as 10.244.0.0/21)', 'longer podnet_node_prefix (such as 26)'],
        id='exhausted'),
    pytest.param(
        nodes_named('n1'), '10.244.0.0/33', 24,
        ['podnet_cluster_cidr', "'10.244.0.0/33'", 'not a valid IPv4 network', 'Fix: set podnet_cluster_cidr'],
        id='cluster-invalid'),
    pytest.param(
        nodes_named('n1'), '10.244.0.0/16', 31,
        ['podnet_node_prefix', '31', 'longer than 30', 'Fix: set podnet_node_prefix'],
        id='prefix-too-long'),
    pytest.param(
        nodes_named('n1'), '10.244.0.0/16', 'big',
        ['podnet_node_prefix', "'big'", 'not an integer', 'Fix:'],
        id='prefix-not-int'),
    pytest.param(
        nodes_named('n1', 'n1'), '10.244.0.0/16', 24,
        ["n1: name 'n1' appears more than once", 'Fix:'],
        id='duplicate-name'),
]


@pytest.mark.parametrize('nodes, cluster_cidr, node_prefix, fragments', ERROR_CASES)
def test_errors_name_host_variable_value_and_fix(nodes, cluster_cidr, node_prefix, fragments):
    with pytest.raises(PodnetProblems) as caught:
        allocate(nodes, cluster_cidr, node_prefix)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_all_problems_are_reported_together():
    nodes = [{'name': 'a', 'pod_cidr': 'nope'}, {'name': 'b', 'recorded_pod_cidr': '10.1.0.0/24'}]
    with pytest.raises(PodnetProblems) as caught:
        allocate(nodes, '10.244.0.0/16', 24)
    assert 'found 2 problem(s)' in str(caught.value)
    assert 'a: podnet_pod_cidr' in str(caught.value) and 'b: recorded pod CIDR' in str(caught.value)


# ---- properties ---------------------------------------------------------------------------------

names = st.lists(st.text('abcdefghij0123456789-', min_size=1, max_size=6), unique=True, max_size=20)


@st.composite
def pools(draw):
    cluster_prefix = draw(st.integers(min_value=12, max_value=24))
    base = draw(st.integers(min_value=0, max_value=2 ** 32 - 1))
    cluster = ipaddress.IPv4Network((base, cluster_prefix), strict=False)
    node_prefix = cluster_prefix + draw(st.integers(min_value=1, max_value=5))
    return cluster, node_prefix


def pool_size(cluster, node_prefix):
    return 2 ** (node_prefix - cluster.prefixlen)


def fits(cluster, node_prefix, count):
    return count <= pool_size(cluster, node_prefix)


PROPERTY = settings(max_examples=60, deadline=None)


def assert_disjoint_and_inside(allocation, cluster):
    networks = [ipaddress.IPv4Network(value) for value in allocation.values()]
    for index, network in enumerate(networks):
        assert network.subnet_of(cluster)
        for other in networks[index + 1:]:
            assert not network.overlaps(other)


@PROPERTY
@given(pools(), names)
def test_exhaustion_raises_exactly_when_nodes_exceed_pool(pool, node_names):
    cluster, node_prefix = pool
    nodes = nodes_named(*node_names)
    if fits(cluster, node_prefix, len(nodes)):
        allocation = allocate(nodes, str(cluster), node_prefix)
        assert sorted(allocation) == sorted(node_names)
        assert_disjoint_and_inside(allocation, cluster)
        assert all(ipaddress.IPv4Network(v).prefixlen == node_prefix for v in allocation.values())
    else:
        with pytest.raises(PodnetProblems, match='pool is exhausted'):
            allocate(nodes, str(cluster), node_prefix)


@PROPERTY
@given(pools(), names)
def test_suggested_fixes_for_exhaustion_work(pool, node_names):
    cluster, node_prefix = pool
    nodes = nodes_named(*node_names)
    if fits(cluster, node_prefix, len(nodes)):
        return
    with pytest.raises(PodnetProblems) as caught:
        allocate(nodes, str(cluster), node_prefix)
    message = str(caught.value)
    bigger = re.search(r'larger podnet_cluster_cidr \(such as (\S+)\)', message)
    longer = re.search(r'longer podnet_node_prefix \(such as (\d+)\)', message)
    assert bigger or longer
    if bigger:
        assert len(allocate(nodes, bigger.group(1), node_prefix)) == len(nodes)
    if longer:
        assert len(allocate(nodes, str(cluster), int(longer.group(1)))) == len(nodes)


@PROPERTY
@given(pools(), names, st.data())
def test_overrides_are_honoured_and_nothing_overlaps(pool, node_names, data):
    cluster, node_prefix = pool
    slots = list(cluster.subnets(new_prefix=node_prefix))
    pinned = data.draw(st.lists(st.sampled_from(node_names), unique=True)) if node_names else []
    picks = data.draw(st.lists(st.sampled_from(range(len(slots))), unique=True,
                               min_size=min(len(pinned), len(slots)), max_size=min(len(pinned), len(slots))))
    overrides = dict((name, str(slots[pick])) for name, pick in zip(pinned, picks))
    nodes = [dict(name=n, pod_cidr=overrides.get(n)) for n in node_names]
    if not fits(cluster, node_prefix, len(nodes)):
        return
    allocation = allocate(nodes, str(cluster), node_prefix)
    assert_disjoint_and_inside(allocation, cluster)
    for name, value in overrides.items():
        assert allocation[name] == value


@PROPERTY
@given(pools(), names, st.randoms(use_true_random=False))
def test_result_does_not_depend_on_inventory_order(pool, node_names, rnd):
    cluster, node_prefix = pool
    if not fits(cluster, node_prefix, len(node_names)):
        return
    nodes = nodes_named(*node_names)
    shuffled = list(nodes)
    rnd.shuffle(shuffled)
    assert allocate(shuffled, str(cluster), node_prefix) == allocate(nodes, str(cluster), node_prefix)


@PROPERTY
@given(pools(), names, names)
def test_adding_nodes_never_renumbers_existing_ones(pool, old_names, added_names):
    cluster, node_prefix = pool
    added_names = [n for n in added_names if n not in old_names]
    if not fits(cluster, node_prefix, len(old_names) + len(added_names)):
        return
    before = allocate(nodes_named(*old_names), str(cluster), node_prefix)
    grown = with_recorded(nodes_named(*old_names), before) + nodes_named(*added_names)
    after = allocate(grown, str(cluster), node_prefix)
    for name in old_names:
        assert after[name] == before[name]
    assert_disjoint_and_inside(after, cluster)


@PROPERTY
@given(pools(), names, st.data())
def test_removing_nodes_never_renumbers_the_rest(pool, node_names, data):
    cluster, node_prefix = pool
    if not fits(cluster, node_prefix, len(node_names)):
        return
    before = allocate(nodes_named(*node_names), str(cluster), node_prefix)
    kept = data.draw(st.lists(st.sampled_from(node_names), unique=True)) if node_names else []
    after = allocate(with_recorded(nodes_named(*kept), before), str(cluster), node_prefix)
    assert after == dict((name, before[name]) for name in kept)


# ---- the indexed overlap checks give what a walk over every pair gives ----------------------------------------

def reference_check_overrides(nodes, cluster, node_prefix=None):
    """check_overrides as a walk over every pair of overrides: the reference for the indexed version."""
    usable = {}
    problems = []
    example = _pod_cidr.example_subnet(cluster, node_prefix,
                                       [_rules.parse_ipv4_network(node.get('pod_cidr'))[0] for node in nodes])
    for node in nodes:
        name, value = node['name'], node.get('pod_cidr')
        if _values.is_unset(value):
            continue
        network, reason = _rules.parse_ipv4_network(value)
        if network is None:
            problems.append(_values.problem(name, 'pod_cidr', value, reason, _pod_cidr._override_fix(name, example)))
        elif network.prefixlen > 30:
            problems.append(_values.problem(name, 'pod_cidr', value, 'is too small to hold a gateway and pods',
                                            _pod_cidr._override_fix(name, example)))
        elif cluster is not None and not network.subnet_of(cluster):
            problems.append(_values.problem(
                name, 'pod_cidr', value, 'is outside podnet_cluster_cidr %s' % cluster,
                'choose a podnet_pod_cidr for %s inside %s (such as %s), or remove it to let podnet allocate one.'
                % (name, cluster, example)))
        else:
            for other, other_network in usable.items():
                if network.overlaps(other_network):
                    problems.append(_values.problem(
                        name, 'pod_cidr', value, 'overlaps podnet_pod_cidr %s of %s' % (other_network, other),
                        'give %s and %s podnet_pod_cidr values that do not overlap, or remove one of them to '
                        'let podnet allocate it.' % (name, other)))
            usable[name] = network
    return usable, problems


def reference_first_overlap(network, named_networks):
    for name, other in named_networks.items():
        if network.overlaps(other):
            return name, other
    return None


def reference_check_recorded(nodes, cluster, node_prefix, overrides):
    kept = {}
    problems = []
    for node in sorted(nodes, key=lambda n: n['name']):
        name, value = node['name'], node.get('recorded_pod_cidr')
        if _values.is_unset(value) or not _values.is_unset(node.get('pod_cidr')):
            continue
        network, reason = _rules.parse_ipv4_network(value)
        if network is None:
            problems.append(_pod_cidr._recorded_problem(name, value, reason))
            continue
        if not network.subnet_of(cluster):
            problems.append(_pod_cidr._recorded_problem(name, value, 'is no longer inside podnet_cluster_cidr %s'
                                                        % cluster))
            continue
        if network.prefixlen != node_prefix:
            problems.append(_pod_cidr._recorded_problem(
                name, value, 'is a /%d but podnet_node_prefix is now %d' % (network.prefixlen, node_prefix)))
            continue
        clash = reference_first_overlap(network, overrides) or reference_first_overlap(network, kept)
        if clash is None:
            kept[name] = network
        elif clash[0] in overrides:
            other = clash[0]
            problems.append(_values.problem(
                other, 'pod_cidr', str(overrides[other]),
                'overlaps %s, which %s recorded at its last run and still uses' % (network, name),
                'choose a podnet_pod_cidr for %s that does not overlap %s, or remove %s on %s so that it gets '
                'a new subnet.' % (other, network, FACT_FILE, name)))
        else:
            problems.append(_pod_cidr._recorded_problem(name, value, 'is also recorded by %s' % clash[0]))
    return kept, problems


# Blocks of many sizes in a small corner of the pool, so that holders, held blocks and equal ones all occur.
crowded_cidrs = st.one_of(
    st.none(), st.just(''), st.just('10.244.0.1/24'), st.just('10.245.0.0/24'), st.just('10.244.0.0/31'),
    st.builds(lambda prefix, slot: str(ipaddress.IPv4Network((0x0AF40000 + (slot << (32 - prefix)) % 2 ** 12,
                                                              prefix), strict=False)),
              st.integers(min_value=17, max_value=30), st.integers(min_value=0, max_value=2 ** 13)))


# Recorded subnets are whole node blocks, so the same few come up again and again.
recorded_cidrs = st.one_of(crowded_cidrs, st.sampled_from(['10.244.0.0/24', '10.244.1.0/24', '10.244.0.0/22',
                                                           '10.244.4.0/22', '10.244.0.0/20']))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(crowded_cidrs, recorded_cidrs), max_size=12), st.sampled_from([None, 20, 22, 24]))
def test_indexed_overlap_checks_equal_a_walk_over_every_pair(cidrs, node_prefix):
    nodes = [{'name': 'n%02d' % index, 'pod_cidr': pin, 'recorded_pod_cidr': recorded}
             for index, (pin, recorded) in enumerate(cidrs)]
    cluster = ipaddress.IPv4Network('10.244.0.0/16')
    for pool in (cluster, None):
        assert _pod_cidr.check_overrides(nodes, pool, node_prefix) == reference_check_overrides(nodes, pool, node_prefix)
    if node_prefix is not None:
        overrides = _pod_cidr.check_overrides(nodes, cluster, node_prefix)[0]
        assert (_pod_cidr.check_recorded(nodes, cluster, node_prefix, overrides)
                == reference_check_recorded(nodes, cluster, node_prefix, overrides))


def test_network_index_finds_holders_held_and_equal_blocks_in_the_order_added():
    index = _pod_cidr.NetworkIndex()
    for name, cidr in (('wide', '10.244.0.0/16'), ('held', '10.244.1.128/25'), ('equal', '10.244.1.0/24'),
                       ('apart', '10.244.2.0/24'), ('holder', '10.244.0.0/23')):
        index.add(name, ipaddress.IPv4Network(cidr))
    found = index.overlapping(ipaddress.IPv4Network('10.244.1.0/24'))
    assert [name for name, _network in found] == ['wide', 'held', 'equal', 'holder']
    assert _pod_cidr.NetworkIndex().overlapping(ipaddress.IPv4Network('10.244.1.0/24')) == []
