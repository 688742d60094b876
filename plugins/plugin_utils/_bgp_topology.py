# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Who peers with whom over iBGP in podnet's BGP mode: full mesh, rack-aware route reflectors, or (with top-of-rack
routers carrying the traffic between racks) the same two shapes kept inside each rack."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib

from ansible_collections.podnet.netmodes.plugins.plugin_utils._route_reflectors import (
    rack_of,
    select_route_reflectors,
)
from ansible_collections.podnet.netmodes.plugins.module_utils._rules import parse_int
from ansible_collections.podnet.netmodes.plugins.plugin_utils._values import (
    ALL_HOSTS,
    node_name_problems,
    problem,
    quote,
    raise_problems,
)

FILTER_NAME = 'bgp_topology'
RR_GROUP = 'podnet_route_reflectors'
MESH_MAX_VAR = 'podnet_bgp_mesh_max_nodes'
DEFAULT_MESH_MAX_NODES = 50
DEFAULT_RR_PER_RACK = 2
# podnet_bgp_topology: auto picks mesh or route reflectors by size, as podnet always did.
TOPOLOGIES = ('auto', 'mesh', 'route_reflectors', 'tor')
TOR_PEERS = ('nodes', 'route_reflectors')


def cluster_id(rack):
    """Dotted-quad route reflector cluster id of a rack.

    Derived from the rack name only, so replacing a route reflector keeps the id; 0.0.0.0 is not a valid id.
    """
    digest = hashlib.sha256(('podnet-rr-cluster\0%s' % rack).encode('utf-8')).digest()
    for start in range(0, len(digest), 4):
        chunk = bytearray(digest[start:start + 4])
        if any(chunk):
            return '.'.join(str(byte) for byte in chunk)
    return '0.0.0.1'


def _mesh_max_nodes(value):
    if value is None:
        return DEFAULT_MESH_MAX_NODES
    number, reason = parse_int(value)
    if reason is None and number < 0:
        reason = 'is negative'
    if reason:
        raise_problems(FILTER_NAME, [problem(ALL_HOSTS, MESH_MAX_VAR, value, reason,
                                             'set %s to an integer of at least 0, such as %d.'
                                             % (MESH_MAX_VAR, DEFAULT_MESH_MAX_NODES))])
    return number


def _given_route_reflectors(nodes, value):
    """The names of group podnet_route_reflectors, in order and without repeats; [] when the group is not given."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise_problems(FILTER_NAME, ['%s: group %s %s is a %s, not a list of host names. Fix: pass groups[%s] | default([]).'
                                     % (ALL_HOSTS, RR_GROUP, quote(value), type(value).__name__, quote(RR_GROUP))])
    by_name = dict((node['name'], node) for node in nodes)
    names = []
    problems = []
    for name in value:
        if not isinstance(name, str) or name not in by_name:
            problems.append('%s: is in group %s but not in group podnet_nodes. Fix: add %s to podnet_nodes or remove it from %s.'
                            % (name, RR_GROUP, name, RR_GROUP))
        elif name not in names:
            names.append(name)
    raise_problems(FILTER_NAME, problems)
    return names


def _cluster_id_problems(reflectors, racks):
    by_id = {}
    for rack in sorted(set(racks[name] for name in reflectors)):
        by_id.setdefault(cluster_id(rack), []).append(rack)
    return ['%s: racks %s hash to the same route reflector cluster id %s. Fix: rename one of these racks (podnet_rack).'
            % (', '.join(sorted(name for name in reflectors if racks[name] in clashing)),
               ', '.join(quote(rack) for rack in clashing), ident)
            for ident, clashing in sorted(by_id.items()) if len(clashing) > 1]


def _reflector_peers(names, racks, reflectors, rack_scoped=False):
    """Return name -> {peer name: rr_client}, where rr_client means the peer is a client of this node.

    rack_scoped: reflectors peer only with the reflectors of their own rack (ToR topology: the routers carry the
    routes between racks, and racks may differ in AS, so no iBGP session crosses a rack).
    """
    peers = dict((name, {}) for name in names)
    for first in reflectors:
        for second in reflectors:
            if first != second and (not rack_scoped or racks[first] == racks[second]):
                peers[first][second] = False
    reflector_set = set(reflectors)
    by_rack = {}
    for name in reflectors:
        by_rack.setdefault(racks[name], []).append(name)
    for client in names:
        if client in reflector_set:
            continue
        # A rack without reflectors only happens with an explicit group; its clients use every reflector.
        own = by_rack.get(racks[client]) or reflectors
        for reflector in own:
            peers[client][reflector] = False
            peers[reflector][client] = True
    return peers


def _rack_mesh(names, racks, mesh_max_nodes):
    """ToR topology, every node speaking to its routers: iBGP full mesh inside each rack only."""
    members = {}
    for name in names:
        members.setdefault(racks[name], []).append(name)
    problems = []
    for rack, rack_names in sorted(members.items()):
        if len(rack_names) > mesh_max_nodes:
            shown = ', '.join(rack_names[:3]) + (' and %d more' % (len(rack_names) - 3) if len(rack_names) > 3 else '')
            problems.append('%s: rack %s has %d nodes, more than podnet_bgp_mesh_max_nodes %d for an iBGP '
                            'full mesh inside the rack. Fix: set podnet_tor_peers: route_reflectors (the rack\'s route '
                            'reflectors speak to its routers), or raise podnet_bgp_mesh_max_nodes.'
                            % (shown, quote(rack), len(rack_names), mesh_max_nodes))
    raise_problems(FILTER_NAME, problems)
    return dict((name, dict((other, False) for other in members[racks[name]] if other != name)) for name in names)


def _racks_without_reflectors(names, racks, reflectors):
    served = set(racks[name] for name in reflectors)
    missing = {}
    for name in names:
        if racks[name] not in served:
            missing.setdefault(racks[name], []).append(name)
    return ['%s: rack %s has no route reflector in group %s, and with podnet_bgp_topology tor no iBGP session leaves '
            'a rack. Fix: add a node of rack %s to group %s, or remove the group so podnet chooses.'
            % (', '.join(members), quote(rack), RR_GROUP, quote(rack), RR_GROUP)
            for rack, members in sorted(missing.items())]


def bgp_topology(nodes, settings=None):
    raise_problems(FILTER_NAME, node_name_problems(nodes))
    if settings is None:
        settings = {}
    if not isinstance(settings, dict):
        raise_problems(FILTER_NAME, ['%s: the settings are a %s, not a dict. Fix: pass a dict with mesh_max_nodes, rr_per_rack, '
                                     'route_reflectors and as_number.' % (ALL_HOSTS, type(settings).__name__)])
    names = [node['name'] for node in nodes]
    ips = dict((node['name'], node.get('node_ip')) for node in nodes)
    racks = dict((node['name'], rack_of(node)) for node in nodes)
    mesh_max_nodes = _mesh_max_nodes(settings.get('mesh_max_nodes'))
    given = _given_route_reflectors(nodes, settings.get('route_reflectors'))

    choice = settings.get('topology') or 'auto'
    tor_peers = settings.get('tor_peers') or 'nodes'
    if choice == 'mesh' and given:
        raise_problems(FILTER_NAME, ['%s: podnet_bgp_topology is mesh, but group %s names route reflectors (%s). Fix: '
                                     'remove the group, or set podnet_bgp_topology to route_reflectors.'
                                     % (ALL_HOSTS, RR_GROUP, ', '.join(given))])

    if choice == 'tor' and tor_peers == 'nodes':
        topology = 'tor'
        reflectors = []
        peers = _rack_mesh(names, racks, mesh_max_nodes)
    elif choice == 'mesh' or (choice == 'auto' and not given and len(names) <= mesh_max_nodes):
        topology = 'mesh'
        reflectors = []
        peers = dict((name, dict((other, False) for other in names if other != name)) for name in names)
    else:
        topology = 'tor' if choice == 'tor' else 'route-reflectors'
        if given:
            reflectors = sorted(given)
            if topology == 'tor':
                raise_problems(FILTER_NAME, _racks_without_reflectors(names, racks, reflectors))
        else:
            per_rack = settings.get('rr_per_rack')
            reflectors = select_route_reflectors(nodes, DEFAULT_RR_PER_RACK if per_rack is None else per_rack)
        raise_problems(FILTER_NAME, _cluster_id_problems(reflectors, racks))
        peers = _reflector_peers(names, racks, reflectors, rack_scoped=topology == 'tor')

    reflector_set = set(reflectors)
    result_nodes = {}
    for name in names:
        if not reflectors:
            role, ident = 'mesh', None
        elif name in reflector_set:
            role, ident = 'rr', cluster_id(racks[name])
        else:
            role, ident = 'client', None
        result_nodes[name] = {
            'role': role,
            'cluster_id': ident,
            'peers': [{'name': peer, 'ip': ips[peer], 'rr_client': peers[name][peer]} for peer in sorted(peers[name])],
        }
    return {
        'topology': topology,
        'as_number': settings.get('as_number'),
        'route_reflectors': reflectors,
        'sessions': sum(len(found) for found in peers.values()) // 2,
        'nodes': result_nodes,
    }
