# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure helpers of benchmarks/datapath.py: iperf3 JSON, round order, ratios, MTU reasons."""
import importlib.util
import json
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SPEC = importlib.util.spec_from_file_location('datapath', os.path.join(ROOT, 'benchmarks', 'datapath.py'))
datapath = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(datapath)

# Trimmed from a real `iperf3 -c ... -J` run (iperf 3.12): only the keys the benchmark reads, plus neighbours.
CLIENT_JSON = {
    'start': {'connected': [{'local_host': '10.244.0.2', 'remote_host': '10.244.1.2'}], 'tcp_mss_default': 1448},
    'intervals': [],
    'end': {
        'sum_sent': {'seconds': 5.0, 'bytes': 6250000000, 'bits_per_second': 1.0e10, 'retransmits': 12},
        'sum_received': {'seconds': 5.0, 'bytes': 6187500000, 'bits_per_second': 9.9e9},
        'cpu_utilization_percent': {'host_total': 88.5, 'remote_total': 61.25},
    },
}


def test_throughput_is_what_the_receiver_got():
    result = datapath.parse_iperf3(json.dumps(CLIENT_JSON))
    assert result == {'gbps': pytest.approx(9.9), 'bytes': 6187500000, 'retransmits': 12, 'cpu_local': 88.5, 'cpu_remote': 61.25,
                      'mss': 1448}


def test_an_iperf3_error_is_raised_with_its_message():
    with pytest.raises(datapath.BenchError, match='unable to connect'):
        datapath.parse_iperf3(json.dumps({'start': {}, 'end': {}, 'error': 'unable to connect to server'}))


def test_output_that_is_not_json_is_refused():
    with pytest.raises(datapath.BenchError, match='no JSON'):
        datapath.parse_iperf3('iperf3: error - unable to connect')


def test_json_without_a_receiver_sum_is_refused():
    with pytest.raises(datapath.BenchError, match='sum_received'):
        datapath.parse_iperf3(json.dumps({'end': {'sum_sent': {'bits_per_second': 1.0}}}))


def test_rounds_alternate_the_order_of_the_paths():
    assert datapath.round_orders(['node', 'pod'], 4) == [['node', 'pod'], ['pod', 'node'], ['node', 'pod'],
                                                          ['pod', 'node']]


def test_every_path_runs_once_per_round():
    for order in datapath.round_orders(['a', 'b', 'c'], 5):
        assert sorted(order) == ['a', 'b', 'c']


def test_ratios_are_per_round():
    assert datapath.ratios([9.0, 8.0, 10.0], [10.0, 10.0, 10.0]) == pytest.approx([0.9, 0.8, 1.0])


def test_ratios_of_series_of_different_length_are_refused():
    with pytest.raises(ValueError):
        datapath.ratios([1.0], [1.0, 2.0])


def test_summary_is_median_min_max():
    assert datapath.summary([3.0, 1.0, 2.0, 10.0]) == (2.5, 1.0, 10.0)


def test_ratio_format_shows_median_and_range():
    assert datapath.fmt_ratio([0.9, 0.8, 1.0]) == '**0.90x** (0.80-1.00)'


def test_small_throughput_is_shown_in_megabits():
    assert datapath.fmt_gbps([0.2, 0.1, 0.3]) == '200 Mbit/s (100-300)'
    assert datapath.fmt_gbps([20.0, 19.0, 25.0]) == '20.0 Gbit/s (19.0-25.0)'


@pytest.mark.parametrize('pod, uplink, setting, tunnel, expected', [
    (1500, 1500, None, False, "the uplink's MTU 1500 (no encapsulation, podnet_pod_mtu unset)"),
    (1480, 1500, None, True, 'uplink MTU 1500 minus the 20-byte outer IPv4 header of IPIP'),
    (1400, 1500, 1400, True, 'podnet_pod_mtu 1400 is set'),
    (1480, 1500, None, False, "not what the plan's rule gives (uplink 1500): check the plan"),
])
def test_mtu_reason_follows_the_plan_rule(pod, uplink, setting, tunnel, expected):
    assert datapath.mtu_reason(pod, uplink, setting, tunnel) == expected


def test_link_mtus_reads_ip_json_link():
    links = [{'ifindex': 1, 'ifname': 'lo', 'mtu': 65536}, {'ifindex': 2, 'ifname': 'eth0', 'mtu': 1500}]
    assert datapath.link_mtus(json.dumps(links)) == {'lo': 65536, 'eth0': 1500}


def test_ipv4_of_skips_ipv6_and_host_scope():
    addr = [{'ifname': 'tunl0', 'addr_info': [
        {'family': 'inet6', 'local': 'fe80::1', 'scope': 'link'},
        {'family': 'inet', 'local': '127.0.0.1', 'scope': 'host'},
        {'family': 'inet', 'local': '10.244.2.1', 'scope': 'global'}]}]
    assert datapath.ipv4_of(json.dumps(addr)) == '10.244.2.1'
    assert datapath.ipv4_of('[]') is None


def test_commands_in_a_pod_run_in_its_netns():
    assert datapath.in_netns('node1-pod1', ['iperf3', '-s']) == ['ip', 'netns', 'exec', 'node1-pod1', 'iperf3', '-s']
    assert datapath.in_netns(None, ['iperf3', '-s']) == ['iperf3', '-s']


def test_the_install_answers_no_to_the_iperf3_daemon():
    assert 'iperf3/start_daemon boolean false' in datapath.INSTALL_IPERF3
    assert 'DEBIAN_FRONTEND=noninteractive' in datapath.INSTALL_IPERF3


def test_cpu_times_sum_busy_jiffies_and_softirq():
    stat = 'cpu  100 5 50 1000 7 3 40 0 0 0\ncpu0 50 2 25 500 3 1 20 0 0 0\n'
    assert datapath.cpu_times(stat) == (198, 40)


def test_cpu_per_gb_divides_machine_seconds_by_gigabytes_received():
    assert datapath.cpu_per_gb((1000, 100), (1400, 200), 2e9, hz=100) == pytest.approx((2.0, 0.5))
