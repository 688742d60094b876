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

import bisect
import gc
import ipaddress
import re

from ansible_collections.podnet.netmodes.plugins.module_utils import _rules
from ansible_collections.podnet.netmodes.plugins.plugin_utils._adjacency import adjacency_problems, uplink_networks
from ansible_collections.podnet.netmodes.plugins.plugin_utils._bgp_topology import TOPOLOGIES, TOR_PEERS, bgp_topology
from ansible_collections.podnet.netmodes.plugins.plugin_utils._pod_cidr import assign_pod_cidrs, check_overrides
from ansible_collections.podnet.netmodes.plugins.plugin_utils._removal import state_problems
from ansible_collections.podnet.netmodes.plugins.plugin_utils._switch import switch_part, switch_problems
from ansible_collections.podnet.netmodes.plugins.module_utils._rules import parse_int, parse_ipv4_address, parse_ipv4_network
from ansible_collections.podnet.netmodes.plugins.plugin_utils._underlay import RACKS_VAR, Underlay
from ansible_collections.podnet.netmodes.plugins.plugin_utils._values import (
    ALL_HOSTS,
    POD_CIDR_FACT_FILE,
    PodnetProblems,
    is_unset,
    node_prefix_reason,
    problem,
)

MODES = ('bridge', 'hostgw', 'bgp')
# Modes whose nodes route pods to their peers' node IPs: directly (every pair on-link) unless IPIP tunnels them.
ROUTED_MODES = ('hostgw', 'bgp')
BRIDGE_MODES = ('bridge', 'hostgw')
DEFAULT_NODE_PREFIX = {'bridge': 24, 'hostgw': 24, 'bgp': 26}
DEFAULT_MTU = 1500
# How a peer is reached, decided per pair by the plan: a direct route via the uplink, or through tunl0.
ENCAP_NONE = 'none'
ENCAP_IPIP = 'ipip'
IPIP_MODES = ('Never', 'CrossSubnet', 'Always')
IPIP_DEVICE = 'tunl0'
# The outer IPv4 header an IPIP packet carries.
IPIP_OVERHEAD = 20
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

    ipip_mode, ipip_problems = _ipip_mode(settings, mode, host)
    problems += ipip_problems
    if mode == 'bgp':
        problems += _bgp_settings_problems(settings, host, ipip_mode)
    return cluster, prefix, ipip_mode, problems


def _ipip_mode(settings, mode, host):
    """Return (IPIP mode, problems); the mode is 'Never' when the setting is unset or wrong."""
    value = _setting(settings, 'podnet_ipip_mode')
    if value is None:
        return 'Never', []
    if value not in IPIP_MODES:
        return 'Never', [problem(host, 'podnet_ipip_mode', value, 'is not one of %s (spelled as shown)'
                                 % ', '.join(IPIP_MODES),
                                 'set podnet_ipip_mode to CrossSubnet (tunnel only to peers on other networks), '
                                 'Always, or Never.')]
    if value != 'Never' and mode not in ROUTED_MODES:
        return 'Never', [problem(host, 'podnet_ipip_mode', value,
                                 'asks for IPIP tunnels, but %s mode routes no pod traffic between nodes' % mode,
                                 'remove podnet_ipip_mode, or set podnet_mode to hostgw or bgp.')]
    return value, []


def _bgp_settings_problems(settings, host, ipip_mode):
    problems = []
    topology = _setting(settings, 'podnet_bgp_topology') or 'auto'
    if topology not in TOPOLOGIES:
        problems.append(problem(host, 'podnet_bgp_topology', topology, 'is not one of %s' % ', '.join(TOPOLOGIES),
                                'set podnet_bgp_topology to auto (mesh or route reflectors by size), mesh, '
                                'route_reflectors, or tor (eBGP to the racks\' top-of-rack routers).'))
    tor_peers = _setting(settings, 'podnet_tor_peers') or 'nodes'
    if tor_peers not in TOR_PEERS:
        problems.append(problem(host, 'podnet_tor_peers', tor_peers, 'is not one of %s' % ', '.join(TOR_PEERS),
                                'set podnet_tor_peers to nodes (every node speaks to its rack\'s routers) or '
                                'route_reflectors (the rack\'s route reflectors do).'))
    if topology == 'tor' and ipip_mode != 'Never':
        problems.append(problem(host, 'podnet_ipip_mode', ipip_mode,
                                'asks for IPIP tunnels, but with podnet_bgp_topology tor the top-of-rack routers '
                                'route the pod blocks between racks natively',
                                'remove podnet_ipip_mode (or set it to Never), or choose another '
                                'podnet_bgp_topology.'))
    if topology in TOPOLOGIES and topology != 'tor' and settings.get(RACKS_VAR):
        problems.append('%s: %s describes top-of-rack routers, but podnet_bgp_topology is %s, so no node would peer '
                        'with them. Fix: set podnet_bgp_topology: tor, or remove %s.'
                        % (host, RACKS_VAR, topology, RACKS_VAR))
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


def _unreadable_record(local):
    """Why the node's podnet.fact, which exists, gives no pod CIDR; None when it gives one or does not exist.

    Ansible reads a fact file that is neither JSON nor INI as a string saying so, and an empty one as {}.
    """
    if not isinstance(local, dict) or 'podnet' not in local:
        return None
    recorded = local['podnet']
    if isinstance(recorded, dict):
        return None if not is_unset(recorded.get('pod_cidr')) else 'it holds no pod_cidr'
    if isinstance(recorded, str) and recorded.strip():
        return recorded.strip()
    return 'it holds no pod_cidr'


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
        'recorded_mode': recorded.get('mode') if isinstance(recorded, dict) else None,
        'record_unreadable': _unreadable_record(local),
        'facts': facts if isinstance(facts, dict) else {},
    }


def _bridge_subnet(node, bridge_name, cluster, prefix):
    """The one pod subnet podnet's bridge on the node holds an address of (gathered facts), else None."""
    interface = _interface_facts(node['facts'], bridge_name) if bridge_name else None
    if interface is None:
        return None
    subnets = set()
    for entry in _ipv4_of(interface):
        try:
            subnet = ipaddress.ip_interface(u'%s/%s' % (entry.get('address'), entry.get('netmask'))).network
        except ValueError:
            continue
        if subnet.prefixlen == prefix and subnet.subnet_of(cluster):
            subnets.add(subnet)
    return subnets.pop() if len(subnets) == 1 else None


def _recover_records(nodes, mode, bridge_name, cluster, prefix):
    """Give a node whose record is unreadable the subnet it uses, read from its bridge; (repairs, problems).

    A node with a record had a subnet, and its pods use it: allocating it a new one (what a node without a record
    gets) would renumber them behind the operator's back. In bgp mode no gathered fact shows the subnet.
    """
    repairs, problems = [], []
    for node in nodes:
        reason = node['record_unreadable']
        if reason is None or not is_unset(node['pod_cidr']):
            continue
        name = node['name']
        subnet = _bridge_subnet(node, bridge_name, cluster, prefix) if mode in BRIDGE_MODES else None
        if subnet is not None:
            node['recorded_pod_cidr'] = str(subnet)
            repairs.append('%s: %s is unreadable (%s); its pod subnet %s is read from its bridge %s, and the '
                           'converge writes the file anew' % (name, POD_CIDR_FACT_FILE, reason, subnet, bridge_name))
            continue
        where = ('its blackhole route, ip route show type blackhole proto podnet' if mode == 'bgp'
                 else 'the address of its bridge %s' % bridge_name)
        problems.append('%s: %s is unreadable (%s), so the pod subnet the node uses is not known, and podnet does '
                        'not give a node that had one a new one. Fix: set podnet_pod_cidr for %s to the subnet it '
                        'uses (%s), or remove %s on %s so that podnet allocates a new subnet (pods on %s get new '
                        'addresses).' % (name, POD_CIDR_FACT_FILE, reason, name, where, POD_CIDR_FACT_FILE, name,
                                         name))
    return repairs, problems


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


def bridge_mac(gateway):
    """The pod bridge's own Ethernet address: 0a:58 (locally administered, unicast) and the gateway's four octets,
    the convention OVN-Kubernetes uses for pod addresses. Unique per node, the same at every run and boot, and set
    explicitly, so the bridge keeps it as pods come and go (see ip_link's mac)."""
    return ':'.join(['0a', '58'] + ['%02x' % octet for octet in gateway.packed])


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
    result = {'mode': mode, 'problems': [], 'repairs': [], 'nodes': {}, 'cluster_cidr': None, 'node_prefix': None,
              'bgp': None, 'ipip': None, 'hostgw': None}
    problems = result['problems']
    problems += state_problems(settings)
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

    cluster, prefix, ipip_mode, setting_problems = _settings_problems(settings, mode)
    problems += setting_problems
    nodes = [_describe(host) for host in hosts]
    for node in nodes:
        problems += _node_problems(node, mode, cluster)
    problems += _duplicate_ip_problems(nodes)
    if cluster is None or prefix is None:
        # Overrides can still be checked for syntax; allocation needs a valid pool.
        problems += check_overrides(nodes, cluster, prefix)[1]
        return result
    switching = switch_problems(nodes, mode, prefix, _setting(settings, 'podnet_node_prefix') is not None)
    if switching:
        problems += switching
        return result

    result['repairs'], record_problems = _recover_records(nodes, mode, _setting(settings, 'podnet_bridge_name'),
                                                          cluster, prefix)
    problems += record_problems
    assigned, allocation_problems = assign_pod_cidrs(nodes, cluster, prefix)
    problems += allocation_problems
    gateways = {}
    for node in nodes:
        if node['name'] in assigned:
            gateways[node['name']], bad = _gateway(node, assigned[node['name']])
            if bad:
                problems.append(bad)
    underlay = None
    choice = (_setting(settings, 'podnet_bgp_topology') or 'auto') if mode == 'bgp' else None
    if choice == 'tor':
        underlay = Underlay(settings, nodes, cluster, parse_int(settings.get('podnet_bgp_as'))[0])
        problems += underlay.problems
        # The routers carry the traffic between racks: only the nodes of one rack must share a segment.
        racks = {}
        for node in nodes:
            if node['uplink_found'] and node['rack'] is not None:
                racks.setdefault(str(node['rack']), []).append(node)
        for rack in sorted(racks):
            problems += adjacency_problems(racks[rack], mode)
    elif mode in ROUTED_MODES and ipip_mode == 'Never' and choice in (None,) + TOPOLOGIES:
        # A node whose uplink is missing was reported above; its adjacency cannot be judged.
        problems += adjacency_problems([node for node in nodes if node['uplink_found']], mode)
    tunnels = _Tunnels(nodes, ipip_mode)
    problems += tunnels.mtu_problems()
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
                'topology': _setting(settings, 'podnet_bgp_topology'),
                'tor_peers': _setting(settings, 'podnet_tor_peers'),
            })
        except PodnetProblems as caught:
            problems += caught.problems
    if problems:
        return result

    result.update(cluster_cidr=str(cluster), node_prefix=prefix)
    if topology is not None:
        result['bgp'] = dict((key, topology[key]) for key in ('topology', 'as_number', 'route_reflectors', 'sessions'))
        result['bgp'].update(tor_peers=None, racks=None, tor_passwords=False)
        if underlay is not None:
            result['bgp'].update(tor_peers=underlay.tor_peers, racks=underlay.racks_part(assigned),
                                 tor_passwords=underlay.has_passwords())
    bridge_name = _setting(settings, 'podnet_bridge_name')
    result['ipip'] = {'mode': ipip_mode, 'node_ips': tunnels.node_ips()}
    hostgw = _HostgwPeers(nodes, assigned, tunnels) if mode == 'hostgw' else None
    for node in nodes:
        subnet = assigned[node['name']]
        gateway = gateways[node['name']]
        mtu = tunnels.pod_mtu(node)
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
            'ipip': tunnels.device(node, gateway),
            'switch': switch_part(node['recorded_mode'], mode),
        }
        if mode in BRIDGE_MODES:
            planned['bridge'] = {'name': bridge_name, 'mtu': mtu, 'mac': bridge_mac(gateway),
                                 'addresses': ['%s/%d' % (gateway, subnet.prefixlen)]}
        if mode == 'hostgw':
            planned['hostgw'] = hostgw.part(node)
        if mode == 'bgp':
            own = topology['nodes'][node['name']]
            planned['bgp'] = {
                'role': own['role'],
                'cluster_id': own['cluster_id'],
                'peers': [dict(peer, protocol=bird_protocol(peer['name']), **tunnels.bgp_session(node, peer['ip']))
                          for peer in own['peers']],
                'next_hop_routes': tunnels.next_hop_routes(node),
                # Held by the node so only the whole block is announced, and unused pod addresses end here.
                'routes': [{'dest': str(subnet), 'type': 'blackhole'}],
                'as_number': underlay.node_as(node) if underlay else topology['as_number'],
                'tor': underlay.node_part(node, own['role']) if underlay else None,
            }
            if underlay:
                result['bgp']['sessions'] += len(planned['bgp']['tor']['sessions'])
        result['nodes'][node['name']] = planned
    if hostgw is not None:
        result['hostgw'] = {'segments': hostgw.segments}
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


def _hostgw_peer(node, peer, peer_subnet, encap):
    """One peer of a host-gw node: its pod subnet, how it is reached, and the route for the ip_routes module."""
    via = str(peer['address'])
    if encap == ENCAP_IPIP:
        route = {'dest': str(peer_subnet), 'via': via, 'dev': IPIP_DEVICE, 'onlink': True}
    else:
        route = {'dest': str(peer_subnet), 'via': via, 'dev': node['uplink']}
    return {'name': peer['name'], 'node_ip': via, 'pod_cidr': str(peer_subnet), 'encap': encap, 'route': route}


class _HostgwPeers(object):
    """Every host-gw node's peers and routes, as one cluster-wide list per segment: every node, sorted by pod subnet.

    A peer's entry depends on the node only through the node's uplink name (the route's device) and, with
    podnet_ipip_mode CrossSubnet, the node's uplink networks (whether the peer is reached on-link or through
    tunl0). Nodes alike in both share one list of every node's entry (``peers``, ``routes`` and the same routes as
    ``route_lines``), and a node's own part names that list (``segment``) and the entry to leave out (``exclude``,
    its own pod subnet), which ip_routes' ``exclude`` drops on the node. So the plan holds O(N) entries per
    segment instead of N lists of N-1: Ansible copies a fact container by container, and N*(N-1) entries made the
    set_fact of the plan take minutes at 1,000 nodes (docs/benchmarks.md).
    """

    def __init__(self, nodes, assigned, tunnels):
        self._order = sorted(nodes, key=lambda node: str(assigned[node['name']]))
        self._assigned = assigned
        self._tunnels = tunnels
        self.segments = {}

    def _segment_name(self, node):
        if self._tunnels.mode == 'CrossSubnet':
            return '%s %s' % (node['uplink'], ','.join(str(network) for network in self._tunnels.segment(node)))
        # Never: every route is direct on the uplink; Always: every route goes through tunl0.
        return node['uplink']

    def part(self, node):
        name = self._segment_name(node)
        if name not in self.segments:
            peers = [_hostgw_peer(node, peer, self._assigned[peer['name']], self._tunnels.encap(node, peer['address']))
                     for peer in self._order]
            routes = [peer['route'] for peer in peers]
            self.segments[name] = {'peers': peers, 'routes': routes, 'route_lines': [route_line(r) for r in routes]}
        return {'segment': name, 'exclude': str(self._assigned[node['name']])}


def route_line(route):
    """A host-gw route in ip_routes' route_lines form: a string per route is far cheaper for Ansible than a dict."""
    return '%s via %s dev %s%s' % (route['dest'], route['via'], route['dev'], ' onlink' if route.get('onlink') else '')


def hostgw_part(plan, name):
    """A host-gw node's peers and routes (every other node's), as the node's ip_routes task hands them over."""
    own = plan['nodes'][name]['hostgw']
    segment = plan['hostgw']['segments'][own['segment']]
    return {'peers': [peer for peer in segment['peers'] if peer['pod_cidr'] != own['exclude']],
            'routes': [route for route in segment['routes'] if route['dest'] != own['exclude']]}


class _Tunnels(object):
    """Which pairs of nodes IPIP tunnels, and what that asks of each node (tunl0, MTU, BGP next hops).

    podnet_ipip_mode Always tunnels to every peer; CrossSubnet to the peers whose node IP is on none of the node's
    uplink networks (its segment); Never to none. Nodes of one segment decide alike, so every answer is worked out
    once per segment: the peers a segment reaches on-link are counted by bisecting the sorted node addresses.
    """

    def __init__(self, nodes, ipip_mode):
        self.mode = ipip_mode
        self._nodes = [node for node in nodes if node.get('address') is not None]
        self._addresses = sorted(int(node['address']) for node in self._nodes)
        self._segments = {}
        self._tunnelling = {}
        self._networks = None

    def segment(self, node):
        """The node's uplink networks, collapsed and sorted: the key of everything decided per segment."""
        key = id(node)
        if key not in self._segments:
            networks = ipaddress.collapse_addresses(uplink_networks(node))
            self._segments[key] = tuple(sorted(networks))
        return self._segments[key]

    def encap(self, node, address):
        if self.mode == 'Always':
            return ENCAP_IPIP
        if self.mode == 'CrossSubnet' and not any(address in network for network in self.segment(node)):
            return ENCAP_IPIP
        return ENCAP_NONE

    def tunnels(self, node):
        """Whether the node reaches any peer through tunl0."""
        if self.mode == 'Never' or len(self._nodes) < 2:
            return False
        if self.mode == 'Always':
            return True
        segment = self.segment(node)
        if segment not in self._tunnelling:
            on_link = 0
            for network in segment:
                low = bisect.bisect_left(self._addresses, int(network.network_address))
                high = bisect.bisect_right(self._addresses, int(network.broadcast_address))
                on_link += high - low
            # The node itself is on its own segment; any other node outside it is reached through the tunnel.
            self._tunnelling[segment] = on_link < len(self._addresses)
        return self._tunnelling[segment]

    def tunnel_mtu(self, node):
        return (node['uplink_mtu'] or DEFAULT_MTU) - IPIP_OVERHEAD

    def pod_mtu(self, node):
        """Pod interfaces must fit through the tunnel whenever any of their paths may take it."""
        if self.tunnels(node):
            return node['pod_mtu'] or self.tunnel_mtu(node)
        return node['pod_mtu'] or node['uplink_mtu'] or DEFAULT_MTU

    def mtu_problems(self):
        problems = []
        for node in self._nodes:
            if node['pod_mtu'] and node['uplink'] and self.tunnels(node) and node['pod_mtu'] > self.tunnel_mtu(node):
                problems.append(problem(
                    node['name'], 'podnet_pod_mtu', node['pod_mtu'],
                    'is larger than the tunnel MTU %d of %s (MTU %d of podnet_uplink %s, less %d bytes of IPIP '
                    'header), and podnet_ipip_mode %s sends some of its pod traffic through the tunnel'
                    % (self.tunnel_mtu(node), node['name'], node['uplink_mtu'] or DEFAULT_MTU, node['uplink'],
                       IPIP_OVERHEAD, self.mode),
                    _fix_for(node['name'], 'podnet_pod_mtu', 'at most %d, or remove it' % self.tunnel_mtu(node))))
        return problems

    def device(self, node, gateway):
        """tunl0 as the ipip role declares it, or None when the node tunnels to no peer."""
        if not self.tunnels(node):
            return None
        # An address of the node's own pod block, so traffic from the host to remote pods has a source they
        # can route back to.
        return {'device': IPIP_DEVICE, 'mtu': self.tunnel_mtu(node), 'addresses': ['%s/32' % gateway]}

    def node_ips(self):
        return [str(ipaddress.IPv4Address(address)) for address in self._addresses]

    def bgp_session(self, node, peer_ip):
        """A BGP session's transport: multihop when the peer is off the node's segment, and its encapsulation."""
        address = ipaddress.IPv4Address(peer_ip)
        off_segment = not any(address in network for network in self.segment(node))
        return {'multihop': off_segment, 'encap': self.encap(node, address)}

    def next_hop_routes(self, node):
        """How BIRD reaches a BGP next hop (a node IP) on each node network: via the uplink, or through tunl0."""
        if self.mode == 'Never':
            return []
        own = self.segment(node)
        if self._networks is None:
            networks = set()
            for other in self._nodes:
                networks.update(self.segment(other))
            self._networks = sorted(networks)
        routes = []
        for network in self._networks:
            encap = ENCAP_NONE if self.mode == 'CrossSubnet' and network in own else ENCAP_IPIP
            routes.append({'dest': str(network), 'dev': node['uplink'] if encap == ENCAP_NONE else IPIP_DEVICE,
                           'encap': encap})
        return routes
