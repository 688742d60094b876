# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cluster plan: the whole inventory and what every host says about itself in, every node's part out.

One pure function, computed once per run on the controller. It is also the one place where the inventory is
checked: every value is judged with the rule book (module_utils/_rules.py) that the modules use, so a value a
module would refuse is refused here, before any host changes. Standard library only (``ipaddress``).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import gc
import re

from ansible_collections.podnet.netmodes.plugins.module_utils import _rules
from ansible_collections.podnet.netmodes.plugins.plugin_utils._adjacency import adjacency_problems
from ansible_collections.podnet.netmodes.plugins.plugin_utils._bgp_topology import bgp_topology
from ansible_collections.podnet.netmodes.plugins.plugin_utils._pod_cidr import assign_pod_cidrs, check_overrides
from ansible_collections.podnet.netmodes.plugins.module_utils._rules import parse_int, parse_ipv4_address, parse_ipv4_network
from ansible_collections.podnet.netmodes.plugins.plugin_utils._values import (
    ALL_HOSTS,
    PodnetProblems,
    is_unset,
    node_prefix_reason,
    problem,
)

MODES = ('bridge', 'hostgw', 'bgp')
# Modes whose nodes route pods to their peers' node IPs directly (no tunnel), so every pair must be on-link.
ROUTED_MODES = ('hostgw', 'bgp')
BRIDGE_MODES = ('bridge', 'hostgw')
DEFAULT_NODE_PREFIX = {'bridge': 24, 'hostgw': 24, 'bgp': 26}
DEFAULT_MTU = 1500
# The only encapsulation podnet builds today. IPIP will add 'ipip' here, decided per peer by the plan.
ENCAP_NONE = 'none'
IPIP_NOT_BUILT = ('Never',)
NODE_GROUP = 'podnet_nodes'
# BIRD protocol names are symbols: letters, digits and '_'. Each peer's protocol is named after the peer.
_BIRD_UNSAFE = re.compile(r'[^A-Za-z0-9_]')
RR_GROUP = 'podnet_route_reflectors'


def _get(mapping, key, default=None):
    value = mapping.get(key, default) if mapping is not None else default
    return default if value is None else value


def _setting(settings, name):
    """A cluster-wide setting; None when it is not set (missing, null or empty text)."""
    value = settings.get(name)
    return None if is_unset(value) else value


# ---- settings -----------------------------------------------------------------------------------------------

def _rule_problem(host, var, value, reason, fix):
    return [problem(host, var, value, reason, fix)] if reason else []


def _settings_problems(settings, mode):
    """Return (cluster network or None, node prefix or None, problems) for the cluster-wide settings."""
    host = ALL_HOSTS
    problems = []
    value = settings.get('podnet_cluster_cidr')
    cluster, reason = parse_ipv4_network(value)
    problems += _rule_problem(host, 'podnet_cluster_cidr', value, reason,
                              'set podnet_cluster_cidr to a network such as 10.244.0.0/16.')

    prefix_value = settings.get('podnet_node_prefix')
    if is_unset(prefix_value):
        prefix_value = DEFAULT_NODE_PREFIX[mode]
    prefix, reason = parse_int(prefix_value)
    if prefix is not None:
        reason = node_prefix_reason(cluster, prefix)
    if reason:
        low = cluster.prefixlen + 1 if cluster is not None else 1
        problems.append(problem(host, 'podnet_node_prefix', prefix_value, reason,
                                'set podnet_node_prefix to an integer between %d and 30, such as %d.'
                                % (low, min(30, max(24, low)))))
        prefix = None

    if mode in BRIDGE_MODES:
        value = settings.get('podnet_bridge_name')
        problems += _rule_problem(host, 'podnet_bridge_name', value, _rules.ifname_problem(value),
                                  'set podnet_bridge_name to 1-15 bytes of letters, digits, "-", "_" or ".", '
                                  'such as cni0.')
    value = settings.get('podnet_route_proto')
    problems += _rule_problem(host, 'podnet_route_proto', value, _rules.route_proto_problem(value),
                              'set podnet_route_proto to an unused protocol id between 5 and 255, such as 94.')
    value = settings.get('podnet_cni_network')
    problems += _rule_problem(host, 'podnet_cni_network', value, _rules.cni_network_name_problem(value),
                              'set podnet_cni_network to a name such as podnet.')

    value = _setting(settings, 'podnet_ipip_mode')
    if value is not None and value not in IPIP_NOT_BUILT:
        problems.append(problem(host, 'podnet_ipip_mode', value,
                                'asks for IPIP tunnels, which podnet does not build yet',
                                'remove podnet_ipip_mode (or set it to Never); today every mode needs the '
                                'nodes it routes between on one L2 segment.'))
    if mode == 'bgp':
        problems += _bgp_settings_problems(settings, host)
    return cluster, prefix, problems


def _bgp_settings_problems(settings, host):
    problems = []
    value = settings.get('podnet_bgp_as')
    problems += _rule_problem(host, 'podnet_bgp_as', value,
                              'is not set' if value is None else _rules.bgp_as_problem(value),
                              'set podnet_bgp_as to an AS number such as 64512 (private range 64512-65534).')
    value = settings.get('podnet_bgp_password')
    if value is not None:
        # The value itself never goes into a message: it is a secret.
        reason = _rules.bgp_password_problem(value)
        if reason:
            problems.append('%s: podnet_bgp_password (value hidden) %s. Fix: choose a password of printable '
                            'characters without double quote or backslash, at most %d bytes.'
                            % (host, reason, _rules.TCP_MD5_MAX_KEY_LEN))
    for name, low, example in (('podnet_bgp_mesh_max_nodes', 0, 50), ('podnet_bgp_rr_per_rack', 1, 2)):
        value = settings.get(name)
        number, reason = parse_int(value)
        if reason is None and number < low:
            reason = 'is less than %d' % low
        problems += _rule_problem(host, name, value, reason,
                                  'set %s to an integer of at least %d, such as %d.' % (name, low, example))
    return problems


# ---- nodes --------------------------------------------------------------------------------------------------

def _interface_facts(facts, name):
    """The gathered facts of interface ``name``; Ansible stores them under the name with '-' replaced."""
    for key in (name, name.replace('-', '_'), name.replace('-', '_').replace('.', '_')):
        found = facts.get(key)
        if isinstance(found, dict) and found.get('device', name) == name:
            return found
    return None


def _ipv4_of(interface):
    entries = []
    if isinstance(interface.get('ipv4'), dict):
        entries.append(interface['ipv4'])
    entries.extend(entry for entry in interface.get('ipv4_secondaries') or [] if isinstance(entry, dict))
    return entries


def _describe(hostvars):
    """What the plan needs of one host: its inventory variables and what its gathered facts say."""
    facts = _get(hostvars, 'ansible_facts', {})
    local = _get(hostvars, 'ansible_local', None) or _get(facts, 'local', {})
    recorded = local.get('podnet') if isinstance(local, dict) else None
    return {
        'name': hostvars.get('inventory_hostname'),
        'node_ip': hostvars.get('podnet_node_ip'),
        'uplink': None if is_unset(hostvars.get('podnet_uplink')) else hostvars.get('podnet_uplink'),
        'rack': hostvars.get('podnet_rack'),
        'pod_cidr': hostvars.get('podnet_pod_cidr'),
        'pod_gateway': hostvars.get('podnet_pod_gateway'),
        'pod_mtu': hostvars.get('podnet_pod_mtu'),
        'rr_eligible': hostvars.get('podnet_rr_eligible'),
        'recorded_pod_cidr': recorded.get('pod_cidr') if isinstance(recorded, dict) else None,
        'facts': facts if isinstance(facts, dict) else {},
    }


def _fix_for(name, var, example):
    return 'set %s for %s to %s.' % (var, name, example)


def _node_problems(node, mode, cluster):
    """Check one node's own values with the rule book and against its gathered facts; fills node in place."""
    name = node['name']
    problems = []
    address, reason = parse_ipv4_address(node['node_ip'])
    if address is None:
        problems.append(problem(name, 'podnet_node_ip', node['node_ip'],
                                'is not set' if node['node_ip'] is None else reason,
                                'set podnet_node_ip for %s to its IPv4 address on the node network.' % name))
    elif cluster is not None and address in cluster:
        problems.append(problem(name, 'podnet_node_ip', node['node_ip'],
                                'is inside podnet_cluster_cidr %s, so pod routes would shadow it' % cluster,
                                'choose a podnet_cluster_cidr that does not contain the node network, or fix '
                                'podnet_node_ip for %s.' % name))
    node['address'] = address

    uplink = node['uplink']
    if uplink is None and mode in ROUTED_MODES:
        problems.append(problem(name, 'podnet_uplink', uplink, 'is not set, but %s mode routes to peers through it'
                                % mode, _fix_for(name, 'podnet_uplink', 'the interface that holds podnet_node_ip')))
    elif uplink is not None:
        reason = _rules.ifname_problem(uplink)
        if reason:
            problems.append(problem(name, 'podnet_uplink', uplink, reason,
                                    _fix_for(name, 'podnet_uplink', 'the interface that holds podnet_node_ip')))
            uplink = node['uplink'] = None

    pod_mtu = node['pod_mtu']
    if not is_unset(pod_mtu):
        reason = _rules.mtu_problem(pod_mtu)
        if reason:
            problems.append(problem(name, 'podnet_pod_mtu', pod_mtu, reason,
                                    _fix_for(name, 'podnet_pod_mtu', 'the MTU of its uplink, or remove it')))
            node['pod_mtu'] = None
        else:
            node['pod_mtu'] = parse_int(pod_mtu)[0]
    else:
        node['pod_mtu'] = None
    problems += _fact_problems(node)
    return problems


def _fact_problems(node):
    """What the inventory says about a host must agree with what the host says about itself."""
    name = node['name']
    facts = node['facts']
    interfaces = facts.get('interfaces')
    node['uplink_networks'] = []
    node['uplink_mtu'] = None
    node['uplink_found'] = False
    if not isinstance(interfaces, list):
        return ['%s: no network facts were gathered, so podnet cannot check podnet_uplink and podnet_node_ip '
                'against the host. Fix: run site.yml as it is (it gathers the network facts), not with '
                'gather_facts: false.' % name]
    problems = []
    address = node['address']
    uplink = node['uplink']
    if uplink is not None:
        interface = _interface_facts(facts, uplink) if uplink in interfaces else None
        if interface is None:
            problems.append(problem(name, 'podnet_uplink', uplink,
                                    'is not an interface of %s (it has %s)' % (name, ', '.join(sorted(interfaces))),
                                    _fix_for(name, 'podnet_uplink', 'the interface that holds %s' % node['node_ip'])))
            return problems
        node['uplink_found'] = True
        ipv4 = _ipv4_of(interface)
        node['uplink_networks'] = ['%s/%s' % (entry.get('network'), entry.get('prefix')) for entry in ipv4]
        node['uplink_mtu'] = parse_int(interface.get('mtu'))[0]
        held = [entry.get('address') for entry in ipv4]
        if address is not None and str(address) not in held:
            elsewhere = _interface_holding(facts, interfaces, str(address))
            fix = ('set podnet_uplink for %s to %s, which holds it.' % (name, elsewhere) if elsewhere else
                   'set podnet_node_ip for %s to an address of %s (%s), or add %s to %s.'
                   % (name, uplink, ', '.join(held) or 'none', address, uplink))
            problems.append(problem(name, 'podnet_node_ip', node['node_ip'],
                                    'is not an address of podnet_uplink %s on %s (it holds %s)'
                                    % (uplink, name, ', '.join(held) or 'no IPv4 address'), fix))
        if node['pod_mtu'] is not None and node['uplink_mtu'] is not None and node['pod_mtu'] > node['uplink_mtu']:
            problems.append(problem(name, 'podnet_pod_mtu', node['pod_mtu'],
                                    'is larger than the MTU %d of podnet_uplink %s on %s; without encapsulation '
                                    'pod packets that size cannot leave the node' % (node['uplink_mtu'], uplink, name),
                                    _fix_for(name, 'podnet_pod_mtu', 'at most %d, or remove it to use the uplink\'s MTU'
                                             % node['uplink_mtu'])))
    elif address is not None and str(address) not in (facts.get('all_ipv4_addresses') or []):
        problems.append(problem(name, 'podnet_node_ip', node['node_ip'],
                                'is not an address of %s (it has %s)'
                                % (name, ', '.join(facts.get('all_ipv4_addresses') or []) or 'no IPv4 address'),
                                _fix_for(name, 'podnet_node_ip', 'one of its addresses')))
    return problems


def _interface_holding(facts, interfaces, address):
    for name in sorted(interfaces):
        interface = _interface_facts(facts, name)
        if interface and address in [entry.get('address') for entry in _ipv4_of(interface)]:
            return name
    return None


def _duplicate_ip_problems(nodes):
    problems = []
    owners = {}
    for node in nodes:
        address = node['address']
        if address is None:
            continue
        if address in owners:
            problems.append(problem(node['name'], 'podnet_node_ip', node['node_ip'],
                                    'is also the podnet_node_ip of %s' % owners[address],
                                    'give %s and %s different podnet_node_ip values.' % (owners[address], node['name'])))
        else:
            owners[address] = node['name']
    return problems


def _gateway(node, subnet):
    """Return (gateway address, problem or None); the default is the subnet's first address (docker0, cni0)."""
    value = node['pod_gateway']
    if is_unset(value):
        return subnet.network_address + 1, None
    fix = ('set podnet_pod_gateway for %s to an address such as %s, or remove it.'
           % (node['name'], subnet.network_address + 1))
    address, reason = parse_ipv4_address(value)
    if address is None:
        return None, problem(node['name'], 'podnet_pod_gateway', value, reason, fix)
    if address not in subnet:
        return None, problem(node['name'], 'podnet_pod_gateway', value, 'is outside the pod subnet %s' % subnet, fix)
    if address in (subnet.network_address, subnet.broadcast_address):
        return None, problem(node['name'], 'podnet_pod_gateway', value,
                             'is the network or broadcast address of the pod subnet %s' % subnet, fix)
    return address, None


def _name_problems(hosts):
    if not isinstance(hosts, (list, tuple)):
        return ['%s: the host list is a %s, not a list. Fix: pass groups[\'podnet_nodes\'] | map(\'extract\', '
                'hostvars).' % (ALL_HOSTS, type(hosts).__name__)]
    problems = []
    seen = set()
    for index, host in enumerate(hosts):
        name = host.get('inventory_hostname') if hasattr(host, 'get') else None
        if not isinstance(name, str) or not name:
            problems.append('node #%d: has no inventory_hostname. Fix: pass the hostvars of every host of group '
                            'podnet_nodes.' % (index + 1))
        elif name in seen:
            problems.append('%s: appears more than once. Fix: list every host only once.' % name)
        seen.add(name)
    return problems


# ---- the plan -----------------------------------------------------------------------------------------------

def plan_cluster(hosts, settings, groups=None, play_hosts=None):
    """Plan the whole cluster. See the cluster_plan filter's documentation for the input and the result.

    Never raises for a bad inventory: the result's ``problems`` lists every problem found (host, variable, value,
    fix), and ``nodes`` is empty unless ``problems`` is.
    """
    # The plan allocates a few containers per node and per peer and makes no reference cycles, so the cyclic
    # collector has nothing to free here; left on, its full collections walk the whole heap (every host's facts)
    # again and again while the plan grows, which alone made 5,000 nodes cost more than N log N.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _plan_cluster(hosts, settings, groups, play_hosts)
    finally:
        if collecting:
            gc.enable()


def _plan_cluster(hosts, settings, groups, play_hosts):
    settings = dict(settings or {})
    groups = groups or {}
    mode = _setting(settings, 'podnet_mode') or 'bridge'
    result = {'mode': mode, 'problems': [], 'nodes': {}, 'cluster_cidr': None, 'node_prefix': None, 'bgp': None}
    problems = result['problems']
    if mode not in MODES:
        problems.append(problem(ALL_HOSTS, 'podnet_mode', mode, 'is not one of %s' % ', '.join(MODES),
                                'set podnet_mode to bridge, hostgw or bgp.'))
        return result
    problems += _name_problems(hosts)
    if problems:
        return result
    if not hosts:
        problems.append('%s: group podnet_nodes is empty or missing. Fix: add the hosts to group podnet_nodes in '
                        'the inventory.' % ALL_HOSTS)
        return result
    names = [host['inventory_hostname'] for host in hosts]
    if play_hosts is not None:
        # One pass over play_hosts: in a play it is Ansible's lazy list, and every "in" on it walks and renders it
        # again (1,000 nodes: a million items, 4 of the filter's 5 seconds).
        playing = set(play_hosts)
        missing = [name for name in names if name not in playing]
        if missing:
            problems.append('%s: podnet plans pod subnets and routes from every node of group podnet_nodes, but '
                            'this run does not include them. Fix: run without --limit, and make sure every node '
                            'is reachable.' % ', '.join(missing))
            return result

    cluster, prefix, setting_problems = _settings_problems(settings, mode)
    problems += setting_problems
    nodes = [_describe(host) for host in hosts]
    for node in nodes:
        problems += _node_problems(node, mode, cluster)
    problems += _duplicate_ip_problems(nodes)
    if cluster is None or prefix is None:
        # Overrides can still be checked for syntax; allocation needs a valid pool.
        problems += check_overrides(nodes, cluster, prefix)[1]
        return result

    assigned, allocation_problems = assign_pod_cidrs(nodes, cluster, prefix)
    problems += allocation_problems
    gateways = {}
    for node in nodes:
        if node['name'] in assigned:
            gateways[node['name']], bad = _gateway(node, assigned[node['name']])
            if bad:
                problems.append(bad)
    if mode in ROUTED_MODES:
        # A node whose uplink is missing was reported above; its adjacency cannot be judged.
        problems += adjacency_problems([node for node in nodes if node['uplink_found']], mode)
    if mode == 'bgp':
        problems += _bird_name_problems(nodes)
    topology = None
    if mode == 'bgp' and not problems:
        try:
            topology = bgp_topology([dict(node, node_ip=str(node['address'])) for node in nodes], {
                'mesh_max_nodes': settings.get('podnet_bgp_mesh_max_nodes'),
                'rr_per_rack': settings.get('podnet_bgp_rr_per_rack'),
                'route_reflectors': groups.get(RR_GROUP),
                'as_number': parse_int(settings.get('podnet_bgp_as'))[0],
            })
        except PodnetProblems as caught:
            problems += caught.problems
    if problems:
        return result

    result.update(cluster_cidr=str(cluster), node_prefix=prefix)
    if topology is not None:
        result['bgp'] = dict((key, topology[key]) for key in ('topology', 'as_number', 'route_reflectors', 'sessions'))
    bridge_name = _setting(settings, 'podnet_bridge_name')
    hostgw = _HostgwPeers(nodes, assigned) if mode == 'hostgw' else None
    for node in nodes:
        subnet = assigned[node['name']]
        gateway = gateways[node['name']]
        mtu = node['pod_mtu'] or node['uplink_mtu'] or DEFAULT_MTU
        planned = {
            'name': node['name'],
            'node_ip': str(node['address']),
            'uplink': node['uplink'],
            'rack': '' if node['rack'] is None else str(node['rack']),
            'mtu': mtu,
            'pod_cidr': str(subnet),
            'pod_gateway': str(gateway),
            'pod_prefix': subnet.prefixlen,
            'bridge': None,
            'hostgw': None,
            'bgp': None,
        }
        if mode in BRIDGE_MODES:
            planned['bridge'] = {'name': bridge_name, 'mtu': mtu,
                                 'addresses': ['%s/%d' % (gateway, subnet.prefixlen)]}
        if mode == 'hostgw':
            planned['hostgw'] = hostgw.part(node)
        if mode == 'bgp':
            own = topology['nodes'][node['name']]
            planned['bgp'] = {
                'role': own['role'],
                'cluster_id': own['cluster_id'],
                'peers': [dict(peer, protocol=bird_protocol(peer['name'])) for peer in own['peers']],
                # Held by the node so only the whole block is announced, and unused pod addresses end here.
                'routes': [{'dest': str(subnet), 'type': 'blackhole'}],
            }
        result['nodes'][node['name']] = planned
    return result


def bird_protocol(name):
    return 'peer_' + _BIRD_UNSAFE.sub('_', name)


def _bird_name_problems(nodes):
    """bird.conf names every peer's protocol after it and quotes its name in the description."""
    problems = []
    owners = {}
    for node in nodes:
        name = node['name']
        if any(char in '"\\' or ord(char) < 32 for char in name):
            problems.append('%s: the inventory hostname contains a double quote, backslash or control character, '
                            'which bird.conf cannot carry. Fix: rename the host in the inventory.' % name)
        protocol = bird_protocol(name)
        if protocol in owners:
            problems.append('%s: the inventory hostname gives the same BIRD protocol name %s as %s (BIRD names allow '
                            'only letters, digits and "_"). Fix: rename one of the two hosts in the inventory.'
                            % (name, protocol, owners[protocol]))
        else:
            owners[protocol] = name
    return problems


def _hostgw_peer(node, peer, peer_subnet):
    """One peer of a host-gw node: its pod subnet, how it is reached, and the route for the ip_routes module."""
    return {
        'name': peer['name'],
        'node_ip': str(peer['address']),
        'pod_cidr': str(peer_subnet),
        'encap': ENCAP_NONE,
        'route': {'dest': str(peer_subnet), 'via': str(peer['address']), 'dev': node['uplink']},
    }


class _HostgwPeers(object):
    """Every host-gw node's peers and routes: every other node, sorted by pod subnet (as text).

    The result holds N*(N-1) peers by nature (every node routes every other node's subnet), so the work per peer
    is kept to a list slot: a peer's entry depends on the node only through the node's uplink, so it is built once
    per (peer, uplink), the order is sorted once, and each node's lists are that order without the node itself.
    Entries are shared between nodes, as a node's routes already share the dicts of its peers' routes.
    """

    def __init__(self, nodes, assigned):
        self._order = sorted(nodes, key=lambda node: str(assigned[node['name']]))
        self._assigned = assigned
        self._position = dict((node['name'], index) for index, node in enumerate(self._order))
        self._by_uplink = {}

    def _entries(self, node):
        uplink = node['uplink']
        if uplink not in self._by_uplink:
            peers = [_hostgw_peer(node, peer, self._assigned[peer['name']]) for peer in self._order]
            self._by_uplink[uplink] = (peers, [peer['route'] for peer in peers])
        return self._by_uplink[uplink]

    def part(self, node):
        peers, routes = self._entries(node)
        index = self._position[node['name']]
        return {'peers': peers[:index] + peers[index + 1:], 'routes': routes[:index] + routes[index + 1:]}
