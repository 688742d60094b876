# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ip_routes without root: canned ``ip -json`` output in, ``ip -batch`` script, result and diff out (cases in the .yaml).

Property tests below: the C fast paths for address text give exactly what ipaddress gives, and a declaration in
``route_lines`` gives the same result (plan, commands, diff, or failure message) as the same routes in ``routes``.
"""

import ipaddress
import json
import re
from unittest import mock

import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

import harness
from harness import cases_for, run_case, run_module

from ansible_collections.podnet.netmodes.plugins.modules import ip_routes


@pytest.mark.parametrize('case', cases_for(__file__))
def test_ip_routes(case):
    run_case(ip_routes, case)


def test_report_counts_leaves_the_route_lists_out_of_the_result():
    case = [param.values[0] for param in cases_for(__file__)
            if param.id == 'report_counts_returns_how_many_instead_of_the_lists_and_the_same_batch_and_diff'][0]
    result = run_case(ip_routes, case)
    assert not set(result) & set(['added', 'modified', 'removed', 'commands']), result


# The fast paths against ipaddress

def _reference_address(text):
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return 'ValueError'
    return addr.version, addr.compressed


def _reference_network(text):
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError:
        return 'ValueError'
    return net.version, net.compressed


def _ours(function, text):
    try:
        return function(text)
    except ValueError:
        return 'ValueError'


def _spellings(addr):
    """Ways users and iproute2 write one address: compressed, exploded, upper case, IPv4-embedded forms, and
    IPv4 with a leading zero (refused by ipaddress, and so it must be by the fast path)."""
    texts = [str(addr), addr.exploded, addr.exploded.upper(), str(addr).upper()]
    if addr.version == 4:
        texts.append('0' + str(addr))
    if addr.version == 6:
        low = int(addr) & 0xFFFFFFFF
        head = addr.exploded.rsplit(':', 2)[0]
        texts.append('%s:%s' % (head, ipaddress.IPv4Address(low)))
    return texts


# Addresses near the shapes where C libraries and ipaddress could print differently: runs of zero groups of
# every length and position, IPv4-mapped and IPv4-compatible IPv6 addresses.
_ipv6_shaped = st.lists(st.sampled_from([0, 0, 0, 1, 0xffff, 0xabcd]), min_size=8, max_size=8).map(
    lambda groups: ipaddress.IPv6Address(int(''.join('%04x' % g for g in groups), 16)))
_addresses = st.one_of(st.ip_addresses(), _ipv6_shaped,
                       st.integers(0, 0xFFFFFFFF).map(lambda n: ipaddress.IPv6Address((0xFFFF << 32) | n)),
                       st.integers(0, 0xFFFFFFFF).map(ipaddress.IPv6Address))
_junk = st.text(alphabet='0123456789abcdefABCDEF:./% x', max_size=45)


@given(st.one_of(_addresses.flatmap(lambda a: st.sampled_from(_spellings(a))), _junk))
@settings(max_examples=2000)
def test_canonical_address_fast_path_equals_ipaddress(text):
    assert _ours(ip_routes.canonical_address, text) == _reference_address(text)


@given(_addresses, st.integers(0, 128), st.booleans(), st.data())
@settings(max_examples=2000)
def test_canonical_network_fast_path_equals_ipaddress(addr, prefixlen, masked, data):
    prefixlen = min(prefixlen, addr.max_prefixlen)
    if masked:
        addr = ipaddress.ip_network('%s/%d' % (addr, prefixlen), strict=False).network_address
    text = data.draw(st.sampled_from(_spellings(addr)))
    suffix = data.draw(st.sampled_from(['/%d' % prefixlen, '/0%d' % prefixlen, '', '/', '/%d' % (prefixlen + 1),
                                        '/x', '/\u00b2', '/-1']))
    assert _ours(ip_routes.canonical_network, text + suffix) == _reference_network(text + suffix)


@given(_junk)
@settings(max_examples=2000)
def test_canonical_network_of_junk_equals_ipaddress(text):
    assert _ours(ip_routes.canonical_network, text) == _reference_network(text)


# route_lines against routes

_V4_KERNEL = [
    {"type": "1", "dst": "10.244.1.0/24", "gateway": "10.89.1.12", "dev": "ens5", "protocol": "94", "scope": "0",
     "metric": 0, "flags": []},
    {"type": "6", "dst": "10.244.0.0/16", "protocol": "94", "scope": "0", "metric": 4000, "flags": []},
    {"type": "1", "dst": "10.250.0.0/24", "gateway": "10.89.1.9", "dev": "ens5", "protocol": "4", "scope": "0",
     "metric": 0, "flags": []},
]
_V6_KERNEL = [
    {"type": "1", "dst": "fd00:9::/64", "gateway": "fd00:1::2", "dev": "e1", "protocol": "94", "metric": 1024,
     "flags": []},
]


class _Kernel(object):
    """Answers every ip call the module may make, in any order (CannedCommands needs the order up front)."""

    def __init__(self):
        self.calls = []

    def __call__(self, args, data=None, **kwargs):
        argv = [str(arg) for arg in args]
        self.calls.append(argv)
        if argv[-2:] == ['link', 'show']:
            return 0, json.dumps([{'ifname': name} for name in ('ens5', 'e1', 'd#x')]), ''
        if argv[-4:-2] == ['route', 'show']:
            return 0, json.dumps(_V6_KERNEL if '-6' in argv else _V4_KERNEL), ''
        raise AssertionError('unexpected command %r' % argv)


_v4_dests = st.sampled_from(['10.244.1.0/24', '10.244.0.0/16', '10.244.2.0/24', '10.250.0.0/24', '10.244.1.5/24',
                             '10.244.3.7', '0.0.0.0/0', 'x'])
_v6_dests = st.sampled_from(['fd00:9::/64', 'FD00:244::/48', 'fd00:244:0::/48', 'fd00::1/64', '::/0'])
_gateways = st.sampled_from([None, '10.89.1.12', '10.89.1.13', 'fd00:1::2', 'FD00:1:0::3', '10.89.1.300', 'gw'])
_devs = st.sampled_from([None, 'ens5', 'e1', 'd#x', 'nosuch0', 'x' * 16])
_metrics = st.one_of(st.none(), st.sampled_from([0, 1, 1024, 4000, 0xFFFFFFFF, 0x100000000, -1]))
_valid_specs = st.one_of(
    st.fixed_dictionaries({
        'dest': st.sampled_from(['10.244.1.0/24', '10.244.0.0/16', '10.244.2.0/24', '0.0.0.0/0', '10.244.3.7']),
        'via': st.sampled_from(['10.89.1.12', '10.89.1.13']),
        'dev': st.sampled_from([None, 'ens5']),
        'type': st.just('unicast'),
        'scope': st.sampled_from([None, 'global', 'link']),
        'onlink': st.booleans(),
        'metric': st.sampled_from([None, 0, 4000]),
        'src': st.sampled_from([None, '10.89.1.1']),
    }).map(lambda spec: dict(spec, onlink=spec['onlink'] and spec['dev'] is not None)),
    st.fixed_dictionaries({
        'dest': st.sampled_from(['10.244.0.0/16', 'fd00:244::/48', '10.244.9.0/24']), 'via': st.none(),
        'dev': st.none(), 'type': st.just('blackhole'), 'scope': st.none(), 'onlink': st.just(False),
        'metric': st.sampled_from([None, 0, 4000]), 'src': st.none()}),
    st.fixed_dictionaries({
        'dest': st.sampled_from(['fd00:9::/64', 'FD00:244:1::/64', 'fd00:244:0:2::/64', '::/0']),
        'via': st.sampled_from([None, 'fd00:1::2', 'FD00:1:0::3']), 'dev': st.just('e1'), 'type': st.just('unicast'),
        'scope': st.none(), 'onlink': st.just(False), 'metric': st.sampled_from([None, 0, 1024, 7]),
        'src': st.sampled_from([None, 'fd00:1::1'])}),
)
_any_specs = st.fixed_dictionaries({
    'dest': st.one_of(_v4_dests, _v6_dests),
    'via': _gateways,
    'dev': _devs,
    'type': st.sampled_from(['unicast', 'blackhole']),
    'scope': st.sampled_from([None, 'global', 'link']),
    'onlink': st.booleans(),
    'metric': _metrics,
    'src': st.sampled_from([None, '10.89.1.1', 'fd00:1::1', 'bad']),
})
# Mostly routes the module accepts (so plans, commands and diffs are compared), some it refuses (messages).
_route_specs = st.one_of(_valid_specs, _valid_specs, _valid_specs, _any_specs)


def _as_dict(spec):
    """A routes item as a user writes it: only the keys given (type and onlink only when not the default)."""
    item = dict((key, value) for key, value in spec.items() if value is not None)
    if item.get('type') == 'unicast':
        del item['type']
    if not item.get('onlink'):
        item.pop('onlink', None)
    return item


def _as_line(spec, order):
    """A route_lines item for ``spec``, its keywords in the order ``order`` gives (ties keep the written order)."""
    keys = ('via', 'dev', 'scope', 'src', 'metric', 'onlink')
    parts = [[key, str(spec[key])] for key in keys[:-1] if spec[key] is not None]
    if spec['onlink']:
        parts.append(['onlink'])
    parts.sort(key=lambda part: order[keys.index(part[0])])
    words = [] if spec['type'] == 'unicast' and order[0] % 2 else [spec['type']]
    return ' '.join(words + [spec['dest']] + [word for part in parts for word in part])


def _run(args, check_mode=True):
    kernel = _Kernel()
    with mock.patch.object(harness.CannedCommands, '__call__', lambda self, argv, data=None, **kw: kernel(argv, data)):
        result, _commands = run_module(ip_routes, args, check_mode=check_mode, diff_mode=True)
    return result, kernel.calls


@given(st.lists(_route_specs, min_size=1, max_size=4), st.booleans(),
       st.lists(st.integers(0, 5), min_size=6, max_size=6))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_route_lines_give_the_same_plan_diff_and_errors_as_routes(specs, purge, order):
    by_dict, dict_calls = _run(dict(purge=purge, routes=[_as_dict(spec) for spec in specs]))
    by_line, line_calls = _run(dict(purge=purge, route_lines=[_as_line(spec, order) for spec in specs]))

    event('refused' if by_dict.get('failed') else 'changed' if by_dict['changed'] else 'unchanged')
    assert line_calls == dict_calls
    assert bool(by_line.get('failed')) == bool(by_dict.get('failed')), (by_dict, by_line)
    if by_dict.get('failed'):
        assert re.sub(r'^route_lines\[', 'routes[', by_line['msg']) == by_dict['msg']
    else:
        for key in ('changed', 'added', 'modified', 'removed', 'commands', 'diff'):
            assert by_line[key] == by_dict[key], key


@given(st.lists(_route_specs, min_size=1, max_size=4))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_route_strings_the_module_reports_declare_the_same_routes_again(specs):
    """What added and modified report (one string per route) can be pasted into route_lines as is."""
    first, _calls = _run(dict(routes=[_as_dict(spec) for spec in specs]))
    if first.get('failed'):
        return
    again, _calls = _run(dict(route_lines=first['added'] + first['modified']))
    assert not again.get('failed'), again
    assert sorted(again['added'] + again['modified']) == sorted(first['added'] + first['modified'])
    assert again['commands'] == [] or sorted(again['commands']) == sorted(first['commands'])
