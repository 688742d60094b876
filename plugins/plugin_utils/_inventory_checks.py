# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whole-inventory validation for podnet: returns messages instead of raising."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.podnet.netmodes.plugins.plugin_utils._pod_cidr import check_overrides
from ansible_collections.podnet.netmodes.plugins.plugin_utils._values import (
    ALL_HOSTS,
    is_unset,
    node_name_problems,
    node_prefix_reason,
    parse_int,
    parse_ipv4_address,
    parse_ipv4_network,
    problem,
)

MODES = ('bridge', 'hostgw', 'bgp')
IPIP_MODES = ('Always', 'CrossSubnet', 'Never')
AS_TRANS = 23456
MAX_AS = 4294967295
MAX_IFNAME_LEN = 15


def _mode_problems(settings, host):
    mode = settings.get('mode')
    if mode in MODES:
        return []
    return [problem(host, 'mode', mode, 'is not one of %s' % ', '.join(MODES),
                    'set podnet_mode to bridge, hostgw or bgp.')]


def _cluster_problems(settings, host):
    """Return (cluster network or None, problems) for cluster_cidr and node_prefix."""
    value = settings.get('cluster_cidr')
    cluster, reason = parse_ipv4_network(value)
    problems = []
    if cluster is None:
        problems.append(problem(host, 'cluster_cidr', value, reason,
                                'set podnet_cluster_cidr to a network such as 10.244.0.0/16.'))
    prefix_value = settings.get('node_prefix')
    prefix, reason = parse_int(prefix_value)
    if prefix is not None:
        reason = node_prefix_reason(cluster, prefix)
    if reason:
        low = cluster.prefixlen + 1 if cluster is not None else 1
        problems.append(problem(host, 'node_prefix', prefix_value, reason,
                                'set podnet_node_prefix to an integer between %d and 30, such as %d.'
                                % (low, min(30, max(24, low)))))
    return cluster, problems


def bridge_name_reason(value):
    if not isinstance(value, str) or not value:
        return 'is not a non-empty string'
    if len(value) > MAX_IFNAME_LEN:
        return 'is %d characters long; Linux interface names have at most %d' % (len(value), MAX_IFNAME_LEN)
    if value in ('.', '..'):
        return 'is not allowed as an interface name'
    if '/' in value or any(char.isspace() for char in value):
        return 'contains a slash or whitespace, which Linux interface names cannot'
    return None


def _bridge_problems(settings, host):
    value = settings.get('bridge_name')
    if value is None:
        return []
    reason = bridge_name_reason(value)
    return [problem(host, 'bridge_name', value, reason,
                    'set podnet_bridge_name to 1-15 characters without slash or whitespace, such as cni0.')
            ] if reason else []


def _ipip_problems(settings, host):
    value = settings.get('ipip_mode')
    if value is None or value in IPIP_MODES:
        return []
    return [problem(host, 'ipip_mode', value, 'is not one of %s' % ', '.join(IPIP_MODES),
                    'set podnet_ipip_mode to Always, CrossSubnet or Never (the case matters).')]


def bgp_as_reason(value):
    number, reason = parse_int(value)
    if reason:
        return reason
    if number == AS_TRANS:
        return 'is AS_TRANS (RFC 6793), reserved for 2-byte AS compatibility'
    if not 1 <= number <= MAX_AS:
        return 'is outside 1..%d' % MAX_AS
    return None


def _bgp_problems(settings, host):
    if settings.get('mode') != 'bgp':
        return []
    value = settings.get('bgp_as')
    reason = 'is not set' if value is None else bgp_as_reason(value)
    return [problem(host, 'bgp_as', value, reason,
                    'set podnet_bgp_as to an AS number such as 64512 (private range 64512-65534).')
            ] if reason else []


def _node_ip_problems(nodes, cluster):
    problems = []
    owners = {}
    for node in nodes:
        name, value = node['name'], node.get('node_ip')
        address, reason = parse_ipv4_address(value)
        if address is None:
            problems.append(problem(name, 'node_ip', value, 'is not set' if value is None else reason,
                                    'set podnet_node_ip for %s to its IPv4 address on the node network.' % name))
            continue
        if cluster is not None and address in cluster:
            problems.append(problem(
                name, 'node_ip', value,
                'is inside podnet_cluster_cidr %s, so pod routes would shadow it' % cluster,
                'choose a podnet_cluster_cidr that does not contain the node network, or fix podnet_node_ip '
                'for %s.' % name))
        if address in owners:
            problems.append(problem(
                name, 'node_ip', value, 'is also the podnet_node_ip of %s' % owners[address],
                'give %s and %s different podnet_node_ip values.' % (owners[address], name)))
        else:
            owners[address] = name
    return problems


def _pod_subnet(node, overrides):
    if node['name'] in overrides:
        return overrides[node['name']]
    allocated = node.get('allocated_pod_cidr')
    if is_unset(allocated):
        return None
    return parse_ipv4_network(allocated)[0]


def _gateway_problems(nodes, overrides):
    problems = []
    for node in nodes:
        name, value = node['name'], node.get('pod_gateway')
        if is_unset(value):
            continue
        fix = ('set podnet_pod_gateway for %s to a host address of its pod subnet, or remove it to use the '
               'first address.' % name)
        gateway, reason = parse_ipv4_address(value)
        if gateway is None:
            problems.append(problem(name, 'pod_gateway', value, reason, fix))
            continue
        subnet = _pod_subnet(node, overrides)
        if subnet is None:
            continue
        if gateway not in subnet:
            problems.append(problem(name, 'pod_gateway', value, 'is outside the pod subnet %s' % subnet, fix))
        elif gateway in (subnet.network_address, subnet.broadcast_address):
            problems.append(problem(name, 'pod_gateway', value,
                                    'is the network or broadcast address of the pod subnet %s' % subnet, fix))
    return problems


def inventory_problems(nodes, settings):
    """Return every problem found in the node list and the settings, as messages."""
    if not isinstance(settings, dict):
        return ['%s: the settings are a %s, not a dict. Fix: pass a dict with mode, cluster_cidr, node_prefix ...'
                % (ALL_HOSTS, type(settings).__name__)]
    host = settings.get('host') or ALL_HOSTS
    problems = _mode_problems(settings, host)
    cluster, cluster_problems = _cluster_problems(settings, host)
    problems.extend(cluster_problems)
    problems.extend(_bridge_problems(settings, host))
    problems.extend(_ipip_problems(settings, host))
    problems.extend(_bgp_problems(settings, host))

    if not nodes:
        problems.append('%s: group podnet_nodes is empty or missing. Fix: add the hosts to group podnet_nodes in '
                        'the inventory.' % host)
        return problems
    name_problems = node_name_problems(nodes)
    if name_problems:
        return problems + name_problems
    problems.extend(_node_ip_problems(nodes, cluster))
    overrides, override_problems = check_overrides(nodes, cluster, parse_int(settings.get('node_prefix'))[0])
    problems.extend(override_problems)
    problems.extend(_gateway_problems(nodes, overrides))
    return problems
