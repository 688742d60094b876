# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: hostgw_adjacency_errors
author: podnet.netmodes maintainers (@podnet)
version_added: "0.1.0"
short_description: Check that every host-gw node can reach every other one without a gateway
description:
  - In host-gw mode a node routes each peer's pod subnet via the peer's node IP, so that IP must be
    on a network connected to the node's uplink.
  - Returns one message for every pair of nodes that is not directly adjacent (each pair once), and one
    message for every node whose uplink has no IPv4 network at all.
  - Nodes whose O(_input[].node_ip) is not a valid IPv4 address are skipped; P(podnet.netmodes.inventory_errors#filter)
    reports them.
positional: _input
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
      node_ip:
        description: C(podnet_node_ip).
        type: str
      uplink:
        description: C(podnet_uplink), the interface name, used in messages.
        type: str
      uplink_networks:
        description:
          - The IPv4 networks connected to the uplink in CIDR notation, for example V(10.89.10.0/24).
          - Address/prefix forms such as V(10.89.10.11/24) are accepted; entries that do not parse are ignored.
        type: list
        elements: str
"""

EXAMPLES = r"""
- name: Refuse host-gw on nodes that are not on one segment
  ansible.builtin.assert:
    that: podnet_hostgw_problems | length == 0
    fail_msg: "{{ podnet_hostgw_problems | join('\n') }}"
  vars:
    podnet_hostgw_problems: "{{ podnet_node_list | podnet.netmodes.hostgw_adjacency_errors }}"
"""

RETURN = r"""
_value:
  description: One message per problem; empty when all nodes are adjacent.
  type: list
  elements: str
  sample:
    - "node1 (10.89.30.11 on ens5, 10.89.30.0/24) cannot reach node2 (10.89.31.11) without a gateway. Fix: put all hostgw
      nodes on one L2 segment, or use podnet_mode bgp (with podnet_ipip_mode CrossSubnet for nodes on different segments)."
"""

from ansible_collections.podnet.netmodes.plugins.plugin_utils._adjacency import hostgw_adjacency_problems


def hostgw_adjacency_errors(nodes):
    return hostgw_adjacency_problems(nodes)


class FilterModule(object):
    def filters(self):
        return {'hostgw_adjacency_errors': hostgw_adjacency_errors}
