# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parsing and quoting of user-supplied values, shared by the podnet filters."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import ipaddress

from ansible.errors import AnsibleFilterError


# Inventory variable behind each node/settings key, used in messages so the
# user knows what to edit.
VAR_NAMES = {
    'node_ip': 'podnet_node_ip',
    'uplink': 'podnet_uplink',
    'rack': 'podnet_rack',
    'pod_cidr': 'podnet_pod_cidr',
    'pod_gateway': 'podnet_pod_gateway',
    'rr_eligible': 'podnet_rr_eligible',
    'mode': 'podnet_mode',
    'cluster_cidr': 'podnet_cluster_cidr',
    'node_prefix': 'podnet_node_prefix',
    'bridge_name': 'podnet_bridge_name',
    'ipip_mode': 'podnet_ipip_mode',
    'bgp_as': 'podnet_bgp_as',
    'per_rack': 'podnet_bgp_rr_per_rack',
}

POD_CIDR_FACT_FILE = '/etc/ansible/facts.d/podnet.fact'
ALL_HOSTS = 'all hosts in podnet_nodes'


def quote(value):
    if isinstance(value, str):
        return "'%s'" % value
    return repr(value)


def problem(host, key, value, reason, fix):
    """One error line: who, which variable, which value, what is wrong, how to fix it."""
    return '%s: %s %s %s. Fix: %s' % (host, VAR_NAMES.get(key, key), quote(value), reason, fix)


def raise_problems(filter_name, problems):
    if problems:
        raise AnsibleFilterError('%s found %d problem(s):\n- %s' % (filter_name, len(problems), '\n- '.join(problems)))


def is_unset(value):
    return value is None or (isinstance(value, str) and not value.strip())


def parse_ipv4_network(value):
    """Return (IPv4Network, None), or (None, reason) when value is not a plain IPv4 network."""
    if not isinstance(value, str):
        return None, 'is not a string in CIDR notation'
    text = value.strip()
    if ':' in text:
        return None, 'is an IPv6 network; podnet only supports IPv4'
    if '/' not in text:
        return None, 'has no prefix length (expected CIDR notation like a.b.c.d/len)'
    try:
        return ipaddress.IPv4Network(text), None
    except ValueError as exc:
        try:
            containing = ipaddress.IPv4Network(text, strict=False)
        except ValueError:
            return None, 'is not a valid IPv4 network (%s)' % exc
    return None, 'has host bits set (the network itself is %s)' % containing


def parse_ipv4_address(value):
    """Return (IPv4Address, None), or (None, reason)."""
    if not isinstance(value, str):
        return None, 'is not a string holding an IPv4 address'
    text = value.strip()
    if '/' in text:
        return None, 'has a prefix length; give the bare address'
    try:
        return ipaddress.IPv4Address(text), None
    except ValueError as exc:
        return None, 'is not a valid IPv4 address (%s)' % exc


def parse_int(value):
    """Return (int, None), or (None, reason). Digit strings are accepted, as -e passes strings."""
    if isinstance(value, bool):
        return None, 'is a boolean, not an integer'
    if isinstance(value, int):
        return value, None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip()), None
    return None, 'is not an integer'


def node_prefix_reason(cluster, node_prefix):
    """Why node_prefix cannot be used to carve cluster, or None when it can."""
    if node_prefix > 30:
        return 'is longer than 30, which leaves no room for a gateway and pods'
    if cluster is not None and node_prefix <= cluster.prefixlen:
        return 'must be longer than the prefix of podnet_cluster_cidr %s (/%d)' % (cluster, cluster.prefixlen)
    return None


def host_label(node, index):
    name = node.get('name') if isinstance(node, dict) else None
    return name if isinstance(name, str) and name else 'node #%d (no name)' % (index + 1)


def node_name_problems(nodes):
    """Problems with the node list itself: not a list, entries not dicts, names missing or repeated."""
    if not isinstance(nodes, list):
        return ['%s: the node list is a %s, not a list. Fix: pass the list of node dicts built from group podnet_nodes.'
                % (ALL_HOSTS, type(nodes).__name__)]
    problems = []
    seen = set()
    for index, node in enumerate(nodes):
        if not isinstance(node, dict):
            problems.append('node #%d: entry %s is not a dict. Fix: pass one dict per host of group podnet_nodes.'
                            % (index + 1, quote(node)))
            continue
        name = node.get('name')
        if not isinstance(name, str) or not name:
            problems.append('node #%d: name %s is missing or empty. Fix: set name to the inventory_hostname of the node.'
                            % (index + 1, quote(name)))
        elif name in seen:
            problems.append('%s: name %s appears more than once. Fix: list every host only once.' % (name, quote(name)))
        else:
            seen.add(name)
    return problems
