# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""roles/bgp/templates/bird.conf.j2 rendered from plans in the shape cluster_plan gives, checked by BIRD itself.

The cluster is the VM lab's "ipip" one: node1 and node2 share rack r1 (10.89.60.0/24), node3 is alone on rack r2
(10.89.61.0/24) behind a router. The IPIP shape below (device routes in podnet_nexthops4, onlink set by the kernel
protocol's export filter) is the one that gave `<block> via <node IP> dev tunl0 proto bird onlink` on a real kernel
(mesh and route reflectors, CrossSubnet and Always); see /work/notes/bird-ipip-findings.md.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import ipaddress
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, 'lab'))

from role_template import render_role_template  # noqa: E402

BIRD = '/usr/sbin/bird'
needs_bird = pytest.mark.skipif(not os.access(BIRD, os.X_OK), reason='bird2 is not installed (apt-get install bird2)')

NODES = {
    'node1': {'node_ip': '10.89.60.11', 'rack': 'r1', 'pod_cidr': '10.244.0.0/26'},
    'node2': {'node_ip': '10.89.60.12', 'rack': 'r1', 'pod_cidr': '10.244.0.64/26'},
    'node3': {'node_ip': '10.89.61.11', 'rack': 'r2', 'pod_cidr': '10.244.0.128/26'},
}
RACK_NETWORKS = {'r1': '10.89.60.0/24', 'r2': '10.89.61.0/24'}
CLUSTER_ID = '10.89.60.11'
MODES = ('Never', 'CrossSubnet', 'Always')
TOPOLOGIES = ('mesh', 'route-reflectors')


def _sessions(topology):
    """Who peers with whom, and whether the far end is a route reflector client of this node."""
    if topology == 'mesh':
        return dict((name, [(other, False) for other in sorted(NODES) if other != name]) for name in NODES)
    return {'node1': [('node2', True), ('node3', True)], 'node2': [('node1', False)], 'node3': [('node1', False)]}


def _encap(mode, own_network, address):
    if mode == 'Always' or (mode == 'CrossSubnet' and ipaddress.ip_address(address) not in own_network):
        return 'ipip'
    return 'none'


def make_plan(mode='Never', topology='mesh', nodes=None, rack_networks=None):
    """A podnet_plan as the contract describes it (only what bird.conf.j2 may read, plus the obvious neighbours)."""
    nodes = nodes or NODES
    rack_networks = rack_networks or RACK_NETWORKS
    sessions = _sessions(topology) if nodes is NODES else dict(
        (name, [(other, False) for other in sorted(nodes) if other != name]) for name in nodes)
    networks = sorted(set(rack_networks[node['rack']] for node in nodes.values()),
                      key=lambda net: ipaddress.ip_network(net))
    planned = {}
    for name, node in nodes.items():
        own = ipaddress.ip_network(rack_networks[node['rack']])
        if topology == 'mesh':
            role, cluster_id = 'mesh', None
        else:
            role, cluster_id = ('rr', CLUSTER_ID) if name == 'node1' else ('client', None)
        peers = []
        for other, rr_client in sessions[name]:
            address = nodes[other]['node_ip']
            peers.append({'name': other, 'ip': address, 'rr_client': rr_client, 'protocol': 'peer_' + other,
                          'multihop': ipaddress.ip_address(address) not in own,
                          'encap': 'none' if mode == 'Never' else _encap(mode, own, address)})
        next_hop_routes = []
        if mode != 'Never':
            for network in networks:
                tunnel = mode == 'Always' or ipaddress.ip_network(network) != own
                next_hop_routes.append({'dest': network, 'dev': 'tunl0' if tunnel else 'ens4',
                                        'encap': 'ipip' if tunnel else 'none'})
        planned[name] = {
            'name': name, 'node_ip': node['node_ip'], 'uplink': 'ens4', 'rack': node['rack'], 'mtu': 1500,
            'pod_cidr': node['pod_cidr'], 'pod_gateway': str(next(ipaddress.ip_network(node['pod_cidr']).hosts())),
            'pod_prefix': 26, 'bridge': None, 'hostgw': None,
            'ipip': None if not any(route['encap'] == 'ipip' for route in next_hop_routes) else {
                'device': 'tunl0', 'mtu': 1480, 'addresses': []},
            'bgp': {'role': role, 'cluster_id': cluster_id, 'peers': peers, 'next_hop_routes': next_hop_routes,
                    'routes': [{'dest': node['pod_cidr'], 'type': 'blackhole'}]},
        }
    return {
        'mode': 'bgp', 'problems': [], 'cluster_cidr': '10.244.0.0/16', 'node_prefix': 26,
        'bgp': {'topology': topology, 'as_number': 64512, 'route_reflectors': [] if topology == 'mesh' else ['node1'],
                'sessions': 3 if topology == 'mesh' else 2},
        'ipip': {'mode': mode, 'node_ips': sorted(node['node_ip'] for node in nodes.values())},
        'nodes': planned,
    }


def render(plan, host, template='bird.conf.j2', **extra):
    variables = {'podnet_plan': plan, 'inventory_hostname': host, 'ansible_managed': 'Ansible managed',
                 'podnet_route_proto': 94, 'podnet_bgp_password': '', 'podnet_bgp_extra_config': ''}
    variables.update(extra)
    return render_role_template('bgp', template, variables)


def bird_parse(text, tmp_path):
    conf = tmp_path / 'bird.conf'
    conf.write_text(text)
    return subprocess.run([BIRD, '-p', '-c', str(conf)], capture_output=True, text=True, timeout=30)


def block(text, opening):
    """The lines of the block that starts with `opening` up to its closing brace at column 0."""
    lines = text.splitlines()
    start = lines.index(opening)
    end = lines.index('}', start)
    return lines[start:end + 1]


def significant(lines):
    return [line for line in lines if not line.lstrip().startswith('#')]


# What today's template (before IPIP) wrote for node1; existing molecule scenarios depend on every byte of it.
NEVER_MESH_NODE1 = '''\
# Ansible managed
# BIRD 2 for podnet.netmodes bgp mode on node1 (mesh,
# mesh topology).
log syslog all;
router id 10.89.60.11;
# A BIRD started in graceful restart recovery (podnet-bird-start: after "birdc graceful restart" or a crash) keeps
# its routes in the kernel and programs none until every session is back, but not longer than this: a peer that
# stays away holds back the others' changes for 30 s, not BIRD's default 240 s.
graceful restart wait 30;

# The pod block this node owns. podnet also holds it as a blackhole route in the kernel (proto 94),
# so the kernel protocol below never exports it: only routes learned over BGP reach the kernel.
protocol static podnet_blocks {
  ipv4;
  route 10.244.0.0/26 blackhole;
}

# Pod blocks only: nothing outside the cluster CIDR, nothing but whole blocks.
filter podnet_pod_blocks {
  if net ~ [ 10.244.0.0/16{26,26} ] then accept;
  reject;
}

protocol device {
  scan time 10;
}

protocol kernel podnet_kernel {
  ipv4 {
    import none;
    export where source = RTS_BGP;
  };
  graceful restart on;
}

template bgp podnet_peer {
  local 10.89.60.11 as 64512;
  direct;
  graceful restart on;
  ipv4 {
    import filter podnet_pod_blocks;
    export filter podnet_pod_blocks;
  };
}

protocol bgp peer_node2 from podnet_peer {
  description "node2";
  neighbor 10.89.60.12 as 64512;
}

protocol bgp peer_node3 from podnet_peer {
  description "node3";
  neighbor 10.89.61.11 as 64512;
}
'''

NEVER_RR_NODE1_TAIL = '''\
protocol bgp peer_node2 from podnet_peer {
  description "node2";
  neighbor 10.89.60.12 as 64512;
  rr client;
  rr cluster id 10.89.60.11;
}

protocol bgp peer_node3 from podnet_peer {
  description "node3";
  neighbor 10.89.61.11 as 64512;
  rr client;
  rr cluster id 10.89.60.11;
}

# podnet_bgp_extra_config
protocol static extra { ipv4; }
'''


def test_never_writes_exactly_what_podnet_wrote_before_ipip():
    assert render(make_plan('Never', 'mesh'), 'node1') == NEVER_MESH_NODE1


def test_never_with_route_reflectors_and_extra_config_is_unchanged():
    text = render(make_plan('Never', 'route-reflectors'), 'node1',
                  podnet_bgp_extra_config='protocol static extra { ipv4; }')
    assert text.startswith(NEVER_MESH_NODE1.split('protocol bgp peer_node2')[0].replace(
        'on node1 (mesh,', 'on node1 (rr,').replace('# mesh topology', '# route-reflectors topology'))
    assert text.endswith(NEVER_RR_NODE1_TAIL)


def test_never_ignores_the_ipip_fields_of_the_plan():
    # Peers off the node's segment are refused with ipip Never, but a plan that still carries multihop or
    # next_hop_routes must not leak them into the config: Never means today's config.
    planned = make_plan('Never', 'mesh')
    planned['nodes']['node1']['bgp']['peers'][1]['multihop'] = True
    planned['nodes']['node1']['bgp']['next_hop_routes'] = [{'dest': '10.89.61.0/24', 'dev': 'tunl0', 'encap': 'ipip'}]
    assert render(planned, 'node1') == NEVER_MESH_NODE1


@needs_bird
@pytest.mark.parametrize('host', sorted(NODES))
@pytest.mark.parametrize('topology', TOPOLOGIES)
@pytest.mark.parametrize('mode', MODES)
def test_bird_accepts_the_config_of_every_node(mode, topology, host, tmp_path):
    result = bird_parse(render(make_plan(mode, topology), host), tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout


@needs_bird
@pytest.mark.parametrize('mode', ('CrossSubnet', 'Always'))
def test_bird_accepts_a_password_and_extra_config_with_ipip(mode, tmp_path):
    text = render(make_plan(mode, 'route-reflectors'), 'node3', podnet_bgp_password='s3cret',
                  podnet_bgp_extra_config='protocol static extra { ipv4; }')
    result = bird_parse(text, tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout


def test_crosssubnet_tunnels_only_next_hops_in_other_networks():
    text = render(make_plan('CrossSubnet', 'mesh'), 'node1')
    assert 'ipv4 table podnet_nexthops4;' in text.splitlines()
    assert significant(block(text, 'protocol static podnet_nexthops {')) == [
        'protocol static podnet_nexthops {',
        '  ipv4 { table podnet_nexthops4; };',
        '  route 10.89.60.0/24 via "ens4";',
        '  route 10.89.61.0/24 via "tunl0";',
        '}',
    ]
    assert significant(block(text, 'protocol kernel podnet_kernel {')) == [
        'protocol kernel podnet_kernel {',
        '  ipv4 {',
        '    import none;',
        '    export filter {',
        '      if source != RTS_BGP then reject;',
        '      if ifname = "tunl0" then onlink = true;',
        '      accept;',
        '    };',
        '  };',
        '  graceful restart on;',
        '}',
    ]


def test_always_tunnels_every_next_hop():
    text = render(make_plan('Always', 'mesh'), 'node3')
    assert significant(block(text, 'protocol static podnet_nexthops {'))[2:-1] == [
        '  route 10.89.60.0/24 via "tunl0";',
        '  route 10.89.61.0/24 via "tunl0";',
    ]
    assert '      if ifname = "tunl0" then onlink = true;' in text.splitlines()


@pytest.mark.parametrize('mode', ('CrossSubnet', 'Always'))
def test_every_session_resolves_next_hops_recursively_in_podnet_nexthops4(mode):
    text = render(make_plan(mode, 'route-reflectors'), 'node2')
    assert significant(block(text, 'template bgp podnet_peer {')) == [
        'template bgp podnet_peer {',
        '  local 10.89.60.12 as 64512;',
        '  direct;',
        '  graceful restart on;',
        '  ipv4 {',
        '    import filter podnet_pod_blocks;',
        '    export filter podnet_pod_blocks;',
        '    gateway recursive;',
        '    igp table podnet_nexthops4;',
        '  };',
        '}',
    ]


@pytest.mark.parametrize('mode', ('CrossSubnet', 'Always'))
def test_only_sessions_to_other_networks_are_multihop(mode):
    text = render(make_plan(mode, 'mesh'), 'node1')
    assert significant(block(text, 'protocol bgp peer_node2 from podnet_peer {')) == [
        'protocol bgp peer_node2 from podnet_peer {',
        '  description "node2";',
        '  neighbor 10.89.60.12 as 64512;',
        '}',
    ]
    assert significant(block(text, 'protocol bgp peer_node3 from podnet_peer {')) == [
        'protocol bgp peer_node3 from podnet_peer {',
        '  description "node3";',
        '  neighbor 10.89.61.11 as 64512;',
        '  multihop;',
        '}',
    ]


def test_a_route_reflector_client_in_another_rack_is_multihop_and_keeps_its_rr_lines():
    text = render(make_plan('CrossSubnet', 'route-reflectors'), 'node1')
    assert significant(block(text, 'protocol bgp peer_node3 from podnet_peer {'))[3:] == [
        '  multihop;',
        '  rr client;',
        '  rr cluster id 10.89.60.11;',
        '}',
    ]


@needs_bird
def test_crosssubnet_on_one_network_needs_no_onlink(tmp_path):
    nodes = {'a': {'node_ip': '10.89.60.11', 'rack': 'r1', 'pod_cidr': '10.244.0.0/26'},
             'b': {'node_ip': '10.89.60.12', 'rack': 'r1', 'pod_cidr': '10.244.0.64/26'}}
    text = render(make_plan('CrossSubnet', 'mesh', nodes=nodes), 'a')
    assert significant(block(text, 'protocol static podnet_nexthops {'))[2:-1] == ['  route 10.89.60.0/24 via "ens4";']
    assert 'onlink' not in '\n'.join(significant(text.splitlines()))
    assert 'multihop;' not in text
    result = bird_parse(text, tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.parametrize('topology', TOPOLOGIES)
def test_never_has_no_trace_of_ipip(topology):
    for host in NODES:
        text = render(make_plan('Never', topology), host)
        for word in ('podnet_nexthops', 'gateway recursive', 'multihop', 'onlink', 'tunl0'):
            assert word not in text


def test_the_plan_is_not_changed_by_rendering():
    plan = make_plan('CrossSubnet', 'route-reflectors')
    before = copy.deepcopy(plan)
    render(plan, 'node1')
    assert plan == before
