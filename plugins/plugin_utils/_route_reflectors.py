# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rack-aware rendezvous (highest random weight) choice of BGP route reflectors."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib

from ansible_collections.podnet.netmodes.plugins.module_utils._rules import parse_int
from ansible_collections.podnet.netmodes.plugins.plugin_utils._values import (
    ALL_HOSTS,
    node_name_problems,
    parse_bool,
    problem,
    raise_problems,
)

FILTER_NAME = 'select_route_reflectors'


def rendezvous_score(rack, name):
    """A stable score; Python's hash() is salted per process, so it cannot be used here."""
    digest = hashlib.sha256(('%s\0%s' % (rack, name)).encode('utf-8')).digest()
    return int.from_bytes(digest[:8], 'big')


def rack_of(node):
    rack = node.get('rack')
    return '' if rack is None else str(rack)


def _eligibility(node):
    """Return (eligible, problem or None)."""
    value = node.get('rr_eligible')
    if value is None:
        return True, None
    eligible, reason = parse_bool(value)
    if reason:
        return False, problem(node['name'], 'rr_eligible', value, reason,
                              'set podnet_rr_eligible for %s to true or false.' % node['name'])
    return eligible, None


def _rack_label(rack):
    return "rack '%s'" % rack if rack else 'the default rack (nodes without podnet_rack)'


def _racks(nodes):
    """Return (rack -> {'members': names, 'eligible': names}, problems)."""
    racks = {}
    problems = []
    for node in nodes:
        rack = racks.setdefault(rack_of(node), {'members': [], 'eligible': []})
        rack['members'].append(node['name'])
        eligible, bad = _eligibility(node)
        if bad:
            problems.append(bad)
        elif eligible:
            rack['eligible'].append(node['name'])
    return racks, problems


def _short_rack_problem(rack, members, eligible, per_rack):
    fix = 'set podnet_rr_eligible true on more nodes of %s' % _rack_label(rack)
    if eligible:
        fix += ' or lower podnet_bgp_rr_per_rack to %d' % len(eligible)
    return ('%s: %s has %d node(s) eligible as route reflector (%s) but podnet_bgp_rr_per_rack is %d. Fix: %s.'
            % (', '.join(members), _rack_label(rack), len(eligible), ', '.join(eligible) or 'none', per_rack, fix))


def select_route_reflectors(nodes, per_rack=2):
    """Return the sorted names of the per_rack highest-scoring eligible nodes of every rack."""
    raise_problems(FILTER_NAME, node_name_problems(nodes))
    count, reason = parse_int(per_rack)
    if reason is None and count < 1:
        reason = 'is less than 1'
    if reason:
        raise_problems(FILTER_NAME, [problem(ALL_HOSTS, 'per_rack', per_rack, reason,
                                             'set podnet_bgp_rr_per_rack to an integer of at least 1, such as 2.')])
    racks, problems = _racks(nodes)
    chosen = []
    for rack in sorted(racks):
        eligible = racks[rack]['eligible']
        if len(eligible) < count:
            problems.append(_short_rack_problem(rack, racks[rack]['members'], eligible, count))
            continue
        ranked = sorted(eligible, key=lambda name: (rendezvous_score(rack, name), name), reverse=True)
        chosen.extend(ranked[:count])
    raise_problems(FILTER_NAME, problems)
    return sorted(chosen)
