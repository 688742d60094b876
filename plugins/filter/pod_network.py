# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: pod_network
short_description: The addresses a node's pod subnet implies - gateway, prefix, netmask
version_added: 0.1.0
author: podnet.netmodes maintainers (@podnet)
description:
  - Expands a node's pod subnet into what the datapath needs. The gateway defaults to the first address of the
    subnet, as docker0 and cni0 use it; an explicit gateway must be a usable address inside the subnet.
positional: gateway, host
options:
  _input:
    description: The node's pod subnet in CIDR notation.
    type: str
    required: true
  gateway:
    description: Explicit gateway (podnet_pod_gateway), or null for the first address.
    type: str
  host:
    description: Inventory name of the node, used in error messages.
    type: str
'''

EXAMPLES = r'''
pod_net: "{{ '10.244.3.0/24' | podnet.netmodes.pod_network(None, inventory_hostname) }}"
# => {'cidr': '10.244.3.0/24', 'gateway': '10.244.3.1', 'prefix': 24, 'netmask': '255.255.255.0'}
'''

RETURN = r'''
_value:
  description: The subnet (C(cidr)), C(gateway), C(prefix) and C(netmask).
  type: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.podnet.netmodes.plugins.plugin_utils._values import (
    is_unset, parse_ipv4_address, parse_ipv4_network, problem)


def pod_network(cidr, gateway=None, host='this node'):
    network, reason = parse_ipv4_network(cidr)
    if network is None:
        raise AnsibleFilterError(problem(host, 'pod_cidr', cidr, reason,
                                         'give the node a valid pod subnet such as 10.244.3.0/24'))
    if is_unset(gateway):
        address = network.network_address + 1
    else:
        address, reason = parse_ipv4_address(gateway)
        unusable = (network.network_address, network.broadcast_address)
        if address is None or address not in network or address in unusable:
            reason = reason or 'is not a usable address inside the pod subnet %s' % network
            raise AnsibleFilterError(problem(host, 'pod_gateway', gateway, reason,
                                             'set podnet_pod_gateway to an address such as %s, or remove it'
                                             % (network.network_address + 1)))
    return {'cidr': str(network), 'gateway': str(address), 'prefix': network.prefixlen,
            'netmask': str(network.netmask)}


class FilterModule(object):
    def filters(self):
        return {'pod_network': pod_network}
