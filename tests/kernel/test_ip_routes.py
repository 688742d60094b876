# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet.netmodes.ip_routes against real network namespaces."""
import pytest

from kernelstate import ip, ip_json, routes
from moduleexec import run_module

PODNET = 94


@pytest.fixture
def uplink(netns):
    """A bridge with 10.89.1.1/24 standing in for a node's uplink; returns its namespace."""
    ip('link', 'add', 'ens5', 'type', 'bridge', netns=netns)
    ip('address', 'add', '10.89.1.1/24', 'dev', 'ens5', netns=netns)
    ip('link', 'set', 'ens5', 'up', netns=netns)
    return netns


def declared(netns, **extra):
    args = dict(netns=netns, routes=[
        dict(dest='10.244.1.0/24', via='10.89.1.12', dev='ens5'),
        dict(dest='10.244.2.0/24', via='10.89.1.13', dev='ens5'),
        dict(dest='10.244.0.0/16', type='blackhole', metric=4000),
    ])
    args.update(extra)
    return args


def test_declared_set_with_gateway_and_blackhole_is_in_kernel(uplink):
    result = run_module('ip_routes', declared(uplink))

    assert result['changed'] is True, result
    assert sorted(result['added']) == ['10.244.1.0/24 via 10.89.1.12 dev ens5', '10.244.2.0/24 via 10.89.1.13 dev ens5',
                                       'blackhole 10.244.0.0/16 metric 4000']
    kernel = routes(uplink, proto=PODNET)
    assert kernel['10.244.1.0/24']['gateway'] == '10.89.1.12' and kernel['10.244.1.0/24']['dev'] == 'ens5'
    assert kernel['10.244.2.0/24']['gateway'] == '10.89.1.13'
    assert kernel['10.244.0.0/16']['type'] == '6' and kernel['10.244.0.0/16']['metric'] == 4000
    assert len(kernel) == 3


def test_rerun_reports_unchanged(uplink):
    run_module('ip_routes', declared(uplink))
    result = run_module('ip_routes', declared(uplink, purge=True))

    assert result['changed'] is False, result
    assert result['commands'] == [] and result['added'] == result['modified'] == result['removed'] == []


def test_changed_gateway_replaces_only_that_route(uplink):
    run_module('ip_routes', declared(uplink))
    args = declared(uplink)
    args['routes'][1]['via'] = '10.89.1.14'
    result = run_module('ip_routes', args)

    assert result['changed'] is True
    assert result['added'] == [] and result['removed'] == []
    assert result['modified'] == ['10.244.2.0/24 via 10.89.1.14 dev ens5']
    assert result['commands'] == ['route replace 10.244.2.0/24 via 10.89.1.14 dev ens5 scope global '
                                  'proto 94 table 254 metric 0']
    kernel = routes(uplink, proto=PODNET)
    assert kernel['10.244.2.0/24']['gateway'] == '10.89.1.14'
    assert kernel['10.244.1.0/24']['gateway'] == '10.89.1.12'


def test_purge_removes_our_stale_route_and_leaves_foreign_routes(uplink):
    run_module('ip_routes', declared(uplink))
    ip('route', 'add', '10.250.0.0/24', 'via', '10.89.1.99', 'proto', 'static', netns=uplink)
    ip('route', 'add', '10.251.0.0/24', 'via', '10.89.1.98', netns=uplink)  # proto boot
    args = declared(uplink, purge=True)
    del args['routes'][0]
    result = run_module('ip_routes', args)

    assert result['removed'] == ['10.244.1.0/24 via 10.89.1.12 dev ens5']
    kernel = routes(uplink)
    assert '10.244.1.0/24' not in kernel
    assert int(kernel['10.250.0.0/24']['protocol']) == 4
    assert int(kernel['10.251.0.0/24']['protocol']) == 3
    assert '10.244.2.0/24' in kernel


def test_without_purge_undeclared_routes_of_ours_stay(uplink):
    run_module('ip_routes', declared(uplink))
    result = run_module('ip_routes', dict(netns=uplink, routes=[]))

    assert result['changed'] is False
    assert len(routes(uplink, proto=PODNET)) == 3


def test_declared_route_held_by_foreign_protocol_fails_and_is_left_alone(uplink):
    ip('route', 'add', '10.244.1.0/24', 'via', '10.89.1.77', 'proto', 'static', netns=uplink)
    result = run_module('ip_routes', declared(uplink))

    assert result.failed
    assert '10.244.1.0/24' in result['msg'] and 'static (4)' in result['msg']
    kernel = routes(uplink)
    assert kernel['10.244.1.0/24']['gateway'] == '10.89.1.77' and int(kernel['10.244.1.0/24']['protocol']) == 4
    assert routes(uplink, proto=PODNET) == {}


def test_same_dest_with_other_metric_is_not_a_collision(uplink):
    ip('route', 'add', '10.244.1.0/24', 'via', '10.89.1.77', 'metric', '50', netns=uplink)
    result = run_module('ip_routes', declared(uplink))

    assert result['changed'] is True
    assert '10.244.1.0/24 via 10.89.1.12 dev ens5' in result['added']


def test_check_mode_predicts_the_real_run_exactly_and_changes_nothing(uplink):
    run_module('ip_routes', declared(uplink))
    ip('route', 'add', '10.250.0.0/24', 'via', '10.89.1.99', 'proto', 'static', netns=uplink)
    args = declared(uplink, purge=True)
    args['routes'][0]['via'] = '10.89.1.20'
    del args['routes'][1]
    args['routes'].append(dict(dest='10.244.7.0/24', dev='ens5'))
    snapshot = routes(uplink)

    predicted = run_module('ip_routes', args, check=True, diff=True)
    assert routes(uplink) == snapshot
    real = run_module('ip_routes', args, diff=True)

    for key in ('changed', 'added', 'modified', 'removed', 'commands', 'diff'):
        assert predicted[key] == real[key], key
    assert real['added'] and real['modified'] and real['removed']
    assert routes(uplink) != snapshot


def test_diff_after_matches_kernel_routes_of_our_protocol(uplink):
    result = run_module('ip_routes', declared(uplink), diff=True)
    rerun = run_module('ip_routes', declared(uplink), diff=True)

    assert result['diff']['before'] == ''
    assert result['diff']['after'] == rerun['diff']['before']
    assert rerun['diff']['before'].splitlines() == sorted([
        '10.244.1.0/24 via 10.89.1.12 dev ens5', '10.244.2.0/24 via 10.89.1.13 dev ens5',
        'blackhole 10.244.0.0/16 metric 4000'])
    assert len(rerun['diff']['before'].splitlines()) == len(routes(uplink, proto=PODNET))


def test_dest_with_host_bits_fails_with_message(uplink):
    result = run_module('ip_routes', dict(netns=uplink, routes=[dict(dest='10.244.1.5/24', dev='ens5')]))

    assert result.failed
    assert 'host bits set' in result['msg'] and '10.244.1.5/24' in result['msg']
    assert routes(uplink, proto=PODNET) == {}


@pytest.mark.parametrize('proto', [0, 3, 4, 256])
def test_reserved_or_out_of_range_proto_fails(uplink, proto):
    result = run_module('ip_routes', declared(uplink, proto=proto))

    assert result.failed
    assert 'proto must be 5-255' in result['msg']


def test_missing_device_fails_before_changing_anything(uplink):
    args = declared(uplink)
    args['routes'].append(dict(dest='10.244.8.0/24', dev='nosuch0'))
    result = run_module('ip_routes', args, check=True)

    assert result.failed
    assert 'nosuch0' in result['msg']


def test_separate_table_and_proto_are_independent(uplink):
    run_module('ip_routes', declared(uplink))
    result = run_module('ip_routes', dict(netns=uplink, table=100, proto=95, purge=True, routes=[
        dict(dest='0.0.0.0/0', via='10.89.1.12', dev='ens5', onlink=True)]))

    assert result['changed'] is True
    table100 = routes(uplink, table=100)
    assert table100['default']['gateway'] == '10.89.1.12' and 'onlink' in table100['default']['flags']
    assert len(routes(uplink, proto=PODNET)) == 3
    assert run_module('ip_routes', dict(netns=uplink, table=100, proto=95, purge=True, routes=[
        dict(dest='0.0.0.0/0', via='10.89.1.12', dev='ens5', onlink=True)]))['changed'] is False


def test_two_thousand_routes_apply_then_rerun_unchanged(uplink):
    many = [dict(dest='172.%d.%d.0/24' % (16 + i // 256, i % 256), via='10.89.1.%d' % (2 + i % 250), dev='ens5')
            for i in range(2000)]
    result = run_module('ip_routes', dict(netns=uplink, routes=many, purge=True))

    assert result['changed'] is True and len(result['added']) == 2000
    kernel = routes(uplink, proto=PODNET)
    assert len(kernel) == 2000
    assert kernel['172.23.207.0/24']['gateway'] == '10.89.1.%d' % (2 + 1999 % 250)
    rerun = run_module('ip_routes', dict(netns=uplink, routes=many, purge=True))
    assert rerun['changed'] is False and rerun['commands'] == []


def test_ten_thousand_route_lines_apply_then_rerun_unchanged(uplink):
    lines = ['10.%d.%d.0/24 via 10.89.1.%d dev ens5' % (100 + i // 256, i % 256, 2 + i % 250) for i in range(10000)]
    lines[-1] = 'blackhole 10.200.0.0/16 metric 4000'
    result = run_module('ip_routes', dict(netns=uplink, route_lines=lines, purge=True))

    assert result['changed'] is True and len(result['added']) == len(result['commands']) == 10000, result.get('msg')
    assert result['added'][:1] == ['10.100.0.0/24 via 10.89.1.2 dev ens5']
    kernel = routes(uplink, proto=PODNET)
    assert len(kernel) == 10000
    assert kernel['10.139.14.0/24']['gateway'] == '10.89.1.%d' % (2 + 9998 % 250)
    assert kernel['10.200.0.0/16']['type'] == '6' and kernel['10.200.0.0/16']['metric'] == 4000
    rerun = run_module('ip_routes', dict(netns=uplink, route_lines=lines, purge=True, report='counts'))
    assert rerun['changed'] is False and rerun['counts'] == dict(added=0, modified=0, removed=0, commands=0), rerun


def test_route_lines_and_routes_dicts_reach_the_same_kernel_state_and_rerun_each_other(uplink):
    dicts = declared(uplink)['routes']
    lines = ['10.244.1.0/24 via 10.89.1.12 dev ens5', '10.244.2.0/24 dev ens5 via 10.89.1.13',
             'blackhole 10.244.0.0/16 metric 4000']
    by_lines = run_module('ip_routes', dict(netns=uplink, route_lines=lines), diff=True)
    held = routes(uplink, proto=PODNET)

    assert by_lines['changed'] is True and len(held) == 3
    rerun = run_module('ip_routes', dict(netns=uplink, routes=dicts, purge=True), diff=True)
    assert rerun['changed'] is False and rerun['diff']['before'] == by_lines['diff']['after']
    assert routes(uplink, proto=PODNET) == held


def test_ipv6_routes_apply_rerun_unchanged_and_purge(uplink):
    six = [dict(dest='fd00:244:1::/64', dev='ens5'), dict(dest='fd00:244::/48', type='blackhole')]
    result = run_module('ip_routes', dict(netns=uplink, routes=six))

    assert result['changed'] is True
    kernel = dict((e['dst'], e) for e in ip_json('-6', '-N', 'route', 'show', 'proto', '94', netns=uplink))
    assert kernel['fd00:244:1::/64']['dev'] == 'ens5' and kernel['fd00:244::/48']['type'] == '6'
    assert run_module('ip_routes', dict(netns=uplink, routes=six, purge=True))['changed'] is False

    purged = run_module('ip_routes', dict(netns=uplink, routes=six[:1], purge=True))
    assert purged['removed'] == ['blackhole fd00:244::/48']
    assert [e['dst'] for e in ip_json('-6', 'route', 'show', 'proto', '94', netns=uplink)] == ['fd00:244:1::/64']


def routes6(netns, table='main'):
    """The IPv6 routes of a table as ip -json reports them (numeric protocol)."""
    return ip_json('-6', '-N', '-details', 'route', 'show', 'table', str(table), netns=netns)


# Values ip -batch would re-parse

def test_dev_with_hash_is_refused_and_no_route_lands_anywhere(uplink):
    for name in ('d#x', 'd'):  # with "d" present, the cut line "dev d" would succeed in the wrong table
        ip('link', 'add', 'name', name, 'type', 'bridge', netns=uplink)
        ip('link', 'set', 'dev', name, 'up', netns=uplink)
    result = run_module('ip_routes', dict(netns=uplink, table=100, proto=95,
                                          routes=[dict(dest='10.244.5.0/24', dev='d#x')]))

    assert result.failed and '#' in result['msg']
    assert [e for e in ip_json('route', 'show', 'table', 'all', netns=uplink) if e['dst'] == '10.244.5.0/24'] == []


@pytest.mark.parametrize('table', [253, 255, 'local'])
def test_the_kernels_reserved_tables_are_refused(uplink, table):
    result = run_module('ip_routes', dict(netns=uplink, table=table, purge=True, routes=[]))

    assert result.failed and 'table' in result['msg']


# IPv6 specifics

@pytest.fixture
def uplink6(uplink):
    """The uplink with two IPv6 subnets on two bridges, for gateway routes."""
    ip('address', 'add', 'fd00:1::1/64', 'dev', 'ens5', 'nodad', netns=uplink)
    ip('link', 'add', 'ens6', 'type', 'bridge', netns=uplink)
    ip('link', 'set', 'ens6', 'up', netns=uplink)
    ip('address', 'add', 'fd00:2::1/64', 'dev', 'ens6', 'nodad', netns=uplink)
    return uplink


def test_ipv6_metric_0_is_kept_on_every_rerun_with_purge(uplink6):
    args = dict(netns=uplink6, purge=True, routes=[dict(dest='fd00:244::/48', type='blackhole', metric=0)])
    first = run_module('ip_routes', args)
    reruns = [run_module('ip_routes', args) for _ in range(2)]

    assert first['changed'] is True, first
    assert [r['changed'] for r in reruns] == [False, False], reruns
    kernel = [e for e in routes6(uplink6) if e['dst'] == 'fd00:244::/48']
    assert len(kernel) == 1 and kernel[0]['metric'] == 1024 and int(kernel[0]['protocol']) == PODNET


def merged_multipath(netns):
    """Our IPv6 route, then a static next hop appended: the kernel merges them into one multipath route."""
    run_module('ip_routes', dict(netns=netns, routes=[dict(dest='fd00:9::/64', via='fd00:1::2', dev='ens5')]))
    ip('-6', 'route', 'append', 'fd00:9::/64', 'via', 'fd00:2::2', 'dev', 'ens6', 'proto', 'static',
       'metric', '1024', netns=netns)
    entry = [e for e in routes6(netns) if e['dst'] == 'fd00:9::/64']
    assert len(entry) == 1 and len(entry[0]['nexthops']) == 2, entry  # the kernel really merged them


def test_purge_deletes_our_ipv6_next_hop_and_keeps_the_merged_foreign_one(uplink6):
    merged_multipath(uplink6)
    predicted = run_module('ip_routes', dict(netns=uplink6, purge=True, routes=[]), check=True, diff=True)
    result = run_module('ip_routes', dict(netns=uplink6, purge=True, routes=[]), diff=True)

    assert predicted['diff'] == result['diff'] and predicted['commands'] == result['commands']
    assert result['removed'] == ['fd00:9::/64 via fd00:1::2 dev ens5'], result
    entry = [e for e in routes6(uplink6) if e['dst'] == 'fd00:9::/64']
    assert len(entry) == 1 and entry[0]['gateway'] == 'fd00:2::2' and int(entry[0]['protocol']) == 4
    assert run_module('ip_routes', dict(netns=uplink6, purge=True, routes=[]))['changed'] is False


def test_changing_our_hop_of_a_merged_ipv6_route_is_refused_and_the_foreign_hop_stays(uplink6):
    merged_multipath(uplink6)
    result = run_module('ip_routes', dict(netns=uplink6, routes=[dict(dest='fd00:9::/64', via='fd00:1::3',
                                                                      dev='ens5')]))

    assert result.failed and 'further next hops' in result['msg']
    entry = [e for e in routes6(uplink6) if e['dst'] == 'fd00:9::/64']
    assert sorted(hop['gateway'] for hop in entry[0]['nexthops']) == ['fd00:1::2', 'fd00:2::2']


def test_our_unchanged_hop_of_a_merged_ipv6_route_reruns_unchanged(uplink6):
    merged_multipath(uplink6)
    result = run_module('ip_routes', dict(netns=uplink6, routes=[dict(dest='fd00:9::/64', via='fd00:1::2',
                                                                      dev='ens5')]))

    assert result['changed'] is False and not result.failed, result


# Partial apply

def test_failure_half_way_reports_changed_and_the_applied_lines(uplink):
    result = run_module('ip_routes', dict(netns=uplink, routes=[
        dict(dest='10.244.1.0/24', via='10.89.1.12', dev='ens5'),
        dict(dest='10.244.2.0/24', via='10.99.0.1', dev='ens5'),  # not on any link: the kernel refuses it
        dict(dest='10.244.3.0/24', via='10.89.1.13', dev='ens5'),
    ]))

    assert result.failed and result['changed'] is True, result
    assert result['applied'] == ['route replace 10.244.1.0/24 via 10.89.1.12 dev ens5 scope global '
                                 'proto 94 table 254 metric 0']
    assert result['failed_line'].startswith('route replace 10.244.2.0/24')
    assert sorted(routes(uplink, proto=PODNET)) == ['10.244.1.0/24']


def test_route_without_dev_reruns_with_equal_diff_sides_and_check_mode_predicts_them(uplink):
    args = dict(netns=uplink, routes=[dict(dest='10.244.1.0/24', via='10.89.1.12')])
    predicted = run_module('ip_routes', args, check=True, diff=True)
    real = run_module('ip_routes', args, diff=True)
    rerun = run_module('ip_routes', args, diff=True)

    assert predicted['diff'] == real['diff']
    assert real['diff']['after'] == rerun['diff']['before'] == rerun['diff']['after'] == '10.244.1.0/24 via 10.89.1.12\n'
    assert rerun['changed'] is False
