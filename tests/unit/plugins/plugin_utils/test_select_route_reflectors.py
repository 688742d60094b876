# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import collections
import os
import subprocess
import sys

import pytest
from hypothesis import assume, given, settings, strategies as st

from ansible_collections.podnet.netmodes.plugins.plugin_utils._values import PodnetProblems
from ansible_collections.podnet.netmodes.plugins.plugin_utils._route_reflectors import select_route_reflectors as select
from ansible_collections.podnet.netmodes.plugins.plugin_utils._route_reflectors import rendezvous_score


def rack_nodes(layout):
    """layout: rack -> number of nodes; names are <rack>-n<i>."""
    return [{'name': '%s-n%d' % (rack, i), 'rack': rack} for rack, count in layout.items() for i in range(count)]


def test_takes_highest_scores_per_rack():
    nodes = rack_nodes({'r1': 5, 'r2': 4})
    expected = []
    for rack in ('r1', 'r2'):
        members = [n['name'] for n in nodes if n['rack'] == rack]
        expected += sorted(members, key=lambda name: rendezvous_score(rack, name), reverse=True)[:2]
    assert select(nodes) == sorted(expected)


SELECT_IN_SUBPROCESS = (
    "import sys; sys.path.insert(0, sys.argv[1]);"
    "from ansible_collections.podnet.netmodes.plugins.plugin_utils._route_reflectors import select_route_reflectors;"
    "print(select_route_reflectors([{'name': 'node%d' % i, 'rack': 'r%d' % (i % 3)} for i in range(30)], 2))"
)


def test_choice_does_not_depend_on_the_interpreter_hash_seed():
    collections_dir = [path for path in sys.path if path.endswith('.collections')][0]
    outputs = set()
    for seed in ('1', '2', '3'):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        outputs.add(subprocess.check_output([sys.executable, '-c', SELECT_IN_SUBPROCESS, collections_dir], env=env))
    assert len(outputs) == 1


def test_nodes_without_rack_form_one_rack():
    nodes = [{'name': 'a'}, {'name': 'b'}, {'name': 'c', 'rack': None}]
    assert len(select(nodes, 2)) == 2


def test_ineligible_as_string_is_understood():
    nodes = [{'name': 'a', 'rr_eligible': 'false'}, {'name': 'b'}, {'name': 'c'}]
    assert select(nodes, 2) == ['b', 'c']


ERROR_CASES = [
    pytest.param([{'name': 'a', 'rack': 'r1'}, {'name': 'b', 'rack': 'r1', 'rr_eligible': False}], 2,
                 ["a, b: rack 'r1' has 1 node(s) eligible", '(a)', 'podnet_bgp_rr_per_rack is 2',
                  'Fix: set podnet_rr_eligible true on more nodes', 'lower podnet_bgp_rr_per_rack to 1'],
                 id='rack-short'),
    pytest.param([{'name': 'a', 'rr_eligible': False}], 1,
                 ['a: the default rack (nodes without podnet_rack) has 0 node(s)', '(none)', 'Fix:'],
                 id='no-rack-none-eligible'),
    pytest.param([{'name': 'a', 'rr_eligible': 'maybe'}, {'name': 'b'}], 1,
                 ['a: podnet_rr_eligible', "'maybe'", 'not a boolean', 'Fix:'], id='eligible-not-bool'),
    pytest.param([{'name': 'a'}], 0, ['podnet_bgp_rr_per_rack 0', 'less than 1', 'Fix:'], id='per-rack-zero'),
    pytest.param([{'name': 'a'}], 'two', ['podnet_bgp_rr_per_rack', "'two'", 'not an integer', 'Fix:'],
                 id='per-rack-text'),
]


@pytest.mark.parametrize('nodes, per_rack, fragments', ERROR_CASES)
def test_errors_name_hosts_variable_value_and_fix(nodes, per_rack, fragments):
    with pytest.raises(PodnetProblems) as caught:
        select(nodes, per_rack)
    for fragment in fragments:
        assert fragment in str(caught.value)


# ---- properties ---------------------------------------------------------------------------------

@st.composite
def clusters(draw):
    """Nodes spread over up to four racks (one may be the rackless ''), some ineligible."""
    names = draw(st.lists(st.text('abcdefgh0123', min_size=1, max_size=5), unique=True, min_size=1, max_size=30))
    nodes = []
    for name in names:
        rack = draw(st.sampled_from(['', 'r1', 'r2', 'r3']))
        eligible = draw(st.sampled_from([True, True, True, False]))
        nodes.append({'name': name, 'rack': rack or None, 'rr_eligible': eligible})
    return nodes


per_racks = st.integers(min_value=1, max_value=3)
PROPERTY = settings(max_examples=80, deadline=None)


def eligible_by_rack(nodes):
    racks = collections.defaultdict(list)
    for node in nodes:
        racks[node.get('rack') or '']
        if node['rr_eligible']:
            racks[node.get('rack') or ''].append(node['name'])
    return racks


def selectable(nodes, per_rack):
    return all(len(names) >= per_rack for names in eligible_by_rack(nodes).values())


def rack_by_name(nodes):
    return dict((n['name'], n.get('rack') or '') for n in nodes)


@PROPERTY
@given(clusters(), per_racks, st.randoms(use_true_random=False))
def test_choice_is_deterministic_and_order_independent(nodes, per_rack, rnd):
    assume(selectable(nodes, per_rack))
    shuffled = list(nodes)
    rnd.shuffle(shuffled)
    assert select(shuffled, per_rack) == select(nodes, per_rack) == select(list(nodes), per_rack)


@PROPERTY
@given(clusters(), per_racks)
def test_every_rack_gets_exactly_per_rack_eligible_reflectors(nodes, per_rack):
    if not selectable(nodes, per_rack):
        with pytest.raises(PodnetProblems):
            select(nodes, per_rack)
        return
    chosen = select(nodes, per_rack)
    assert chosen == sorted(chosen)
    racks = rack_by_name(nodes)
    eligible = set(n['name'] for n in nodes if n['rr_eligible'])
    assert set(chosen) <= eligible
    counts = collections.Counter(racks[name] for name in chosen)
    assert dict(counts) == dict((rack, per_rack) for rack in eligible_by_rack(nodes))


@PROPERTY
@given(clusters(), per_racks, st.data())
def test_adding_or_removing_non_reflectors_never_moves_a_reflector(nodes, per_rack, data):
    assume(selectable(nodes, per_rack))
    chosen = select(nodes, per_rack)
    others = [n for n in nodes if n['name'] not in chosen]
    removed = data.draw(st.lists(st.sampled_from(others), unique_by=lambda n: n['name'])) if others else []
    removed_names = set(n['name'] for n in removed)
    fewer = [n for n in nodes if n['name'] not in removed_names]
    assert select(fewer, per_rack) == chosen
    existing_racks = sorted(set(n['rack'] or '' for n in nodes))
    added = [{'name': 'new-%d' % i, 'rack': data.draw(st.sampled_from(existing_racks)) or None,
              'rr_eligible': data.draw(st.booleans())} for i in range(data.draw(st.integers(0, 5)))]
    after = select(nodes + added, per_rack)
    racks = rack_by_name(nodes + added)
    new_reflectors = set(after) & set(n['name'] for n in added)
    if not new_reflectors:
        assert after == chosen
    displaced = set(chosen) - set(after)
    assert set(after) - new_reflectors == set(chosen) - displaced
    assert sorted(racks[name] for name in displaced) == sorted(racks[name] for name in new_reflectors)


@PROPERTY
@given(clusters(), per_racks, st.data())
def test_losing_a_reflector_replaces_only_that_one(nodes, per_rack, data):
    assume(selectable(nodes, per_rack))
    chosen = select(nodes, per_rack)
    lost = data.draw(st.sampled_from(chosen))
    remaining = [n for n in nodes if n['name'] != lost]
    if not selectable(remaining, per_rack):
        with pytest.raises(PodnetProblems, match='eligible as route reflector'):
            select(remaining, per_rack)
        return
    after = select(remaining, per_rack)
    assert set(chosen) - set(after) == set([lost])
    racks = rack_by_name(nodes)
    replacements = set(after) - set(chosen)
    if any(racks[n['name']] == racks[lost] for n in remaining):
        assert [racks[name] for name in replacements] == [racks[lost]]
    else:
        assert replacements == set()
