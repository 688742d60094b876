# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: hostgw_routes
short_description: The routes one host-gw node needs - every peer's pod subnet via that peer's node IP
version_added: 0.1.0
author: podnet.netmodes maintainers (@podnet)
description:
  - For node O(self), returns one route per other node, C(<peer pod subnet> via <peer node IP> dev <uplink>),
    in the form the M(podnet.netmodes.ip_routes) module takes.
positional: pod_cidrs, self, uplink
options:
  _input:
    description: The node dicts (C(name), C(node_ip)) of every node of the cluster.
    type: list
    elements: dict
    required: true
  pod_cidrs:
    description: Pod subnet of each node, by node name (the result of P(podnet.netmodes.pod_cidr_allocation#filter)).
    type: dict
    required: true
  self:
    description: Name of the node the routes are for.
    type: str
    required: true
  uplink:
    description: The node's uplink interface.
    type: str
    required: true
'''

EXAMPLES = r'''
routes: "{{ nodes | podnet.netmodes.hostgw_routes(pod_cidrs, inventory_hostname, podnet_uplink) }}"
# => [{'dest': '10.244.1.0/24', 'via': '10.89.20.12', 'dev': 'ens5'}, ...]
'''

RETURN = r'''
_value:
  description: Routes sorted by destination, each with C(dest), C(via) and C(dev).
  type: list
  elements: dict
'''


def hostgw_routes(nodes, pod_cidrs, self, uplink):
    routes = [{'dest': pod_cidrs[node['name']], 'via': node['node_ip'], 'dev': uplink}
              for node in nodes if node['name'] != self]
    return sorted(routes, key=lambda route: route['dest'])


class FilterModule(object):
    def filters(self):
        return {'hostgw_routes': hostgw_routes}
