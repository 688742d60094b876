# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Messages about user-supplied values, shared by the planning code. The value rules themselves live in
module_utils/_rules.py (the rule book), which the modules import too."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


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
    'mesh_max_nodes': 'podnet_bgp_mesh_max_nodes',
    'bgp_password': 'podnet_bgp_password',
    'pod_mtu': 'podnet_pod_mtu',
    'route_proto': 'podnet_route_proto',
    'cni_network': 'podnet_cni_network',
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


class PodnetProblems(ValueError):
    """Problems found in the inventory; the filter turns them into one error, the plan into messages."""

    def __init__(self, source, problems):
        self.problems = list(problems)
        super(PodnetProblems, self).__init__('%s found %d problem(s):\n- %s'
                                             % (source, len(self.problems), '\n- '.join(self.problems)))


def raise_problems(source, problems):
    if problems:
        raise PodnetProblems(source, problems)


def parse_bool(value):
    """(bool, None) or (None, reason); the strings Ansible itself reads as booleans are accepted."""
    if isinstance(value, bool):
        return value, None
    text = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if text in ('yes', 'on', '1', 'true', 't', 'y'):
        return True, None
    if text in ('no', 'off', '0', 'false', 'f', 'n'):
        return False, None
    return None, 'is not a boolean'


def is_unset(value):
    return value is None or (isinstance(value, str) and not value.strip())


def node_prefix_reason(cluster, node_prefix):
    """Why node_prefix cannot be used to carve cluster, or None when it can."""
    if node_prefix > 30:
        return 'is longer than 30, which leaves no room for a gateway and pods'
    if cluster is not None and node_prefix <= cluster.prefixlen:
        return 'must be longer than the prefix of podnet_cluster_cidr %s (/%d)' % (cluster, cluster.prefixlen)
    return None


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
