#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print who reaches whom in a lab: every pod pings every pod, shown as a matrix of RTTs.

Usage: matrix.py -i INVENTORY
Pods are the network namespaces on each lab host (attached by playbooks/lab_pods.yml); each cell is one ICMP echo
from the row's pod to the column's pod. Exits 0 always: the matrix reports, the molecule scenarios assert.
"""
import argparse
import concurrent.futures
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from podnet_lab import LabError, load_lab, podman  # noqa: E402

RTT_RE = re.compile(r'time=([\d.]+) ms')


def lab_pods(lab):
    """[(host, container, pod, ip)] for every pod of every lab host, in inventory order."""
    pods = []
    for host in lab.hosts:
        container = lab.container(host.name)
        namespaces = json.loads(podman('exec', container, 'ip', '-json', 'netns', 'list').stdout or '[]')
        for pod in sorted(ns['name'] for ns in namespaces):
            addresses = json.loads(podman('exec', container, 'ip', '-n', pod, '-json', '-4', 'addr', 'show',
                                          'dev', 'eth0', check=False).stdout or '[]')
            for entry in addresses:
                for info in entry.get('addr_info', []):
                    pods.append((host.name, container, pod, info['local']))
    return pods


def ping(source, target):
    _, container, pod, _ = source
    result = podman('exec', container, 'ip', 'netns', 'exec', pod, 'ping', '-c', '1', '-W', '1', target[3],
                    check=False)
    match = RTT_RE.search(result.stdout)
    return '✓ %.2fms' % float(match.group(1)) if result.returncode == 0 and match else '✗'


def print_matrix(pods, cells):
    names = ['%s (%s)' % (pod, ip) for _, _, pod, ip in pods]
    width = max(len(name) for name in names) + 2
    column = max(12, max(len(pod) for _, _, pod, _ in pods) + 2)
    print(' ' * width + ''.join(pod.ljust(column) for _, _, pod, _ in pods))
    for row, name in enumerate(names):
        print(name.ljust(width) + ''.join(('·' if row == col else cells[row, col]).ljust(column)
                                          for col in range(len(pods))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-i', '--inventory', required=True)
    args = parser.parse_args()
    try:
        lab = load_lab(args.inventory)
        pods = lab_pods(lab)
    except LabError as error:
        print('matrix: %s' % error, file=sys.stderr)
        return 1
    if not pods:
        print('matrix: no pods in lab %s; run playbooks/lab_pods.yml first' % lab.name, file=sys.stderr)
        return 1
    pairs = [(row, col) for row in range(len(pods)) for col in range(len(pods)) if row != col]
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        results = pool.map(lambda pair: ping(pods[pair[0]], pods[pair[1]]), pairs)
        cells = dict(zip(pairs, results))
    print('Lab %s: ICMP from row pod to column pod' % lab.name)
    print_matrix(pods, cells)
    reached = sum(1 for cell in cells.values() if cell.startswith('✓'))
    print('%d of %d pod pairs reach each other' % (reached, len(cells)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
