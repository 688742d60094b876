# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Without a tunnel, a node reaches a peer's pods via the peer's node IP, so that IP must be on-link.

host-gw routes ``<peer pod subnet> via <peer node IP> dev <uplink>``; bgp mode's BIRD sessions are ``direct`` and
install the same kind of route. Both need every node to reach every other node's IP directly on its uplink.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import bisect
import ipaddress

from ansible_collections.podnet.netmodes.plugins.module_utils._rules import parse_ipv4_address
from ansible_collections.podnet.netmodes.plugins.plugin_utils._values import (
    VAR_NAMES,
    node_name_problems,
    quote,
)

# Why each mode needs adjacency, completing "... cannot reach X without a gateway; ...".
NEEDS = {
    'hostgw': 'host-gw routes each peer\'s pod subnet via the peer\'s node IP, so every node must be on one L2 segment',
    'bgp': ('bgp mode (no tunnels yet) installs each peer\'s pod block via the peer\'s node IP over direct BGP '
            'sessions, so every node must be on one L2 segment'),
}
ADJACENCY_FIX = ('put all nodes on one L2 segment (an IPv4 network on every podnet_uplink that holds every '
                 'podnet_node_ip), or check podnet_uplink and podnet_node_ip of the nodes named; across L2 segments '
                 'only podnet_mode bridge works today.')


def uplink_networks(node):
    """The IPv4 networks connected to the node's uplink; entries may be written with host bits."""
    networks = []
    for value in node.get('uplink_networks') or []:
        try:
            network = ipaddress.ip_network(str(value).strip(), strict=False)
        except ValueError:
            continue
        if network.version == 4:
            networks.append(network)
    return networks


def _reaches(source, target):
    return any(target['address'] in network for network in source['networks'])


def _unreachable_message(source, target, mode):
    return ('%s (%s on %s, %s) cannot reach %s (%s) without a gateway; %s. Fix: %s'
            % (source['name'], source['address'], source['uplink'],
               ', '.join(str(n) for n in source['networks']), target['name'], target['address'],
               NEEDS.get(mode, NEEDS['hostgw']), ADJACENCY_FIX))


def _no_network_message(node):
    return ('%s: %s %s has no IPv4 network (uplink_networks %s), so routes to peers cannot go out of it. Fix: set '
            '%s for %s to the interface that carries %s %s; %s is probably wrong.'
            % (node['name'], VAR_NAMES['uplink'], quote(node.get('uplink')), quote(node.get('uplink_networks')),
               VAR_NAMES['uplink'], node['name'], VAR_NAMES['node_ip'], quote(node.get('node_ip')),
               VAR_NAMES['uplink']))


def _all_adjacent(peers):
    """True when every node with networks reaches every node: O(n log n), so thousands of nodes stay cheap.

    The pairwise walk below only runs when some pair is not adjacent, to name each such pair.
    """
    addresses = sorted(int(peer['address']) for peer in peers)
    for peer in peers:
        if not peer['networks']:
            continue
        reached = 0
        for network in ipaddress.collapse_addresses(peer['networks']):
            reached += (bisect.bisect_right(addresses, int(network.broadcast_address))
                        - bisect.bisect_left(addresses, int(network.network_address)))
        if reached < len(addresses):
            return False
    return True


def adjacency_problems(nodes, mode='hostgw'):
    """Messages for nodes without an IPv4 uplink and for every pair that is not directly adjacent.

    Nodes whose node_ip is not a valid address are skipped; the plan's node checks report those.
    """
    name_problems = node_name_problems(nodes)
    if name_problems:
        return name_problems
    problems = []
    peers = []
    for node in nodes:
        address = parse_ipv4_address(node.get('node_ip'))[0]
        networks = uplink_networks(node)
        if not networks:
            problems.append(_no_network_message(node))
        if address is not None:
            peers.append({'name': node['name'], 'address': address, 'networks': networks,
                          'uplink': node.get('uplink') or 'its uplink'})
    if _all_adjacent(peers):
        return problems
    for index, first in enumerate(peers):
        for second in peers[index + 1:]:
            if first['networks'] and not _reaches(first, second):
                problems.append(_unreachable_message(first, second, mode))
            elif second['networks'] and not _reaches(second, first):
                problems.append(_unreachable_message(second, first, mode))
    return problems


def hostgw_adjacency_problems(nodes):
    return adjacency_problems(nodes, 'hostgw')
