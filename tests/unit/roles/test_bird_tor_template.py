# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""bird.conf.j2 with podnet_bgp_topology tor, rendered from real cluster plans and checked by BIRD itself (bird -p).

Two racks on their own networks: r1 (a1, a2, a3; routers 10.89.70.1 and .2) and r2 (b1, b2; router 10.89.71.1).
What the routers and the kernel then do with this config is for the lab (molecule scenario underlay, docs/underlay.md).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import ipaddress
import os
import subprocess
import sys

import pytest

from ansible_collections.podnet.netmodes.plugins.filter.cluster_plan import FilterModule

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, 'lab'))

from role_template import render_role_template  # noqa: E402

cluster_plan = FilterModule().filters()['cluster_plan']
BIRD = '/usr/sbin/bird'
needs_bird = pytest.mark.skipif(not os.access(BIRD, os.X_OK), reason='bird2 is not installed (apt-get install bird2)')

SETTINGS = {
    'podnet_mode': 'bgp', 'podnet_cluster_cidr': '10.244.0.0/16', 'podnet_route_proto': 94,
    'podnet_cni_network': 'podnet', 'podnet_bgp_as': 64512, 'podnet_bgp_mesh_max_nodes': 50,
    'podnet_bgp_rr_per_rack': 1, 'podnet_bgp_password': '', 'podnet_bgp_topology': 'tor', 'podnet_tor_peers': 'nodes',
    'podnet_tor_password': '', 'podnet_bgp_extra_config': '',
}
RACKS = {
    'r1': {'as': 65101, 'tors': [{'address': '10.89.70.1', 'as': 65001},
                                 {'address': '10.89.70.2', 'as': 65001, 'password': 'r1-tor2-md5'}]},
    'r2': {'as': 65102, 'tors': [{'address': '10.89.71.1', 'as': 65002}]},
}
NODES = (('a1', '10.89.70.11', 'r1'), ('a2', '10.89.70.12', 'r1'), ('a3', '10.89.70.13', 'r1'),
         ('b1', '10.89.71.11', 'r2'), ('b2', '10.89.71.12', 'r2'))


def host(name, ip, rack):
    net = ipaddress.IPv4Network('%s/24' % ip, strict=False)
    return {'inventory_hostname': name, 'podnet_node_ip': ip, 'podnet_uplink': 'ens5', 'podnet_rack': rack,
            'ansible_facts': {'interfaces': ['lo', 'ens5'], 'all_ipv4_addresses': [ip],
                              'ens5': {'device': 'ens5', 'mtu': 9000,
                                       'ipv4': {'address': ip, 'network': str(net.network_address),
                                                'prefix': str(net.prefixlen)}}}}


def single_as_racks():
    racks = copy.deepcopy(RACKS)
    for entry in racks.values():
        del entry['as']
    return racks


def make(racks=None, **changes):
    settings = dict(SETTINGS, podnet_racks=copy.deepcopy(RACKS if racks is None else racks))
    settings.update(changes)
    plan = cluster_plan([host(*node) for node in NODES], settings)
    assert plan['problems'] == []
    return plan, settings


def render(plan, settings, name):
    variables = dict(settings, podnet_plan=plan, inventory_hostname=name, ansible_managed='Ansible managed')
    return render_role_template('bgp', 'bird.conf.j2', variables)


def config(name, racks=None, **changes):
    plan, settings = make(racks, **changes)
    return render(plan, settings, name)


def block(text, opening):
    lines = text.splitlines()
    start = lines.index(opening)
    return lines[start:lines.index('}', start) + 1]


def significant(lines):
    return [line for line in lines if not line.lstrip().startswith('#')]


def reflector(plan, rack):
    return [name for name in plan['bgp']['route_reflectors'] if plan['nodes'][name]['rack'] == rack][0]


VARIANTS = {
    'nodes-as-per-rack': {},
    'nodes-single-as': {'racks': 'single'},
    'rr-as-per-rack': {'podnet_tor_peers': 'route_reflectors'},
    'rr-single-as-two-per-rack': {'racks': 'single', 'podnet_tor_peers': 'route_reflectors',
                                  'podnet_bgp_rr_per_rack': 2},
    'md5-everywhere': {'podnet_tor_password': 'every-tor-md5', 'podnet_bgp_password': 'node-md5'},
}


def variant(name):
    changes = dict(VARIANTS[name])
    racks = single_as_racks() if changes.pop('racks', None) == 'single' else None
    return make(racks, **changes)


@needs_bird
@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_bird_accepts_the_config_of_every_node_of_every_variant(name, tmp_path):
    plan, settings = variant(name)
    for node in sorted(plan['nodes']):
        conf = tmp_path / ('%s.conf' % node)
        conf.write_text(render(plan, settings, node))
        result = subprocess.run([BIRD, '-p', '-c', str(conf)], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, '%s: %s%s' % (node, result.stderr, result.stdout)


@needs_bird
def test_bird_refuses_a_config_whose_filters_name_an_undefined_set(tmp_path):
    # The check above can fail: bird -p resolves every name the filters use (it does not check BFD at parse time).
    text = '\n'.join(line for line in config('a1').splitlines() if not line.startswith('define podnet_rack_blocks'))
    conf = tmp_path / 'bird.conf'
    conf.write_text(text + '\n')
    result = subprocess.run([BIRD, '-p', '-c', str(conf)], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and 'CF_SYM_UNDEFINED' in result.stderr


def test_a_node_speaks_ebgp_with_bfd_and_md5_to_both_routers_of_its_rack():
    text = config('a1')
    assert significant(block(text, 'template bgp podnet_tor {')) == [
        'template bgp podnet_tor {',
        '  local 10.89.70.11 as 65101;',
        '  direct;',
        '  graceful restart on;',
        '  bfd on;',
        '  error wait time 5, 30;',
        '  ipv4 {',
        '    import filter podnet_from_tor;',
        '    export filter podnet_to_tor;',
        '  };',
        '}',
    ]
    assert block(text, 'protocol bgp tor_10_89_70_1 from podnet_tor {') == [
        'protocol bgp tor_10_89_70_1 from podnet_tor {',
        '  description "rack r1, top-of-rack router 1";',
        '  neighbor 10.89.70.1 as 65001;',
        '}',
    ]
    assert block(text, 'protocol bgp tor_10_89_70_2 from podnet_tor {') == [
        'protocol bgp tor_10_89_70_2 from podnet_tor {',
        '  description "rack r1, top-of-rack router 2";',
        '  neighbor 10.89.70.2 as 65001;',
        '  password "r1-tor2-md5";',
        '}',
    ]
    assert significant(block(text, 'protocol bfd podnet_bfd {')) == [
        'protocol bfd podnet_bfd {',
        '  interface "ens5" {',
        '    interval 300 ms;',
        '    multiplier 3;',
        '  };',
        '}',
    ]
    assert 'tor_10_89_71_1' not in text


def test_two_routers_give_one_multipath_route():
    kernel = significant(block(config('a2'), 'protocol kernel podnet_kernel {'))
    assert kernel[-3:] == ['  graceful restart on;', '  merge paths on;', '}']


def test_a_node_announces_its_own_block_and_accepts_only_other_racks_blocks():
    plan, settings = make()
    text = render(plan, settings, 'a1')
    rack = ', '.join(plan['bgp']['racks']['r1']['blocks'])
    assert 'define podnet_rack_blocks = [ %s ];' % rack in text.splitlines()
    assert significant(block(text, 'filter podnet_from_tor {')) == [
        'filter podnet_from_tor {',
        '  if net ~ podnet_rack_blocks then reject;',
        '  if net ~ [ 10.244.0.0/16{26,26} ] then accept;',
        '  reject;',
        '}',
    ]
    assert significant(block(text, 'filter podnet_to_tor {')) == [
        'filter podnet_to_tor {',
        '  if net = %s then accept;' % plan['nodes']['a1']['pod_cidr'],
        '  reject;',
        '}',
    ]


def test_inside_the_rack_nodes_mesh_in_the_rack_s_as_and_pass_on_only_rack_blocks():
    text = config('b1')
    assert significant(block(text, 'template bgp podnet_peer {')) == [
        'template bgp podnet_peer {',
        '  local 10.89.71.11 as 65102;',
        '  direct;',
        '  graceful restart on;',
        '  ipv4 {',
        '    import filter podnet_rack_only;',
        '    export filter podnet_rack_only;',
        '  };',
        '}',
    ]
    assert block(text, 'protocol bgp peer_b2 from podnet_peer {') == [
        'protocol bgp peer_b2 from podnet_peer {',
        '  description "b2";',
        '  neighbor 10.89.71.12 as 65102;',
        '}',
    ]
    assert 'peer_a1' not in text


def test_single_as_accepts_its_own_as_once_in_routes_from_the_routers():
    single = config('a1', single_as_racks())
    assert '  local 10.89.70.11 as 64512;' in single.splitlines()
    tor_template = significant(block(single, 'template bgp podnet_tor {'))
    assert tor_template[4:7] == ['  bfd on;', '  error wait time 5, 30;', '  allow local as 1;']
    assert 'allow local as' not in config('a1')


def test_a_route_reflector_speaks_for_its_rack_and_passes_every_path_to_its_clients():
    plan, settings = make(podnet_tor_peers='route_reflectors')
    name = reflector(plan, 'r1')
    text = render(plan, settings, name)
    assert significant(block(text, 'filter podnet_to_tor {')) == [
        'filter podnet_to_tor {',
        '  if net ~ podnet_rack_blocks then accept;',
        '  reject;',
        '}',
    ]
    assert significant(block(text, 'template bgp podnet_peer {'))[5:8] == [
        '    import filter podnet_pod_blocks;',
        '    export filter podnet_pod_blocks;',
        '    add paths on;',
    ]
    assert 'protocol bgp tor_10_89_70_1 from podnet_tor {' in text.splitlines()
    assert 'protocol bgp tor_10_89_70_2 from podnet_tor {' in text.splitlines()
    assert 'podnet_rack_only' not in text


def test_a_client_of_a_reflector_has_no_router_sessions_but_merges_the_paths_it_gets():
    plan, settings = make(podnet_tor_peers='route_reflectors')
    client = [name for name in sorted(plan['nodes']) if plan['nodes'][name]['bgp']['role'] == 'client'][0]
    text = render(plan, settings, client)
    for absent in ('podnet_tor', 'protocol bfd', 'podnet_from_tor', 'podnet_to_tor', 'podnet_rack_blocks', 'tor_10_'):
        assert absent not in text
    assert '    add paths on;' in text.splitlines() and '  merge paths on;' in text.splitlines()
    sessions = [line for line in text.splitlines() if line.startswith('protocol bgp ')]
    assert sessions == ['protocol bgp peer_%s from podnet_peer {' % reflector(plan, plan['nodes'][client]['rack'])]


def test_passwords_come_from_the_router_entry_else_podnet_tor_password():
    text = config('a1', podnet_tor_password='every-tor-md5', podnet_bgp_password='node-md5')
    assert block(text, 'protocol bgp tor_10_89_70_1 from podnet_tor {')[3] == '  password "every-tor-md5";'
    assert block(text, 'protocol bgp tor_10_89_70_2 from podnet_tor {')[3] == '  password "r1-tor2-md5";'
    # The nodes' own password stays on the sessions between nodes.
    assert significant(block(text, 'template bgp podnet_peer {'))[4] == '  password "node-md5";'
    assert 'node-md5' not in '\n'.join(block(text, 'template bgp podnet_tor {'))


def test_other_topologies_render_exactly_as_before_from_the_real_plan():
    plan, settings = make(racks={}, podnet_bgp_topology='auto', podnet_ipip_mode='CrossSubnet')
    text = render(plan, settings, 'a1')
    stripped = copy.deepcopy(plan)
    for node in stripped['nodes'].values():
        del node['bgp']['tor'], node['bgp']['as_number']
    for key in ('tor_peers', 'racks', 'tor_passwords'):
        del stripped['bgp'][key]
    assert text == render(stripped, settings, 'a1')
    for word in ('podnet_tor', 'tor_', 'rack_blocks', 'bfd', 'merge paths', 'add paths', 'allow local as'):
        assert word not in text
