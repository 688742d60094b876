#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark podnet.netmodes.ip_routes, both argument formats, against ``ip -batch`` plus one module start-up.

Everything happens inside a throwaway network namespace that this script creates and always
deletes; no packet leaves it. Run as root from the collection root:

    .venv/bin/python benchmarks/routes.py --sizes 1000 10000 --output /tmp/routes.md

For every size and scenario (first apply, no-op rerun) each repeat times, back to back: the floor
(``ip -batch`` of the same lines, and one start-up of the module with nothing to do), the module
with ``routes`` (a list of dicts), with ``route_lines`` (a list of strings) and with ``route_lines`` plus
``report: counts`` (no per-route lists in the result), each
through ``ansible-playbook``. Ratios are medians of those side-by-side runs.

Exits non-zero when a correctness check fails (routes in the namespace differ from the
declaration, or the module reports other changes than expected).
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(ROOT, '.venv', 'bin')
PROTO = 94
DEV = 'bench0'
PEER = 'bench1'
DEV_ADDR = '10.200.0.1/16'
# (name in the table, option the routes go in, report)
VARIANTS = (('routes', 'routes', 'routes'), ('route_lines', 'route_lines', 'routes'),
            ('counts', 'route_lines', 'counts'))
FORMATS = tuple(name for name, _option, _report in VARIANTS)


class CheckFailed(Exception):
    pass


def run(args, stdin=None, env=None, check=True):
    proc = subprocess.run(args, input=stdin, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError('%s failed (rc %d): %s%s' % (' '.join(args[:6]), proc.returncode,
                                                         proc.stdout[-2000:], proc.stderr[-2000:]))
    return proc


def timed(args, stdin=None, env=None):
    start = time.perf_counter()
    proc = run(args, stdin=stdin, env=env)
    return time.perf_counter() - start, proc


def make_routes(count, gateways=0):
    """(dest, via) pairs; destinations 10.1.0.0/24 upwards never reach the device's 10.200.0.0/16.

    By default every route has its own gateway, as host-gw routes do (one route per peer node). The kernel's
    cost per route is much higher then (each distinct gateway is a next hop of its own) than with routes that
    share ``gateways`` next hops.
    """
    routes = []
    for i in range(count):
        dest = '10.%d.%d.0/24' % (1 + i // 256, i % 256)
        g = i % gateways if gateways else i
        via = '10.200.%d.%d' % (1 + (g // 250) % 200, 1 + g % 250)
        routes.append((dest, via))
    return routes


def replace_lines(routes):
    return ''.join('route replace %s via %s dev %s proto %d\n' % (d, v, DEV, PROTO) for d, v in routes)


def declaration(fmt, routes):
    """The task argument for ``routes`` in either format (``counts``: route_lines with report=counts)."""
    if fmt == 'routes':
        return [{'dest': d, 'via': v, 'dev': DEV} for d, v in routes]
    return ['%s via %s dev %s' % (d, v, DEV) for d, v in routes]


class Bench(object):

    def __init__(self, workdir, netns):
        self.workdir = workdir
        self.netns = netns
        self.python = os.path.join(VENV_BIN, 'python')
        self.env = dict(os.environ,
                        ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
                        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'),
                        ANSIBLE_STDOUT_CALLBACK='ansible.posix.json',
                        ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
                        ANSIBLE_RETRY_FILES_ENABLED='0',
                        ANSIBLE_NOCOLOR='1')
        self.loop_play = self._write('loop.yml', [{
            'name': 'command loop benchmark', 'hosts': 'localhost', 'gather_facts': False,
            'tasks': [{'name': 'route replace', 'ansible.builtin.command':
                       'ip -n %s route replace {{ item }} dev %s proto %d' % (netns, DEV, PROTO),
                       'loop': '{{ bench_routes }}'}]}])
        self.plays = dict((name, self._write('%s.yml' % name, [{
            'name': 'ip_routes benchmark', 'hosts': 'localhost', 'gather_facts': False,
            'tasks': [{'name': 'routes', 'podnet.netmodes.ip_routes': {
                'netns': netns, option: '{{ bench_routes }}', 'report': report}}]}]))
            for name, option, report in VARIANTS)

    def _write(self, name, data):
        path = os.path.join(self.workdir, name)
        with open(path, 'w') as handle:
            json.dump(data, handle)
        return path

    # --- the namespace -----------------------------------------------------------------
    def setup(self):
        run(['ip', 'netns', 'add', self.netns])
        run(['ip', '-n', self.netns, 'link', 'add', DEV, 'type', 'veth', 'peer', 'name', PEER])
        run(['ip', '-n', self.netns, 'addr', 'add', DEV_ADDR, 'dev', DEV])
        run(['ip', '-n', self.netns, 'link', 'set', PEER, 'up'])
        run(['ip', '-n', self.netns, 'link', 'set', DEV, 'up'])

    def teardown(self):
        run(['ip', 'netns', 'del', self.netns], check=False)

    def flush(self):
        run(['ip', '-n', self.netns, 'route', 'flush', 'proto', str(PROTO)])

    def load(self, routes):
        """Puts the table into a known state, untimed."""
        self.flush()
        run(['ip', '-n', self.netns, '-batch', '-'], stdin=replace_lines(routes))

    def held(self):
        out = run(['ip', '-n', self.netns, '-j', 'route', 'show', 'proto', str(PROTO)]).stdout
        return sorted((e['dst'], e.get('gateway'), e.get('dev')) for e in json.loads(out or '[]'))

    def verify(self, routes, what):
        want = sorted((d, v, DEV) for d, v in routes)
        got = self.held()
        if got != want:
            missing = sorted(set(want) - set(got))[:3]
            extra = sorted(set(got) - set(want))[:3]
            raise CheckFailed('%s: namespace holds %d routes of proto %d, declared %d; missing %s, extra %s'
                              % (what, len(got), PROTO, len(want), missing, extra))

    # --- what is timed -----------------------------------------------------------------
    def floor(self, routes):
        seconds, _proc = timed(['ip', '-n', self.netns, '-batch', '-'], stdin=replace_lines(routes))
        return seconds

    def playbook(self, fmt, declared):
        vars_file = self._write('vars.json', dict(bench_routes=declared, ansible_python_interpreter=self.python))
        seconds, proc = timed([os.path.join(VENV_BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
                               '-e', '@' + vars_file, self.plays[fmt]], env=self.env)
        try:
            report = json.loads(proc.stdout)
        except ValueError:
            raise CheckFailed('ansible-playbook output is not JSON: %s' % proc.stdout[:500])
        stats = report['stats']['localhost']
        if stats.get('failures') or stats.get('unreachable'):
            raise CheckFailed('playbook failed: %s' % json.dumps(report)[:2000])
        result = report['plays'][0]['tasks'][0]['hosts']['localhost']
        return seconds, result

    def loop(self, routes):
        """The hand-written alternative: one ``command: ip route replace`` task per route."""
        vars_file = self._write('vars.json', dict(bench_routes=['%s via %s' % r for r in routes],
                                                  ansible_python_interpreter=self.python))
        seconds, _proc = timed([os.path.join(VENV_BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
                                '-e', '@' + vars_file, self.loop_play], env=self.env)
        return seconds

    def startup(self):
        """One module start-up with nothing to do: the module with an empty route list (no ip call at all)."""
        seconds, result = self.playbook('routes', [])
        if result.get('changed'):
            raise CheckFailed('empty route list reported changed')
        return seconds


def measure(bench, size, repeats, log, gateways=0):
    routes = make_routes(size, gateways)
    rows = []
    for scenario, before in (('first apply', None), ('no-op rerun', routes)):
        def prepare():
            if before is None:
                bench.flush()
            else:
                bench.load(before)

        times = dict(floor=[], startup=[], **dict((fmt, []) for fmt in FORMATS))
        for _ in range(repeats):
            # One repeat times every variant back to back, so load drifts hit all of them alike.
            times['startup'].append(bench.startup())
            prepare()
            times['floor'].append(bench.floor(routes))
            bench.verify(routes, '%d %s, floor' % (size, scenario))
            for fmt in FORMATS:
                prepare()
                seconds, result = bench.playbook(fmt, declaration(fmt, routes))
                times[fmt].append(seconds)
                bench.verify(routes, '%d %s, %s' % (size, scenario, fmt))
                n = size if before is None else 0
                counts = result.get('counts', {})
                got = (bool(result.get('changed')), counts.get('added'), counts.get('modified'), counts.get('commands'))
                want = (bool(n), n, 0, n)
                if fmt != 'counts':  # the lists must hold what the counts say
                    got += (len(result.get('added', [])), len(result.get('commands', [])))
                    want += (n, n)
                if got != want:
                    raise CheckFailed('%d %s, %s: (changed, counts added, modified, commands[, list lengths]) = %s, '
                                      'expected %s'
                                      % (size, scenario, fmt, got, want))
        row = dict((key, statistics.median(values)) for key, values in times.items())
        row.update(size=size, scenario=scenario)
        for fmt in FORMATS:
            # The ratio of each repeat, then the median: both sides of a ratio come from the same moment.
            row[fmt + '_ratio'] = statistics.median(
                m / (f + s) for m, f, s in zip(times[fmt], times['floor'], times['startup']))
        # The strict view of a no-op rerun: it writes nothing, so compare it with the start-up alone too.
        row['counts_startup_ratio'] = statistics.median(m / s for m, s in zip(times['counts'], times['startup']))
        log('  %d routes, %s: floor %.3f s + start-up %.3f s; %s' % (
            size, scenario, row['floor'], row['startup'], '; '.join(
                '%s %.3f s (%.2fx)' % (fmt, row[fmt], row[fmt + '_ratio']) for fmt in FORMATS)))
        rows.append(row)
    return rows


def loadavg():
    with open('/proc/loadavg') as handle:
        return ' '.join(handle.read().split()[:3])


def table(rows, repeats, load_before, load_after, gateways):
    out = ['| routes | scenario | floor: `ip -batch` (s) | floor: module start-up (s) | `routes` dicts (s) '
           '| `route_lines` (s) | `route_lines`, `report: counts` (s) | `routes` / floor | `route_lines` / floor '
           '| `route_lines`, counts / floor | `route_lines`, counts / start-up alone |',
           '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
    for r in rows:
        out.append('| %d | %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.2fx | **%.2fx** | **%.2fx** | %.2fx |' % (
            r['size'], r['scenario'], r['floor'], r['startup'], r['routes'], r['route_lines'], r['counts'],
            r['routes_ratio'], r['route_lines_ratio'], r['counts_ratio'], r['counts_startup_ratio']))
    out += ['',
            'Routes: %s. "floor" is `ip -batch` of the same lines plus one start-up of the module with nothing to do; '
            'each ratio is module / (ip -batch + start-up), computed per repeat and then the median of %d repeats '
            '(times are medians too). The last column leaves the kernel work out: for a no-op rerun, which writes '
            'nothing, it is the stricter comparison. Load average (1, 5, 15 min) before the run: %s; after: %s.'
            % ('every route via its own gateway (host-gw shape)' if not gateways else
               'sharing %d gateways' % gateways, repeats, load_before, load_after)]
    return '\n'.join(out) + '\n'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[1000, 10000])
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--gateways', type=int, default=0,
                        help='routes share this many gateways (default 0: one gateway per route, as host-gw)')
    parser.add_argument('--loop-size', type=int, default=0,
                        help='also time a command loop (one task per route) once at this many routes, first apply, '
                             'next to route_lines (0: never; 1,000 routes take about 6 minutes)')
    parser.add_argument('--output', help='also write the markdown table to this file')
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit('needs root (network namespaces)')

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    # SIGTERM as an exception, so the finally below still deletes the namespace.
    def on_term(signum, _frame):
        raise KeyboardInterrupt('signal %d' % signum)
    signal.signal(signal.SIGTERM, on_term)

    netns = 'podnet-bench-%d' % os.getpid()
    load_before = loadavg()
    with tempfile.TemporaryDirectory(prefix='routes-bench-') as workdir:
        bench = Bench(workdir, netns)
        try:
            bench.setup()
            rows = []
            for size in args.sizes:
                rows += measure(bench, size, args.repeats, log, args.gateways)
            loop_note = ''
            if args.loop_size:
                routes = make_routes(args.loop_size)
                bench.flush()
                loop_s = bench.loop(routes)
                bench.verify(routes, '%d command loop' % args.loop_size)
                bench.flush()
                lines_s, _result = bench.playbook('route_lines', declaration('route_lines', routes))
                bench.verify(routes, '%d route_lines next to the loop' % args.loop_size)
                loop_note = ('\nCommand loop (`command: ip route replace` per route), %d routes, first apply, one run: '
                             '%.0fx the time of `route_lines` measured right after it.\n' % (args.loop_size,
                                                                                            loop_s / lines_s))
        except CheckFailed as exc:
            log('CHECK FAILED: %s' % exc)
            return 1
        finally:
            bench.teardown()
    text = table(rows, args.repeats, load_before, loadavg(), args.gateways) + loop_note
    print(text)
    if args.output:
        with open(args.output, 'w') as handle:
            handle.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
