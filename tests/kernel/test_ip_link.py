# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet.netmodes.ip_link against real network namespaces."""
import os
import shutil
import subprocess
import time

import pytest

from kernelstate import addresses, ip, ipip_answer, ip_json, link
from moduleexec import run_module

MARK = 'podnet.netmodes'


def bridge_args(netns, **extra):
    args = dict(name='cni0', kind='bridge', mtu=1450, addresses=['10.244.1.1/24'], netns=netns)
    args.update(extra)
    return args


def test_create_bridge_with_mtu_and_addresses_exists_in_kernel(netns):
    result = run_module('ip_link', bridge_args(netns))

    assert result.get('changed') is True, result
    kernel = link('cni0', netns)
    assert kernel['linkinfo']['info_kind'] == 'bridge'
    assert kernel['mtu'] == 1450
    assert 'UP' in kernel['flags']
    assert kernel['ifalias'] == MARK
    assert addresses('cni0', netns) == ['10.244.1.1/24']


def test_rerun_with_same_declaration_reports_unchanged_and_runs_nothing(netns):
    run_module('ip_link', bridge_args(netns))
    result = run_module('ip_link', bridge_args(netns))

    assert result['changed'] is False, result
    assert result['commands'] == []


def test_modified_mtu_is_changed_and_applied(netns):
    run_module('ip_link', bridge_args(netns))
    result = run_module('ip_link', bridge_args(netns, mtu=1400))

    assert result['changed'] is True
    assert result['commands'] == ['link set dev cni0 mtu 1400']
    assert link('cni0', netns)['mtu'] == 1400


def test_addresses_are_made_exact_extra_ones_removed(netns):
    run_module('ip_link', bridge_args(netns, addresses=['10.244.1.1/24', '10.244.9.1/24']))
    result = run_module('ip_link', bridge_args(netns, addresses=['10.244.1.1/24', 'fd00::1/64']))

    assert result['changed'] is True
    assert addresses('cni0', netns) == ['10.244.1.1/24', 'fd00::1/64']


def test_check_mode_predicts_change_and_leaves_kernel_untouched(netns):
    run_module('ip_link', bridge_args(netns))
    result = run_module('ip_link', bridge_args(netns, mtu=1300, addresses=['10.244.2.1/24']), check=True)

    assert result['changed'] is True
    assert 'link set dev cni0 mtu 1300' in result['commands']
    kernel = link('cni0', netns)
    assert kernel['mtu'] == 1450
    assert addresses('cni0', netns) == ['10.244.1.1/24']


def test_check_mode_on_missing_link_creates_nothing(netns):
    result = run_module('ip_link', bridge_args(netns), check=True)

    assert result['changed'] is True
    assert result['commands'][0] == 'link add name cni0 type bridge'
    assert link('cni0', netns) is None


def test_check_mode_on_satisfied_declaration_reports_unchanged(netns):
    run_module('ip_link', bridge_args(netns))
    result = run_module('ip_link', bridge_args(netns), check=True)

    assert result['changed'] is False
    assert result['commands'] == []


def observed_lines(name, netns, peer=None, peer_netns=None):
    """The link as the module's diff text, read straight from the kernel."""
    kernel = link(name, netns)
    if kernel is None:
        return ''
    lines = ['kind %s' % kernel['linkinfo']['info_kind'], 'mtu %d' % kernel['mtu'],
             'state %s' % ('up' if 'UP' in kernel['flags'] else 'down')]
    if kernel.get('ifalias'):
        lines.append('alias %s' % kernel['ifalias'])
    if kernel.get('master'):
        lines.append('master %s' % kernel['master'])
    lines += ['address %s' % addr for addr in addresses(name, netns)]
    if peer:
        lines.append('peer %s%s' % (peer, ' netns %s' % peer_netns if peer_netns else ''))
    return ''.join(line + '\n' for line in sorted(lines))


def test_diff_before_and_after_match_the_kernel_before_and_after_the_run(netns):
    run_module('ip_link', bridge_args(netns))
    before = observed_lines('cni0', netns)

    predicted = run_module('ip_link', bridge_args(netns, mtu=1380, addresses=['10.244.3.1/24'], up=False),
                           check=True, diff=True)
    real = run_module('ip_link', bridge_args(netns, mtu=1380, addresses=['10.244.3.1/24'], up=False), diff=True)

    assert predicted['diff'] == real['diff']
    assert real['diff']['before'] == before
    assert real['diff']['after'] == observed_lines('cni0', netns)
    assert real['diff']['after'] != before
    assert real['diff']['before_header'] == 'link cni0 in netns %s' % netns
    assert real['link']['mtu'] == 1380 and real['link']['up'] is False


def test_diff_of_a_created_link_matches_the_kernel(netns):
    result = run_module('ip_link', dict(name='br-new', kind='bridge', netns=netns), diff=True)

    assert result['diff']['before'] == ''
    assert result['diff']['after'] == observed_lines('br-new', netns)


def test_veth_pair_with_peer_in_other_netns_enslaved_to_bridge(netns, other_netns):
    run_module('ip_link', bridge_args(netns))
    args = dict(name='veth1', kind='veth', peer='eth0', peer_netns=other_netns, master='cni0', mtu=1450,
                netns=netns)
    result = run_module('ip_link', args)

    assert result['changed'] is True, result
    host_end = link('veth1', netns)
    pod_end = link('eth0', other_netns)
    assert host_end['linkinfo']['info_kind'] == 'veth'
    assert host_end['master'] == 'cni0'
    assert host_end['mtu'] == 1450
    assert pod_end['linkinfo']['info_kind'] == 'veth'
    assert host_end['link_index'] == pod_end['ifindex'] and pod_end['link_index'] == host_end['ifindex']
    assert pod_end['ifalias'] == MARK
    assert run_module('ip_link', args)['changed'] is False

    pod_side = run_module('ip_link', dict(name='eth0', kind='veth', netns=other_netns, mtu=1450,
                                          addresses=['10.244.1.5/24']))
    assert pod_side['changed'] is True
    assert addresses('eth0', other_netns) == ['10.244.1.5/24']
    assert 'UP' in link('eth0', other_netns)['flags']


def test_existing_veth_with_another_peer_fails(netns, other_netns):
    run_module('ip_link', dict(name='veth1', kind='veth', peer='eth0', peer_netns=other_netns, netns=netns))
    result = run_module('ip_link', dict(name='veth1', kind='veth', peer='eth9', peer_netns=other_netns,
                                        netns=netns))

    assert result.failed
    assert 'peer is not eth9' in result['msg']


def test_master_empty_string_releases_the_port(netns):
    run_module('ip_link', bridge_args(netns))
    run_module('ip_link', dict(name='v0', kind='veth', peer='v0p', master='cni0', netns=netns))
    result = run_module('ip_link', dict(name='v0', kind='veth', master='', netns=netns))

    assert result['commands'] == ['link set dev v0 nomaster']
    assert 'master' not in link('v0', netns)


def test_absent_removes_our_link(netns):
    run_module('ip_link', bridge_args(netns))
    result = run_module('ip_link', dict(name='cni0', state='absent', netns=netns))

    assert result['changed'] is True
    assert link('cni0', netns) is None
    assert run_module('ip_link', dict(name='cni0', state='absent', netns=netns))['changed'] is False


def test_absent_refuses_a_foreign_link_and_leaves_it(netns):
    ip('link', 'add', 'cni0', 'type', 'bridge', netns=netns)
    result = run_module('ip_link', dict(name='cni0', state='absent', netns=netns))

    assert result.failed
    assert 'not created by podnet.netmodes' in result['msg']
    assert link('cni0', netns) is not None


def test_present_adopts_a_foreign_link_of_the_same_kind(netns):
    ip('link', 'add', 'cni0', 'type', 'bridge', netns=netns)
    result = run_module('ip_link', dict(name='cni0', kind='bridge', netns=netns), diff=True)

    assert result['changed'] is True
    assert 'alias' not in result['diff']['before'] and 'alias %s\n' % MARK in result['diff']['after']
    assert link('cni0', netns)['ifalias'] == MARK
    assert result['diff']['after'] == observed_lines('cni0', netns)


def test_existing_link_of_other_kind_fails_naming_both_kinds(netns):
    ip('link', 'add', 'cni0', 'type', 'veth', 'peer', 'name', 'cni0p', netns=netns)
    result = run_module('ip_link', dict(name='cni0', kind='bridge', netns=netns))

    assert result.failed
    assert 'veth' in result['msg'] and 'bridge' in result['msg']
    assert link('cni0', netns)['linkinfo']['info_kind'] == 'veth'


def test_name_of_16_characters_fails_with_message(netns):
    result = run_module('ip_link', dict(name='a' * 16, kind='bridge', netns=netns))

    assert result.failed
    assert 'not a valid interface name' in result['msg'] and '15' in result['msg']


def test_missing_netns_fails_with_message():
    result = run_module('ip_link', dict(name='cni0', kind='bridge', netns='pnt-does-not-exist'))

    assert result.failed
    assert "'pnt-does-not-exist' does not exist" in result['msg']


def test_master_that_is_not_a_bridge_fails_in_check_mode_too(netns):
    result = run_module('ip_link', dict(name='v0', kind='veth', peer='v0p', master='nobr', netns=netns), check=True)

    assert result.failed
    assert 'must be an existing bridge' in result['msg']


# Values ip -batch would re-parse

def test_absent_with_hash_in_name_is_refused_and_the_link_before_the_hash_survives(netns):
    ip('link', 'add', 'vb', 'type', 'bridge', netns=netns)
    ip('link', 'add', 'vb#1', 'type', 'bridge', netns=netns)
    ip('link', 'set', 'dev', 'vb#1', 'alias', MARK, netns=netns)
    result = run_module('ip_link', dict(name='vb#1', state='absent', netns=netns))

    assert result.failed and '#' in result['msg']
    assert link('vb', netns) is not None and link('vb#1', netns) is not None


@pytest.fixture
def hash_netns(other_netns):
    """A namespace named after ``other_netns`` plus '#x': ip -batch would read it as ``other_netns``."""
    name = other_netns + '#x'
    subprocess.run(['ip', 'netns', 'add', name], check=True, capture_output=True)
    yield name
    subprocess.run(['ip', 'netns', 'delete', name], check=False, capture_output=True)


def test_peer_netns_with_hash_is_refused_and_no_peer_moves_anywhere(netns, other_netns, hash_netns):
    result = run_module('ip_link', dict(name='v1', kind='veth', peer='p1', peer_netns=hash_netns, netns=netns))

    assert result.failed and '#' in result['msg']
    assert link('v1', netns) is None
    assert link('p1', other_netns) is None and link('p1', hash_netns) is None


# Ownership

def test_adoption_refuses_a_link_with_another_owners_alias_and_changes_nothing(netns):
    ip('link', 'add', 'docker0', 'type', 'bridge', netns=netns)
    ip('link', 'set', 'dev', 'docker0', 'alias', 'docker-managed', netns=netns)
    result = run_module('ip_link', dict(name='docker0', kind='bridge', mtu=1400, addresses=['10.9.0.1/24'],
                                        netns=netns))

    assert result.failed and 'docker-managed' in result['msg']
    kernel = link('docker0', netns)
    assert kernel['ifalias'] == 'docker-managed' and kernel['mtu'] == 1500
    assert addresses('docker0', netns) == []
    assert run_module('ip_link', dict(name='docker0', state='absent', netns=netns)).failed
    assert link('docker0', netns) is not None


def test_absent_refuses_a_veth_whose_peer_belongs_to_another_owner(netns):
    ip('link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v0p', netns=netns)
    ip('link', 'set', 'dev', 'v0', 'alias', MARK, netns=netns)
    ip('link', 'set', 'dev', 'v0p', 'alias', 'kubelet', netns=netns)
    result = run_module('ip_link', dict(name='v0', state='absent', netns=netns))

    assert result.failed and 'kubelet' in result['msg']
    assert link('v0p', netns) is not None


# State that must not be lost or churn

def sysctl(netns, key, value):
    subprocess.run(['ip', 'netns', 'exec', netns, 'sysctl', '-q', '-w', '%s=%s' % (key, value)], check=True,
                   capture_output=True)


@pytest.mark.parametrize('promote', [0, 1])
def test_removing_a_primary_address_keeps_the_declared_secondaries(netns, promote):
    run_module('ip_link', bridge_args(netns, addresses=['10.244.1.1/24', '10.244.1.2/24', '10.244.1.3/24',
                                                        '10.244.1.4/24']))
    sysctl(netns, 'net.ipv4.conf.cni0.promote_secondaries', promote)
    keep = ['10.244.1.2/24', '10.244.1.3/24']
    result = run_module('ip_link', bridge_args(netns, addresses=keep))

    assert result['changed'] is True, result
    assert addresses('cni0', netns) == keep
    assert run_module('ip_link', bridge_args(netns, addresses=keep))['changed'] is False


def test_declared_link_local_ipv6_address_reruns_unchanged(netns):
    args = bridge_args(netns, addresses=['fe80::1/64', '10.244.1.1/24'])
    first = run_module('ip_link', args)
    rerun = run_module('ip_link', args)

    assert first['changed'] is True, first
    assert rerun['changed'] is False, rerun
    local = [a['local'] for a in ip_json('address', 'show', 'dev', 'cni0', netns=netns)[0]['addr_info']]
    assert 'fe80::1' in local


def test_link_local_address_no_longer_declared_is_left_like_the_kernels_own(netns):
    run_module('ip_link', bridge_args(netns, addresses=['fe80::1/64']))
    result = run_module('ip_link', bridge_args(netns, addresses=[]), diff=True)

    assert result['changed'] is False and result['commands'] == []
    assert 'fe80' not in result['diff']['before']
    local = [a['local'] for a in ip_json('address', 'show', 'dev', 'cni0', netns=netns)[0]['addr_info']]
    assert 'fe80::1' in local


@pytest.mark.parametrize('peer_netns_named', [False, True])
def test_veth_with_its_peer_in_the_same_namespace_reruns_unchanged(netns, peer_netns_named):
    args = dict(name='v0', kind='veth', peer='v0p', mtu=1450, netns=netns)
    if peer_netns_named:
        args['peer_netns'] = netns
    first = run_module('ip_link', args)
    rerun = run_module('ip_link', args)

    assert first['changed'] is True and not first.failed, first
    assert rerun['changed'] is False and not rerun.failed, rerun
    assert link('v0p', netns)['ifalias'] == MARK


def test_bridge_mtu_1500_is_pinned_so_a_joining_port_does_not_lower_it(netns):
    run_module('ip_link', bridge_args(netns, mtu=1500))
    run_module('ip_link', dict(name='v0', kind='veth', peer='v0p', mtu=1400, master='cni0', netns=netns))
    rerun = run_module('ip_link', bridge_args(netns, mtu=1500))

    assert link('cni0', netns)['mtu'] == 1500
    assert rerun['changed'] is False, rerun


def join_and_leave_with_the_lowest_mac(netns):
    """The bridge's MAC before, while and after a port with the lowest possible unicast MAC is its port."""
    before = link('cni0', netns)['address']
    ip('link', 'add', 'vlow', 'address', '02:00:00:00:00:01', 'type', 'veth', 'peer', 'name', 'vlowp', netns=netns)
    ip('link', 'set', 'vlow', 'master', 'cni0', netns=netns)
    joined = link('cni0', netns)['address']
    ip('link', 'delete', 'vlow', netns=netns)
    return before, joined, link('cni0', netns)['address']


def test_bridge_without_mac_takes_a_joining_ports_lower_mac(netns):
    # The kernel behaviour the mac option exists for: an unset bridge address follows its ports.
    run_module('ip_link', bridge_args(netns))
    before, joined, _ = join_and_leave_with_the_lowest_mac(netns)

    assert joined == '02:00:00:00:00:01' != before


def test_declared_bridge_mac_is_set_kept_while_ports_come_and_go_and_reruns_unchanged(netns):
    created = run_module('ip_link', bridge_args(netns, mac='0A:58:0A:F4:01:01'), diff=True)
    macs = join_and_leave_with_the_lowest_mac(netns)
    rerun = run_module('ip_link', bridge_args(netns, mac='0a:58:0a:f4:01:01'))

    assert created['commands'][0] == 'link add name cni0 address 0a:58:0a:f4:01:01 type bridge'
    assert not any(' address 0a:58' in line for line in created['commands'][1:])
    assert 'mac 0a:58:0a:f4:01:01\n' in created['diff']['after']
    assert macs == ('0a:58:0a:f4:01:01',) * 3
    assert rerun['changed'] is False, rerun
    assert rerun['link']['mac'] == '0a:58:0a:f4:01:01'


def test_existing_bridge_gets_the_declared_mac_in_place_as_check_mode_predicts(netns):
    run_module('ip_link', bridge_args(netns))
    ifindex = link('cni0', netns)['ifindex']
    predicted = run_module('ip_link', bridge_args(netns, mac='0a:58:0a:f4:01:01'), check=True, diff=True)
    real = run_module('ip_link', bridge_args(netns, mac='0a:58:0a:f4:01:01'), diff=True)

    assert predicted['commands'] == real['commands'] == ['link set dev cni0 address 0a:58:0a:f4:01:01']
    assert predicted['diff'] == real['diff']
    assert link('cni0', netns)['ifindex'] == ifindex
    assert join_and_leave_with_the_lowest_mac(netns)[1] == '0a:58:0a:f4:01:01'


@pytest.mark.parametrize('mac, reason', [
    ('01:00:5e:00:00:01', 'multicast'),
    ('00:00:00:00:00:00', 'all-zero'),
    ('0a:58:0a:f4:01', 'six colon-separated'),
    ('0a:58:0a:f4:01:01 mtu 9000', 'six colon-separated'),
    ('0a:58:0a:f4:01:01#', 'six colon-separated'),
])
def test_bad_mac_is_refused_before_anything_changes(netns, mac, reason):
    result = run_module('ip_link', bridge_args(netns, mac=mac))

    assert result.failed
    assert result['msg'].startswith('mac %r ' % mac) and reason in result['msg'], result['msg']
    assert link('cni0', netns) is None


def test_ipip_with_mac_is_refused(netns):
    result = run_module('ip_link', dict(name='ipip1', kind='ipip', mtu=1480, mac='0a:58:0a:f4:01:01',
                                        ipip=dict(remote='10.0.0.2'), netns=netns))

    assert result.failed and 'has no mac' in result['msg']


def test_taking_a_link_down_keeps_its_declared_ipv6_address_and_reruns_unchanged(netns):
    run_module('ip_link', bridge_args(netns, addresses=['fd00:1::1/64']))
    down = bridge_args(netns, addresses=['fd00:1::1/64'], up=False)
    predicted = run_module('ip_link', down, check=True, diff=True)
    result = run_module('ip_link', down, diff=True)

    assert predicted['diff'] == result['diff'] and predicted['commands'] == result['commands']
    assert addresses('cni0', netns) == ['fd00:1::1/64']
    assert result['diff']['after'] == observed_lines('cni0', netns)
    assert run_module('ip_link', down)['changed'] is False


# Partial apply

def test_failure_half_way_reports_changed_and_what_was_applied(netns):
    sysctl(netns, 'net.ipv6.conf.default.disable_ipv6', 1)
    result = run_module('ip_link', bridge_args(netns, addresses=['10.244.1.1/24', 'fd00:1::1/64']))

    assert result.failed and result['changed'] is True, result
    assert result['applied'][0] == 'link add name cni0 type bridge'
    assert result['failed_line'] == 'address add fd00:1::1/64 dev cni0'
    assert link('cni0', netns) is not None
    assert addresses('cni0', netns) == ['10.244.1.1/24']


# ipip. This machine's kernel has no ipip module ("Unknown device type"): the tunnel tests skip here and run in
# the VM lab, whose Debian cloud kernel loads ipip on demand. The missing-module tests run only where it is missing.

@pytest.fixture
def no_ipip_netns(netns):
    if 'Unknown device type' not in ipip_answer(netns):
        pytest.skip('this kernel has ipip; the missing-module message cannot be shown here')
    return netns


def info_data(name, netns):
    return link(name, netns)['linkinfo'].get('info_data', {})


def observed_ipip_lines(name, netns):
    """The ipip link as the module's diff text, read straight from `ip -d -json link show`."""
    kernel = link(name, netns)
    data = kernel['linkinfo']['info_data']
    lines = ['kind ipip', 'mtu %d' % kernel['mtu'], 'state %s' % ('up' if 'UP' in kernel['flags'] else 'down'),
             'tunnel remote %s local %s ttl %s%s' % (data['remote'], data['local'], data['ttl'] or 'inherit',
                                                    ' dev %s' % data['link'] if data.get('link') else '')]
    if kernel.get('ifalias'):
        lines.append('alias %s' % kernel['ifalias'])
    lines += ['address %s' % addr for addr in addresses(name, netns)]
    return ''.join(line + '\n' for line in sorted(lines))


def tunnel_args(netns, **ends):
    ipip = dict(local='10.100.0.11', remote='10.100.0.21', ttl=64, dev='up0')
    ipip.update(ends)
    return dict(name='ipip1', kind='ipip', mtu=1400, addresses=['10.244.1.1/32'], ipip=ipip, netns=netns)


def test_ipip_tunnel_is_created_with_its_ends_mtu_and_host_address_and_reruns_unchanged(ipip_netns):
    netns = ipip_netns
    predicted = run_module('ip_link', tunnel_args(netns), check=True, diff=True)
    result = run_module('ip_link', tunnel_args(netns), diff=True)

    assert result['changed'] is True and not result.failed, result
    kernel = link('ipip1', netns)
    assert kernel['linkinfo']['info_kind'] == 'ipip'
    data = kernel['linkinfo']['info_data']
    assert (data['local'], data['remote'], data['ttl'], data['link']) == ('10.100.0.11', '10.100.0.21', 64, 'up0')
    assert kernel['mtu'] == 1400 and 'UP' in kernel['flags'] and kernel['ifalias'] == MARK
    assert addresses('ipip1', netns) == ['10.244.1.1/32']
    assert predicted['diff'] == result['diff'] and predicted['commands'] == result['commands']
    assert result['diff']['after'] == observed_ipip_lines('ipip1', netns)
    for check in (True, False):
        rerun = run_module('ip_link', tunnel_args(netns), check=check)
        assert rerun['changed'] is False and rerun['commands'] == [], rerun


def test_ipip_new_remote_is_changed_in_place_keeping_ifindex_addresses_and_mtu(ipip_netns):
    netns = ipip_netns
    run_module('ip_link', tunnel_args(netns))
    ifindex = link('ipip1', netns)['ifindex']
    before = observed_ipip_lines('ipip1', netns)
    predicted = run_module('ip_link', tunnel_args(netns, remote='10.100.0.31', ttl=None), check=True, diff=True)
    result = run_module('ip_link', tunnel_args(netns, remote='10.100.0.31', ttl=None), diff=True)

    assert result['commands'] == ['link set dev ipip1 type ipip remote 10.100.0.31 local 10.100.0.11 ttl inherit'
                                  ' dev up0'], result
    assert predicted['diff'] == result['diff'] and result['diff']['before'] == before
    assert result['diff']['after'] == observed_ipip_lines('ipip1', netns)
    kernel = link('ipip1', netns)
    assert kernel['ifindex'] == ifindex and kernel['mtu'] == 1400
    assert (info_data('ipip1', netns)['remote'], info_data('ipip1', netns)['ttl']) == ('10.100.0.31', 0)
    assert addresses('ipip1', netns) == ['10.244.1.1/32']
    assert run_module('ip_link', tunnel_args(netns, remote='10.100.0.31', ttl=None))['changed'] is False


def test_ipip_new_dev_keeps_the_declared_mtu_although_the_kernel_recomputes_it(ipip_netns):
    netns = ipip_netns
    ip('link', 'add', 'up1', 'type', 'bridge', netns=netns)
    ip('link', 'set', 'up1', 'mtu', '9000', netns=netns)
    run_module('ip_link', tunnel_args(netns))
    result = run_module('ip_link', tunnel_args(netns, dev='up1'), diff=True)

    assert result['changed'] is True and not result.failed, result
    assert info_data('ipip1', netns)['link'] == 'up1'
    assert link('ipip1', netns)['mtu'] == 1400
    assert result['diff']['after'] == observed_ipip_lines('ipip1', netns)
    assert run_module('ip_link', tunnel_args(netns, dev='up1'))['changed'] is False


def test_ipip_dev_removed_recreates_our_tunnel_unbound(ipip_netns):
    netns = ipip_netns
    run_module('ip_link', tunnel_args(netns))
    predicted = run_module('ip_link', tunnel_args(netns, dev=None), check=True, diff=True)
    result = run_module('ip_link', tunnel_args(netns, dev=None), diff=True)

    assert result['commands'][0] == 'link delete dev ipip1' and not result.failed, result
    assert 'link' not in info_data('ipip1', netns)
    assert predicted['diff'] == result['diff']
    assert result['diff']['after'] == observed_ipip_lines('ipip1', netns)
    assert run_module('ip_link', tunnel_args(netns, dev=None))['changed'] is False


def test_ipip_tunnel_with_the_ends_of_another_is_refused_and_creates_nothing(ipip_netns):
    netns = ipip_netns
    run_module('ip_link', tunnel_args(netns))
    result = run_module('ip_link', dict(tunnel_args(netns), name='ipip2'))

    assert result.failed and 'ipip1 already has' in result['msg'], result
    assert link('ipip2', netns) is None


def test_ipip_absent_deletes_our_tunnel(ipip_netns):
    netns = ipip_netns
    run_module('ip_link', tunnel_args(netns))
    result = run_module('ip_link', dict(name='ipip1', state='absent', netns=netns))

    assert result['changed'] is True and link('ipip1', netns) is None
    assert run_module('ip_link', dict(name='ipip1', state='absent', netns=netns))['changed'] is False


def tunl0_or_skip(netns):
    if link('tunl0', netns) is None:
        pytest.skip('no tunl0 in this namespace (net.core.fb_tunnels_only_for_init_net)')


def test_tunl0_is_adopted_with_mtu_host_address_and_up_and_reruns_unchanged(ipip_netns):
    netns = ipip_netns
    tunl0_or_skip(netns)
    args = dict(name='tunl0', kind='ipip', mtu=1480, addresses=['10.244.1.1/32'], netns=netns)
    predicted = run_module('ip_link', args, check=True, diff=True)
    result = run_module('ip_link', args, diff=True)

    assert result['changed'] is True and not result.failed, result
    assert predicted['diff'] == result['diff']
    assert 'alias' not in result['diff']['before']
    assert result['diff']['after'] == observed_ipip_lines('tunl0', netns)
    kernel = link('tunl0', netns)
    assert kernel['ifalias'] == MARK and kernel['mtu'] == 1480 and 'UP' in kernel['flags']
    assert addresses('tunl0', netns) == ['10.244.1.1/32']
    assert run_module('ip_link', args)['changed'] is False


def test_tunl0_absent_takes_back_address_up_and_alias_and_tunl0_stays(ipip_netns):
    netns = ipip_netns
    tunl0_or_skip(netns)
    run_module('ip_link', dict(name='tunl0', kind='ipip', mtu=1480, addresses=['10.244.1.1/32'], netns=netns))
    ifindex = link('tunl0', netns)['ifindex']
    predicted = run_module('ip_link', dict(name='tunl0', state='absent', netns=netns), check=True, diff=True)
    result = run_module('ip_link', dict(name='tunl0', state='absent', netns=netns), diff=True)

    assert result['changed'] is True and not result.failed, result
    assert predicted['diff'] == result['diff']
    kernel = link('tunl0', netns)
    assert kernel['ifindex'] == ifindex
    assert not kernel.get('ifalias') and 'UP' not in kernel['flags']
    assert addresses('tunl0', netns) == []
    assert result['diff']['after'] == observed_ipip_lines('tunl0', netns)
    assert run_module('ip_link', dict(name='tunl0', state='absent', netns=netns))['changed'] is False


def test_tunl0_with_another_owners_alias_is_refused_and_left_alone(ipip_netns):
    netns = ipip_netns
    tunl0_or_skip(netns)
    ip('link', 'set', 'dev', 'tunl0', 'alias', 'calico', netns=netns)
    for args in (dict(name='tunl0', kind='ipip', mtu=1440, addresses=['10.244.1.1/32'], netns=netns),
                 dict(name='tunl0', state='absent', netns=netns)):
        result = run_module('ip_link', args)
        assert result.failed and 'calico' in result['msg'], result
    kernel = link('tunl0', netns)
    assert kernel['ifalias'] == 'calico' and kernel['mtu'] != 1440
    assert addresses('tunl0', netns) == []


def test_ipip_creation_on_a_kernel_without_ipip_says_the_module_is_missing(no_ipip_netns):
    result = run_module('ip_link', dict(name='ipip1', kind='ipip', mtu=1480, ipip=dict(remote='10.100.0.21'),
                                        netns=no_ipip_netns))

    assert result.failed and result['changed'] is False, result
    assert 'the ipip kernel module is missing' in result['msg'] and 'modprobe ipip' in result['msg']
    assert link('ipip1', no_ipip_netns) is None


def fb_tunnels_for_every_namespace():
    with open('/proc/sys/net/core/fb_tunnels_only_for_init_net') as handle:
        return handle.read().strip() == '0'


def test_tunl0_before_modprobe_is_predicted_in_check_mode_and_fails_in_the_real_run(no_ipip_netns):
    netns = no_ipip_netns
    if not fb_tunnels_for_every_namespace():
        pytest.skip('net.core.fb_tunnels_only_for_init_net is set: modprobe ipip would give this namespace no tunl0')
    args = dict(name='tunl0', kind='ipip', mtu=1440, addresses=['10.244.1.1/32'], netns=netns)
    predicted = run_module('ip_link', args, check=True, diff=True)

    assert predicted['changed'] is True and not predicted.failed, predicted
    assert predicted['commands'] == ['link set dev tunl0 alias podnet.netmodes', 'link set dev tunl0 mtu 1440',
                                     'address add 10.244.1.1/32 dev tunl0', 'link set dev tunl0 up']
    assert predicted['diff']['before'] == 'kind ipip\nmtu 1480\nstate down\ntunnel remote any local any ttl inherit\n'
    assert link('tunl0', netns) is None

    real = run_module('ip_link', args)
    assert real.failed and not real.get('changed'), real
    assert 'tunl0 does not exist' in real['msg'] and 'the ipip kernel module is missing' in real['msg'], real
    assert 'modprobe ipip' in real['msg']


def test_tunl0_absent_on_a_kernel_without_ipip_changes_nothing_in_check_mode_or_for_real(no_ipip_netns):
    for check in (True, False):
        result = run_module('ip_link', dict(name='tunl0', state='absent', netns=no_ipip_netns), check=check,
                            diff=True)
        assert result['changed'] is False and not result.failed and result['commands'] == [], result
        assert result['diff']['before'] == result['diff']['after'] == ''


# Check mode's tunl0 against the real one: needs a kernel that has ipip but has not loaded it (or may unload it).
# Unloading ipip takes tunl0 away from every namespace of the machine, so only where the caller allows it.

MAY_UNLOAD_IPIP = 'PODNET_KERNEL_TESTS_MAY_UNLOAD_IPIP'


def unload_ipip():
    """True once ipip is not loaded; tunnels of just deleted namespaces hold it until the kernel frees them."""
    for _ in range(50):
        if subprocess.run(['modprobe', '-r', 'ipip'], capture_output=True, check=False).returncode == 0:
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def unloaded_ipip_netns(netns):
    """A namespace on a kernel whose ipip module exists but is not loaded (no tunl0 anywhere yet)."""
    if shutil.which('modprobe') is None:
        pytest.skip('no modprobe here (kmod)')
    if subprocess.run(['modprobe', '-n', 'ipip'], capture_output=True, check=False).returncode != 0:
        pytest.skip('this kernel has no ipip module')
    if os.path.exists('/sys/module/ipip'):
        if os.environ.get(MAY_UNLOAD_IPIP) != '1':
            pytest.skip('ipip is loaded; set %s=1 to let this test unload it (tunl0 goes away everywhere)'
                        % MAY_UNLOAD_IPIP)
        assert unload_ipip(), 'modprobe -r ipip keeps failing: a tunnel outside these tests uses it'
    if not fb_tunnels_for_every_namespace():
        pytest.skip('net.core.fb_tunnels_only_for_init_net is set: modprobe ipip would give this namespace no tunl0')
    return netns


def test_tunl0_check_mode_before_modprobe_predicts_exactly_the_real_run_after_it(unloaded_ipip_netns):
    netns = unloaded_ipip_netns
    args = dict(name='tunl0', kind='ipip', mtu=1440, addresses=['10.244.1.1/32'], netns=netns)
    predicted = run_module('ip_link', args, check=True, diff=True)
    assert link('tunl0', netns) is None
    subprocess.run(['modprobe', 'ipip'], check=True, capture_output=True)
    fresh = observed_ipip_lines('tunl0', netns)
    real = run_module('ip_link', args, diff=True)

    assert predicted['changed'] is True and real['changed'] is True and not real.failed, (predicted, real)
    assert real['diff']['before'] == fresh
    assert predicted['diff'] == real['diff'] and predicted['commands'] == real['commands']
    assert predicted['link'] == real['link']
    assert real['diff']['after'] == observed_ipip_lines('tunl0', netns)
