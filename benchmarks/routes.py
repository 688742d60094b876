#!/usr/bin/env python3
"""Benchmark podnet.netmodes.ip_routes against a command loop and a bare ``ip -batch``.

Everything happens inside a throwaway network namespace that this script creates and always
deletes. Run as root from the collection root:

    .venv/bin/python benchmarks/routes.py --sizes 1000 10000 --loop-size 1000 --output /tmp/routes.md

Exits non-zero when a correctness check fails (routes in the namespace differ from the
declaration, or a no-op rerun reports a change).
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


def make_routes(count, changed=False):
    """(dest, via) pairs; destinations 10.1.0.0/24 upwards never reach the device's 10.200.0.0/16."""
    routes = []
    for i in range(count):
        dest = '10.%d.%d.0/24' % (1 + i // 256, i % 256)
        via = '10.200.%d.%d' % (1 + (i // 250) % 200, 1 + i % 250)
        routes.append((dest, via))
    if changed:
        routes[0] = (routes[0][0], '10.200.255.254')
    return routes


def replace_lines(routes):
    return ''.join('route replace %s via %s dev %s proto %d\n' % (d, v, DEV, PROTO) for d, v in routes)


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
        self.module_play = self._write('module.yml', [{
            'name': 'ip_routes benchmark', 'hosts': 'localhost', 'gather_facts': False,
            'tasks': [{'name': 'routes', 'podnet.netmodes.ip_routes': {
                'netns': netns, 'routes': '{{ bench_routes }}'}}]}])
        self.loop_play = self._write('loop.yml', [{
            'name': 'command loop benchmark', 'hosts': 'localhost', 'gather_facts': False,
            'tasks': [{'name': 'route replace', 'ansible.builtin.command':
                       'ip -n %s route replace {{ item }} dev %s proto %d' % (netns, DEV, PROTO),
                       'loop': '{{ bench_routes }}'}]}])

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

    # --- the three ways ----------------------------------------------------------------
    def floor(self, routes):
        seconds, _proc = timed(['ip', '-n', self.netns, '-batch', '-'], stdin=replace_lines(routes))
        return seconds

    def playbook(self, play, extra_vars):
        vars_file = self._write('vars.json', dict(extra_vars, ansible_python_interpreter=self.python))
        seconds, proc = timed([os.path.join(VENV_BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
                               '-e', '@' + vars_file, play], env=self.env)
        try:
            report = json.loads(proc.stdout)
        except ValueError:
            raise CheckFailed('ansible-playbook output is not JSON: %s' % proc.stdout[:500])
        stats = report['stats']['localhost']
        if stats.get('failures') or stats.get('unreachable'):
            raise CheckFailed('playbook failed: %s' % json.dumps(report)[:2000])
        result = report['plays'][0]['tasks'][0]['hosts']['localhost']
        return seconds, result

    def module(self, routes):
        return self.playbook(self.module_play,
                             {'bench_routes': [{'dest': d, 'via': v, 'dev': DEV} for d, v in routes]})

    def loop(self, routes):
        seconds, _result = self.playbook(self.loop_play, {'bench_routes': ['%s via %s' % r for r in routes]})
        return seconds


def median(values):
    return statistics.median(values) if values else None


def measure_startup(bench, repeats):
    startups = []
    for _ in range(repeats):
        seconds, result = bench.module([])
        if result.get('changed'):
            raise CheckFailed('empty route list reported changed')
        startups.append(seconds)
    return median(startups)


def measure_size(bench, size, repeats, with_loop, log):
    # Start-up is measured next to each size, not once, because the machine's load drifts over a run.
    startup = measure_startup(bench, repeats)
    log('%d routes: module start-up %.3f s' % (size, startup))
    base = make_routes(size)
    changed = make_routes(size, changed=True)
    rows = []
    # (scenario, state before each repeat, declared routes, expected outcome check)
    scenarios = [('first apply', None, base), ('no-op rerun', base, base), ('one route changed', base, changed)]
    for name, before, declared in scenarios:
        def prepare():
            if before is None:
                bench.flush()
            else:
                bench.load(before)

        floors, modules = [], []
        for _ in range(repeats):
            prepare()
            floors.append(bench.floor(declared))
            bench.verify(declared, '%d %s, floor' % (size, name))
        for _ in range(repeats):
            prepare()
            seconds, result = bench.module(declared)
            modules.append(seconds)
            bench.verify(declared, '%d %s, module' % (size, name))
            want_added = size if before is None else 0
            want_modified = 1 if name == 'one route changed' else 0
            got = (bool(result.get('changed')), len(result.get('added', [])), len(result.get('modified', [])))
            want = (bool(want_added or want_modified), want_added, want_modified)
            if got != want:
                raise CheckFailed('%d %s, module: (changed, added, modified) = %s, expected %s'
                                  % (size, name, got, want))
        loop_s = None
        if with_loop and name == 'first apply':
            prepare()
            log('  %d routes, %s: command loop (one run, takes a few minutes)...' % (size, name))
            loop_s = bench.loop(declared)
            bench.verify(declared, '%d %s, loop' % (size, name))
        row = dict(size=size, scenario=name, floor=median(floors), module=median(modules), loop=loop_s,
                   startup=startup)
        log('  %d routes, %s: floor %.3f s, module %.3f s%s' % (
            size, name, row['floor'], row['module'], '' if loop_s is None else ', loop %.1f s' % loop_s))
        rows.append(row)
    return rows


def fmt(value, digits=3):
    return '-' if value is None else '%.*f' % (digits, value)


def table(rows, loop_size, loop_probe, repeats):
    out = ['| routes | scenario | floor `ip -batch` (s) | module start-up (s) | module (s) | command loop (s) '
           '| module / floor | module / (floor + start-up) | loop / module |',
           '|---:|---|---:|---:|---:|---:|---:|---:|---:|']
    for r in rows:
        if r['loop'] is not None:
            loop_cell, loop_ratio = fmt(r['loop'], 1), '%.0fx' % (r['loop'] / r['module'])
        elif r['scenario'] == 'first apply' and r['size'] != loop_size:
            loop_cell, loop_ratio = 'not run', 'not run'
        else:
            loop_cell, loop_ratio = 'not run', '-'
        out.append('| %d | %s | %s | %s | %s | %s | %.0fx | %.2fx | %s |' % (
            r['size'], r['scenario'], fmt(r['floor']), fmt(r['startup']), fmt(r['module']), loop_cell,
            r['module'] / r['floor'], r['module'] / (r['floor'] + r['startup']), loop_ratio))
    notes = ['',
             'Module start-up is the same playbook with an empty route list, measured just before each size. '
             'Module, start-up and floor times are medians of %d runs; the command loop ran once.' % repeats]
    if loop_probe:
        n, seconds = loop_probe
        notes.append('Command loop per-route cost, measured on %d routes: %.1f ms per route (%.1f s total).'
                     % (n, 1000.0 * seconds / n, seconds))
    notes.append('"not run": the command loop runs only at %s routes and only for the first apply. At 10,000 routes '
                 'it would take tens of minutes, and a `command` loop has no no-op or diff path: every rerun '
                 'repeats all N commands.' % loop_size)
    return '\n'.join(out + notes) + '\n'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[1000, 10000])
    parser.add_argument('--loop-size', type=int, default=1000,
                        help='route count at which the command loop runs (0: never)')
    parser.add_argument('--loop-probe', type=int, default=0,
                        help='also time the command loop once on this many routes and report per-route cost')
    parser.add_argument('--repeats', type=int, default=3)
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
    with tempfile.TemporaryDirectory(prefix='routes-bench-') as workdir:
        bench = Bench(workdir, netns)
        try:
            bench.setup()
            rows = []
            for size in args.sizes:
                rows += measure_size(bench, size, args.repeats, size == args.loop_size, log)
            loop_probe = None
            if args.loop_probe:
                probe_routes = make_routes(args.loop_probe)
                bench.flush()
                loop_probe = (args.loop_probe, bench.loop(probe_routes))
                bench.verify(probe_routes, '%d command loop probe' % args.loop_probe)
        except CheckFailed as exc:
            log('CHECK FAILED: %s' % exc)
            return 1
        finally:
            bench.teardown()
    text = table(rows, args.loop_size, loop_probe, args.repeats)
    print(text)
    if args.output:
        with open(args.output, 'w') as handle:
            handle.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
