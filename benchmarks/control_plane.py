#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A BGP control plane of 25 to 100+ nodes on one machine: one BIRD per network namespace, mesh and route reflectors.

Every node is a network namespace (``pnbench-<node>``) whose uplink ``ens5`` is a veth into one Linux bridge in the
benchmark's own switch namespace (``pnbench-sw``): bgp mode without IPIP needs every peer on one L2 segment, so racks
(25 nodes each) are labels for the route reflector choice, as they are to the plan. Node IPs come from 10.250.0.0/16,
pod blocks from 10.251.0.0/16; both exist only inside these namespaces.

What each node runs is what the bgp role would give it:

- the plan is the collection's own ``plan_cluster`` (plugins/plugin_utils/_plan.py) over synthetic hostvars with the
  network facts a gathered host has, with the roles' defaults as settings; the topology is forced with
  ``podnet_bgp_mesh_max_nodes`` (0: route reflectors, 2 per rack by default; 100000: mesh);
- the node's pod block is held as a blackhole route with ``proto 94`` (podnet_route_proto), as roles/bgp does;
- bird.conf is roles/bgp/templates/bird.conf.j2 rendered with the plan and the roles' defaults
  (lab/role_template.py). The only addition goes through the role's own ``podnet_bgp_extra_config``: a per-instance
  log file with millisecond timestamps (the template logs to syslog, which every instance would share);
- ``bird -c CONF -s SOCK -P PIDFILE`` runs inside ``ip netns exec``.

Per size and topology, from a fresh network: all BIRDs are started at once, then every node's kernel is polled
(``ip -n NS -json route show proto bird``, every --poll seconds, only nodes not yet complete) until it holds every
other node's block. Reported: seconds until every kernel held every block (and the median node), seconds until every
planned session was Established, Established sessions per node (clients and reflectors apart), BIRD's own memory
(``birdc show memory``, Total) and each process's RSS, the CPU seconds all BIRDs used, the frames the kernel dropped
from full input backlogs meanwhile (every node's ARP broadcast is flooded to every port of the one bridge, all in
this one kernel), and the 1-minute load average before and after (the machine is shared). Everything the run created
is removed on any exit.

    .venv/bin/python benchmarks/control_plane.py [--sizes 25 50 100] [--topologies mesh rr]
                                                 [--extra-mesh-sizes 150 200] [--output FILE.md] [--json FILE.json]
"""
import argparse
import atexit
import contextlib
import datetime
import fcntl
import ipaddress
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, '.collections'))
sys.path.insert(0, os.path.join(ROOT, 'lab'))

from ansible_collections.podnet.netmodes.plugins.plugin_utils._plan import plan_cluster  # noqa: E402
from role_template import render_role_template, role_defaults  # noqa: E402

BIRD = '/usr/sbin/bird'
BIRDC = '/usr/sbin/birdc'
PREFIX = 'pnbench-'
SWITCH_NAMESPACE = PREFIX + 'sw'
BRIDGE = 'br0'
UPLINK = 'ens5'
NODE_NETWORK = ipaddress.ip_network('10.250.0.0/16')
CLUSTER_CIDR = '10.251.0.0/16'
RACK_SIZE = 25
# podnet_bgp_mesh_max_nodes that forces each topology whatever the size.
MESH_MAX_NODES = {'mesh': 100000, 'rr': 0}
TOPOLOGY_LABELS = {'mesh': 'mesh', 'rr': 'route reflectors'}
# The routes BIRD's kernel protocol installs carry this protocol (rtnetlink's RTPROT_BIRD).
KERNEL_PROTO_BIRD = 'bird'


# ---- the plan and each node's config (pure) ------------------------------------------------------------------

def node_address(index):
    return str(NODE_NETWORK[index + 1])


def node_name(index):
    return 'n%03d' % index


def synthetic_hosts(count, rack_size=RACK_SIZE):
    """The hostvars plan_cluster reads, with the network facts a gathered host would have."""
    hosts = []
    for index in range(count):
        address = node_address(index)
        hosts.append({
            'inventory_hostname': node_name(index), 'podnet_node_ip': address, 'podnet_uplink': UPLINK,
            'podnet_rack': 'rack%02d' % (index // rack_size),
            'ansible_facts': {'interfaces': ['lo', UPLINK], UPLINK: {'device': UPLINK, 'mtu': 1500, 'ipv4': {
                'address': address, 'network': str(NODE_NETWORK.network_address),
                'prefix': str(NODE_NETWORK.prefixlen)}}},
        })
    return hosts


def role_variables():
    """What roles/bgp sees when the inventory sets nothing: the defaults of common, then bgp."""
    return role_defaults('common', 'bgp')


def plan_settings(defaults, topology):
    """The podnet_* variables roles/common hands to the plan, with this benchmark's pool and forced topology."""
    settings = dict((name, value) for name, value in defaults.items() if name.startswith('podnet_'))
    settings.update(podnet_mode='bgp', podnet_cluster_cidr=CLUSTER_CIDR,
                    podnet_bgp_mesh_max_nodes=MESH_MAX_NODES[topology])
    return settings


def build_plan(count, topology, defaults, rack_size=RACK_SIZE):
    plan = plan_cluster(synthetic_hosts(count, rack_size), plan_settings(defaults, topology))
    if plan['problems']:
        raise SystemExit('\n'.join(plan['problems']))
    return plan


def log_config(log_path):
    """Extra BIRD statements (through podnet_bgp_extra_config): each instance's own log, and milliseconds in the log
    and in the Since column of `show protocols`, which established_since reads back."""
    return 'log "%s" all;\ntimeformat log "%%F %%T.%%3f";\ntimeformat protocol "%%F %%T.%%3f";' % log_path


def bird_config(plan, name, defaults, log_path):
    variables = dict(defaults, podnet_plan=plan, inventory_hostname=name, ansible_managed='Ansible managed',
                     podnet_bgp_extra_config=log_config(log_path))
    return render_role_template('bgp', 'bird.conf.j2', variables)


def namespace_of(name):
    return PREFIX + name


def switch_port_of(name):
    return 'v' + name


def node_setup_lines(node, route_proto):
    """ip -batch lines run in the node's namespace: its uplink address and the blackhole for its pod block."""
    return ['link set lo up',
            'address add %s/%d dev %s' % (node['node_ip'], NODE_NETWORK.prefixlen, UPLINK),
            'link set %s up' % UPLINK,
            'route add blackhole %s proto %s' % (node['pod_cidr'], route_proto)]


def expected_blocks(plan, name):
    return set(node['pod_cidr'] for other, node in plan['nodes'].items() if other != name)


def planned_sessions(plan, name):
    return len(plan['nodes'][name]['bgp']['peers'])


# ---- reading what the kernel and BIRD say (pure) -------------------------------------------------------------

def route_destinations(ip_json):
    return set(route['dst'] for route in json.loads(ip_json or '[]'))


def _established_lines(show_protocols):
    for line in show_protocols.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[1] == 'BGP' and fields[-1] == 'Established':
            yield fields


def established_sessions(show_protocols):
    """Established BGP sessions in `birdc show protocols` output."""
    return sum(1 for _fields in _established_lines(show_protocols))


def established_since(show_protocols):
    """Wall-clock times (epoch seconds) at which each Established session came up, from the Since column in the
    timeformat log_config sets (local time, milliseconds)."""
    return [datetime.datetime.strptime('%s %s' % (fields[4], fields[5]), '%Y-%m-%d %H:%M:%S.%f').timestamp()
            for fields in _established_lines(show_protocols)]


_UNITS = {'B': 1, 'kB': 1024, 'MB': 1024 ** 2, 'GB': 1024 ** 3}


def memory_total_bytes(show_memory):
    """The effective Total of `birdc show memory` (BIRD prints it as e.g. `Total:  1234 kB  56 kB`)."""
    for line in show_memory.splitlines():
        fields = line.split()
        if fields and fields[0] == 'Total:' and len(fields) >= 3 and fields[2] in _UNITS:
            return int(float(fields[1]) * _UNITS[fields[2]])
    raise ValueError('no Total line in birdc show memory output: %r' % show_memory)


def vm_rss_bytes(proc_status):
    for line in proc_status.splitlines():
        if line.startswith('VmRSS:'):
            value, unit = line.split()[1:3]
            return int(value) * {'kB': 1024}[unit]
    raise ValueError('no VmRSS in /proc status')


def cpu_seconds(proc_stat, ticks_per_second):
    # The command name (field 2) may hold spaces, so the fields are counted after its closing parenthesis.
    fields = proc_stat.rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks_per_second


def backlog_drops(softnet_stat):
    """Frames the kernel dropped because a CPU's input backlog was full (second column of /proc/net/softnet_stat)."""
    return sum(int(line.split()[1], 16) for line in softnet_stat.splitlines() if line.strip())


def spread(values):
    """'min-max' of integers, or the single value when they agree."""
    if not values:
        return '-'
    low, high = min(values), max(values)
    return str(low) if low == high else '%d-%d' % (low, high)


def sessions_by_role(plan, established):
    """Established sessions per node as spreads for mesh nodes / clients and for route reflectors."""
    by_role = {'rr': [], 'other': []}
    for name, count in established.items():
        by_role['rr' if plan['nodes'][name]['bgp']['role'] == 'rr' else 'other'].append(count)
    return spread(by_role['other']), spread(by_role['rr'])


# ---- the network and the BIRDs (root, this machine's kernel) -------------------------------------------------

def run(argv, stdin=None, check=True):
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, check=check)


def ip_batch(lines, namespace=None):
    argv = ['ip'] + (['-n', namespace] if namespace else []) + ['-batch', '-']
    run(argv, stdin='\n'.join(lines) + '\n')


def our_namespaces():
    listed = run(['ip', '-json', 'netns', 'list'], check=False).stdout
    return sorted(entry['name'] for entry in json.loads(listed or '[]') if entry['name'].startswith(PREFIX))


def namespace_pids(namespace):
    return [int(pid) for pid in run(['ip', 'netns', 'pids', namespace], check=False).stdout.split()]


def stop_processes(pids, grace_s=5.0):
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in pids:
        _signal(pid, signal.SIGKILL)


def _signal(pid, signum):
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def remove_namespaces(namespaces):
    """Stop whatever runs in the benchmark's namespaces (only BIRDs it started), then delete them."""
    for namespace in namespaces:
        stop_processes(namespace_pids(namespace))
    for namespace in namespaces:
        run(['ip', 'netns', 'delete', namespace], check=False)


class ControlPlane:
    """One BIRD per namespace on one bridge, for one plan; remove() undoes everything, however far build() got."""

    def __init__(self, plan, defaults):
        self.plan = plan
        self.defaults = defaults
        self.names = sorted(plan['nodes'])
        self.workdir = None
        self.namespaces = []
        self.protocols = {}

    def path(self, name, suffix):
        return os.path.join(self.workdir, name + suffix)

    def build(self):
        self.workdir = tempfile.mkdtemp(prefix=PREFIX)
        self._build_switch()
        self._build_nodes()
        for name in self.names:
            with open(self.path(name, '.conf'), 'w', encoding='utf-8') as stream:
                stream.write(bird_config(self.plan, name, self.defaults, self.path(name, '.log')))

    def _build_switch(self):
        self.namespaces.append(SWITCH_NAMESPACE)
        run(['ip', 'netns', 'add', SWITCH_NAMESPACE])
        ip_batch(['link add %s type bridge' % BRIDGE, 'link set %s up' % BRIDGE], SWITCH_NAMESPACE)

    def _build_nodes(self):
        lines = []
        for name in self.names:
            self.namespaces.append(namespace_of(name))
            lines += ['netns add %s' % namespace_of(name),
                      'link add %s netns %s type veth peer name %s netns %s'
                      % (UPLINK, namespace_of(name), switch_port_of(name), SWITCH_NAMESPACE)]
        ip_batch(lines)
        ip_batch([line for name in self.names for line in (
            'link set %s master %s' % (switch_port_of(name), BRIDGE), 'link set %s up' % switch_port_of(name))],
            SWITCH_NAMESPACE)
        for name in self.names:
            ip_batch(node_setup_lines(self.plan['nodes'][name], self.defaults['podnet_route_proto']),
                     namespace_of(name))

    def start_birds(self):
        """Start every BIRD at once; returns when all have daemonised (or raises with the first refusal)."""
        # Output goes to a file: a pipe would stay open in the daemonised BIRD.
        starting = []
        for name in self.names:
            with open(self.path(name, '.out'), 'w', encoding='utf-8') as output:
                starting.append((name, subprocess.Popen(
                    ['ip', 'netns', 'exec', namespace_of(name), BIRD, '-c', self.path(name, '.conf'),
                     '-s', self.path(name, '.ctl'), '-P', self.path(name, '.pid')],
                    stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT)))
        failed = [name for name, process in starting if process.wait() != 0]
        if failed:
            with open(self.path(failed[0], '.out'), encoding='utf-8') as output:
                raise SystemExit('BIRD refused to start on %s: %s' % (failed[0], output.read().strip()))

    def routes(self, name):
        shown = run(['ip', '-n', namespace_of(name), '-json', 'route', 'show', 'proto', KERNEL_PROTO_BIRD])
        return route_destinations(shown.stdout)

    def birdc(self, name, *command):
        return run([BIRDC, '-s', self.path(name, '.ctl')] + list(command)).stdout

    def bird_pid(self, name):
        with open(self.path(name, '.pid'), encoding='utf-8') as stream:
            return int(stream.read().strip())

    def keep_logs(self, directory):
        os.makedirs(directory, exist_ok=True)
        for name in self.names:
            for suffix in ('.conf', '.log'):
                if os.path.exists(self.path(name, suffix)):
                    shutil.copy(self.path(name, suffix), directory)
            if name in self.protocols:
                with open(os.path.join(directory, name + '.protocols'), 'w', encoding='utf-8') as stream:
                    stream.write(self.protocols[name])

    def remove(self):
        pids = []
        for name in self.names:
            try:
                pids.append(self.bird_pid(name))
            except (OSError, ValueError, TypeError):
                pass
        stop_processes(pids)
        remove_namespaces(list(reversed(self.namespaces)))
        self.namespaces = []
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


# ---- measuring -----------------------------------------------------------------------------------------------

def wait_for_blocks(lab, started, timeout_s, poll_s):
    """Seconds from `started` at which each node's kernel first held every other node's block (None: never)."""
    waiting = dict((name, expected_blocks(lab.plan, name)) for name in lab.names)
    complete = {}
    sweeps = []
    while waiting and time.monotonic() - started < timeout_s:
        sweep_started = time.monotonic()
        for name in list(waiting):
            if lab.routes(name) >= waiting[name]:
                complete[name] = time.monotonic() - started
                del waiting[name]
        sweeps.append(time.monotonic() - sweep_started)
        if waiting:
            time.sleep(poll_s)
    complete.update((name, None) for name in waiting)
    return complete, max(sweeps) if sweeps else 0.0


def wait_for_sessions(lab, started, timeout_s, poll_s):
    """Established sessions per node once every planned session is up, or as they stand at the timeout."""
    while True:
        lab.protocols = dict((name, lab.birdc(name, 'show', 'protocols')) for name in lab.names)
        established = dict((name, established_sessions(shown)) for name, shown in lab.protocols.items())
        done = all(established[name] == planned_sessions(lab.plan, name) for name in lab.names)
        elapsed = time.monotonic() - started
        if done or elapsed >= timeout_s:
            return established, elapsed if done else None
        time.sleep(poll_s)


def read_backlog_drops():
    with open('/proc/net/softnet_stat', encoding='utf-8') as stream:
        return backlog_drops(stream.read())


def bird_resources(lab):
    ticks = os.sysconf('SC_CLK_TCK')
    memory, rss, cpu = [], [], []
    for name in lab.names:
        pid = lab.bird_pid(name)
        memory.append(memory_total_bytes(lab.birdc(name, 'show', 'memory')))
        with open('/proc/%d/status' % pid, encoding='utf-8') as stream:
            rss.append(vm_rss_bytes(stream.read()))
        with open('/proc/%d/stat' % pid, encoding='utf-8') as stream:
            cpu.append(cpu_seconds(stream.read(), ticks))
    return {'memory': memory, 'rss': rss, 'cpu_s': sum(cpu)}


def measure(count, topology, defaults, args):
    plan = build_plan(count, topology, defaults, args.rack_size)
    lab = ControlPlane(plan, defaults)
    atexit.register(lab.remove)
    try:
        lab.build()
        load_before = os.getloadavg()[0]
        drops_before = read_backlog_drops()
        started_wall = time.time()
        started = time.monotonic()
        lab.start_birds()
        startup_s = time.monotonic() - started
        complete, sweep_s = wait_for_blocks(lab, started, args.timeout, args.poll)
        load_after = os.getloadavg()[0]
        drops = read_backlog_drops() - drops_before
        established, sessions_s = wait_for_sessions(lab, started, args.timeout, args.poll)
        resources = bird_resources(lab)
    finally:
        if args.keep_logs and lab.workdir:
            lab.keep_logs(os.path.join(args.keep_logs, '%s-%d' % (topology, count)))
        lab.remove()
        atexit.unregister(lab.remove)
    return result_row(plan, topology, complete, established, resources, {
        'session_up_s': sorted(since - started_wall for shown in lab.protocols.values()
                               for since in established_since(shown)),
        'startup_s': startup_s, 'sessions_s': sessions_s, 'sweep_s': sweep_s, 'backlog_drops': drops,
        'load_before': load_before, 'load_after': load_after})


def result_row(plan, topology, complete, established, resources, timings):
    times = [value for value in complete.values() if value is not None]
    clients, reflectors = sessions_by_role(plan, established)
    return dict(timings, **{
        'topology': topology, 'nodes': len(plan['nodes']),
        'racks': len(set(node['rack'] for node in plan['nodes'].values())),
        'route_reflectors': len(plan['bgp']['route_reflectors']), 'sessions_planned': plan['bgp']['sessions'],
        'sessions_established': sum(established.values()) // 2,
        'converged_nodes': len(times), 'converged_s': max(times) if len(times) == len(complete) else None,
        'median_node_s': statistics.median(times) if times else None,
        'sessions_other': clients, 'sessions_rr': reflectors,
        'memory_median': statistics.median(resources['memory']), 'memory_max': max(resources['memory']),
        'rss_median': statistics.median(resources['rss']), 'rss_total': sum(resources['rss']),
        'cpu_s': resources['cpu_s'],
    })


# ---- reporting (pure) ----------------------------------------------------------------------------------------

def seconds(value):
    return 'not reached' if value is None else '%.1f' % value


def kib(value):
    return '%.0f' % (value / 1024)


def mib(value):
    return '%.1f' % (value / 1024 ** 2)


def convergence_table(rows):
    lines = ['| topology | nodes | racks | RRs | sessions planned / Established | BIRDs started (s) '
             '| every block in every kernel (s) | median node (s) | every session Established (s) '
             '| a session came up, median / last (s) | sessions per mesh node / client | per RR '
             '| load 1 min before / after |',
             '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
    for row in rows:
        converged = seconds(row['converged_s'])
        if row['converged_s'] is None:
            converged += ' (%d of %d nodes)' % (row['converged_nodes'], row['nodes'])
        up = row['session_up_s']
        lines.append('| %s | %d | %d | %d | %d / %d | %.1f | %s | %s | %s | %s / %s | %s | %s | %.2f / %.2f |' % (
            TOPOLOGY_LABELS[row['topology']], row['nodes'], row['racks'], row['route_reflectors'],
            row['sessions_planned'], row['sessions_established'], row['startup_s'], converged,
            seconds(row['median_node_s']), seconds(row['sessions_s']),
            seconds(statistics.median(up) if up else None), seconds(up[-1] if up else None),
            row['sessions_other'], row['sessions_rr'], row['load_before'], row['load_after']))
    return '\n'.join(lines)


def resource_table(rows):
    lines = ['| topology | nodes | BIRD memory per node, median / max (KiB, show memory) '
             '| RSS per BIRD, median (MiB) | RSS of all BIRDs (MiB) | CPU of all BIRDs (s) '
             '| frames dropped by full backlogs (whole machine) |',
             '|---|---:|---:|---:|---:|---:|---:|']
    for row in rows:
        lines.append('| %s | %d | %s / %s | %s | %s | %.1f | %d |' % (
            TOPOLOGY_LABELS[row['topology']], row['nodes'], kib(row['memory_median']), kib(row['memory_max']),
            mib(row['rss_median']), mib(row['rss_total']), row['cpu_s'], row['backlog_drops']))
    return '\n'.join(lines)


def report(rows, poll_s, sweep_s):
    return '\n'.join([
        convergence_table(rows), '', resource_table(rows), '',
        'Kernels polled every %.1f s; one sweep over the nodes not yet complete took at most %.2f s, which bounds '
        'how late a node\'s time can be.' % (poll_s, sweep_s)])


# ---- the command ---------------------------------------------------------------------------------------------

class Terminated(Exception):
    pass


def _raise_terminated(signum, _frame):
    raise Terminated('signal %d' % signum)


def clear_leftovers():
    """A run killed with SIGKILL leaves its namespaces behind; they carry this benchmark's prefix, so remove them."""
    left = our_namespaces()
    if left:
        print('removing %d namespaces left by an earlier run (%s...)' % (len(left), left[0]), file=sys.stderr)
        remove_namespaces(left)


LAB_LOCK = '/tmp/podnet-lab.lock'
NEIGH_THRESHOLDS = ('gc_thresh1', 'gc_thresh2', 'gc_thresh3')


def neighbour_thresholds_for(nodes):
    """gc_thresh1-3 that hold every node's entry for every other node: this kernel keeps one ARP table for all
    namespaces (default hard limit 1,024), and a full table fails every sender on the machine with ENOBUFS."""
    entries = nodes * nodes
    return (128, max(512, entries), max(1024, 2 * entries))


def read_neighbour_thresholds():
    values = []
    for name in NEIGH_THRESHOLDS:
        with open('/proc/sys/net/ipv4/neigh/default/' + name, encoding='utf-8') as stream:
            values.append(int(stream.read()))
    return values


def write_neighbour_thresholds(values):
    for name, value in zip(NEIGH_THRESHOLDS, values):
        with open('/proc/sys/net/ipv4/neigh/default/' + name, 'w', encoding='utf-8') as stream:
            stream.write(str(value))


@contextlib.contextmanager
def machine_for_the_run(nodes):
    """The lab lock (labs share this kernel's ARP table) and room in that table for the run; restored after."""
    with open(LAB_LOCK, 'a') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        before = read_neighbour_thresholds()
        write_neighbour_thresholds([max(old, new) for old, new in zip(before, neighbour_thresholds_for(nodes))])
        try:
            yield
        finally:
            write_neighbour_thresholds(before)


def cases(args):
    runs = [(size, topology) for size in args.sizes for topology in args.topologies]
    return runs + [(size, 'mesh') for size in args.extra_mesh_sizes]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[25, 50, 100])
    parser.add_argument('--topologies', nargs='+', default=['mesh', 'rr'], choices=sorted(MESH_MAX_NODES))
    parser.add_argument('--extra-mesh-sizes', type=int, nargs='*', default=[],
                        help='mesh only, after the other runs: where the mesh stops being reasonable')
    parser.add_argument('--rack-size', type=int, default=RACK_SIZE)
    parser.add_argument('--timeout', type=float, default=180.0, help='seconds to wait for convergence')
    parser.add_argument('--poll', type=float, default=0.5, help='seconds between kernel polls')
    parser.add_argument('--keep-logs', metavar='DIR', help='copy every BIRD config and log here, per run')
    parser.add_argument('--output', help='write the tables (markdown) here too')
    parser.add_argument('--json', help='write every raw result here')
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit('needs root: it creates network namespaces and runs BIRD in them')
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_terminated)

    defaults = role_variables()
    rows = []
    try:
        with machine_for_the_run(max(size for size, _ in cases(args))):
            clear_leftovers()
            for size, topology in cases(args):
                print('measuring %s at %d nodes ...' % (TOPOLOGY_LABELS[topology], size), file=sys.stderr,
                      flush=True)
                rows.append(measure(size, topology, defaults, args))
    except (KeyboardInterrupt, Terminated) as stopped:
        print('stopped (%s); everything the run created is removed' % (str(stopped) or 'interrupt'), file=sys.stderr)
        return 130
    text = report(rows, args.poll, max(row['sweep_s'] for row in rows))
    print(text)
    if args.output:
        with open(args.output, 'w', encoding='utf-8') as stream:
            stream.write(text + '\n')
    if args.json:
        with open(args.json, 'w', encoding='utf-8') as stream:
            json.dump(rows, stream, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
