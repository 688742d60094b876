# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: golden_render
author: podnet.netmodes maintainers (@podnet)
version_added: "0.2.0"
short_description: Render a golden-signal report as a table, JSON, a Prometheus textfile or an HTML page
description:
  - Renders the report of P(podnet.netmodes.golden_report#filter).
  - "V(table): latency matrices (p50/p99 ms and loss per pair), then traffic, errors and saturation per node,
    problems and warnings - for the console."
  - "V(json): the report itself, sorted keys."
  - "V(prometheus): the text exposition format (0.0.4) for node_exporter's textfile collector; metric names
    start with C(podnet_), labels C(node), C(source), C(target), C(path), C(device), C(role), C(direction),
    C(owner), C(peer), C(protocol)."
  - "V(html): one self-contained page (no external assets) with an inline SVG latency/loss heatmap per path."
positional: format
options:
  _input:
    description: The report.
    type: dict
    required: true
  format:
    description: The output.
    type: str
    choices: [table, json, prometheus, html]
    required: true
"""

EXAMPLES = r"""
- name: Write the Prometheus textfile
  ansible.builtin.copy:
    content: "{{ report | podnet.netmodes.golden_render('prometheus') }}"
    dest: /var/lib/node_exporter/textfile/podnet.prom
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The rendered text.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.podnet.netmodes.plugins.plugin_utils._golden_render import render


def golden_render(report, output_format):
    try:
        return render(report, output_format)
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError('golden_render: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'golden_render': golden_render}
