# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: inventory_errors
author: podnet.netmodes maintainers (@podnet)
version_added: "0.1.0"
short_description: List every problem in the podnet inventory before anything is changed
description:
  - Checks the podnet settings and the per-node variables and returns one message per problem.
  - An empty list means the inventory is usable. Each message names the host (or the whole group
    for cluster-wide settings), the variable, the value and the fix.
  - "The checks:"
  - C(podnet_mode) is bridge, hostgw or bgp.
  - C(podnet_cluster_cidr) is an IPv4 network without host bits; C(podnet_node_prefix) is an integer
    longer than its prefix and at most 30.
  - C(podnet_bridge_name) (if set) is a valid Linux interface name of 1 to 15 characters.
  - Every node has a valid, unique C(podnet_node_ip) outside the cluster CIDR.
  - C(podnet_pod_cidr) overrides are networks without host bits, inside the cluster CIDR, not overlapping.
  - C(podnet_pod_gateway) (if set) is a host address of the node's pod subnet (the override, else
    O(_input[].allocated_pod_cidr); skipped when neither is known).
  - C(podnet_ipip_mode) (if set) is Always, CrossSubnet or Never.
  - In bgp mode C(podnet_bgp_as) is an integer 1..4294967295 other than 23456 (AS_TRANS).
  - The node list is not empty.
positional: _input, settings
options:
  _input:
    description: The nodes of group C(podnet_nodes), one dict per host. Missing or V(null) keys count as not set.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The inventory hostname.
        type: str
        required: true
      node_ip:
        description: C(podnet_node_ip).
        type: str
      pod_cidr:
        description: C(podnet_pod_cidr) override.
        type: str
      pod_gateway:
        description: C(podnet_pod_gateway) override.
        type: str
      allocated_pod_cidr:
        description: The subnet from P(podnet.netmodes.pod_cidr_allocation#filter), used to check O(_input[].pod_gateway).
        type: str
  settings:
    description: The cluster-wide settings.
    type: dict
    required: true
    suboptions:
      mode:
        description: C(podnet_mode).
        type: str
        choices: [bridge, hostgw, bgp]
      cluster_cidr:
        description: C(podnet_cluster_cidr).
        type: str
      node_prefix:
        description: C(podnet_node_prefix). Digit strings are accepted.
        type: int
      bridge_name:
        description: C(podnet_bridge_name); not checked when V(null).
        type: str
      ipip_mode:
        description: C(podnet_ipip_mode); not checked when V(null).
        type: str
        choices: [Always, CrossSubnet, Never]
      bgp_as:
        description: C(podnet_bgp_as); checked only in bgp mode, where it is required. Digit strings are accepted.
        type: int
      host:
        description: How cluster-wide messages name the hosts they apply to.
        type: str
        default: all hosts in podnet_nodes
seealso:
  - plugin: podnet.netmodes.pod_cidr_allocation
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Stop early when the inventory is inconsistent
  ansible.builtin.assert:
    that: podnet_problems | length == 0
    fail_msg: "{{ podnet_problems | join('\n') }}"
  vars:
    podnet_problems: >-
      {{ podnet_node_list | podnet.netmodes.inventory_errors({
           'mode': podnet_mode, 'cluster_cidr': podnet_cluster_cidr,
           'node_prefix': podnet_node_prefix, 'bridge_name': podnet_bridge_name,
           'ipip_mode': podnet_ipip_mode, 'bgp_as': podnet_bgp_as}) }}
"""

RETURN = r"""
_value:
  description: One message per problem; empty when the inventory is valid.
  type: list
  elements: str
  sample:
    - "node2: podnet_node_ip '10.89.10.11' is also the podnet_node_ip of node1. Fix: give node1 and node2 different podnet_node_ip values."
"""

from ansible_collections.podnet.netmodes.plugins.plugin_utils._inventory_checks import inventory_problems


def inventory_errors(nodes, settings):
    return inventory_problems(nodes, settings)


class FilterModule(object):
    def filters(self):
        return {'inventory_errors': inventory_errors}
