# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Renders a golden-signal report (``_golden.golden_report``) as a console table, JSON, a Prometheus textfile
(node_exporter's textfile collector, text exposition format 0.0.4) or a self-contained HTML page.

Pure functions on the standard library.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import html
import json

FORMATS = ('table', 'json', 'prometheus', 'html')
PATHS = (('pod', 'pod -> pod'), ('node', 'node -> node'))


def _ms(value):
    return '-' if value is None else '%.3f' % value


def _pairs(report, path):
    return dict(((pair['source'], pair['target']), pair) for pair in report['latency'] if pair['path'] == path)


def _cell(pair):
    if pair is None:
        return '.'
    if pair['error']:
        return 'ERROR'
    return '%s/%s %g%%' % (_ms(pair['rtt_p50_ms']), _ms(pair['rtt_p99_ms']), pair['loss_percent'])


def _size(value):
    value = float(value)
    for unit in ('B', 'KiB', 'MiB', 'GiB', 'TiB'):
        if value < 1024 or unit == 'TiB':
            return ('%d %s' % (value, unit)) if unit == 'B' else ('%.1f %s' % (value, unit))
        value /= 1024.0
    return None  # not reached


def _grid(rows):
    widths = [max(len(row[col]) for row in rows) for col in range(len(rows[0]))]
    return ['  '.join(text.ljust(width) for text, width in zip(row, widths)).rstrip() for row in rows]


def render_table(report):
    lines = ['podnet verify (%s mode)%s: %s' % (report['mode'], ' at %s' % report['generated_at']
                                                if report.get('generated_at') else '',
                                                'HEALTHY' if report['healthy'] else 'UNHEALTHY')]
    nodes = report['nodes']
    for path, title in PATHS:
        pairs = _pairs(report, path)
        if not pairs:
            continue
        lines += ['', 'latency %s: RTT p50/p99 ms and loss (row pings column)' % title]
        lines += _grid([[''] + nodes] + [[source] + ['-' if source == target else _cell(pairs.get((source, target)))
                                                     for target in nodes] for source in nodes])
    lines += ['', 'traffic (counters since the device was created)']
    rows = [['node', 'device', 'rx bytes', 'rx pkts', 'tx bytes', 'tx pkts', 'err+drop rx/tx']]
    for host in nodes:
        for entry in report['traffic'].get(host, []):
            name = entry['ifname'] + (' (%d)' % entry['count'] if entry.get('role') == 'pod_veths' else '')
            if not entry.get('present', True):
                rows.append([host, name, 'missing', '', '', '', ''])
                continue
            rows.append([host, name, _size(entry.get('rx_bytes', 0)), str(entry.get('rx_packets', 0)),
                         _size(entry.get('tx_bytes', 0)), str(entry.get('tx_packets', 0)),
                         '%d/%d' % (entry.get('rx_errors', 0) + entry.get('rx_dropped', 0),
                                    entry.get('tx_errors', 0) + entry.get('tx_dropped', 0))])
    lines += _grid(rows)
    lines += ['', 'errors and saturation']
    rows = [['node', 'routes missing/stale/wrong', 'bgp up', 'ipip guard drops', 'conntrack', 'route table', 'ipam']]
    for host in nodes:
        errors = report['errors'].get(host)
        if errors is None:
            rows.append([host, 'no signals', '', '', '', '', ''])
            continue
        counts = [sum(len(owner[kind]) for owner in errors['routes'].values()) for kind in ('missing', 'stale', 'wrong')]
        sessions = errors['bgp_sessions']
        saturation = report['saturation'].get(host, {})
        rows.append([host, '/'.join(str(count) for count in counts),
                     '%d/%d' % (sum(1 for s in sessions if s['established']), len(sessions)) if sessions else '-',
                     '-' if errors['ipip_guard_drops'] is None else str(errors['ipip_guard_drops'])]
                    + [('%d/%d (%g%%)' % (saturation[key]['used'], saturation[key]['limit'], saturation[key]['percent'])
                        if saturation.get(key) and saturation[key]['percent'] is not None else '-')
                       for key in ('conntrack', 'routes', 'ipam')])
    lines += _grid(rows)
    for title, items in (('PROBLEMS', report['problems']), ('warnings', report['warnings'])):
        if items:
            lines += ['', '%s (%d):' % (title, len(items))] + ['  - ' + item for item in items]
    return '\n'.join(lines) + '\n'


def render_json(report):
    return json.dumps(report, indent=2, sort_keys=True) + '\n'


# -------------------------------------------------------------------------------------------------- prometheus

def _label_value(value):
    return str(value).replace('\\', '\\\\').replace('\n', '\\n').replace('"', '\\"')


def _number(value):
    if isinstance(value, bool):
        return '1' if value else '0'
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


class _Metrics(object):
    """Samples grouped by metric name, each name with one HELP and TYPE line, in the order first added."""

    def __init__(self):
        self.order = []
        self.families = {}

    def add(self, name, kind, help_text, labels, value):
        if value is None:
            return
        if name not in self.families:
            self.order.append(name)
            self.families[name] = (kind, help_text, [])
        text = ','.join('%s="%s"' % (key, _label_value(val)) for key, val in sorted(labels.items()))
        self.families[name][2].append('%s{%s} %s' % (name, text, _number(value)) if text
                                      else '%s %s' % (name, _number(value)))

    def text(self):
        lines = []
        for name in self.order:
            kind, help_text, samples = self.families[name]
            lines += ['# HELP %s %s' % (name, help_text.replace('\\', '\\\\').replace('\n', '\\n')),
                      '# TYPE %s %s' % (name, kind)] + samples
        return '\n'.join(lines) + '\n'


def render_prometheus(report):
    metrics = _Metrics()
    metrics.add('podnet_verify_healthy', 'gauge', '1 when the last verify run found no problem.', {},
                report['healthy'])
    metrics.add('podnet_verify_problems', 'gauge', 'Problems the last verify run found (the play failed on them).',
                {}, len(report['problems']))
    metrics.add('podnet_verify_warnings', 'gauge', 'Warnings of the last verify run.', {}, len(report['warnings']))
    for pair in report['latency']:
        labels = {'source': pair['source'], 'target': pair['target'], 'path': pair['path']}
        metrics.add('podnet_probe_rtt_p50_seconds', 'gauge', 'Median round-trip time of the ping train.', labels,
                    None if pair['rtt_p50_ms'] is None else pair['rtt_p50_ms'] / 1000.0)
        metrics.add('podnet_probe_rtt_p99_seconds', 'gauge', '99th percentile (nearest rank) round-trip time.',
                    labels, None if pair['rtt_p99_ms'] is None else pair['rtt_p99_ms'] / 1000.0)
        metrics.add('podnet_probe_loss_ratio', 'gauge', 'Share of echo requests of the train without reply (0-1).',
                    labels, pair['loss_percent'] / 100.0)
        metrics.add('podnet_probe_sent_packets', 'gauge', 'Echo requests sent in the train.', labels,
                    pair['transmitted'])
        metrics.add('podnet_probe_error', 'gauge', '1 when the train could not run at all.', labels,
                    bool(pair['error']))
    for host in report['nodes']:
        for entry in report['traffic'].get(host, []):
            labels = {'node': host, 'device': entry['ifname'], 'role': entry.get('role', 'device')}
            metrics.add('podnet_device_present', 'gauge', '1 when the device exists.', labels,
                        bool(entry.get('present', True)))
            if not entry.get('present', True):
                continue
            if entry.get('role') == 'pod_veths':
                metrics.add('podnet_pod_veths', 'gauge', 'Pod veths on the node.', {'node': host}, entry['count'])
            else:
                metrics.add('podnet_device_up', 'gauge', '1 unless the device is operationally down.', labels,
                            entry.get('operstate') != 'DOWN')
            for direction in ('rx', 'tx'):
                dlabels = dict(labels, direction=direction)
                for field, name, help_text in (
                        ('bytes', 'podnet_device_bytes_total', 'Bytes through the device.'),
                        ('packets', 'podnet_device_packets_total', 'Packets through the device.'),
                        ('errors', 'podnet_device_errors_total', 'Receive or transmit errors of the device.'),
                        ('dropped', 'podnet_device_drops_total', 'Packets the device dropped.')):
                    metrics.add(name, 'counter', help_text, dlabels, entry.get('%s_%s' % (direction, field), 0))
        errors = report['errors'].get(host)
        if errors is None:
            metrics.add('podnet_node_signals', 'gauge', '1 when the node returned its signals.', {'node': host}, 0)
            continue
        metrics.add('podnet_node_signals', 'gauge', '1 when the node returned its signals.', {'node': host}, 1)
        for owner, found in sorted(errors['routes'].items()):
            for kind in ('missing', 'stale', 'wrong'):
                metrics.add('podnet_routes_%s' % kind, 'gauge', 'Routes %s compared to the plan.' % {
                    'missing': 'the plan has and the kernel lacks', 'stale': 'the kernel has and the plan lacks',
                    'wrong': 'with another gateway, device or type than planned'}[kind],
                    {'node': host, 'owner': owner}, len(found[kind]))
        for session in errors['bgp_sessions']:
            metrics.add('podnet_bgp_session_established', 'gauge', '1 when the BGP session is Established.',
                        {'node': host, 'peer': session['peer'], 'protocol': session['protocol']},
                        session['established'])
        metrics.add('podnet_ipip_guard_dropped_packets_total', 'counter',
                    'IPIP packets from non-node addresses dropped by table ip podnet_ipip.', {'node': host},
                    errors['ipip_guard_drops'])
        for key, name in (('conntrack', 'conntrack_entries'), ('routes', 'route_table_routes'),
                          ('ipam', 'ipam_addresses')):
            entry = report['saturation'].get(host, {}).get(key)
            if entry:
                metrics.add('podnet_%s' % name, 'gauge', 'Saturation: %s in use.' % key, {'node': host}, entry['used'])
                metrics.add('podnet_%s_limit' % name, 'gauge', 'Saturation: %s limit.' % key, {'node': host},
                            entry['limit'])
    return metrics.text()


# -------------------------------------------------------------------------------------------------------- html

CELL = 92
HEAD = 120


def _colour(pair, settings):
    if pair is None:
        return '#eeeeee'
    if pair['error'] or pair['loss_percent'] > settings['loss_max_percent']:
        return '#d73027'
    if pair['loss_percent'] > 0:
        return '#fc8d59'
    p99, warn = pair['rtt_p99_ms'] or 0.0, settings['rtt_p99_warn_ms'] or 1.0
    share = min(p99 / warn, 1.0)
    # green (fast) to yellow (at the warning threshold)
    red, green = int(26 + share * (254 - 26)), int(152 + share * (224 - 152))
    return '#%02x%02x%02x' % (red, green, 80)


def heatmap_svg(report, path):
    nodes, pairs = report['nodes'], _pairs(report, path)
    size = HEAD + CELL * len(nodes)
    esc = html.escape
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="monospace" '
             'font-size="11" role="img" aria-label="%s heatmap">' % (size, size, esc(path))]
    for index, node in enumerate(nodes):
        x = HEAD + index * CELL + CELL // 2
        parts.append('<text x="%d" y="%d" text-anchor="middle">%s</text>' % (x, HEAD - 8, esc(node)))
        parts.append('<text x="%d" y="%d" text-anchor="end">%s</text>'
                     % (HEAD - 8, HEAD + index * CELL + CELL // 2 + 4, esc(node)))
    for row, source in enumerate(nodes):
        for col, target in enumerate(nodes):
            x, y = HEAD + col * CELL, HEAD + row * CELL
            pair = None if source == target else pairs.get((source, target))
            title = ('%s -> %s' % (source, target)) if pair is None else (
                '%s -> %s (%s): p50 %s ms, p99 %s ms, loss %g%%%s' % (
                    source, target, pair['address'], _ms(pair['rtt_p50_ms']), _ms(pair['rtt_p99_ms']),
                    pair['loss_percent'], ', ' + pair['error'] if pair['error'] else ''))
            parts.append('<g><title>%s</title><rect x="%d" y="%d" width="%d" height="%d" fill="%s" stroke="#ffffff"/>'
                         % (esc(title), x, y, CELL, CELL, '#ffffff' if source == target
                            else _colour(pair, report['settings'])))
            if pair is not None:
                parts.append('<text x="%d" y="%d" text-anchor="middle">%s</text>'
                             % (x + CELL // 2, y + CELL // 2 - 4, 'ERROR' if pair['error'] else _ms(pair['rtt_p99_ms'])))
                parts.append('<text x="%d" y="%d" text-anchor="middle">%g%% loss</text>'
                             % (x + CELL // 2, y + CELL // 2 + 12, pair['loss_percent']))
            parts.append('</g>')
    parts.append('</svg>')
    return ''.join(parts)


def render_html(report):
    esc = html.escape
    verdict = 'HEALTHY' if report['healthy'] else 'UNHEALTHY'
    body = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
            '<title>podnet verify: %s</title>' % verdict,
            '<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}'
            'td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}th{background:#f4f4f4}'
            '.bad{color:#b2182b}.ok{color:#1a9850}pre{background:#f8f8f8;padding:1em}</style></head><body>',
            '<h1>podnet verify (%s mode): <span class="%s">%s</span></h1>'
            % (esc(str(report['mode'])), 'ok' if report['healthy'] else 'bad', verdict)]
    if report.get('generated_at'):
        body.append('<p>Generated at %s.</p>' % esc(str(report['generated_at'])))
    for title, items, css in (('Problems', report['problems'], 'bad'), ('Warnings', report['warnings'], '')):
        if items:
            body.append('<h2>%s</h2><ul class="%s">%s</ul>'
                        % (title, css, ''.join('<li>%s</li>' % esc(item) for item in items)))
    body.append('<h2>Latency and loss</h2><p>Cell: p99 RTT in ms and loss of the ping train from the row node '
                'to the column node; colour: green fast, yellow at the p99 warning threshold (%g ms), orange some '
                'loss, red loss above %g%% or no measurement. Hover a cell for p50 and the address.</p>'
                % (report['settings']['rtt_p99_warn_ms'], report['settings']['loss_max_percent']))
    for path, title in PATHS:
        if _pairs(report, path):
            body.append('<h3>%s</h3>%s' % (esc(title), heatmap_svg(report, path)))
    body.append('<h2>Traffic, errors and saturation</h2><pre>%s</pre>' % esc(render_table(report)))
    body.append('</body></html>')
    return '\n'.join(body) + '\n'


RENDERERS = {'table': render_table, 'json': render_json, 'prometheus': render_prometheus, 'html': render_html}


def render(report, output_format):
    if output_format not in RENDERERS:
        raise ValueError('format %r is not one of %s' % (output_format, ', '.join(FORMATS)))
    return RENDERERS[output_format](report)
