# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import itertools

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.podnet.netmodes.plugins.plugin_utils._values import PodnetProblems
from ansible_collections.podnet.netmodes.plugins.plugin_utils._bgp_topology import bgp_topology as topology
from ansible_collections.podnet.netmodes.plugins.plugin_utils import _bgp_topology
from ansible_collections.podnet.netmodes.plugins.plugin_utils._route_reflectors import select_route_reflectors


def make_nodes(layout):
    """layout: list of (rack, count); names are <rack>-n<i>, addresses 10.0.<rack index>.<i>."""
    return [{'name': '%s-n%d' % (rack or 'x', i), 'node_ip': '10.0.%d.%d' % (r, i + 1), 'rack': rack}
            for r, (rack, count) in enumerate(layout) for i in range(count)]


def peer_names(result, name):
    return [peer['name'] for peer in result['nodes'][name]['peers']]


def pairs(result):
    return set(frozenset((name, peer['name'])) for name, node in result['nodes'].items() for peer in node['peers'])


def test_small_cluster_is_a_full_mesh():
    nodes = make_nodes([('r1', 3), ('r2', 2)])
    result = topology(nodes, {'as_number': 64512})
    assert result['topology'] == 'mesh'
    assert result['route_reflectors'] == []
    assert result['as_number'] == 64512
    assert result['sessions'] == 5 * 4 // 2
    for node in nodes:
        entry = result['nodes'][node['name']]
        assert entry['role'] == 'mesh'
        assert entry['cluster_id'] is None
        assert peer_names(result, node['name']) == sorted(n['name'] for n in nodes if n is not node)
        assert not any(peer['rr_client'] for peer in entry['peers'])


def test_peers_carry_the_node_ip():
    nodes = make_nodes([('r1', 2)])
    result = topology(nodes, {})
    assert result['nodes']['r1-n0']['peers'] == [{'name': 'r1-n1', 'ip': '10.0.0.2', 'rr_client': False}]


@pytest.mark.parametrize('count', [0, 1])
def test_tiny_clusters_have_no_sessions(count):
    result = topology(make_nodes([('', count)]), {})
    assert result['topology'] == 'mesh'
    assert result['sessions'] == 0


def test_mesh_up_to_the_threshold_then_reflectors():
    nodes = make_nodes([('r1', 4)])
    assert topology(nodes, {'mesh_max_nodes': 4})['topology'] == 'mesh'
    assert topology(nodes, {'mesh_max_nodes': '4'})['topology'] == 'mesh'
    assert topology(nodes, {'mesh_max_nodes': 3})['topology'] == 'route-reflectors'


def test_default_threshold_is_50():
    assert topology(make_nodes([('r1', 50)]), {})['topology'] == 'mesh'
    assert topology(make_nodes([('r1', 51)]), {})['topology'] == 'route-reflectors'


def test_given_group_forces_reflectors_even_when_small():
    nodes = make_nodes([('r1', 3)])
    result = topology(nodes, {'route_reflectors': ['r1-n2'], 'mesh_max_nodes': 50})
    assert result['topology'] == 'route-reflectors'
    assert result['route_reflectors'] == ['r1-n2']
    assert peer_names(result, 'r1-n0') == ['r1-n2']
    assert result['sessions'] == 2


@pytest.mark.parametrize('empty', [None, []])
def test_empty_group_means_not_given(empty):
    assert topology(make_nodes([('r1', 3)]), {'route_reflectors': empty})['topology'] == 'mesh'


def test_one_rack_of_six_past_threshold():
    nodes = make_nodes([('r1', 6)])
    result = topology(nodes, {'mesh_max_nodes': 2})
    reflectors = result['route_reflectors']
    assert reflectors == select_route_reflectors(nodes, 2)
    assert len(reflectors) == 2
    for node in nodes:
        name = node['name']
        entry = result['nodes'][name]
        if name in reflectors:
            assert entry['role'] == 'rr'
            assert len(entry['peers']) == 5
            other_rr = [p for p in entry['peers'] if p['name'] in reflectors]
            assert [p['rr_client'] for p in other_rr] == [False]
            assert all(p['rr_client'] for p in entry['peers'] if p['name'] not in reflectors)
        else:
            assert entry['role'] == 'client'
            assert entry['cluster_id'] is None
            assert peer_names(result, name) == reflectors
            assert not any(p['rr_client'] for p in entry['peers'])
    assert result['nodes'][reflectors[0]]['cluster_id'] == result['nodes'][reflectors[1]]['cluster_id']
    assert result['sessions'] == 4 * 2 + 1


def test_several_racks():
    nodes = make_nodes([('r1', 5), ('r2', 4), ('', 3)])
    result = topology(nodes, {'mesh_max_nodes': 0, 'rr_per_rack': 2})
    racks = dict((n['name'], n['rack'] or '') for n in nodes)
    reflectors = result['route_reflectors']
    assert len(reflectors) == 6
    for name, entry in result['nodes'].items():
        if entry['role'] == 'client':
            assert peer_names(result, name) == sorted(r for r in reflectors if racks[r] == racks[name])
        else:
            assert set(reflectors) - set([name]) <= set(peer_names(result, name))
            clients = [p['name'] for p in entry['peers'] if p['rr_client']]
            assert all(racks[c] == racks[name] for c in clients)
    ids = dict((racks[r], result['nodes'][r]['cluster_id']) for r in reflectors)
    for r in reflectors:
        assert result['nodes'][r]['cluster_id'] == ids[racks[r]]
    assert len(set(ids.values())) == 3
    assert '0.0.0.0' not in ids.values()
    # 6 reflectors full mesh, each of 6 clients to 2 reflectors
    assert result['sessions'] == 15 + 12


def test_cluster_id_depends_only_on_the_rack():
    nodes = make_nodes([('r1', 6)])
    before = topology(nodes, {'mesh_max_nodes': 0})
    lost = before['route_reflectors'][0]
    after = topology([n for n in nodes if n['name'] != lost], {'mesh_max_nodes': 0})
    assert lost not in after['route_reflectors']
    assert set(after['nodes'][r]['cluster_id'] for r in after['route_reflectors']) == \
        set([before['nodes'][before['route_reflectors'][1]]['cluster_id']])


def test_rack_without_reflectors_uses_all_of_them():
    nodes = make_nodes([('r1', 2), ('r2', 2)])
    result = topology(nodes, {'route_reflectors': ['r1-n0', 'r1-n1']})
    assert peer_names(result, 'r2-n0') == ['r1-n0', 'r1-n1']
    assert [p['rr_client'] for p in result['nodes']['r1-n0']['peers']] == [False, True, True]


def test_repeated_group_members_count_once():
    result = topology(make_nodes([('r1', 3)]), {'route_reflectors': ['r1-n1', 'r1-n1']})
    assert result['route_reflectors'] == ['r1-n1']


ERROR_CASES = [
    pytest.param({'route_reflectors': ['r1-n0', 'ghost']},
                 ['ghost: is in group podnet_route_reflectors but not in group podnet_nodes', 'Fix: add ghost'], id='unknown-rr'),
    pytest.param({'route_reflectors': 'r1-n0'}, ['podnet_route_reflectors', 'not a list', 'Fix:'], id='group-not-list'),
    pytest.param({'mesh_max_nodes': 'many'}, ['podnet_bgp_mesh_max_nodes', "'many'", 'not an integer', 'Fix:'], id='max-text'),
    pytest.param({'mesh_max_nodes': -1}, ['podnet_bgp_mesh_max_nodes -1 is negative', 'Fix:'], id='max-negative'),
    pytest.param({'mesh_max_nodes': 0, 'rr_per_rack': 5}, ['podnet_bgp_rr_per_rack is 5', 'Fix:'], id='rack-short'),
]


@pytest.mark.parametrize('config, fragments', ERROR_CASES)
def test_errors_name_host_and_fix(config, fragments):
    with pytest.raises(PodnetProblems) as caught:
        topology(make_nodes([('r1', 3)]), config)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_duplicate_node_names_are_refused():
    with pytest.raises(PodnetProblems, match='appears more than once'):
        topology([{'name': 'a'}, {'name': 'a'}], {})


def test_clashing_cluster_ids_are_refused(monkeypatch):
    monkeypatch.setattr(_bgp_topology, 'cluster_id', lambda rack: '1.2.3.4')
    with pytest.raises(PodnetProblems, match="racks 'r1', 'r2' hash to the same"):
        topology(make_nodes([('r1', 2), ('r2', 2)]), {'mesh_max_nodes': 0, 'rr_per_rack': 1})


def test_cluster_id_is_never_zero(monkeypatch):
    class Zeros(object):
        def __init__(self, data):
            pass

        def digest(self):
            return b'\0' * 4 + b'\x0a\0\0\x01' + b'\0' * 24

    monkeypatch.setattr(_bgp_topology.hashlib, 'sha256', Zeros)
    assert _bgp_topology.cluster_id('r1') == '10.0.0.1'


# ---- properties ---------------------------------------------------------------------------------

@st.composite
def clusters(draw):
    """Nodes over up to four racks, two eligible per rack at least, with mesh or reflector settings."""
    names = draw(st.lists(st.text('abcdefgh0123', min_size=1, max_size=4), unique=True, min_size=0, max_size=25))
    nodes = [{'name': name, 'node_ip': '10.1.0.%d' % (i + 1), 'rack': draw(st.sampled_from([None, '', 'r1', 'r2', 'r3']))}
             for i, name in enumerate(names)]
    config = {'mesh_max_nodes': draw(st.integers(0, 30)), 'rr_per_rack': 1, 'as_number': 64512}
    if nodes and draw(st.booleans()):
        config['route_reflectors'] = draw(st.lists(st.sampled_from(names), min_size=1, max_size=5))
    return nodes, config


PROPERTY = settings(max_examples=100, deadline=None)


@PROPERTY
@given(clusters())
def test_peering_is_symmetric_and_flags_agree(cluster):
    nodes, config = cluster
    result = topology(nodes, config)
    for name, entry in result['nodes'].items():
        assert name not in peer_names(result, name)
        for peer in entry['peers']:
            back = [p for p in result['nodes'][peer['name']]['peers'] if p['name'] == name]
            assert len(back) == 1
            assert not (peer['rr_client'] and back[0]['rr_client'])
            if peer['rr_client']:
                assert entry['role'] == 'rr' and result['nodes'][peer['name']]['role'] == 'client'


@PROPERTY
@given(clusters(), st.randoms(use_true_random=False))
def test_result_is_deterministic(cluster, rnd):
    nodes, config = cluster
    first = topology(nodes, config)
    assert topology([dict(n) for n in nodes], dict(config)) == first
    shuffled = list(nodes)
    rnd.shuffle(shuffled)
    again = topology(shuffled, config)
    assert again == first


@PROPERTY
@given(clusters())
def test_sessions_count_distinct_pairs(cluster):
    nodes, config = cluster
    result = topology(nodes, config)
    assert result['sessions'] == len(pairs(result))
    if result['topology'] == 'mesh':
        assert result['sessions'] == len(nodes) * (len(nodes) - 1) // 2


@PROPERTY
@given(clusters())
def test_reflectors_mesh_and_clients_stay_in_their_rack(cluster):
    nodes, config = cluster
    result = topology(nodes, config)
    if result['topology'] == 'mesh':
        return
    reflectors = result['route_reflectors']
    racks = dict((n['name'], n['rack'] or '') for n in nodes)
    for a, b in itertools.combinations(reflectors, 2):
        assert frozenset((a, b)) in pairs(result)
    for name, entry in result['nodes'].items():
        if entry['role'] != 'client':
            continue
        local = [r for r in reflectors if racks[r] == racks[name]]
        assert peer_names(result, name) == (local or reflectors)
