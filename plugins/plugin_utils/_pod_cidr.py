# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validation of per-node pod subnets and stable allocation of new ones."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import bisect
import ipaddress

from ansible_collections.podnet.netmodes.plugins.module_utils._rules import parse_int, parse_ipv4_network
from ansible_collections.podnet.netmodes.plugins.plugin_utils._values import (
    ALL_HOSTS,
    POD_CIDR_FACT_FILE,
    node_name_problems,
    node_prefix_reason,
    problem,
    quote,
    raise_problems,
    is_unset,
)

FILTER_NAME = 'pod subnet allocation'
FALLBACK_EXAMPLE = '10.244.3.0/24'


def example_subnet(cluster, node_prefix, taken=()):
    """A subnet worth suggesting in a fix: the first one no override is using."""
    if cluster is None or node_prefix is None or node_prefix_reason(cluster, node_prefix):
        return FALLBACK_EXAMPLE
    taken = [network for network in taken if network is not None and network.subnet_of(cluster)]
    return str(next(free_subnets(cluster, node_prefix, taken), FALLBACK_EXAMPLE))


def _override_fix(name, example):
    return ('set podnet_pod_cidr for %s to a network such as %s, or remove it to let podnet allocate one.'
            % (name, example))


def check_overrides(nodes, cluster, node_prefix=None):
    """Validate the podnet_pod_cidr overrides of named nodes.

    Returns (usable, problems): usable maps name -> IPv4Network for every override that is a
    valid network inside cluster (cluster None skips that test); overlapping ones stay usable
    so that allocation still steers clear of them, but each overlap is reported once.
    """
    usable = {}
    index = NetworkIndex()
    problems = []
    requested = [parse_ipv4_network(node.get('pod_cidr'))[0] for node in nodes]
    example = example_subnet(cluster, node_prefix, requested)
    for node in nodes:
        name, value = node['name'], node.get('pod_cidr')
        if is_unset(value):
            continue
        network, reason = parse_ipv4_network(value)
        if network is None:
            problems.append(problem(name, 'pod_cidr', value, reason, _override_fix(name, example)))
        elif network.prefixlen > 30:
            problems.append(problem(name, 'pod_cidr', value, 'is too small to hold a gateway and pods',
                                    _override_fix(name, example)))
        elif cluster is not None and not network.subnet_of(cluster):
            problems.append(problem(
                name, 'pod_cidr', value, 'is outside podnet_cluster_cidr %s' % cluster,
                'choose a podnet_pod_cidr for %s inside %s (such as %s), or remove it to let podnet allocate one.'
                % (name, cluster, example)))
        else:
            for other, other_network in index.overlapping(network):
                problems.append(problem(
                    name, 'pod_cidr', value, 'overlaps podnet_pod_cidr %s of %s' % (other_network, other),
                    'give %s and %s podnet_pod_cidr values that do not overlap, or remove one of them to '
                    'let podnet allocate it.' % (name, other)))
            index.add(name, network)
            usable[name] = network
    return usable, problems


class NetworkIndex(object):
    """Named IPv4 networks, asked which of them overlap a network, in the order they were added.

    Two CIDR blocks overlap only when one holds the other. The blocks holding a network are found by masking its
    address (one look-up per shorter prefix), the blocks it holds by a range of start addresses, so a check costs
    O(log n) plus the overlaps found instead of a walk over every block: thousands of pinned or recorded subnets
    stay cheap.
    """

    def __init__(self, named=()):
        self._order = 0
        self._by_block = {}
        self._by_start = {}
        self._starts = []
        self._prefixes = set()
        for name, network in named:
            self.add(name, network)

    def add(self, name, network):
        start = int(network.network_address)
        entry = (self._order, name, network)
        self._order += 1
        self._by_block.setdefault((start, network.prefixlen), []).append(entry)
        self._prefixes.add(network.prefixlen)
        if start not in self._by_start:
            self._by_start[start] = []
            bisect.insort(self._starts, start)
        self._by_start[start].append(entry)

    def overlapping(self, network):
        """(name, network) of every added block that overlaps network, in the order they were added."""
        if not self._starts:
            return []
        start, prefix = int(network.network_address), network.prefixlen
        found = []
        for shorter in self._prefixes:
            if shorter >= prefix:
                continue
            key = (start & ((0xFFFFFFFF << (32 - shorter)) & 0xFFFFFFFF), shorter)
            found.extend(self._by_block.get(key, ()))
        end = int(network.broadcast_address)
        low = bisect.bisect_left(self._starts, start)
        high = bisect.bisect_right(self._starts, end)
        for held_start in self._starts[low:high]:
            found.extend(entry for entry in self._by_start[held_start] if entry[2].prefixlen >= prefix)
        found.sort(key=lambda entry: entry[0])
        return [(name, other) for _order, name, other in found]

    def first_overlapping(self, network):
        found = self.overlapping(network)
        return found[0] if found else None


def _recorded_fix(name):
    return ('remove %s on %s so that podnet allocates a new subnet (pods on %s get new addresses), '
            'or set podnet_pod_cidr for %s.' % (POD_CIDR_FACT_FILE, name, name, name))


def _recorded_problem(name, value, reason):
    return '%s: recorded pod CIDR %s (%s) %s. Fix: %s' % (
        name, quote(value), POD_CIDR_FACT_FILE, reason, _recorded_fix(name))


def check_recorded(nodes, cluster, node_prefix, overrides):
    """Validate the subnets recorded at the last run by nodes that have no override.

    Returns (kept, problems): kept maps name -> IPv4Network the node keeps.
    """
    kept = {}
    problems = []
    overrides_index = NetworkIndex(overrides.items())
    kept_index = NetworkIndex()
    for node in sorted(nodes, key=lambda n: n['name']):
        name, value = node['name'], node.get('recorded_pod_cidr')
        if is_unset(value) or not is_unset(node.get('pod_cidr')):
            continue
        network, reason = parse_ipv4_network(value)
        if network is None:
            problems.append(_recorded_problem(name, value, reason))
            continue
        if not network.subnet_of(cluster):
            problems.append(_recorded_problem(name, value, 'is no longer inside podnet_cluster_cidr %s' % cluster))
            continue
        if network.prefixlen != node_prefix:
            problems.append(_recorded_problem(
                name, value, 'is a /%d but podnet_node_prefix is now %d' % (network.prefixlen, node_prefix)))
            continue
        clash = overrides_index.first_overlapping(network) or kept_index.first_overlapping(network)
        if clash is None:
            kept[name] = network
            kept_index.add(name, network)
        elif clash[0] in overrides:
            other = clash[0]
            problems.append(problem(
                other, 'pod_cidr', str(overrides[other]),
                'overlaps %s, which %s recorded at its last run and still uses' % (network, name),
                'choose a podnet_pod_cidr for %s that does not overlap %s, or remove %s on %s so that it gets '
                'a new subnet.' % (other, network, POD_CIDR_FACT_FILE, name)))
        else:
            problems.append(_recorded_problem(name, value, 'is also recorded by %s' % clash[0]))
    return kept, problems


def _round_up(value, step):
    return -(-value // step) * step


def free_subnets(cluster, node_prefix, taken):
    """Yield the /node_prefix subnets of cluster that overlap nothing in taken, lowest first.

    Jumps over taken ranges instead of testing every subnet, so a huge pool stays cheap.
    """
    size = 2 ** (32 - node_prefix)
    address = int(cluster.network_address)
    end = int(cluster.broadcast_address) + 1
    blocked = sorted((int(n.network_address), int(n.broadcast_address) + 1) for n in taken)
    index = 0
    while address < end:
        while index < len(blocked) and blocked[index][1] <= address:
            index += 1
        if index < len(blocked) and blocked[index][0] < address + size:
            address = _round_up(blocked[index][1], size)
            continue
        yield ipaddress.IPv4Network((address, node_prefix))
        address += size


def _exhaustion_problem(cluster, node_prefix, node_count, unassigned):
    pool = 2 ** (node_prefix - cluster.prefixlen)
    extra_bits = max(1, (node_count - 1).bit_length() - (node_prefix - cluster.prefixlen))
    fixes = []
    if cluster.prefixlen - extra_bits >= 0:
        fixes.append('a larger podnet_cluster_cidr (such as %s)' % cluster.supernet(prefixlen_diff=extra_bits))
    if node_prefix + extra_bits <= 30:
        fixes.append('a longer podnet_node_prefix (such as %d)' % (node_prefix + extra_bits))
    return ('%s: got no pod subnet because the pool is exhausted: podnet_cluster_cidr %s holds %d subnet(s) '
            'of /%d and there are %d nodes. Fix: set %s so that every node gets a subnet.'
            % (', '.join(unassigned), cluster, pool, node_prefix, node_count,
               ' or '.join(fixes) or 'a larger podnet_cluster_cidr'))


def _check_pool(cluster_cidr, node_prefix):
    cluster, reason = parse_ipv4_network(cluster_cidr)
    if cluster is None:
        raise_problems(FILTER_NAME, [problem(
            ALL_HOSTS, 'cluster_cidr', cluster_cidr, reason,
            'set podnet_cluster_cidr to a network such as 10.244.0.0/16.')])
    prefix, reason = parse_int(node_prefix)
    if prefix is not None:
        reason = node_prefix_reason(cluster, prefix)
    if reason:
        raise_problems(FILTER_NAME, [problem(
            ALL_HOSTS, 'node_prefix', node_prefix, reason,
            'set podnet_node_prefix to an integer between %d and 30, such as %d.'
            % (cluster.prefixlen + 1, min(30, max(24, cluster.prefixlen + 1))))])
    return cluster, prefix


def assign_pod_cidrs(nodes, cluster, prefix):
    """Return (name -> IPv4Network for every node that got one, problems) for a valid pool."""
    overrides, problems = check_overrides(nodes, cluster, prefix)
    kept, recorded_problems = check_recorded(nodes, cluster, prefix, overrides)
    problems.extend(recorded_problems)

    assigned = dict(overrides)
    assigned.update(kept)
    pending = sorted(n['name'] for n in nodes
                     if is_unset(n.get('pod_cidr')) and is_unset(n.get('recorded_pod_cidr')))
    taken = list(overrides.values()) + list(kept.values())
    subnets = free_subnets(cluster, prefix, taken)
    unassigned = []
    for name in pending:
        subnet = next(subnets, None)
        if subnet is None:
            unassigned.append(name)
        else:
            assigned[name] = subnet
    if unassigned:
        problems.append(_exhaustion_problem(cluster, prefix, len(nodes), unassigned))
    return assigned, problems


def allocate_pod_cidrs(nodes, cluster_cidr, node_prefix):
    """Return name -> pod CIDR string for every node, in node list order; raises PodnetProblems."""
    raise_problems(FILTER_NAME, node_name_problems(nodes))
    cluster, prefix = _check_pool(cluster_cidr, node_prefix)
    assigned, problems = assign_pod_cidrs(nodes, cluster, prefix)
    raise_problems(FILTER_NAME, problems)
    return dict((n['name'], str(assigned[n['name']])) for n in nodes)
