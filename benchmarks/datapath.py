#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Datapath throughput: iperf3 pod to pod in each mode, next to node to node on the same hosts in the same run.

Container labs (one per mode, built with the lab harness, site.yml and playbooks/lab_pods.yml):

- bridge (inventories/lab/bridge.yml): pod to pod on one node (pod1 -> pod2 of node1, through cni0) against node1 ->
  node2 on their node IPs. The reference is the rack, not loopback: a podman rack is itself veth -> Linux bridge ->
  veth in this kernel, the same shape and MTU (1500) as veth -> cni0 -> veth, while loopback (MTU 65536, no veth, no
  bridge) measures something no pod path could reach.
- hostgw (hostgw.yml) and bgp (bgp-mesh.yml): pod1 of node1 -> pod1 of node2 against node1 -> node2.

VM lab (--vm; inventories/lab/ipip.yml, QEMU under TCG):

- always, by hand: node1 -> node2 (same rack), node1 -> node3 (other rack, through the router VM) and node1 -> node3
  over a hand-built ipip tunnel of podnet's shape (``pnbench``: ``ip link add pnbench type ipip remote R local L``,
  MTU 1480, one /32 address and peer each end; deleted afterwards);
- when roles/ipip exists (the lead's IPIP work): site.yml with ``podnet_mode=hostgw podnet_ipip_mode=CrossSubnet``,
  one pod per node, then pod to pod same rack (direct) and across racks (tunl0 via the router), and node1 -> node3's
  tunl0 address through podnet's tunnel next to the same over ``pnbench``. ``pnbench`` is down whenever podnet's
  tunnel is measured: the kernel hands an incoming IPIP packet to the tunnel whose remote and local match it
  exactly before the catch-all tunl0, so an up ``pnbench`` would take podnet's packets.

Every measurement is ``iperf3 -s -1 -B ADDR`` in the target's network namespace and ``iperf3 -c ADDR -t S -O 1 -J``
in the source's, S seconds (default 5) after one omitted second of slow start. The compared paths run alternately
within one round (A B, then B A in the next round), so load that comes and goes on this shared 2-core machine hits
both sides alike; a ratio is computed per round and the table gives the median of the rounds. iperf3 comes from the
lab's own package source (lab/podnet_lab.py LAB_TOOL_PACKAGES), installed into the hosts used, never from outside.

Each lab is used under ``flock /tmp/podnet-lab.lock`` (released between labs) and removed on any exit.

    .venv/bin/python benchmarks/datapath.py [--modes bridge hostgw bgp] [--vm] [--rounds 3] [--seconds 5]
                                            [--output FILE.md] [--json FILE.json]
"""
import argparse
import concurrent.futures
import contextlib
import fcntl
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'lab'))

import podnet_lab  # noqa: E402

LOCK_FILE = '/tmp/podnet-lab.lock'
INVENTORIES = {'bridge': 'inventories/lab/bridge.yml', 'hostgw': 'inventories/lab/hostgw.yml',
               'bgp': 'inventories/lab/bgp-mesh.yml'}
VM_INVENTORY = 'inventories/lab/ipip.yml'
PORT = 5201
POD_IFNAME = 'eth0'
IPIP_OVERHEAD = 20
# The hand-built tunnel's own addresses: a /32 and its peer at each end, outside every lab rack and the pod pool.
BENCH_TUNNEL = 'pnbench'
BENCH_TUNNEL_ADDRS = ('10.89.59.1', '10.89.59.2')
BENCH_TUNNEL_MTU = 1480
# iperf3's postinst asks whether to start a system-wide daemon; a lab host must not run one.
IPERF3_DEBCONF = 'iperf3 iperf3/start_daemon boolean false'
INSTALL_IPERF3 = ('command -v iperf3 >/dev/null || { echo "%s" | debconf-set-selections && apt-get update -qq && '
                  'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends iperf3 '
                  '>/dev/null; }' % IPERF3_DEBCONF)


class BenchError(Exception):
    pass


class Terminated(Exception):
    pass


# ---------------------------------------------------------------- pure helpers (tests/unit/benchmarks)

def parse_iperf3(text):
    """One iperf3 client's ``-J`` output -> {'gbps', 'retransmits', 'cpu_local', 'cpu_remote', 'mss'}.

    Throughput is what the receiver got (sum_received): the sender's figure counts bytes still in flight.
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BenchError('iperf3 gave no JSON: %s' % text.strip()[:300]) from exc
    if data.get('error'):
        raise BenchError('iperf3: %s' % data['error'])
    end = data.get('end') or {}
    received = end.get('sum_received') or {}
    if 'bits_per_second' not in received:
        raise BenchError('iperf3 JSON has no end.sum_received.bits_per_second')
    cpu = end.get('cpu_utilization_percent') or {}
    connected = (data.get('start') or {}).get('tcp_mss_default')
    return {
        'gbps': received['bits_per_second'] / 1e9,
        'bytes': received.get('bytes'),
        'retransmits': (end.get('sum_sent') or {}).get('retransmits'),
        'cpu_local': cpu.get('host_total'),
        'cpu_remote': cpu.get('remote_total'),
        'mss': connected,
    }


def cpu_times(proc_stat):
    """(busy, softirq) jiffies of the machine from /proc/stat's first line (busy: user..softirq, steal)."""
    fields = proc_stat.splitlines()[0].split()
    if fields[0] != 'cpu':
        raise ValueError('not /proc/stat: %r' % fields[0])
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    return user + nice + system + irq + softirq + steal, softirq


def cpu_per_gb(before, after, received_bytes, hz=100):
    """Machine CPU seconds (all, softirq) spent per GB received, from two cpu_times() samples."""
    gigabytes = received_bytes / 1e9
    return (after[0] - before[0]) / hz / gigabytes, (after[1] - before[1]) / hz / gigabytes


def round_orders(names, rounds):
    """The order of the compared paths in each round: as given, then reversed, alternately."""
    names = list(names)
    return [names if index % 2 == 0 else names[::-1] for index in range(rounds)]


def ratios(numerators, denominators):
    """Per-round ratios of two equally long series of throughputs."""
    if len(numerators) != len(denominators):
        raise ValueError('series of different length: %d and %d' % (len(numerators), len(denominators)))
    return [num / den for num, den in zip(numerators, denominators)]


def summary(values):
    """(median, min, max) of a non-empty series."""
    return statistics.median(values), min(values), max(values)


def mtu_reason(pod_mtu, uplink_mtu, pod_mtu_setting=None, may_tunnel=False):
    """Why the pod MTU is what it is, following the plan's rule (plugins/plugin_utils/_plan.py)."""
    if pod_mtu_setting is not None and pod_mtu == pod_mtu_setting:
        return 'podnet_pod_mtu %d is set' % pod_mtu_setting
    if may_tunnel and uplink_mtu is not None and pod_mtu == uplink_mtu - IPIP_OVERHEAD:
        return 'uplink MTU %d minus the %d-byte outer IPv4 header of IPIP' % (uplink_mtu, IPIP_OVERHEAD)
    if uplink_mtu is not None and pod_mtu == uplink_mtu:
        return 'the uplink\'s MTU %d (no encapsulation, podnet_pod_mtu unset)' % uplink_mtu
    return 'not what the plan\'s rule gives (uplink %s): check the plan' % uplink_mtu


def link_mtus(ip_json_links):
    """{ifname: mtu} from ``ip -json link`` output."""
    return {link['ifname']: link.get('mtu') for link in json.loads(ip_json_links or '[]')}


def ipv4_of(ip_json_addr):
    """The first global IPv4 address in ``ip -json addr`` output of one device."""
    for link in json.loads(ip_json_addr or '[]'):
        for info in link.get('addr_info', []):
            if info.get('family') == 'inet' and info.get('scope') != 'host':
                return info['local']
    return None


def fmt_ratio(values):
    median, low, high = summary(values)
    return '**%.2fx** (%.2f-%.2f)' % (median, low, high)


def fmt_gbps(values):
    median, low, high = summary(values)
    if median < 1:
        return '%.0f Mbit/s (%.0f-%.0f)' % (median * 1000, low * 1000, high * 1000)
    return '%.1f Gbit/s (%.1f-%.1f)' % (median, low, high)


# ---------------------------------------------------------------- hosts: containers and VMs alike

class ContainerHost:
    def __init__(self, name, container):
        self.name, self.container = name, container

    def argv(self, command):
        return [*podnet_lab.PODMAN_GLOBAL, 'exec', self.container, *command]

    def run(self, command, check=True, timeout=600):
        result = subprocess.run(self.argv(command), capture_output=True, text=True, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise BenchError('%s: %s failed (%d): %s' % (self.name, shlex.join(command), result.returncode,
                                                         (result.stderr or result.stdout).strip()[-500:]))
        return result

    def popen(self, command):
        return subprocess.Popen(self.argv(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class VmHost(ContainerHost):
    def __init__(self, name, vmlab, vm):
        super().__init__(name, None)
        self.lab, self.vm = vmlab, vm

    def argv(self, command):
        import vmlab  # pylint: disable=import-outside-toplevel
        return vmlab.ssh_command(self.lab, self.vm, shlex.join(command))


def in_netns(netns, command):
    return ['ip', 'netns', 'exec', netns, *command] if netns else list(command)


def iperf3(server, server_ns, address, client, client_ns, seconds, port=PORT):
    """One iperf3 run from client (in client_ns) to address (in server_ns on server); returns parse_iperf3()."""
    proc = server.popen(in_netns(server_ns, ['iperf3', '-s', '-1', '-B', address, '-p', str(port),
                                             '--idle-timeout', str(seconds + 60)]))
    try:
        deadline = time.monotonic() + 60
        while True:
            before = read_cpu_times()
            result = client.run(in_netns(client_ns, ['iperf3', '-c', address, '-p', str(port), '-t', str(seconds),
                                                     '-O', '1', '-J', '--connect-timeout', '3000']),
                                check=False, timeout=seconds + 120)
            after = read_cpu_times()
            try:
                outcome = parse_iperf3(result.stdout)
                if outcome['bytes']:
                    outcome['cpu_s_per_gb'], outcome['softirq_s_per_gb'] = cpu_per_gb(
                        before, after, outcome['bytes'], os.sysconf('SC_CLK_TCK'))
                return outcome
            except BenchError as exc:
                # The server may not listen yet: retry only that, for a while.
                if proc.poll() is not None or time.monotonic() > deadline or 'connect' not in str(exc):
                    server_out = '' if proc.poll() is None else (proc.stderr.read() or proc.stdout.read())
                    raise BenchError('%s -> %s: %s %s' % (client.name, address, exc, server_out.strip()[-300:])) \
                        from exc
                time.sleep(0.5)
    finally:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def read_cpu_times():
    with open('/proc/stat', encoding='ascii') as handle:
        return cpu_times(handle.read())


def install_iperf3(hosts):
    """Install iperf3 from the lab's package source into every host at once (VMs take a minute each)."""
    def install(host):
        started = time.monotonic()
        host.run(['sh', '-c', INSTALL_IPERF3], timeout=900)
        active = host.run(['sh', '-c', 'systemctl is-active iperf3 || true'], check=False).stdout.strip()
        if active == 'active':
            raise BenchError('%s: the iperf3 daemon runs after the install' % host.name)
        return '  %s: iperf3 ready (%.0f s)' % (host.name, time.monotonic() - started)

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(hosts)) as pool:
        for line in pool.map(install, hosts):
            print(line, flush=True)


def pods_of(host):
    """{netns: ipv4} of the pods on a lab host (namespaces attached by playbooks/lab_pods.yml)."""
    pods = {}
    for entry in json.loads(host.run(['ip', '-json', 'netns', 'list']).stdout or '[]'):
        out = host.run(['ip', '-n', entry['name'], '-json', '-4', 'addr', 'show', 'dev', POD_IFNAME],
                       check=False).stdout
        address = ipv4_of(out)
        if address:
            pods[entry['name']] = address
    return dict(sorted(pods.items()))


def load_average():
    with open('/proc/loadavg', encoding='ascii') as handle:
        return ' '.join(handle.read().split()[:3])


def measure(paths, rounds, seconds):
    """paths: {label: (server, server_ns, address, client, client_ns)}; returns {label: [result per round]}."""
    results = {label: [] for label in paths}
    for index, order in enumerate(round_orders(paths, rounds), start=1):
        for label in order:
            outcome = iperf3(*paths[label], seconds)
            results[label].append(outcome)
            print('  round %d %-28s %7.3f Gbit/s  retr %s  cpu %s/%s' % (
                index, label, outcome['gbps'], outcome['retransmits'],
                _pct(outcome['cpu_local']), _pct(outcome['cpu_remote'])), flush=True)
    return results


def _pct(value):
    return '-' if value is None else '%.0f%%' % value


# ---------------------------------------------------------------- labs

@contextlib.contextmanager
def lab_lock():
    started = time.monotonic()
    with open(LOCK_FILE, 'a', encoding='ascii') as handle:
        print('waiting for %s ...' % LOCK_FILE, flush=True)
        fcntl.flock(handle, fcntl.LOCK_EX)
        held = time.monotonic()
        print('lock held after %.0f s' % (held - started), flush=True)
        try:
            yield held
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def harness(action, inventory):
    started = time.monotonic()
    result = subprocess.run([sys.executable, os.path.join(ROOT, 'lab', 'podnet_lab.py'), action, '-i', inventory],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BenchError('podnet_lab.py %s -i %s: %s' % (action, inventory, (result.stderr or result.stdout)[-800:]))
    return time.monotonic() - started


def playbook(inventory, name, extra_vars=None):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'), ANSIBLE_FORCE_COLOR='0')
    argv = [os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook'), '-i', inventory, name]
    if extra_vars:
        argv += ['-e', json.dumps(extra_vars)]
    started = time.monotonic()
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BenchError('ansible-playbook %s failed:\n%s' % (name, result.stdout[-3000:]))
    return time.monotonic() - started


@contextlib.contextmanager
def built_lab(inventory, label):
    """Bring a lab up under the lab lock; always remove it (and release the lock) on the way out."""
    with lab_lock() as held:
        try:
            up_s = harness('up', inventory)
            print('%s: lab up in %.0f s' % (label, up_s), flush=True)
            yield held
        finally:
            try:
                harness('down', inventory)
                print('%s: lab removed' % label, flush=True)
            except BenchError as exc:
                print('%s: removing the lab failed: %s' % (label, exc), file=sys.stderr)


def container_mode(mode, rounds, seconds, profile=False):
    inventory = INVENTORIES[mode]
    lab = podnet_lab.load_lab(os.path.join(ROOT, inventory))
    hosts = {h.name: ContainerHost(h.name, lab.container(h.name)) for h in lab.hosts}
    node_ip = {h.name: str(h.ip) for h in lab.hosts}
    uplink = {h.name: h.uplink for h in lab.hosts}
    started = time.monotonic()
    record = {'mode': mode, 'inventory': inventory}
    with built_lab(inventory, mode) as held:
        record['lock_wait_s'] = held - started
        record['site_s'] = playbook(inventory, 'site.yml')
        record['pods_s'] = playbook(inventory, 'playbooks/lab_pods.yml')
        print('%s: site.yml %.0f s, lab_pods.yml %.0f s' % (mode, record['site_s'], record['pods_s']), flush=True)
        node1, node2 = hosts['node1'], hosts['node2']
        install_iperf3([node1, node2])
        pods1, pods2 = pods_of(node1), pods_of(node2)
        (src_ns, src_ip), = list(pods1.items())[:1]
        if mode == 'bridge':
            dst_host, (dst_ns, dst_ip) = node1, list(pods1.items())[1]
            pod_label = 'pod -> pod, same node'
        else:
            dst_host, (dst_ns, dst_ip) = node2, list(pods2.items())[0]
            pod_label = 'pod -> pod, node1 -> node2'
        record['pod_path'] = '%s %s (%s) -> %s %s (%s)' % (node1.name, src_ns, src_ip, dst_host.name, dst_ns, dst_ip)
        record['node_path'] = 'node1 %s -> node2 %s' % (node_ip['node1'], node_ip['node2'])
        record['mtu'] = mtus(node1, uplink['node1'], src_ns)
        record['load_before'] = load_average()
        paths = {'node -> node': (node2, None, node_ip['node2'], node1, None),
                 pod_label: (dst_host, dst_ns, dst_ip, node1, src_ns)}
        results = measure(paths, rounds, seconds)
        record['load_after'] = load_average()
        if profile:
            record['profile'] = {label: profiled(paths[label], seconds) for label in paths}
    # The lab's own time, from taking the lock to the lab's removal; the wait for the lock is recorded apart.
    record['wall_s'] = time.monotonic() - held
    record['results'] = results
    record['pod_label'] = pod_label
    return record


def profiled(path, seconds, top=12):
    """One more run of a path with the whole machine sampled by perf (the lab hosts share this kernel).

    Returns the top kernel and user symbols by share of samples, self time only.
    """
    data = '/tmp/podnet-datapath-%d.perf' % os.getpid()
    perf = subprocess.Popen(['perf', 'record', '-a', '-F', '499', '-o', data, '--', 'sleep', str(seconds)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        outcome = iperf3(*path, seconds + 1)
    finally:
        perf.wait()
    report = subprocess.run(['perf', 'report', '-i', data, '--no-children', '--sort', 'sym', '--stdio',
                             '--percent-limit', '1'], capture_output=True, text=True, check=False)
    os.remove(data)
    rows = []
    for line in report.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0].endswith('%') and not line.startswith('#'):
            rows.append((parts[0], ' '.join(parts[2:])))
    return {'gbps': outcome['gbps'], 'top': rows[:top]}


def mtus(host, uplink, pod_ns, tunnel=None):
    node_links = link_mtus(host.run(['ip', '-json', 'link']).stdout)
    pod_links = link_mtus(host.run(['ip', '-n', pod_ns, '-json', 'link']).stdout)
    found = {'uplink': node_links.get(uplink), 'pod': pod_links.get(POD_IFNAME),
             'bridge': node_links.get('cni0')}
    if tunnel:
        found['tunnel'] = node_links.get(tunnel)
    found['reason'] = mtu_reason(found['pod'], found['uplink'], may_tunnel=bool(tunnel and found.get('tunnel')))
    return found


# ---------------------------------------------------------------- VM lab

def bench_tunnel(host, local, remote, address, peer, up=True):
    host.run(['ip', 'link', 'del', BENCH_TUNNEL], check=False)
    host.run(['ip', 'link', 'add', BENCH_TUNNEL, 'type', 'ipip', 'remote', remote, 'local', local])
    host.run(['ip', 'link', 'set', BENCH_TUNNEL, 'mtu', str(BENCH_TUNNEL_MTU)])
    host.run(['ip', 'addr', 'add', address, 'peer', peer + '/32', 'dev', BENCH_TUNNEL])
    if up:
        host.run(['ip', 'link', 'set', BENCH_TUNNEL, 'up'])


def set_bench_tunnel(hosts, state):
    for host in hosts:
        host.run(['ip', 'link', 'set', BENCH_TUNNEL, state])


def vm_lab(rounds, seconds):
    import vmlab  # pylint: disable=import-outside-toplevel
    inventory = VM_INVENTORY
    lab = vmlab.load_vm_lab(os.path.join(ROOT, inventory))
    hosts = {vm.name: VmHost(vm.name, lab, vm) for vm in lab.vms}
    node_ip = {h.name: str(h.ip) for h in lab.lab.hosts}
    uplink = {h.name: h.uplink for h in lab.lab.hosts}
    roles_ready = os.path.isdir(os.path.join(ROOT, 'roles', 'ipip'))
    started = time.monotonic()
    record = {'inventory': inventory, 'roles_ready': roles_ready}
    node1, node2, node3 = hosts['node1'], hosts['node2'], hosts['node3']
    with built_lab(inventory, 'vm') as held:
        record['lock_wait_s'] = held - started
        install_iperf3([node1, node2, node3])
        if roles_ready:
            record['site_s'] = playbook(inventory, 'site.yml', {'podnet_mode': 'hostgw',
                                                                'podnet_ipip_mode': 'CrossSubnet'})
            record['pods_s'] = playbook(inventory, 'playbooks/lab_pods.yml', {'podnet_lab_pods_per_node': 1})
            print('vm: site.yml %.0f s, lab_pods.yml %.0f s' % (record['site_s'], record['pods_s']), flush=True)
        a, b = BENCH_TUNNEL_ADDRS
        try:
            bench_tunnel(node1, node_ip['node1'], node_ip['node3'], a, b)
            bench_tunnel(node3, node_ip['node3'], node_ip['node1'], b, a)
            record['load_before'] = load_average()
            hand = {'node1 -> node2, same rack': (node2, None, node_ip['node2'], node1, None),
                    'node1 -> node3, routed': (node3, None, node_ip['node3'], node1, None),
                    'node1 -> node3, pnbench': (node3, None, b, node1, None)}
            record['hand'] = measure(hand, rounds, seconds)
            record['hand_mtu'] = link_mtus(node1.run(['ip', '-json', 'link']).stdout)
            if roles_ready:
                record['podnet'] = podnet_tunnel(hosts, node_ip, uplink, rounds, seconds, record)
            record['load_after'] = load_average()
        finally:
            for host in (node1, node3):
                host.run(['ip', 'link', 'del', BENCH_TUNNEL], check=False)
    record['wall_s'] = time.monotonic() - held
    return record


def podnet_tunnel(hosts, node_ip, uplink, rounds, seconds, record):
    node1, node2, node3 = hosts['node1'], hosts['node2'], hosts['node3']
    pods = {name: list(pods_of(hosts[name]).items())[0] for name in ('node1', 'node2', 'node3')}
    tunl0 = json.loads(node3.run(['ip', '-json', '-4', 'addr', 'show', 'dev', 'tunl0']).stdout or '[]')
    tunnel_addr = ipv4_of(json.dumps(tunl0))
    record['mtu'] = mtus(node1, uplink['node1'], pods['node1'][0], tunnel='tunl0')
    record['podnet_paths'] = {name: '%s %s' % pod for name, pod in pods.items()}
    record['tunl0_node3'] = tunnel_addr
    src_ns = pods['node1'][0]
    # pnbench would take the IPIP packets of node3 -> node1 (the replies) while it is up.
    set_bench_tunnel((node1, node3), 'down')
    pod_paths = {'pod -> pod, same rack': (node2, pods['node2'][0], pods['node2'][1], node1, src_ns),
                 'pod -> pod, across racks': (node3, pods['node3'][0], pods['node3'][1], node1, src_ns)}
    results = measure(pod_paths, rounds, seconds)
    # podnet's tunnel against pnbench, node to node, alternately: pnbench is down while tunl0 carries.
    results.update({'node1 -> node3, tunl0': [], 'node1 -> node3, pnbench (again)': []})
    for order in round_orders(['tunl0', 'pnbench'], rounds):
        for which in order:
            if which == 'tunl0':
                set_bench_tunnel((node1, node3), 'down')
                outcome = iperf3(node3, None, tunnel_addr, node1, None, seconds)
                results['node1 -> node3, tunl0'].append(outcome)
            else:
                set_bench_tunnel((node1, node3), 'up')
                outcome = iperf3(node3, None, BENCH_TUNNEL_ADDRS[1], node1, None, seconds)
                results['node1 -> node3, pnbench (again)'].append(outcome)
            print('  %-28s %7.3f Gbit/s  retr %s' % (which, outcome['gbps'], outcome['retransmits']), flush=True)
    return results


# ---------------------------------------------------------------- report

def gbps(series):
    return [item['gbps'] for item in series]


def container_table(records, rounds, seconds):
    lines = ['| mode | pod path | node -> node | pod -> pod | pod / node (median, min-max) | target 0.95x | pod MTU '
             '(eth0 / cni0 / uplink) | why | retransmits pod / node (median) | machine CPU s per GB pod / node '
             '(median) | load before / after | lab wall time (lock held) |',
             '|---|---|---:|---:|---:|---|---|---|---:|---:|---|---:|']
    for rec in records:
        node, pod = rec['results']['node -> node'], rec['results'][rec['pod_label']]
        values = ratios(gbps(pod), gbps(node))
        mtu = rec['mtu']
        lines.append('| %s | %s | %s | %s | %s | %s | %s / %s / %s | %s | %s / %s | %s / %s | %s / %s | %.0f s |' % (
            rec['mode'], rec['pod_label'], fmt_gbps(gbps(node)), fmt_gbps(gbps(pod)), fmt_ratio(values),
            'met' if statistics.median(values) >= 0.95 else 'missed', mtu['pod'], mtu['bridge'], mtu['uplink'],
            mtu['reason'], _median_of(pod, 'retransmits'), _median_of(node, 'retransmits'),
            _median_of(pod, 'cpu_s_per_gb', '%.2f'), _median_of(node, 'cpu_s_per_gb', '%.2f'), rec['load_before'],
            rec['load_after'], rec['wall_s']))
    lines.append('')
    lines.append('%d rounds of %d s per path (after 1 s omitted), paths alternating within each round; ratios per '
                 'round, then the median (min-max over rounds).' % (rounds, seconds))
    return '\n'.join(lines)


def profile_text(rec):
    lines = ['Profile, %s (perf record -a, self time, symbols above 1%% of samples):' % rec['mode']]
    for label, prof in rec['profile'].items():
        lines.append('- %s, %.1f Gbit/s: %s' % (label, prof['gbps'], '; '.join(
            '%s %s' % (share, sym) for share, sym in prof['top'])))
    return '\n'.join(lines)


def _median_of(series, key, fmt='%.0f'):
    values = [item[key] for item in series if item.get(key) is not None]
    return fmt % statistics.median(values) if values else '-'


def vm_tables(rec, rounds, seconds):
    hand = rec['hand']
    same, routed, bench = (hand['node1 -> node2, same rack'], hand['node1 -> node3, routed'],
                           hand['node1 -> node3, pnbench'])
    lines = ['| path (VM lab, by hand) | throughput (median, min-max) | vs node1 -> node2 same rack | retransmits '
             '(median) |', '|---|---:|---:|---:|']
    for label, series in (('node1 -> node2, same rack, plain', same), ('node1 -> node3, routed by the router VM, '
                                                                       'plain', routed),
                          ('node1 -> node3, pnbench ipip tunnel, MTU %d' % BENCH_TUNNEL_MTU, bench)):
        lines.append('| %s | %s | %s | %s |' % (label, fmt_gbps(gbps(series)), fmt_ratio(ratios(gbps(series),
                                                                                             gbps(same))),
                                                _median_of(series, 'retransmits')))
    lines.append('')
    lines.append('pnbench / routed plain (cost of IPIP on the same routed path): %s' % fmt_ratio(
        ratios(gbps(bench), gbps(routed))))
    podnet = rec.get('podnet')
    if podnet:
        lines.append('')
        lines.append('| path (VM lab, hostgw + CrossSubnet) | throughput (median, min-max) | ratio | what the ratio '
                     'compares |')
        lines.append('|---|---:|---:|---|')
        same_pod, cross_pod = podnet['pod -> pod, same rack'], podnet['pod -> pod, across racks']
        tunl0, bench2 = podnet['node1 -> node3, tunl0'], podnet['node1 -> node3, pnbench (again)']
        lines.append('| pod -> pod, same rack (direct) | %s | - | - |' % fmt_gbps(gbps(same_pod)))
        lines.append('| pod -> pod, across racks (tunl0, via router) | %s | %s | across / same rack |' % (
            fmt_gbps(gbps(cross_pod)), fmt_ratio(ratios(gbps(cross_pod), gbps(same_pod)))))
        lines.append('| node1 -> node3 tunl0 address, podnet tunnel | %s | %s | podnet tunl0 / pnbench (target '
                     '0.95-1.05x) |' % (fmt_gbps(gbps(tunl0)), fmt_ratio(ratios(gbps(tunl0), gbps(bench2)))))
        lines.append('| node1 -> node3, pnbench (hand-built) | %s | - | - |' % fmt_gbps(gbps(bench2)))
        mtu = rec['mtu']
        lines.append('')
        lines.append('MTU on node1: pod eth0 %s, cni0 %s, tunl0 %s, uplink %s: %s.' % (
            mtu['pod'], mtu['bridge'], mtu.get('tunnel'), mtu['uplink'], mtu['reason']))
    else:
        lines.append('')
        lines.append('podnet\'s own tunnel not measured: roles/ipip is not in the tree yet.')
    lines.append('')
    lines.append('%d rounds of %d s per path; load average before / after: %s / %s; VM lab wall time %.0f s.' % (
        rounds, seconds, rec['load_before'], rec['load_after'], rec['wall_s']))
    return '\n'.join(lines)


def _raise_terminated(signum, _frame):
    raise Terminated('signal %d' % signum)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--modes', nargs='*', default=['bridge', 'hostgw', 'bgp'], choices=sorted(INVENTORIES))
    parser.add_argument('--vm', action='store_true', help='also measure the VM lab (%s)' % VM_INVENTORY)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--seconds', type=int, default=5)
    parser.add_argument('--profile', action='store_true',
                        help='container labs: one more run per path under `perf record -a`, top symbols reported')
    parser.add_argument('--output', help='write the tables (markdown) here too')
    parser.add_argument('--json', help='write every raw result here')
    args = parser.parse_args(argv)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_terminated)
    started = time.monotonic()
    raw = {'modes': [], 'vm': None}
    text = []
    try:
        for mode in args.modes:
            raw['modes'].append(container_mode(mode, args.rounds, args.seconds, args.profile))
        if raw['modes']:
            text.append(container_table(raw['modes'], args.rounds, args.seconds))
            text += [profile_text(rec) for rec in raw['modes'] if rec.get('profile')]
        if args.vm:
            raw['vm'] = vm_lab(args.rounds, args.seconds)
            text.append(vm_tables(raw['vm'], args.rounds, args.seconds))
    except (BenchError, podnet_lab.LabError) as exc:
        print('datapath: %s' % exc, file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Terminated) as exc:
        print('datapath: interrupted (%s); every lab it built was removed' % (exc or 'SIGINT'), file=sys.stderr)
        return 130
    finally:
        if args.json:
            with open(args.json, 'w', encoding='utf-8') as handle:
                json.dump(raw, handle, indent=1)
    text.append('Whole run: %.0f s.' % (time.monotonic() - started))
    report = '\n\n'.join(text)
    print('\n' + report)
    if args.output:
        with open(args.output, 'w', encoding='utf-8') as handle:
            handle.write(report + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
