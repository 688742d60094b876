# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""host-gw needs every node to reach every other node's IP directly on its uplink."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import ipaddress

from ansible_collections.podnet.netmodes.plugins.plugin_utils._values import (
    VAR_NAMES,
    node_name_problems,
    parse_ipv4_address,
    quote,
)

HOSTGW_FIX = ('put all hostgw nodes on one L2 segment, or use podnet_mode bgp (with podnet_ipip_mode CrossSubnet '
              'for nodes on different segments).')


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


def _unreachable_message(source, target):
    return ('%s (%s on %s, %s) cannot reach %s (%s) without a gateway. Fix: %s'
            % (source['name'], source['address'], source['uplink'],
               ', '.join(str(n) for n in source['networks']), target['name'], target['address'], HOSTGW_FIX))


def _no_network_message(node):
    return ('%s: %s %s has no IPv4 network (uplink_networks %s), so host-gw routes cannot go out of it. Fix: set '
            '%s for %s to the interface that carries %s %s; %s is probably wrong.'
            % (node['name'], VAR_NAMES['uplink'], quote(node.get('uplink')), quote(node.get('uplink_networks')),
               VAR_NAMES['uplink'], node['name'], VAR_NAMES['node_ip'], quote(node.get('node_ip')),
               VAR_NAMES['uplink']))


def hostgw_adjacency_problems(nodes):
    """Messages for nodes without an IPv4 uplink and for every pair that is not directly adjacent.

    Nodes whose node_ip is not a valid address are skipped; inventory_errors reports those.
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
    for index, first in enumerate(peers):
        for second in peers[index + 1:]:
            if first['networks'] and not _reaches(first, second):
                problems.append(_unreachable_message(first, second))
            elif second['networks'] and not _reaches(second, first):
                problems.append(_unreachable_message(second, first))
    return problems
