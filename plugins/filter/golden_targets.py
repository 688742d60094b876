# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: golden_targets
author: podnet.netmodes maintainers (@podnet)
version_added: "0.2.0"
short_description: The addresses one node probes in playbooks/verify.yml
description:
  - Returns the O(podnet.netmodes.node_signals#module:targets) of one node - every other node's C(node_ip)
    pinged from the node, and every other node's probe pod pinged from the node's own probe pod.
  - Only the cluster's own addresses are returned - node IPs from the plan, and probe pod addresses that lie
    in their node's pod subnet of the plan - so a probe never reaches anything the cluster does not own.
    A pod path needs a probe pod on both ends.
positional: host, probe_ips
options:
  _input:
    description: The cluster plan, C(podnet_plan).
    type: dict
    required: true
  host:
    description: The probing node (its inventory name).
    type: str
    required: true
  probe_ips:
    description: Node name to the address of its probe pod (V(null) or absent when it has none).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Probe every other node and its probe pod
  podnet.netmodes.node_signals:
    netns: podnet-verify
    targets: "{{ podnet_plan | podnet.netmodes.golden_targets(inventory_hostname, probe_ips) }}"
"""

RETURN = r"""
_value:
  description: One dict per target - C(name) (the peer node), C(address), C(source) (V(node) or V(pod)).
  type: list
  elements: dict
  sample: [{"name": "node2", "address": "10.89.20.12", "source": "node"},
           {"name": "node2", "address": "10.244.1.5", "source": "pod"}]
"""

from ansible_collections.podnet.netmodes.plugins.plugin_utils._golden import probe_targets


def golden_targets(plan, host, probe_ips=None):
    return probe_targets(plan, host, probe_ips)


class FilterModule(object):
    def filters(self):
        return {'golden_targets': golden_targets}
