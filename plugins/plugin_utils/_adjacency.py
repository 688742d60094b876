# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Without a tunnel, a node reaches a peer's pods via the peer's node IP, so that IP must be on-link.

host-gw routes ``<peer pod subnet> via <peer node IP> dev <uplink>``; bgp mode's BIRD sessions are ``direct`` and
install the same kind of route. With podnet_ipip_mode Never both need every node to reach every other node's IP
directly on its uplink; the plan checks that here.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import bisect
import ipaddress

from ansible_collections.podnet.netmodes.plugins.module_utils._rules import parse_ipv4_address
from ansible_collections.podnet.netmodes.plugins.plugin_utils._values import (
    ALL_HOSTS,
    VAR_NAMES,
    node_name_problems,
    quote,
)

# Why each mode needs adjacency, completing "... cannot reach X without a gateway; ...".
NEEDS = {
    'hostgw': 'host-gw routes each peer\'s pod subnet via the peer\'s node IP, so every node must be on one L2 segment',
    'bgp': ('bgp mode without IPIP installs each peer\'s pod block via the peer\'s node IP over direct BGP '
            'sessions, so every node must be on one L2 segment'),
}
ADJACENCY_FIX = ('set podnet_ipip_mode: CrossSubnet to reach peers on other segments through an IPIP tunnel, or '
                 'put all nodes on one L2 segment (an IPv4 network on every podnet_uplink that holds every '
                 'podnet_node_ip), or check podnet_uplink and podnet_node_ip of the nodes named.')


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


# Beyond this many one-way failures a message per pair would bury the cause (5,000 nodes in 125 racks would give
# millions of lines): the nodes are then named by segment, one message per segment.
PAIR_MESSAGES_MAX = 200
SEGMENT_MESSAGES_MAX = 20
EXAMPLES_MAX = 3


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


def _names(names):
    if len(names) <= EXAMPLES_MAX:
        return ', '.join(names)
    return '%s and %d more' % (', '.join(names[:EXAMPLES_MAX]), len(names) - EXAMPLES_MAX)


class _Reach(object):
    """Which peers each node reaches on-link, from the node addresses sorted once: O(n log n) to count."""

    def __init__(self, peers):
        self.peers = peers
        self.order = sorted(range(len(peers)), key=lambda index: int(peers[index]['address']))
        self.addresses = [int(peers[index]['address']) for index in self.order]
        self.ranges = [self._ranges(peer['networks']) for peer in peers]

    def _ranges(self, networks):
        """(low, high) positions in the sorted addresses that the networks hold, lowest first."""
        found = []
        for network in ipaddress.collapse_addresses(networks):
            low = bisect.bisect_left(self.addresses, int(network.network_address))
            high = bisect.bisect_right(self.addresses, int(network.broadcast_address))
            if low < high:
                found.append((low, high))
        return found

    def missed(self, index):
        """How many other peers node index does not reach (0 for a node without networks: it is reported apart)."""
        if not self.peers[index]['networks']:
            return 0
        reached = sum(high - low for low, high in self.ranges[index])
        return len(self.addresses) - reached - (0 if self._holds(index, index) else 1)

    def _holds(self, index, target):
        address = int(self.peers[target]['address'])
        return any(self.addresses[low] <= address <= self.addresses[high - 1] for low, high in self.ranges[index])

    def unreached(self, index):
        """The indexes of the peers node index does not reach, in address order."""
        if not self.peers[index]['networks']:
            return []
        found = []
        position = 0
        for low, high in self.ranges[index] + [(len(self.addresses), len(self.addresses))]:
            found.extend(self.order[position:low])
            position = high
        return [target for target in found if target != index]


def _pair_messages(reach, mode):
    """One message per pair that is not adjacent, in inventory order, as a walk over every pair would give."""
    failing = set()
    for index in range(len(reach.peers)):
        failing.update((index, target) for target in reach.unreached(index))
    pairs = sorted(set((min(pair), max(pair)) for pair in failing))
    peers = reach.peers
    return [_unreachable_message(peers[first], peers[second], mode) if (first, second) in failing
            else _unreachable_message(peers[second], peers[first], mode) for first, second in pairs]


def _segment_messages(reach, missed, mode):
    """One message per segment (nodes with the same uplink networks) whose nodes miss peers, examples named."""
    segments = {}
    for index, count in enumerate(missed):
        if count:
            peer = reach.peers[index]
            key = (tuple(str(network) for network in ipaddress.collapse_addresses(peer['networks'])), peer['uplink'])
            segments.setdefault(key, []).append(index)
    total = len(reach.peers)
    messages = ['%s: %d of %d nodes cannot reach every peer without a gateway (%d one-way pairs); they are named by '
                'segment below. Fix: %s' % (ALL_HOSTS, sum(len(members) for members in segments.values()), total,
                                            sum(missed), ADJACENCY_FIX)]
    for (networks, uplink), members in list(segments.items())[:SEGMENT_MESSAGES_MAX]:
        unreached = reach.unreached(members[0])
        messages.append('%s (on %s, %s) cannot reach the %d node(s) outside %s, such as %s, without a gateway; %s. '
                        'Fix: %s' % (
                            _names([reach.peers[index]['name'] for index in members]), uplink, ', '.join(networks),
                            len(unreached), ', '.join(networks),
                            _names(['%s (%s)' % (reach.peers[index]['name'], reach.peers[index]['address'])
                                    for index in unreached]),
                            NEEDS.get(mode, NEEDS['hostgw']), ADJACENCY_FIX))
    if len(segments) > SEGMENT_MESSAGES_MAX:
        rest = list(segments.values())[SEGMENT_MESSAGES_MAX:]
        messages.append('%d more segment(s) with %d node(s), such as %s, cannot reach every peer either. Fix: %s'
                        % (len(rest), sum(len(members) for members in rest),
                           _names([reach.peers[members[0]]['name'] for members in rest]), ADJACENCY_FIX))
    return messages


def adjacency_problems(nodes, mode='hostgw'):
    """Messages for nodes without an IPv4 uplink and for the nodes that are not directly adjacent.

    Nodes whose node_ip is not a valid address are skipped; the plan's node checks report those. Up to
    PAIR_MESSAGES_MAX one-way failures every pair is named once; beyond, the nodes are named by segment. Either
    way the cost is O(n log n) plus the messages, so thousands of nodes stay cheap.
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
    reach = _Reach(peers)
    missed = [reach.missed(index) for index in range(len(peers))]
    if not any(missed):
        return problems
    if sum(missed) <= PAIR_MESSAGES_MAX:
        return problems + _pair_messages(reach, mode)
    return problems + _segment_messages(reach, missed, mode)


def hostgw_adjacency_problems(nodes):
    return adjacency_problems(nodes, 'hostgw')
