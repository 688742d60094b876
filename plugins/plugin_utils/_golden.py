# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The golden-signal report of playbooks/verify.yml: every node's node_signals result + the plan in, verdict out.

Pure functions on the standard library; no I/O. ``probe_targets`` says what a node may ping (only the cluster's own
node addresses and probe-pod addresses inside their node's pod subnet), ``golden_report`` turns what the nodes
measured into the four signals - latency, traffic, errors, saturation - plus ``problems`` (the play fails on them)
and ``warnings`` (reported only). Rendering lives in ``_golden_render``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import math

from ansible_collections.podnet.netmodes.plugins.plugin_utils._plan import hostgw_part

# Pods reach other nodes' pods only in these modes; in bridge mode only node paths are probed.
ROUTED_MODES = ('hostgw', 'bgp')
BIRD_OWNER = 'bird'
PODNET_OWNER = 'podnet'

DEFAULT_SETTINGS = {
    # A train of 20 loses at most one echo (5 %) before the pair counts as unhealthy.
    'loss_max_percent': 5.0,
    # Latency is reported and warned about, never failed on: a slow pair is not a broken one.
    'rtt_p99_warn_ms': 50.0,
    'conntrack_warn_percent': 80.0,
    'route_table_limit': 10000,
    'route_table_warn_percent': 80.0,
    'ipam_warn_percent': 80.0,
}

COUNTER_FIELDS = ('rx_bytes', 'rx_packets', 'rx_errors', 'rx_dropped',
                  'tx_bytes', 'tx_packets', 'tx_errors', 'tx_dropped')


def percentile(values, pct):
    """Nearest-rank percentile (the smallest value with at least ``pct`` % of the values at or below it).

    No interpolation: with 20 samples p50 is the 10th smallest and p99 the largest, a value that was measured.
    None for no values.
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = int(math.ceil(pct / 100.0 * len(ordered)))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def settings_with_defaults(settings):
    merged = dict(DEFAULT_SETTINGS)
    for key, value in (settings or {}).items():
        if value is not None:
            merged[key] = value
    for key in DEFAULT_SETTINGS:
        merged[key] = float(merged[key]) if key != 'route_table_limit' else int(merged[key])
    return merged


def _in_network(address, network):
    try:
        return ipaddress.ip_address(str(address)) in ipaddress.ip_network(str(network))
    except ValueError:
        return False


def _pod_address(address, network):
    """True when ``address`` is one pod's address in ``network``: inside it, and not its network or broadcast address,
    which would make ping reach every pod of the block (or none)."""
    try:
        address, network = ipaddress.ip_address(str(address)), ipaddress.ip_network(str(network))
    except ValueError:
        return False
    return address in network and address not in (network.network_address, network.broadcast_address)


def probe_targets(plan, host, probe_ips=None):
    """What ``host`` pings: every other node's IP from the node, every other node's probe pod from its own pod.

    A probe address is used only when it is a host address of its node's pod subnet of the plan, so nothing outside
    the cluster's own addresses is ever probed, and no broadcast; a pod path needs a probe pod on both ends. In bridge mode pods reach
    only the pods of their own node, so only node paths are probed.
    """
    nodes = (plan or {}).get('nodes') or {}
    probe_ips = (probe_ips or {}) if (plan or {}).get('mode') in ROUTED_MODES else {}
    own_pod = probe_ips.get(host)
    own_ok = bool(own_pod) and host in nodes and _pod_address(own_pod, nodes[host]['pod_cidr'])
    targets = []
    for name in sorted(nodes):
        if name == host:
            continue
        targets.append({'name': name, 'address': nodes[name]['node_ip'], 'source': 'node'})
        pod = probe_ips.get(name)
        if own_ok and pod and _pod_address(pod, nodes[name]['pod_cidr']):
            targets.append({'name': name, 'address': str(pod), 'source': 'pod'})
    return targets


# ---------------------------------------------------------------------------------------------------- latency

def _pair(source, probe, settings):
    transmitted, received = probe.get('transmitted') or 0, probe.get('received') or 0
    rtts = probe.get('rtts') or []
    loss = 100.0 if not transmitted else round(100.0 * (transmitted - received) / transmitted, 2)
    return {
        'source': source, 'target': probe['name'], 'path': probe['source'], 'address': probe['address'],
        'transmitted': transmitted, 'received': received, 'loss_percent': loss,
        'rtt_min_ms': min(rtts) if rtts else None, 'rtt_max_ms': max(rtts) if rtts else None,
        'rtt_p50_ms': percentile(rtts, 50), 'rtt_p99_ms': percentile(rtts, 99),
        'error': probe.get('error'),
        'unhealthy': bool(probe.get('error')) or loss > settings['loss_max_percent'],
    }


def _latency(hosts, signals, probe_ips, settings, problems, warnings, mode):
    pairs = []
    paths = ('node', 'pod') if mode in ROUTED_MODES else ('node',)
    for source in hosts:
        if signals.get(source) is None:
            continue
        measured = dict(((p['name'], p['source']), p) for p in signals[source].get('probes') or [])
        for target in hosts:
            if target == source:
                continue
            for path in paths:
                probe = measured.get((target, path))
                if probe is None:
                    if path == 'pod' and not (probe_ips.get(source) and probe_ips.get(target)):
                        continue  # reported once per node as "no probe pod"
                    probe = {'name': target, 'source': path, 'address': None, 'error': 'not probed'}
                pair = _pair(source, probe, settings)
                pairs.append(pair)
                where = '%s %s -> %s (%s)' % (path, source, target, pair['address'])
                if pair['error']:
                    problems.append('latency: %s: %s' % (where, pair['error']))
                elif pair['loss_percent'] > settings['loss_max_percent']:
                    problems.append('loss: %s: %g%% lost (%d of %d), threshold %g%%'
                                    % (where, pair['loss_percent'], pair['transmitted'] - pair['received'],
                                       pair['transmitted'], settings['loss_max_percent']))
                elif pair['rtt_p99_ms'] is not None and pair['rtt_p99_ms'] > settings['rtt_p99_warn_ms']:
                    warnings.append('latency: %s: p99 %.3f ms above %g ms'
                                    % (where, pair['rtt_p99_ms'], settings['rtt_p99_warn_ms']))
    return pairs


# ---------------------------------------------------------------------------------------------------- traffic

def _traffic(host, node_signals, problems):
    entries = []
    veths = {'ifname': 'pod-veths', 'role': 'pod_veths', 'present': True, 'count': 0}
    veths.update(dict((field, 0) for field in COUNTER_FIELDS))
    for link in node_signals.get('links') or []:
        if link.get('role') == 'pod_veth':
            veths['count'] += 1
            for field in COUNTER_FIELDS:
                veths[field] += int(link.get(field) or 0)
            continue
        entry = dict(link)
        entries.append(entry)
        if not link.get('present'):
            problems.append('device: %s: %s is missing' % (host, link['ifname']))
        elif link.get('operstate') == 'DOWN':
            problems.append('device: %s: %s is down' % (host, link['ifname']))
    entries.append(veths)
    return entries


# ----------------------------------------------------------------------------------------------------- errors

def _route_key(route):
    return route.get('dest') or route.get('dst')


def _gateways(route):
    """A route's next hops, sorted: the planned ``via`` (one address or a list), or the kernel's ``gateway`` or the
    gateways of its ``nexthops`` (a multipath route)."""
    if 'dest' in route:
        via = route.get('via')
        return sorted(via) if isinstance(via, list) else ([via] if via else [])
    if route.get('gateway'):
        return [route['gateway']]
    return sorted(hop['gateway'] for hop in route.get('nexthops') or [] if hop.get('gateway'))


def _devices(route):
    if route.get('dev'):
        return [route['dev']]
    return sorted(set(hop['dev'] for hop in route.get('nexthops') or [] if hop.get('dev')))


def _describe(route):
    words = []
    if route.get('type') and route.get('type') != 'unicast':
        words.append(route['type'])
    words.append(_route_key(route))
    gateways = _gateways(route)
    if gateways:
        words += ['via', ' and '.join(gateways)]
    devices = _devices(route)
    if devices:
        words += ['dev', ' and '.join(devices)]
    return ' '.join(str(word) for word in words)


def compare_routes(expected, actual):
    """{'missing', 'stale', 'wrong'} lists of route texts: planned but absent, present but unplanned, different.

    A route is matched by destination; it is wrong when its next hops (all of a multipath route's), device or type
    differ from the plan.
    """
    planned = dict((_route_key(route), route) for route in expected or [])
    kernel = dict((_route_key(route), route) for route in actual or [])
    missing = [_describe(planned[key]) for key in sorted(planned) if key not in kernel]
    stale = [_describe(kernel[key]) for key in sorted(kernel) if key not in planned]
    wrong = []
    for key in sorted(set(planned) & set(kernel)):
        want, have = planned[key], kernel[key]
        if (_gateways(want) != _gateways(have)
                or (want.get('dev') and _devices(have) != [want['dev']])
                or (want.get('type') or 'unicast') != (have.get('type') or 'unicast')):
            wrong.append('%s (plan: %s)' % (_describe(have), _describe(want)))
    return {'missing': missing, 'stale': stale, 'wrong': wrong}


def expected_bird_routes(plan, host):
    """Every other node's block via its node IP, the device being how the plan reaches that next hop; with
    podnet_bgp_topology tor, the blocks of other racks via every top-of-rack router of the node's rack (ECMP)."""
    node = plan['nodes'][host]
    next_hops = (node.get('bgp') or {}).get('next_hop_routes') or []
    tor = (node.get('bgp') or {}).get('tor')
    rack_tors = [router['address'] for router in plan['bgp']['racks'][tor['rack']]['tors']] if tor else []
    routes = []
    for name in sorted(plan['nodes']):
        if name == host:
            continue
        peer = plan['nodes'][name]
        if tor and peer.get('rack') != tor['rack']:
            # The routers share the node's segment: the kernel reaches them on the uplink.
            routes.append({'dest': peer['pod_cidr'], 'via': sorted(rack_tors), 'dev': node.get('uplink')})
            continue
        dev = node.get('uplink')
        for hop in next_hops:
            if _in_network(peer['node_ip'], hop['dest']):
                dev = hop['dev']
                break
        routes.append({'dest': peer['pod_cidr'], 'via': peer['node_ip'], 'dev': dev})
    return routes


def expected_podnet_routes(plan, host):
    """The routes of podnet's protocol the node's roles declare: in hostgw mode its segment's list without its own
    subnet (the plan keeps one list per segment, the node's part names it), in bgp mode the block's blackhole."""
    mode = plan.get('mode')
    if mode == 'hostgw':
        return hostgw_part(plan, host)['routes']
    if mode == 'bgp':
        return list(plan['nodes'][host]['bgp']['routes'])
    return []


def _route_errors(host, plan, node_signals, problems):
    routes = node_signals.get('routes') or {}
    result = {PODNET_OWNER: compare_routes(expected_podnet_routes(plan, host), routes.get('podnet'))}
    if plan.get('mode') == 'bgp':
        result[BIRD_OWNER] = compare_routes(expected_bird_routes(plan, host), routes.get('bird'))
    for owner in sorted(result):
        for kind in ('missing', 'stale', 'wrong'):
            for text in result[owner][kind]:
                problems.append('routes: %s: %s route (proto %s) %s' % (host, kind, owner, text))
    return result


def planned_sessions(plan, host):
    """(peer name, BIRD protocol, peer address) of every BGP session the plan gives the node: its peers, then its
    rack's top-of-rack routers (podnet_bgp_topology tor)."""
    bgp = plan['nodes'][host]['bgp']
    sessions = [(peer['name'], peer['protocol'], peer['ip']) for peer in bgp['peers']]
    tor = bgp.get('tor') or {}
    sessions += [('%s top-of-rack router %d' % (tor['rack'], router['index'] + 1), router['protocol'],
                  router['address']) for router in tor.get('sessions') or []]
    return sessions


def _sessions(host, plan, node_signals, problems):
    if plan.get('mode') != 'bgp':
        return []
    bird = node_signals.get('bird') or {'error': 'BIRD was not asked', 'protocols': []}
    seen = dict((p['name'], p) for p in bird.get('protocols') or [])
    sessions = []
    for name, protocol_name, address in planned_sessions(plan, host):
        protocol = seen.get(protocol_name)
        state = protocol['state'] if protocol else None
        info = protocol['info'] if protocol else (bird.get('error') or 'no such BIRD protocol')
        established = bool(protocol) and state == 'up' and info.split()[:1] == ['Established']
        sessions.append({'peer': name, 'protocol': protocol_name, 'state': state, 'info': info,
                         'established': established})
        if not established:
            problems.append('bgp: %s: session %s with %s (%s) is not Established: %s'
                            % (host, protocol_name, name, address, info or state))
    return sessions


def _interface_errors(host, traffic, warnings):
    flagged = []
    for entry in traffic:
        counts = dict((field, int(entry.get(field) or 0)) for field in
                      ('rx_errors', 'rx_dropped', 'tx_errors', 'tx_dropped'))
        if any(counts.values()):
            flagged.append(dict(counts, ifname=entry['ifname']))
            warnings.append('interface: %s: %s has %s' % (host, entry['ifname'], ', '.join(
                '%s %d' % (field, value) for field, value in sorted(counts.items()) if value)))
    return flagged


# ------------------------------------------------------------------------------------------------- saturation

def _ratio(used, limit):
    return None if not limit else round(100.0 * used / limit, 2)


def ipam_pool_size(prefix):
    """Addresses host-local can hand out in a node's block: all but network, broadcast and the gateway."""
    return max(2 ** (32 - int(prefix)) - 3, 0)


def _saturation(host, plan, node_signals, own_probe_ip, settings, warnings):
    result = {}
    conntrack = node_signals.get('conntrack')
    if conntrack:
        result['conntrack'] = {'used': conntrack['count'], 'limit': conntrack['max'],
                               'percent': _ratio(conntrack['count'], conntrack['max'])}
    count = (node_signals.get('routes') or {}).get('main_count')
    if count is not None:
        result['routes'] = {'used': count, 'limit': settings['route_table_limit'],
                            'percent': _ratio(count, settings['route_table_limit'])}
    ipam = node_signals.get('ipam') or {}
    addresses = [a for a in ipam.get('addresses') or [] if a != own_probe_ip]
    result['ipam'] = {'used': len(addresses), 'limit': ipam_pool_size(plan['nodes'][host]['pod_prefix']),
                      'percent': _ratio(len(addresses), ipam_pool_size(plan['nodes'][host]['pod_prefix']))}
    limits = {'conntrack': settings['conntrack_warn_percent'], 'routes': settings['route_table_warn_percent'],
              'ipam': settings['ipam_warn_percent']}
    for key in sorted(result):
        percent = result[key]['percent']
        if percent is not None and percent > limits[key]:
            warnings.append('saturation: %s: %s at %g%% (%d of %d), above %g%%'
                            % (host, key, percent, result[key]['used'], result[key]['limit'], limits[key]))
    return result


# ----------------------------------------------------------------------------------------------------- report

def golden_report(results, plan, probe_ips=None, settings=None, generated_at=None):
    """The report of one verify run.

    ``results``: host -> the node_signals result registered on that host (None or a failed result when the host
    gave none). ``plan``: podnet_plan. ``probe_ips``: host -> its probe pod's address (None when not attached).
    """
    settings = settings_with_defaults(settings)
    probe_ips = dict((host, ip) for host, ip in (probe_ips or {}).items() if ip)
    problems, warnings = [], []
    hosts = sorted((plan or {}).get('nodes') or {})
    signals = {}
    for host in hosts:
        result = (results or {}).get(host)
        if not isinstance(result, dict) or result.get('failed') or result.get('unreachable') \
                or 'signals' not in result:
            reason = (result or {}).get('msg') if isinstance(result, dict) else None
            problems.append('node: %s: no signals (%s)' % (host, reason or 'host failed or unreachable'))
            signals[host] = None
        else:
            signals[host] = result['signals']
    for host in hosts:
        if signals[host] is not None and host not in probe_ips:
            problems.append('probe pod: %s: no probe pod attached, pod paths from and to it are not measured' % host)
    # A damaged state file breaks nothing until the next converge or boot: say so while it lasts.
    problems.extend('state: %s' % repair for repair in (plan or {}).get('repairs') or [])

    report = {
        'generated_at': generated_at,
        'mode': (plan or {}).get('mode'),
        'nodes': hosts,
        'settings': settings,
        'latency': _latency(hosts, signals, probe_ips, settings, problems, warnings, (plan or {}).get('mode')),
        'traffic': {},
        'errors': {},
        'saturation': {},
    }
    for host in hosts:
        node_signals = signals[host]
        if node_signals is None:
            continue
        traffic = _traffic(host, node_signals, problems)
        for entry in node_signals.get('boot_files') or []:
            if not entry['podnet']:
                problems.append('state: %s: boot file %s does not start with podnet\'s header (damaged): the next '
                                'boot would not restore the node from it; a converge writes it anew'
                                % (host, entry['path']))
        report['traffic'][host] = traffic
        guard = node_signals.get('ipip_guard')
        report['errors'][host] = {
            'routes': _route_errors(host, plan, node_signals, problems),
            'bgp_sessions': _sessions(host, plan, node_signals, problems),
            'interfaces': _interface_errors(host, traffic, warnings),
            'ipip_guard_drops': guard['packets'] if guard else None,
        }
        if guard and guard['packets']:
            warnings.append('ipip guard: %s: dropped %d IPIP packets from addresses that are no node'
                            % (host, guard['packets']))
        report['saturation'][host] = _saturation(host, plan, node_signals, probe_ips.get(host), settings, warnings)
    report['problems'] = problems
    report['warnings'] = warnings
    report['healthy'] = not problems
    return report
