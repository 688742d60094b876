# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The real three-node plan (hostgw, bgp or bridge) and healthy node_signals results for it, for the golden-report tests."""
import copy

from ansible_collections.podnet.netmodes.plugins.plugin_utils._plan import hostgw_part, plan_cluster

NODES = {'node1': ('10.89.20.11', '10.244.0.0/24', '10.244.0.5'),
         'node2': ('10.89.20.12', '10.244.1.0/24', '10.244.1.5'),
         'node3': ('10.89.20.13', '10.244.2.0/24', '10.244.2.5')}


# The cluster-wide settings as the roles' defaults give them; /24 blocks in bgp mode too, so both modes share NODES.
SETTINGS = {
    'podnet_cluster_cidr': '10.244.0.0/16', 'podnet_node_prefix': 24, 'podnet_bridge_name': 'cni0',
    'podnet_route_proto': 94, 'podnet_cni_network': 'podnet', 'podnet_masquerade': True, 'podnet_hostgw_purge': True,
    'podnet_bgp_as': 64512, 'podnet_bgp_mesh_max_nodes': 50, 'podnet_bgp_rr_per_rack': 2, 'podnet_bgp_password': '',
}


def hostvars(name, node_ip):
    """One node's hostvars as verify.yml hands them to the plan: inventory variables plus gathered network facts."""
    return {'inventory_hostname': name, 'podnet_node_ip': node_ip, 'podnet_uplink': 'ens5', 'podnet_rack': 'r1',
            'ansible_facts': {'interfaces': ['lo', 'ens5'], 'all_ipv4_addresses': [node_ip],
                              'ens5': {'device': 'ens5', 'mtu': 1500, 'ipv4': {
                                  'address': node_ip, 'network': '10.89.20.0', 'prefix': '24'}}}}


def plan(mode='hostgw', **settings):
    """The real plan (plan_cluster, as the roles get it), so the report is tested against the plan's current shape."""
    hosts = [hostvars(name, values[0]) for name, values in sorted(NODES.items())]
    result = plan_cluster(hosts, dict(SETTINGS, podnet_mode=mode, **settings))
    assert result['problems'] == [], result['problems']
    assert dict((name, node['pod_cidr']) for name, node in result['nodes'].items()) == dict(
        (name, values[1]) for name, values in NODES.items())
    return result


def planned_routes(the_plan, name):
    """The podnet routes the node's role declares (hostgw: its segment's list without its own subnet)."""
    if the_plan['mode'] == 'hostgw':
        return hostgw_part(the_plan, name)['routes']
    if the_plan['mode'] == 'bgp':
        return the_plan['nodes'][name]['bgp']['routes']
    return []


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
    routes = {'podnet': [kernel(r) for r in planned_routes(the_plan, name)], 'bird': None, 'main_count': 8}
    result = {'links': [link('ens5')] + ([link('cni0')] if node['bridge'] else [])
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
