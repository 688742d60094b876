# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: pod_cidr_allocation
author: podnet.netmodes maintainers (@podnet)
version_added: "0.1.0"
short_description: Give every node a stable pod subnet carved from the cluster CIDR
description:
  - Splits O(cluster_cidr) into subnets of length O(node_prefix) and maps every node name to one of them.
  - A node with O(_input[].pod_cidr) (C(podnet_pod_cidr)) gets exactly that network, which may have any
    length up to /30 but must lie inside O(cluster_cidr).
  - A node with O(_input[].recorded_pod_cidr) keeps it, so adding or removing nodes never renumbers
    another node.
  - The remaining nodes get the lowest free subnets, handed out in the order of their sorted names, so
    the result does not depend on inventory order.
  - All problems are collected and raised together as one error; each line names the host, the
    variable, the value and the fix.
positional: _input, cluster_cidr, node_prefix
options:
  _input:
    description:
      - The nodes of group C(podnet_nodes), one dict per host. Missing or V(null) keys count as not set.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The inventory hostname; must be unique.
        type: str
        required: true
      pod_cidr:
        description: The C(podnet_pod_cidr) override of the host.
        type: str
      recorded_pod_cidr:
        description:
          - The pod subnet the host recorded at its last run (C(/etc/ansible/facts.d/podnet.fact)).
          - Ignored when O(_input[].pod_cidr) is set.
          - Raises an error when it is no longer inside O(cluster_cidr), is not a /O(node_prefix),
            or overlaps another node's subnet.
        type: str
  cluster_cidr:
    description: C(podnet_cluster_cidr), the IPv4 network all pod subnets are carved from.
    type: str
    required: true
  node_prefix:
    description: C(podnet_node_prefix), the prefix length of each node's subnet; longer than the cluster prefix, at most 30.
    type: int
    required: true
notes:
  - Pure function of its input; it reads no files. The roles feed the recorded subnets in through local facts.
seealso:
  - plugin: podnet.netmodes.inventory_errors
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Allocate pod subnets for all podnet nodes
  ansible.builtin.set_fact:
    podnet_allocation: "{{ podnet_node_list | podnet.netmodes.pod_cidr_allocation('10.244.0.0/16', 24) }}"
  vars:
    podnet_node_list:
      - name: node1
        recorded_pod_cidr: 10.244.0.0/24
      - name: node2
        pod_cidr: 10.244.7.0/24
      - name: node3
# podnet_allocation:
#   node1: 10.244.0.0/24
#   node2: 10.244.7.0/24
#   node3: 10.244.1.0/24
"""

RETURN = r"""
_value:
  description: Node name to pod CIDR string, in the order of the input list.
  type: dict
  sample: {"node1": "10.244.0.0/24", "node2": "10.244.7.0/24", "node3": "10.244.1.0/24"}
"""

from ansible_collections.podnet.netmodes.plugins.plugin_utils._pod_cidr import allocate_pod_cidrs


def pod_cidr_allocation(nodes, cluster_cidr, node_prefix):
    return allocate_pod_cidrs(nodes, cluster_cidr, node_prefix)


class FilterModule(object):
    def filters(self):
        return {'pod_cidr_allocation': pod_cidr_allocation}
