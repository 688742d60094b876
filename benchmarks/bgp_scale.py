#!/usr/bin/env python3
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""BGP scale figures for podnet's bgp mode: sessions for mesh vs route reflectors, and convergence in the lab.

Part 1 (always): session counts computed by the collection's own cluster plan (plugins/plugin_utils/_plan.py, the
code that gives the roles each node's BGP peers) for synthetic clusters of 6, 50, 500 and 5,000 nodes (racks of up
to 25 nodes on one L2 segment), once forced to a node-to-node mesh and once to route reflectors (2 per rack), with the
time the plan took for the route reflector case.

Part 2 (--lab INVENTORY): builds the lab, runs site.yml, then polls every node until the kernel holds every peer's
pod block (proto bird). Reports the seconds from the end of site.yml to full convergence and that time as a share
of the site.yml run itself, plus the Established sessions per node read from birdc; with --mesh-too it repeats the
run with the mesh forced, so both topologies are measured on the same hosts in one run. The lab is removed at the end.
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, '.collections'))
sys.path.insert(0, os.path.join(ROOT, 'lab'))

from ansible_collections.podnet.netmodes.plugins.plugin_utils._plan import plan_cluster  # noqa: E402
from podnet_lab import load_lab, podman  # noqa: E402

RACK_SIZE = 25
CONVERGENCE_TIMEOUT_S = 180


# Every synthetic node holds its address on ens5 in 10.0.0.0/8, so all of them share one L2 segment, as bgp mode
# without tunnels requires. The pool is large enough for 5,000 /26 blocks.
SETTINGS = {'podnet_mode': 'bgp', 'podnet_cluster_cidr': '172.16.0.0/12', 'podnet_route_proto': 94,
            'podnet_cni_network': 'podnet', 'podnet_bgp_as': 64512, 'podnet_bgp_rr_per_rack': 2}


def synthetic_hosts(count):
    """The hostvars the plan reads, with the network facts a gathered host would have."""
    hosts = []
    for index in range(count):
        address = '10.%d.%d.%d' % (index // 62500 + 100, index // 250 % 250, index % 250 + 1)
        hosts.append({
            'inventory_hostname': 'n%05d' % index, 'podnet_node_ip': address, 'podnet_uplink': 'ens5',
            'podnet_rack': 'rack%03d' % (index // RACK_SIZE),
            'ansible_facts': {'interfaces': ['ens5'], 'ens5': {'device': 'ens5', 'mtu': 1500, 'ipv4': {
                'address': address, 'network': '10.0.0.0', 'prefix': '8'}}},
        })
    return hosts


def bgp_plan(count, mesh_max_nodes):
    plan = plan_cluster(synthetic_hosts(count), dict(SETTINGS, podnet_bgp_mesh_max_nodes=mesh_max_nodes))
    if plan['problems']:
        raise SystemExit('\n'.join(plan['problems']))
    return plan


def session_figures(count):
    mesh = bgp_plan(count, count)
    mesh_per_node = max(len(node['bgp']['peers']) for node in mesh['nodes'].values())
    mesh_total = mesh['bgp']['sessions']
    del mesh
    started = time.monotonic()
    reflected = bgp_plan(count, 0)
    plan_s = time.monotonic() - started
    per_node = [len(node['bgp']['peers']) for node in reflected['nodes'].values()]
    return {
        'nodes': count,
        'racks': (count + RACK_SIZE - 1) // RACK_SIZE,
        'mesh_total': mesh_total,
        'mesh_per_node': mesh_per_node,
        'rr_count': len(reflected['bgp']['route_reflectors']),
        'rr_total': reflected['bgp']['sessions'],
        'plan_s': plan_s,
        'rr_per_client': min(per_node),
        'rr_per_reflector': max(per_node),
    }


def print_session_table(rows):
    print('| nodes | racks | mesh sessions (total) | mesh per node | RRs | RR sessions (total) | per client '
          '| per RR | mesh / RR total | plan (RR), s |')
    print('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    for row in rows:
        print('| {nodes:,} | {racks} | {mesh_total:,} | {mesh_per_node:,} | {rr_count} | {rr_total:,} | {rr_per_client} '
              '| {rr_per_reflector} | {ratio:.1f}x | {plan_s:.2f} |'.format(ratio=row['mesh_total'] / row['rr_total'], **row))


def ansible_playbook(inventory, playbook, extra_vars=None):
    argv = [os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook'), '-i', inventory, os.path.join(ROOT, playbook)]
    if extra_vars:
        argv += ['-e', json.dumps(extra_vars)]
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'))
    started = time.monotonic()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def bird_blocks(container):
    routes = json.loads(podman('exec', container, 'ip', '-json', 'route', 'show', 'proto', 'bird').stdout or '[]')
    return len(routes)


def established_sessions(container):
    lines = podman('exec', container, 'birdc', 'show', 'protocols').stdout.splitlines()
    return sum(1 for line in lines if line.startswith('peer_') and 'Established' in line)


def measure_convergence(lab, inventory, extra_vars):
    podman_lab = [sys.executable, os.path.join(ROOT, 'lab', 'podnet_lab.py')]
    subprocess.run(podman_lab + ['up', '-i', inventory], check=True, stdout=subprocess.DEVNULL)
    converge_s = ansible_playbook(inventory, 'site.yml', extra_vars)
    converge_end = time.monotonic()
    containers = [lab.container(host.name) for host in lab.hosts]
    peers = len(containers) - 1
    while not all(bird_blocks(container) == peers for container in containers):
        if time.monotonic() - converge_end > CONVERGENCE_TIMEOUT_S:
            raise SystemExit('not converged after %d s' % CONVERGENCE_TIMEOUT_S)
        time.sleep(0.2)
    converged_s = time.monotonic() - converge_end
    sessions = sorted(established_sessions(container) for container in containers)
    return {'converge_s': converge_s, 'converged_s': converged_s, 'sessions': sessions}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[6, 50, 500, 5000])
    parser.add_argument('--lab', help='lab inventory in bgp mode to measure convergence on')
    parser.add_argument('--mesh-too', action='store_true', help='also measure the lab with the mesh forced')
    args = parser.parse_args()

    print_session_table([session_figures(size) for size in args.sizes])
    if not args.lab:
        return 0
    lab = load_lab(args.lab)
    runs = [('as configured', {})] + ([('mesh forced', {'podnet_bgp_mesh_max_nodes': 1000})] if args.mesh_too else [])
    print('\n| lab run | nodes | site.yml (s) | converge end -> all blocks in kernel (s) | share of site.yml '
          '| Established sessions per node |')
    print('|---|---:|---:|---:|---:|---|')
    try:
        for label, extra_vars in runs:
            result = measure_convergence(lab, args.lab, extra_vars)
            print('| %s | %d | %.1f | %.1f | %.0f%% | %s |' % (
                label, len(lab.hosts), result['converge_s'], result['converged_s'],
                100 * result['converged_s'] / result['converge_s'], ', '.join(map(str, result['sessions']))))
    finally:
        subprocess.run([sys.executable, os.path.join(ROOT, 'lab', 'podnet_lab.py'), 'down', '-i', args.lab],
                       check=False, stdout=subprocess.DEVNULL)
    return 0


if __name__ == '__main__':
    sys.exit(main())
