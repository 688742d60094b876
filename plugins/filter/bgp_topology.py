# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: bgp_topology
author: podnet.netmodes maintainers (@podnet)
version_added: "0.1.0"
short_description: Decide who peers with whom in BGP mode - iBGP full mesh or route reflectors per rack
description:
  - Without group C(podnet_route_reflectors) and with at most O(settings.mesh_max_nodes) nodes, every node
    peers with every other node (iBGP full mesh, N*(N-1)/2 sessions).
  - Otherwise the route reflectors are the nodes of O(settings.route_reflectors), or, when that is empty,
    O(settings.rr_per_rack) nodes per rack chosen by P(podnet.netmodes.select_route_reflectors#filter).
  - Route reflectors peer with every other route reflector (plain iBGP, neither is the other's client) and
    with the clients of their own rack. A client peers with the route reflectors of its rack, or with all
    route reflectors when its rack has none (possible only with an explicit group).
  - The route reflectors of one rack share a cluster id derived from a SHA-256 hash of the rack name, so it
    stays the same when a route reflector is replaced.
  - Peering is symmetric - A lists B as a peer exactly when B lists A - and the result is deterministic.
  - Raises an error naming the host and the fix when a member of the group is not a podnet node, or when the
    settings are invalid.
positional: settings
options:
  _input:
    description: The nodes of group C(podnet_nodes), one dict per host, in inventory order.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The inventory hostname; must be unique.
        type: str
        required: true
      node_ip:
        description: C(podnet_node_ip), the address peers connect to.
        type: str
      rack:
        description: C(podnet_rack); V(null) or empty means the default rack.
        type: str
      rr_eligible:
        description: C(podnet_rr_eligible); only used when the route reflectors are chosen automatically.
        type: bool
        default: true
  settings:
    description: The cluster-wide BGP settings.
    type: dict
    required: true
    suboptions:
      mesh_max_nodes:
        description: C(podnet_bgp_mesh_max_nodes); the largest cluster that still uses a full mesh.
        type: int
        default: 50
      rr_per_rack:
        description: C(podnet_bgp_rr_per_rack); route reflectors chosen per rack when the group is not given.
        type: int
        default: 2
      route_reflectors:
        description: The hosts of group C(podnet_route_reflectors); V(null) or empty means not given.
        type: list
        elements: str
      as_number:
        description: C(podnet_bgp_as); copied to the result unchanged.
        type: int
seealso:
  - plugin: podnet.netmodes.select_route_reflectors
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Plan the BGP sessions of the cluster
  ansible.builtin.set_fact:
    podnet_bgp: "{{ podnet_node_list | podnet.netmodes.bgp_topology(podnet_bgp_settings) }}"
  vars:
    podnet_bgp_settings:
      as_number: "{{ podnet_bgp_as }}"
      mesh_max_nodes: "{{ podnet_bgp_mesh_max_nodes | default(50) }}"
      rr_per_rack: "{{ podnet_bgp_rr_per_rack | default(2) }}"
      route_reflectors: "{{ groups['podnet_route_reflectors'] | default([]) }}"

- name: Peers of this node
  ansible.builtin.debug:
    msg: "{{ podnet_bgp.nodes[inventory_hostname].peers | map(attribute='ip') | list }}"
"""

RETURN = r"""
_value:
  description: The peering plan of the whole cluster.
  type: dict
  contains:
    topology:
      description: V(mesh) or V(route-reflectors).
      type: str
    as_number:
      description: O(settings.as_number), unchanged.
      type: int
    route_reflectors:
      description: Names of the route reflectors, sorted; empty for a mesh.
      type: list
      elements: str
    sessions:
      description: Number of distinct BGP sessions in the cluster.
      type: int
    nodes:
      description: Per node name, its C(role) (V(mesh), V(rr) or V(client)), its C(cluster_id) (route reflectors
        only, else V(null)) and its C(peers), sorted by name, each with C(name), C(ip) and C(rr_client) (V(true)
        when this node is a route reflector and the peer is its client).
      type: dict
  sample:
    topology: route-reflectors
    as_number: 64512
    route_reflectors: [node1, node2]
    sessions: 3
    nodes:
      node1:
        role: rr
        cluster_id: 222.182.78.212
        peers:
          - {name: node2, ip: 10.89.20.12, rr_client: false}
          - {name: node3, ip: 10.89.20.13, rr_client: true}
      node3:
        role: client
        cluster_id: null
        peers:
          - {name: node1, ip: 10.89.20.11, rr_client: false}
          - {name: node2, ip: 10.89.20.12, rr_client: false}
"""

from ansible_collections.podnet.netmodes.plugins.plugin_utils._bgp_topology import bgp_topology as _bgp_topology


def bgp_topology(nodes, settings):
    return _bgp_topology(nodes, settings)


class FilterModule(object):
    def filters(self):
        return {'bgp_topology': bgp_topology}
