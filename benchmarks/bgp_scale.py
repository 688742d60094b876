#!/usr/bin/env python3
"""BGP scale figures for podnet's bgp mode: sessions for mesh vs route reflectors, and convergence in the lab.

Part 1 (always): session counts computed by the collection's own bgp_topology filter for synthetic clusters of
6, 50, 500 and 5,000 nodes (racks of up to 25 nodes), once forced to a node-to-node mesh and once to route
reflectors (2 per rack).

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

from ansible_collections.podnet.netmodes.plugins.plugin_utils._bgp_topology import bgp_topology  # noqa: E402
from podnet_lab import load_lab, podman  # noqa: E402

RACK_SIZE = 25
CONVERGENCE_TIMEOUT_S = 180


def synthetic_nodes(count):
    return [{'name': 'n%05d' % index, 'node_ip': '10.%d.%d.%d' % (index // 62500 + 100, index // 250 % 250, index % 250 + 1),
             'rack': 'rack%03d' % (index // RACK_SIZE), 'rr_eligible': True} for index in range(count)]


def session_figures(count):
    nodes = synthetic_nodes(count)
    mesh = bgp_topology(nodes, {'mesh_max_nodes': count, 'rr_per_rack': 2})
    reflected = bgp_topology(nodes, {'mesh_max_nodes': 0, 'rr_per_rack': 2})
    per_node = [len(node['peers']) for node in reflected['nodes'].values()]
    return {
        'nodes': count,
        'racks': (count + RACK_SIZE - 1) // RACK_SIZE,
        'mesh_total': mesh['sessions'],
        'mesh_per_node': max(len(node['peers']) for node in mesh['nodes'].values()),
        'rr_count': len(reflected['route_reflectors']),
        'rr_total': reflected['sessions'],
        'rr_per_client': min(per_node),
        'rr_per_reflector': max(per_node),
    }


def print_session_table(rows):
    print('| nodes | racks | mesh sessions (total) | mesh per node | RRs | RR sessions (total) | per client '
          '| per RR | mesh / RR total |')
    print('|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    for row in rows:
        print('| {nodes:,} | {racks} | {mesh_total:,} | {mesh_per_node:,} | {rr_count} | {rr_total:,} | {rr_per_client} '
              '| {rr_per_reflector} | {ratio:.1f}x |'.format(ratio=row['mesh_total'] / row['rr_total'], **row))


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
