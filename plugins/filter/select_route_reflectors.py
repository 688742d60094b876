# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: select_route_reflectors
author: podnet.netmodes maintainers (@podnet)
version_added: "0.1.0"
short_description: Pick BGP route reflectors per rack with rendezvous hashing
description:
  - Groups the nodes by O(_input[].rack); nodes without a rack form one group.
  - In every rack, scores each eligible node with SHA-256 of the rack and node name and takes the
    O(per_rack) highest scores (rendezvous or highest-random-weight hashing).
  - The choice is deterministic. Adding or removing a node that is not a route reflector never moves a
    route reflector, and removing a route reflector replaces only that one.
  - Raises an error naming the rack, its eligible nodes and the fix when a rack has fewer than
    O(per_rack) eligible nodes.
positional: _input, per_rack
options:
  _input:
    description: The nodes of group C(podnet_nodes), one dict per host.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The inventory hostname.
        type: str
        required: true
      rack:
        description: C(podnet_rack); any value, compared as a string.
        type: str
      rr_eligible:
        description: C(podnet_rr_eligible); V(false) keeps the node from ever being chosen.
        type: bool
        default: true
  per_rack:
    description: C(podnet_bgp_rr_per_rack), route reflectors per rack.
    type: int
    default: 2
"""

EXAMPLES = r"""
- name: Choose two route reflectors per rack
  ansible.builtin.set_fact:
    podnet_route_reflectors: "{{ podnet_node_list | podnet.netmodes.select_route_reflectors(podnet_bgp_rr_per_rack) }}"
"""

RETURN = r"""
_value:
  description: Names of the chosen route reflectors, sorted.
  type: list
  elements: str
  sample: ["node1", "node4", "node6", "node7"]
"""

from ansible_collections.podnet.netmodes.plugins.plugin_utils._route_reflectors import (
    select_route_reflectors as _select,
)


def select_route_reflectors(nodes, per_rack=2):
    return _select(nodes, per_rack)


class FilterModule(object):
    def filters(self):
        return {'select_route_reflectors': select_route_reflectors}
