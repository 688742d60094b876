# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A change of podnet_mode on a built node: what the old mode built that the new one does not use.

The node's local fact records the mode it was last built in. roles/remove/tasks/switch.yml takes the parts named
here away with the removal tasks of playbooks/remove.yml before the new mode's tasks run; what both modes build
(tunl0, the masquerade table, the units, the CNI config file, which the new mode rewrites) is left to the new mode.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.podnet.netmodes.plugins.module_utils._rules import parse_ipv4_network
from ansible_collections.podnet.netmodes.plugins.plugin_utils._values import POD_CIDR_FACT_FILE, is_unset, problem, quote

# In the order the removal takes them (the reverse of building): BIRD before the routes it exported through tunl0,
# the routes before tunl0, tunl0 before the bridge.
PARTS = ('bird', 'block_route', 'peer_routes', 'tunnel', 'bridge')
# What each mode builds of PARTS. The two kinds of routes differ: bgp's blackhole for the node's own block would
# collide with the bridge's prefix route in hostgw, and hostgw's peer routes would shadow BIRD's in bgp.
BUILDS = {
    'bridge': frozenset(['bridge']),
    'hostgw': frozenset(['bridge', 'peer_routes', 'tunnel']),
    'bgp': frozenset(['bird', 'block_route', 'tunnel']),
}


def switch_part(recorded_mode, mode):
    """The node's switch: {'from': old mode, 'remove': [parts, in removal order]}, or None when the mode stays.

    A node without a recorded mode (never built, or built by podnet before 0.2) has nothing to switch from.
    """
    if is_unset(recorded_mode) or recorded_mode == mode or recorded_mode not in BUILDS or mode not in BUILDS:
        return None
    gone = BUILDS[recorded_mode] - BUILDS[mode]
    return {'from': recorded_mode, 'remove': [part for part in PARTS if part in gone]}


def switch_problems(nodes, mode, prefix, prefix_is_set):
    """Problems of a switch to ``mode``, found before any host changes.

    ``nodes`` are the plan's node descriptions (``name``, ``recorded_mode``, ``recorded_pod_cidr``, ``pod_cidr``);
    ``prefix`` is the node prefix the plan uses, ``prefix_is_set`` whether the inventory chose it.
    """
    problems = []
    for node in nodes:
        name, recorded = node['name'], node.get('recorded_mode')
        if is_unset(recorded):
            continue
        if recorded not in BUILDS:
            problems.append(problem(
                name, 'recorded mode', recorded,
                'in %s is not one of %s, so podnet cannot tell what that node has built' % (
                    POD_CIDR_FACT_FILE, ', '.join(sorted(BUILDS))),
                'run playbooks/remove.yml --limit %s (it removes what any mode built), then site.yml again.' % name))
            continue
        if recorded == mode or prefix_is_set or not is_unset(node.get('pod_cidr')):
            continue
        held, _reason = parse_ipv4_network(node.get('recorded_pod_cidr'))
        if held is not None and held.prefixlen != prefix:
            # Without this the plan would refuse the recorded subnet with advice to delete the fact file, which
            # also records the mode: the old mode's parts would then stay.
            problems.append(problem(
                name, 'podnet_mode', mode,
                'switches %s from %s, which holds %s, to a mode whose default pod subnets are /%d' % (
                    name, recorded, quote(str(held)), prefix),
                'set podnet_node_prefix: %d so that every node keeps its pod subnet through the switch, or '
                'remove podnet first (playbooks/remove.yml) to renumber the cluster.' % held.prefixlen))
    return problems
