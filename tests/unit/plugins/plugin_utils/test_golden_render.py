# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rendering the golden-signal report: console table, JSON, Prometheus textfile (parsed back), HTML heatmap."""
import json
import os
import re
import sys
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser

import pytest
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_fixtures as fx  # noqa: E402

from ansible_collections.podnet.netmodes.plugins.plugin_utils._golden import golden_report  # noqa: E402
from ansible_collections.podnet.netmodes.plugins.plugin_utils._golden_render import (  # noqa: E402
    heatmap_svg,
    render,
)


def unhealthy(mode='hostgw'):
    results = fx.results(mode)
    results['node1']['signals']['probes'][1].update(received=0, rtts=[])
    results['node2']['signals']['routes']['podnet'].pop(0)
    results['node3']['signals']['ipip_guard'] = {'packets': 2, 'bytes': 168}
    results['node3']['signals']['links'][0]['rx_dropped'] = 5
    return golden_report(results, fx.plan(mode), fx.probe_ips(), None, '2026-11-27T15:00:00Z')


def healthy(mode='hostgw'):
    return golden_report(fx.results(mode), fx.plan(mode), fx.probe_ips(), None, '2026-11-27T15:00:00Z')


def samples(text):
    """{(name, frozenset(labels)): value} of every sample, parsed by prometheus_client."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def test_table_shows_matrices_traffic_and_the_problems():
    text = render(unhealthy(), 'table')
    assert text.startswith('podnet verify (hostgw mode) at 2026-11-27T15:00:00Z: UNHEALTHY\n')
    assert 'latency pod -> pod: RTT p50/p99 ms and loss (row pings column)' in text
    assert 'latency node -> node' in text
    assert '0.190/0.290 0%' in text
    assert 'node1  -               -/- 100%' in text
    assert 'pod-veths (2)' in text
    assert 'PROBLEMS (2):' in text and '  - routes: node2: missing route (proto podnet)' in text
    assert 'warnings (2):' in text


def test_json_is_the_report():
    report = unhealthy()
    assert json.loads(render(report, 'json')) == report


@pytest.mark.parametrize('mode', ['hostgw', 'bgp'])
def test_prometheus_textfile_parses_and_carries_every_signal(mode):
    text = render(unhealthy(mode), 'prometheus')
    found = samples(text)
    assert found[('podnet_verify_healthy', frozenset())] == 0
    assert found[('podnet_verify_problems', frozenset())] == 2
    pod = frozenset({'source': 'node1', 'target': 'node2', 'path': 'pod'}.items())
    assert found[('podnet_probe_loss_ratio', pod)] == 1.0
    assert ('podnet_probe_rtt_p99_seconds', pod) not in found  # no reply, no RTT
    node = frozenset({'source': 'node1', 'target': 'node2', 'path': 'node'}.items())
    assert found[('podnet_probe_rtt_p99_seconds', node)] == pytest.approx(0.00029)
    assert found[('podnet_probe_rtt_p50_seconds', node)] == pytest.approx(0.00019)
    assert found[('podnet_probe_sent_packets', node)] == 20
    rx = frozenset({'node': 'node3', 'device': 'ens5', 'role': 'device', 'direction': 'rx'}.items())
    assert found[('podnet_device_bytes_total', rx)] == 1000
    assert found[('podnet_device_drops_total', rx)] == 5
    assert found[('podnet_routes_missing', frozenset({'node': 'node2', 'owner': 'podnet'}.items()))] == 1
    assert found[('podnet_ipip_guard_dropped_packets_total', frozenset({'node': 'node3'}.items()))] == 2
    assert found[('podnet_conntrack_entries', frozenset({'node': 'node1'}.items()))] == 10
    assert found[('podnet_conntrack_entries_limit', frozenset({'node': 'node1'}.items()))] == 1000
    assert found[('podnet_ipam_addresses_limit', frozenset({'node': 'node1'}.items()))] == 253
    assert found[('podnet_pod_veths', frozenset({'node': 'node1'}.items()))] == 2
    if mode == 'bgp':
        session = frozenset({'node': 'node1', 'peer': 'node2', 'protocol': 'peer_node2'}.items())
        assert found[('podnet_bgp_session_established', session)] == 1


def test_prometheus_each_family_once_with_help_and_type_before_its_samples():
    text = render(unhealthy(), 'prometheus')
    names = re.findall(r'^# TYPE (\S+) (counter|gauge)$', text, re.M)
    assert len(names) == len(set(names))
    current = None
    for line in text.splitlines():
        if line.startswith('# TYPE '):
            current = line.split()[2]
        elif not line.startswith('#'):
            assert line.split('{')[0].split(' ')[0] == current, line
            assert all(name.startswith('podnet_') for name, dummy in names)
    assert text.endswith('\n')


def test_prometheus_escapes_label_values():
    report = healthy()
    report['latency'][0]['source'] = 'we"ird\\node\nname'
    found = samples(render(report, 'prometheus'))
    assert any(('source', 'we"ird\\node\nname') in labels for dummy, labels in found)


class _Collector(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self)
        self.tags, self.external = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ('src', 'href') or (value and 'url(' in value):
                self.external.append((tag, name, value))


def test_html_is_self_contained_with_one_svg_heatmap_per_path():
    page = render(unhealthy(), 'html')
    collector = _Collector()
    collector.feed(page)
    assert collector.external == []
    assert collector.tags.count('svg') == 2
    assert 'UNHEALTHY' in page and 'routes: node2: missing route (proto podnet)' in page
    assert '<script' not in page and 'http://' not in page.replace('http://www.w3.org/2000/svg', '')


def test_heatmap_svg_is_well_formed_and_colours_lost_pairs_red():
    svg = heatmap_svg(unhealthy(), 'pod')
    root = ElementTree.fromstring(svg)
    ns = '{http://www.w3.org/2000/svg}'
    cells = dict((group.find(ns + 'title').text.split(' (')[0], group.find(ns + 'rect').get('fill'))
                 for group in root.iter(ns + 'g'))
    assert cells['node1 -> node2'] == '#d73027'
    assert cells['node2 -> node1'] != '#d73027'
    assert len(cells) == 9


def test_html_escapes_names():
    report = healthy()
    report['problems'] = ['<script>alert(1)</script>']
    assert '<script>' not in render(report, 'html')


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match='not one of table, json, prometheus, html'):
        render(healthy(), 'yaml')
