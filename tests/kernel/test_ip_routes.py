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
