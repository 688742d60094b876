# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: golden_report
author: podnet.netmodes maintainers (@podnet)
version_added: "0.2.0"
short_description: Turn every node's node_signals result and the plan into the golden-signal report
description:
  - The verdict of playbooks/verify.yml. Reads what M(podnet.netmodes.node_signals) measured on every node and
    compares it with the cluster plan (C(podnet_plan)).
  - "Latency: per node pair and path (V(pod) - probe pod to probe pod, V(node) - node to node) the RTT p50 and
    p99 of the ping train (nearest rank, no interpolation), its min, max and loss."
  - "Traffic: per node the counters of the uplink, the bridge, C(tunl0) and the pod veths (summed)."
  - "Errors: loss per pair; interface errors and drops; routes of podnet's protocol that are missing, stale (not
    planned) or wrong (other gateway, device or type) compared to the plan; in bgp mode the same for the
    routes of protocol bird (every other node's block via its node IP; with podnet_bgp_topology tor, the
    blocks of other racks via all of the rack's top-of-rack routers, every path of a multipath route compared) and
    BIRD sessions of the plan's peers and top-of-rack routers that are not Established; the IPIP guard's drop
    counter."
  - "Saturation: conntrack entries against C(nf_conntrack_max); IPv4 routes in table main against
    O(settings.route_table_limit); host-local addresses in use (the probe pod's own not counted) against the
    node's block (all addresses but network, broadcast and gateway)."
  - "C(problems) (the play fails on them): a node without signals, a node without probe pod, a pair that could
    not be probed or lost more than O(settings.loss_max_percent), a missing or down device, every missing, stale
    or wrong route, every session not Established. C(warnings) (reported only): p99 above
    O(settings.rtt_p99_warn_ms), interface errors or drops, guard drops, saturation above its threshold.
    Each message starts with its signal and names the node or pair."
positional: probe_ips, settings, generated_at
options:
  _input:
    description: Node name to the result M(podnet.netmodes.node_signals) returned on it (V(null) for a node
      that returned none).
    type: dict
    required: true
  plan:
    description: The cluster plan, C(podnet_plan).
    type: dict
    required: true
  probe_ips:
    description: Node name to the address of its probe pod (V(null) when it has none).
    type: dict
    default: {}
  settings:
    description: Thresholds; an omitted or V(null) key keeps its default.
    type: dict
    default: {}
    suboptions:
      loss_max_percent:
        description: A pair that loses more than this share of its train is a problem.
        type: float
        default: 5.0
      rtt_p99_warn_ms:
        description: A pair whose p99 is above this is a warning.
        type: float
        default: 50.0
      conntrack_warn_percent:
        description: Conntrack entries above this share of the limit is a warning.
        type: float
        default: 80.0
      route_table_limit:
        description: The route-table size the node is sized for.
        type: int
        default: 10000
      route_table_warn_percent:
        description: A main table above this share of O(settings.route_table_limit) is a warning.
        type: float
        default: 80.0
      ipam_warn_percent:
        description: Pod addresses in use above this share of the block is a warning.
        type: float
        default: 80.0
  generated_at:
    description: When the run was made (any text); shown in the outputs.
    type: str
"""

EXAMPLES = r"""
- name: Make the report on the controller
  ansible.builtin.set_fact:
    report: "{{ signals_by_node | podnet.netmodes.golden_report(podnet_plan, probe_ips, {'loss_max_percent': 0}) }}"
"""

RETURN = r"""
_value:
  description: The report - C(healthy), C(problems), C(warnings), C(mode), C(nodes), C(settings), C(latency) (one
    dict per pair and path), C(traffic), C(errors) and C(saturation) (each keyed by node), C(generated_at).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.podnet.netmodes.plugins.plugin_utils._golden import golden_report as _golden_report


def golden_report(results, plan, probe_ips=None, settings=None, generated_at=None):
    if not isinstance(plan, dict) or 'nodes' not in plan:
        raise AnsibleFilterError('golden_report: plan must be podnet_plan (a dict with nodes)')
    if not isinstance(results, dict):
        raise AnsibleFilterError('golden_report: the input must map each node to its node_signals result')
    try:
        return _golden_report(results, plan, probe_ips, settings, generated_at)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError('golden_report: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'golden_report': golden_report}
