# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure helpers of benchmarks/converge.py: lab and SSH inventories, the json callback's task profile, tables."""
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SPEC = importlib.util.spec_from_file_location('converge', os.path.join(ROOT, 'benchmarks', 'converge.py'))
converge = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(converge)


def test_every_size_and_the_baseline_get_their_own_fresh_hosts_with_distinct_rack_addresses():
    lab = converge.lab_inventory('hostgw', [2, 4], baseline_sizes=[2])
    hosts = lab['all']['children']['podnet_nodes']['hosts']
    assert list(hosts) == ['c2-n1', 'c2-n2', 'c4-n1', 'c4-n2', 'c4-n3', 'c4-n4', 'b2-n1', 'b2-n2']
    addresses = [spec['podnet_node_ip'] for spec in hosts.values()]
    assert len(set(addresses)) == len(addresses) and addresses[0] == '10.89.250.11'
    assert lab['all']['vars']['podnet_lab']['racks'] == {'r1': {'subnet': '10.89.250.0/24'}}


def test_the_ssh_inventory_reaches_each_host_on_its_rack_address_with_the_mode_settings():
    lab = converge.lab_inventory('bgp', [2], baseline_sizes=[2])
    inventory = converge.ssh_inventory('bgp', 2, lab, '/k', prefix='b')
    hosts = inventory['all']['children']['podnet_nodes']['hosts']
    assert sorted(hosts) == ['b2-n1', 'b2-n2']
    assert all(spec['ansible_host'] == spec['podnet_node_ip'] for spec in hosts.values())
    variables = inventory['all']['vars']
    assert (variables['podnet_mode'], variables['podnet_bgp_as'], variables['ansible_ssh_private_key_file']) == (
        'bgp', 64512, '/k')
    assert 'ansible_connection' not in variables


def report(*tasks):
    return {'plays': [{'tasks': [
        {'task': {'name': name, 'duration': {'start': '2026-11-27T10:00:%02d.000000Z' % start,
                                              'end': '2026-11-27T10:00:%02d.500000Z' % start}},
         'hosts': dict(('h%d' % i, {'skipped': i < skipped}) for i in range(2))}
        for name, start, skipped in tasks]}]}


def test_the_profile_is_each_task_s_wall_time_and_who_ran_or_skipped_it():
    profile = converge.task_profile(report(('Gathering Facts', 0, 0), ('Skip me', 2, 2)))
    assert profile == [('Gathering Facts', 0.5, 2, 0), ('Skip me', 0.5, 0, 2)]


def test_the_median_profile_keeps_the_task_order_and_takes_each_task_s_median():
    runs = [[('a', 1.0, 2, 0), ('b', 3.0, 2, 0)], [('a', 2.0, 2, 0), ('b', 1.0, 2, 0)],
            [('a', 9.0, 2, 0), ('b', 2.0, 2, 0)]]
    assert converge.median_profile(runs) == [('a', 2.0, 2, 0), ('b', 2.0, 2, 0)]


def test_the_table_shows_ratios_and_load_with_the_checkout_that_converged():
    row = {'label': 'abc1234', 'mode': 'hostgw', 'size': 4, 'first': 40.0, 'trivial': 4.0, 'rerun': 10.0,
           'ratio': 2.5, 'first_ratio': 10.0, 'load_before': '1.00 1.00 1.00', 'load_after': '2.00 1.00 1.00'}
    line = converge.table([row]).splitlines()[-1]
    assert line == '| hostgw | 4 | abc1234 | 4.0 | 40.0 | 10.0 | 10.0x | **2.50x** | 1.00 1.00 1.00 -> 2.00 1.00 1.00 |'


class Args(object):
    def __init__(self, **kwargs):
        self.__dict__.update(dict(phases=None, modes=['hostgw', 'bgp'], sizes=[2, 4], baseline_sizes=[4],
                                  baseline_modes=['hostgw']), **kwargs)


def test_phases_cover_every_mode_and_size_with_the_baseline_right_after_its_size():
    assert list(converge.phases(Args(), '/new', '/old')) == [
        ('hostgw', 2, '/new', 'c'), ('hostgw', 4, '/new', 'c'), ('hostgw', 4, '/old', 'b'),
        ('bgp', 2, '/new', 'c'), ('bgp', 4, '/new', 'c')]


def test_explicit_phases_run_in_the_order_given():
    args = Args(phases=['hostgw:4', 'hostgw:4:base', 'bridge:16'])
    assert list(converge.phases(args, '/new', '/old')) == [
        ('hostgw', 4, '/new', 'c'), ('hostgw', 4, '/old', 'b'), ('bridge', 16, '/new', 'c')]
