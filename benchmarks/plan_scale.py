#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller time of the cluster plan (plan_cluster, behind the cluster_plan filter) at 125 to 5,000 nodes.

Synthetic inventories shaped like the hostvars ``roles/common`` hands the filter in a real play
(``groups['podnet_nodes'] | map('extract', hostvars)``): inventory variables plus the facts of
``gather_subset: [network]`` (interfaces lo/ens5/eth0 with their ipv4, mtu, ...), and on a rerun the local fact
``ansible_local.podnet.pod_cidr`` each node recorded. Racks of 40 nodes. Layouts valid today:

- bridge: one /24 L2 segment per rack (bridge mode does not route between nodes);
- hostgw and bgp: every node on one /16 segment (without IPIP both refuse peers that are not on-link);
  bgp beyond podnet_bgp_mesh_max_nodes (50) uses route reflectors, 2 per rack;
- refusal: hostgw over one /24 per rack, which the plan must refuse with a bounded number of messages.

Each case runs in a forked child (fresh memory, an address-space cap, a timeout) and times plan_cluster only;
"first" is a first run (no subnet recorded yet), "rerun" the usual later run (every node recorded its subnet).
Growth is t(N)/t(previous N) next to N log N's ratio for the same step, and next to the growth of a pass that is
linear by construction (every node read and checked on its own) on the same inventories; host-gw's "output floor" is the time to
build its N lists of N-1 peer slots alone (the part of its output that is N^2 by nature).

Then the filter is timed through ansible-playbook (--ansible MODE:NODES ...): a localhost play, gather_facts off,
the same facts stored beforehand with Ansible's own jsonfile fact cache plugin, so hostvars hold them as after a
gathering play. Marks between tasks separate: extracting the hostvars alone, the filter with the plan reduced to a
count, and the set_fact of the whole plan as roles/common does it. Last, the biggest case of each mode is profiled
(cProfile).

    .venv/bin/python benchmarks/plan_scale.py
"""

import argparse
import cProfile
import io
import ipaddress
import json
import math
import multiprocessing
import os
import pstats
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, '.collections'))

from ansible_collections.podnet.netmodes.plugins.plugin_utils import _plan  # noqa: E402
from ansible_collections.podnet.netmodes.plugins.plugin_utils._plan import plan_cluster  # noqa: E402

RACK_SIZE = 40
SIZES = (125, 250, 500, 1000, 2000, 5000)
MODES = ('bridge', 'hostgw', 'bgp')
# /24 per node (bridge, hostgw) for 5,000 nodes needs more than a /16: a /9 that leaves 10.0.0.0/9 to the nodes.
SETTINGS = {
    'podnet_cluster_cidr': '10.128.0.0/9', 'podnet_bridge_name': 'cni0', 'podnet_route_proto': 94,
    'podnet_cni_network': 'podnet', 'podnet_masquerade': True, 'podnet_hostgw_purge': True,
    'podnet_bgp_as': 64512, 'podnet_bgp_mesh_max_nodes': 50, 'podnet_bgp_rr_per_rack': 2,
    'podnet_cni_conf_dir': '/etc/cni/net.d', 'podnet_cni_bin_dir': '/usr/lib/cni',
    'podnet_packages': ['iproute2', 'nftables', 'containernetworking-plugins'],
}
NODE_PREFIX = {'bridge': 24, 'hostgw': 24, 'bgp': 26}
MEMORY_CAP = 8 * 2 ** 30


def node_address(index, layout):
    rack, slot = divmod(index, RACK_SIZE)
    if layout == 'one-segment':
        return '10.89.%d.%d' % (index // 250, index % 250 + 1), '10.89.0.0', 16
    return '10.89.%d.%d' % (rack, slot + 1), '10.89.%d.0' % rack, 24


def interface(device, address, network, prefix, mtu, kind='ether'):
    net = ipaddress.IPv4Network('%s/%d' % (network, prefix))
    return {
        'device': device, 'active': True, 'type': kind, 'mtu': mtu, 'promisc': False,
        'macaddress': '52:54:00:%02x:%02x:%02x' % (hash(address) & 255, hash(device) & 255, prefix),
        'module': 'virtio_net', 'pciid': 'virtio0', 'speed': -1,
        'features': {'rx_checksumming': 'on [fixed]', 'tx_checksumming': 'on', 'generic_receive_offload': 'on'},
        'ipv4': {'address': address, 'broadcast': str(net.broadcast_address), 'netmask': str(net.netmask),
                 'network': network, 'prefix': str(prefix)},
        'ipv6': [{'address': 'fe80::5054:ff:fe00:1', 'prefix': '64', 'scope': 'link'}],
    }


def gathered_facts(name, address, network, prefix, recorded):
    """ansible_facts as hostvars hold them after gather_subset [network] (keys without the ansible_ prefix)."""
    lo = {'device': 'lo', 'active': True, 'type': 'loopback', 'mtu': 65536, 'promisc': False,
          'ipv4': {'address': '127.0.0.1', 'broadcast': '', 'netmask': '255.0.0.0', 'network': '127.0.0.0',
                   'prefix': '8'},
          'ipv6': [{'address': '::1', 'prefix': '128', 'scope': 'host'}]}
    ens5 = interface('ens5', address, network, prefix, 1500)
    eth0 = interface('eth0', '192.168.99.2', '192.168.99.0', 24, 1500)
    facts = {
        'interfaces': ['lo', 'ens5', 'eth0'], 'lo': lo, 'ens5': ens5, 'eth0': eth0,
        'all_ipv4_addresses': [address, '192.168.99.2'], 'all_ipv6_addresses': ['fe80::5054:ff:fe00:1'],
        'default_ipv4': dict(ens5['ipv4'], interface='ens5', gateway='192.168.99.1', alias='ens5',
                             macaddress=ens5['macaddress'], mtu=1500, type='ether'),
        'default_ipv6': {}, 'fqdn': name, 'hostname': name, 'nodename': name, 'domain': '',
        'dns': {'nameservers': ['192.168.99.1'], 'search': ['lab']},
        'gather_subset': ['!all', 'network', 'min'], 'module_setup': True,
        'local': {'podnet': {'pod_cidr': recorded}} if recorded else {},
    }
    return facts


def synthetic_hosts(count, mode, layout, rerun):
    """The list plan_cluster receives: one hostvars dict per node, facts included."""
    size = 2 ** (32 - NODE_PREFIX[mode])
    base = int(ipaddress.IPv4Address('10.128.0.0'))
    hosts = []
    for index in range(count):
        name = 'node%05d' % index
        address, network, prefix = node_address(index, layout)
        # Names sort like indexes, so a first run gives node i the i-th subnet: what a rerun has recorded.
        recorded = str(ipaddress.IPv4Network((base + index * size, NODE_PREFIX[mode]))) if rerun else None
        facts = gathered_facts(name, address, network, prefix, recorded)
        hostvars = dict(SETTINGS, podnet_mode=mode, inventory_hostname=name, inventory_hostname_short=name,
                        group_names=['podnet_nodes'], ansible_host=address, podnet_node_ip=address,
                        podnet_uplink='ens5', podnet_rack='r%03d' % (index // RACK_SIZE), ansible_facts=facts)
        # inject_facts_as_vars: every fact is also a top-level ansible_* variable.
        hostvars.update(('ansible_' + key, value) for key, value in facts.items())
        hosts.append(hostvars)
    return hosts


def settings_for(mode):
    return dict(SETTINGS, podnet_mode=mode)


# ---- one timed case in a forked child ------------------------------------------------------------------------

def _child(connection, mode, count, layout, rerun, floor, linear):
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    try:
        hosts = synthetic_hosts(count, mode, layout, rerun)
        wall, cpu = time.perf_counter(), time.process_time()
        plan = plan_cluster(hosts, settings_for(mode), {'podnet_nodes': [h['inventory_hostname'] for h in hosts]},
                            [h['inventory_hostname'] for h in hosts])
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        problems = plan['problems']
        row = {'wall': wall, 'cpu': cpu, 'problems': len(problems),
               'problem_chars': sum(len(p) for p in problems), 'longest': max([len(p) for p in problems] or [0]),
               'nodes': len(plan['nodes']),
               # Peer entries the plan holds: bgp's per node, host-gw's in its cluster-wide lists (one per segment).
               'peer_entries': sum(len((n['bgp'] or {}).get('peers', ())) for n in plan['nodes'].values())
               + sum(len(segment['peers']) for segment in ((plan.get('hostgw') or {}).get('segments') or {}).values())}
        if linear:
            # A pass that is O(N) by construction (read and check every node on its own, nothing across nodes):
            # its growth is what this machine gives a linear algorithm on inventories of this size.
            started = time.process_time()
            for hostvars in hosts:
                _plan._node_problems(_plan._describe(hostvars), mode, None)
            row['linear'] = time.process_time() - started
        if floor and plan['nodes']:
            # The inherent part of host-gw's output: N lists of N-1 peers (shared entries, only the slots built).
            entries = list(plan['nodes'].values())
            started = time.perf_counter()
            lists = [entries[:i] + entries[i + 1:] for i in range(len(entries))]
            row['floor'] = time.perf_counter() - started
            del lists
        connection.send(row)
    except MemoryError:
        connection.send({'error': 'out of memory (cap %d GiB)' % (MEMORY_CAP // 2 ** 30)})
    except Exception as caught:  # noqa: BLE001 - reported in the table, the run goes on
        connection.send({'error': '%s: %s' % (type(caught).__name__, caught)})


def timed(mode, count, layout='one-segment', rerun=True, floor=False, linear=False, timeout=60.0):
    context = multiprocessing.get_context('fork')
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(child, mode, count, layout, rerun, floor, linear))
    process.start()
    row = {'error': 'timed out after %.0f s' % timeout}
    if parent.poll(timeout):
        row = parent.recv()
    process.terminate()
    process.join()
    return row


def best_of(repeats, *args, **kwargs):
    rows = [timed(*args, **kwargs) for _ in range(repeats)]
    ok = [row for row in rows if 'error' not in row]
    return min(ok, key=lambda row: row['cpu']) if ok else rows[0]


# ---- the tables ----------------------------------------------------------------------------------------------

def nlogn_ratio(small, large):
    return large * math.log(large) / (small * math.log(small))


def fmt(value, digits=3):
    return '-' if value is None else '%.*f' % (digits, value)


def scale_table(sizes, modes, timeout):
    print('| nodes | mode | layout | first run, s (CPU) | rerun, s (CPU) | rerun growth t(N)/t(prev) '
          '| N log N growth | linear pass growth | peer entries | output floor, s |')
    print('|---:|---|---|---:|---:|---:|---:|---:|---:|---:|')
    for mode in modes:
        previous = None
        layout = 'rack /24s' if mode == 'bridge' else 'one /16'
        for count in sizes:
            kind = 'per-rack' if mode == 'bridge' else 'one-segment'
            first = best_of(3, mode, count, kind, rerun=False, timeout=timeout)
            rerun = best_of(3, mode, count, kind, rerun=True, floor=(mode == 'hostgw'), linear=True, timeout=timeout)
            for row in (first, rerun):
                if 'error' not in row and row['problems']:
                    row['error'] = '%d problems' % row['problems']
            growth = ratio = linear = None
            if previous and 'error' not in rerun and 'error' not in previous[1]:
                growth = rerun['cpu'] / previous[1]['cpu']
                ratio = nlogn_ratio(previous[0], count)
                linear = rerun['linear'] / previous[1]['linear']
            print('| {:,} | {} | {} | {} | {} | {} | {} | {} | {} | {} |'.format(
                count, mode, layout, first.get('error') or fmt(first['cpu']), rerun.get('error') or fmt(rerun['cpu']),
                fmt(growth, 2) + 'x' if growth else '-', fmt(ratio, 2) + 'x' if ratio else '-',
                fmt(linear, 2) + 'x' if linear else '-',
                '{:,}'.format(rerun['peer_entries']) if 'peer_entries' in rerun else '-',
                fmt(rerun.get('floor'))))
            sys.stdout.flush()
            previous = (count, rerun)


def refusal_table(sizes, timeout):
    print('\n| nodes | refused inventory | s (CPU) | growth | N log N growth | messages | characters | longest |')
    print('|---:|---|---:|---:|---:|---:|---:|---:|')
    previous = None
    for count in sizes:
        row = best_of(3 if count <= 1000 else 1, 'hostgw', count, 'per-rack', rerun=True, timeout=timeout)
        growth = ratio = None
        if previous and 'error' not in row and 'error' not in previous[1]:
            growth, ratio = row['cpu'] / previous[1]['cpu'], nlogn_ratio(previous[0], count)
        if 'error' in row:
            print('| {:,} | hostgw, one /24 per rack | {} | - | - | - | - | - |'.format(count, row['error']))
        else:
            print('| {:,} | hostgw, one /24 per rack | {} | {} | {} | {:,} | {:,} | {:,} |'.format(
                count, fmt(row['cpu']), fmt(growth, 2) + 'x' if growth else '-', fmt(ratio, 2) + 'x' if ratio else '-',
                row['problems'], row['problem_chars'], row['longest']))
        sys.stdout.flush()
        previous = (count, row)


def profile(mode, count, top):
    hosts = synthetic_hosts(count, mode, 'per-rack' if mode == 'bridge' else 'one-segment', True)
    profiler = cProfile.Profile()
    profiler.enable()
    plan = plan_cluster(hosts, settings_for(mode))
    profiler.disable()
    assert not plan['problems'], plan['problems'][:3]
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    print('\ncProfile, %s, %s nodes (rerun), sorted by own time:\n' % (mode, '{:,}'.format(count)))
    print('    total under the profiler: %.3f s' % stats.total_tt)
    stats.sort_stats('tottime').print_stats(top)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start = next(index for index, line in enumerate(lines) if line.lstrip().startswith('ncalls'))
    for line in lines[start:]:
        print('    ' + line.replace(ROOT + '/', '').replace(os.path.dirname(os.__file__) + '/', ''))


# ---- through Ansible -----------------------------------------------------------------------------------------

PLAN_EXPRESSION = ("groups['podnet_nodes'] | map('extract', hostvars)"
                   " | podnet.netmodes.cluster_plan(settings, groups, groups['podnet_nodes'])")
PLAYBOOK = """\
- name: Plan {count} nodes through the filter, as roles/common does
  hosts: localhost
  gather_facts: false
  vars:
    podnet_mode: {mode}
    settings: "{{{{ dict(names | zip(query('ansible.builtin.vars', *names))) }}}}"
    names: "{{{{ query('ansible.builtin.varnames', '^podnet_(?!plan$)') }}}}"
  tasks:
    - name: Mark
      ansible.builtin.set_fact:
        __t0: "{{{{ lookup('ansible.builtin.pipe', 'date +%s.%N') }}}}"
    - name: Extract the hostvars only (map extract, then the facts of each host)
      ansible.builtin.set_fact:
        __count: "{{{{ groups['podnet_nodes'] | map('extract', hostvars) | map(attribute='ansible_facts')
                       | map(attribute='interfaces') | list | length }}}}"
    - name: Mark
      ansible.builtin.set_fact:
        __t1: "{{{{ lookup('ansible.builtin.pipe', 'date +%s.%N') }}}}"
    - name: Plan, keeping only a count (the filter and the hostvars it reads, without storing the plan)
      ansible.builtin.set_fact:
        __planned: "{{{{ ({plan}).nodes | length }}}}"
    - name: Mark
      ansible.builtin.set_fact:
        __t2: "{{{{ lookup('ansible.builtin.pipe', 'date +%s.%N') }}}}"
    - name: Plan the cluster as roles/common does (set_fact of the whole plan)
      ansible.builtin.set_fact:
        podnet_plan: "{{{{ {plan} }}}}"
    - name: Mark
      ansible.builtin.set_fact:
        __t3: "{{{{ lookup('ansible.builtin.pipe', 'date +%s.%N') }}}}"
    - name: Stop on a problem, as roles/common does
      ansible.builtin.assert:
        that: podnet_plan.problems | length == 0 and podnet_plan.nodes | length == {count}
        quiet: true
    - name: Mark
      ansible.builtin.set_fact:
        __t4: "{{{{ lookup('ansible.builtin.pipe', 'date +%s.%N') }}}}"
    - name: Every host's route_lines and exclude as roles/hostgw templates them for ip_routes (N tasks, here in one)
      ansible.builtin.set_fact:
        __routes: >-
          {{% set ns = namespace(n=0) %}}{{% for h in (groups['podnet_nodes'] if podnet_plan.hostgw else []) %}}{{% set part = podnet_plan.nodes[h].hostgw %}}{{% set ns.n = ns.n + (podnet_plan.hostgw.segments[part.segment].route_lines | length) - 1 %}}{{% endfor %}}{{{{ ns.n }}}}
    - name: Mark
      ansible.builtin.set_fact:
        __t5: "{{{{ lookup('ansible.builtin.pipe', 'date +%s.%N') }}}}"
    - name: Report
      ansible.builtin.debug:
        msg: "PLANTIMES {{{{ [__t0, __t1, __t2, __t3, __t4, __t5] | map('float') | list | to_json }}}} {{{{ __planned }}}}"
"""


STORE_FACTS = """
import json, sys
from ansible import constants
from ansible.plugins.loader import cache_loader, init_plugin_loader
init_plugin_loader()
cache = cache_loader.get(constants.CACHE_PLUGIN)
for host, facts in json.load(open(sys.argv[1])).items():
    cache.set(host, facts)
"""


def through_ansible(count, mode):
    """Seconds for (hostvars extraction only, the plan task, the assert after it) through ansible-playbook."""
    hosts = synthetic_hosts(count, mode, 'per-rack' if mode == 'bridge' else 'one-segment', True)
    work = tempfile.mkdtemp(prefix='podnet-plan-scale-')
    try:
        cache = os.path.join(work, 'facts')
        os.mkdir(cache)
        inventory = {'all': {'vars': dict(SETTINGS, podnet_mode=mode), 'children': {'podnet_nodes': {'hosts': {}}}}}
        members = inventory['all']['children']['podnet_nodes']['hosts']
        gathered = {}
        for hostvars in hosts:
            name = hostvars['inventory_hostname']
            members[name] = {key: hostvars[key] for key in ('ansible_host', 'podnet_node_ip', 'podnet_uplink',
                                                            'podnet_rack')}
            # What the setup module returned (ansible_ prefixed; local stays local), stored by Ansible's own
            # fact cache plugin below, so the play reads it back exactly as facts gathered by an earlier play.
            facts = dict(('ansible_' + key, value) for key, value in hostvars['ansible_facts'].items() if key != 'local')
            facts['ansible_local'] = hostvars['ansible_facts']['local']
            gathered[name] = facts
        with open(os.path.join(work, 'gathered.json'), 'w') as handle:
            json.dump(gathered, handle)
        with open(os.path.join(work, 'inventory.json'), 'w') as handle:
            json.dump(inventory, handle)
        with open(os.path.join(work, 'plan.yml'), 'w') as handle:
            handle.write(PLAYBOOK.format(count=count, mode=mode, plan=PLAN_EXPRESSION))
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'),
                   ANSIBLE_CACHE_PLUGIN='jsonfile', ANSIBLE_CACHE_PLUGIN_CONNECTION=cache,
                   ANSIBLE_CACHE_PLUGIN_TIMEOUT='0', ANSIBLE_GATHERING='explicit',
                   ANSIBLE_LOCALHOST_WARNING='False', ANSIBLE_INVENTORY_UNPARSED_WARNING='False')
        subprocess.run([os.path.join(ROOT, '.venv', 'bin', 'python'), '-c', STORE_FACTS,
                        os.path.join(work, 'gathered.json')], env=env, check=True)
        argv = [os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook'), '-i', os.path.join(work, 'inventory.json'),
                os.path.join(work, 'plan.yml')]
        started = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        total = time.perf_counter() - started
        found = re.search(r'PLANTIMES (\[[^\]]*\])', done.stdout)
        if done.returncode or found is None:
            raise SystemExit('ansible-playbook failed:\n' + done.stdout[-4000:])
        marks = json.loads(found.group(1))
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        return {'extract': marks[1] - marks[0], 'filter': marks[2] - marks[1], 'set_fact': marks[3] - marks[2],
                'assert': marks[4] - marks[3], 'routes': marks[5] - marks[4], 'total': total, 'cpu': cpu}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def ansible_table(cases):
    print('\n| nodes | mode | peer entries | plan_cluster alone, s | in Ansible: hostvars extraction only, s '
          '| filter, plan kept as a count, s | set_fact of the whole plan (roles/common), s | assert, s '
          '| every host\'s routes from the plan (roles/hostgw), s | whole ansible-playbook, s (CPU) |')
    print('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    for case in cases:
        mode, count = case.split(':')
        count = int(count)
        alone = best_of(3, mode, count, 'per-rack' if mode == 'bridge' else 'one-segment', rerun=True)
        row = through_ansible(count, mode)
        print('| {:,} | {} | {:,} | {} | {} | {} | {} | {} | {} | {} ({}) |'.format(
            count, mode, alone['peer_entries'], fmt(alone['wall']), fmt(row['extract']), fmt(row['filter']),
            fmt(row['set_fact']), fmt(row['assert']), fmt(row['routes']) if mode == 'hostgw' else '-',
            fmt(row['total'], 1), fmt(row['cpu'], 1)))
        sys.stdout.flush()


def load():
    return ' '.join('%.2f' % value for value in os.getloadavg())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=list(SIZES))
    parser.add_argument('--modes', nargs='+', default=list(MODES), choices=MODES)
    parser.add_argument('--timeout', type=float, default=60.0, help='seconds per case before it is given up')
    parser.add_argument('--ansible', nargs='*', metavar='MODE:NODES',
                        default=['bridge:1000', 'bgp:1000', 'hostgw:125', 'hostgw:250', 'hostgw:500'],
                        help='cases timed through ansible-playbook (none: skip); hostgw:1000 alone takes about 2 minutes')
    parser.add_argument('--profile-top', type=int, default=12, help='0 skips the profiles')
    parser.add_argument('--skip-refusal', action='store_true')
    args = parser.parse_args()

    print('Load average (1, 5, 15 min) before: %s; %d CPUs; Python %s\n'
          % (load(), os.cpu_count(), sys.version.split()[0]))
    scale_table(args.sizes, args.modes, args.timeout)
    if not args.skip_refusal:
        refusal_table(args.sizes, args.timeout)
    if args.ansible:
        ansible_table(args.ansible)
    if args.profile_top:
        for mode in args.modes:
            profile(mode, max(args.sizes), args.profile_top)
    print('\nLoad average after: %s' % load())
    return 0


if __name__ == '__main__':
    sys.exit(main())
