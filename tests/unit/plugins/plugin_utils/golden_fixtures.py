# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A three-node plan (hostgw or bgp) and healthy node_signals results for it, for the golden-report tests."""
import copy

NODES = {'node1': ('10.89.20.11', '10.244.0.0/24', '10.244.0.5'),
         'node2': ('10.89.20.12', '10.244.1.0/24', '10.244.1.5'),
         'node3': ('10.89.20.13', '10.244.2.0/24', '10.244.2.5')}


def plan(mode='hostgw'):
    nodes = {}
    for name, (node_ip, cidr, dummy) in NODES.items():
        prefix = int(cidr.split('/')[1])
        others = [(peer, NODES[peer]) for peer in sorted(NODES) if peer != name]
        node = {'name': name, 'node_ip': node_ip, 'uplink': 'ens5', 'rack': 'r1', 'mtu': 1500, 'pod_cidr': cidr,
                'pod_gateway': cidr.replace('0/24', '1'), 'pod_prefix': prefix, 'bridge': None, 'hostgw': None,
                'bgp': None, 'ipip': None}
        if mode == 'hostgw':
            node['bridge'] = {'name': 'cni0', 'mtu': 1500, 'addresses': []}
            routes = [{'dest': peer_cidr, 'via': peer_ip, 'dev': 'ens5'} for dummy, (peer_ip, peer_cidr, dummy2)
                      in others]
            node['hostgw'] = {'peers': [], 'routes': routes}
        else:
            node['bgp'] = {'role': 'mesh', 'cluster_id': None, 'next_hop_routes': [],
                           'peers': [{'name': peer, 'ip': peer_ip, 'rr_client': False, 'protocol': 'peer_' + peer,
                                      'multihop': False, 'encap': 'none'} for peer, (peer_ip, dummy, dummy2) in others],
                           'routes': [{'dest': cidr, 'type': 'blackhole'}]}
        nodes[name] = node
    return {'mode': mode, 'problems': [], 'cluster_cidr': '10.244.0.0/16', 'node_prefix': 24, 'bgp': None,
            'ipip': {'mode': 'Never', 'node_ips': sorted(n[0] for n in NODES.values())}, 'nodes': nodes}


def probe_ips():
    return dict((name, values[2]) for name, values in NODES.items())


def link(name, role='device', **counters):
    entry = {'ifname': name, 'role': role, 'present': True, 'operstate': 'UP', 'kind': None}
    for direction in ('rx', 'tx'):
        for field in ('bytes', 'packets', 'errors', 'dropped'):
            entry['%s_%s' % (direction, field)] = 0
    entry.update(rx_bytes=1000, rx_packets=10, tx_bytes=2000, tx_packets=20)
    entry.update(counters)
    return entry


def rtts(base=0.1):
    return [round(base + 0.01 * index, 3) for index in range(20)]


def signals(name, mode='hostgw'):
    the_plan = plan(mode)
    node = the_plan['nodes'][name]
    probes = []
    for peer in sorted(NODES):
        if peer == name:
            continue
        for source, address in (('node', NODES[peer][0]), ('pod', NODES[peer][2])):
            probes.append({'name': peer, 'address': address, 'source': source, 'transmitted': 20, 'received': 20,
                           'rtts': rtts(), 'error': None})
    kernel = lambda route: dict((k, v) for k, v in (('dst', route['dest']), ('gateway', route.get('via')),
                                                    ('dev', route.get('dev')), ('type', route.get('type')),
                                                    ('flags', [])) if v is not None)
    routes = {'podnet': [kernel(r) for r in (node['hostgw'] or node['bgp'])['routes']], 'bird': None, 'main_count': 8}
    result = {'links': [link('ens5')] + ([link('cni0')] if mode == 'hostgw' else [])
              + [link('veth1234', role='pod_veth'), link('veth5678', role='pod_veth')],
              'routes': routes, 'bird': None, 'ipip_guard': None, 'conntrack': {'count': 10, 'max': 1000},
              'ipam': {'dir': '/var/lib/cni/networks/podnet', 'addresses': [NODES[name][2], '10.244.9.9']},
              'probes': probes}
    if mode == 'bgp':
        routes['bird'] = [{'dst': NODES[peer][1], 'gateway': NODES[peer][0], 'dev': 'ens5', 'flags': []}
                          for peer in sorted(NODES) if peer != name]
        result['bird'] = {'error': None, 'protocols': [
            {'name': 'device1', 'proto': 'Device', 'table': '---', 'state': 'up', 'info': ''}] + [
            {'name': 'peer_' + peer, 'proto': 'BGP', 'table': '---', 'state': 'up', 'info': 'Established'}
            for peer in sorted(NODES) if peer != name]}
    return {'changed': False, 'signals': result}


def results(mode='hostgw'):
    return dict((name, signals(name, mode)) for name in NODES)


def deep(value):
    return copy.deepcopy(value)
