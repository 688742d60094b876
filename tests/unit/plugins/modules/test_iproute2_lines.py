# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ip -batch lines of _iproute2: no value can turn into more words, a comment, or another keyword."""

import ipaddress

import pytest
from hypothesis import given, strategies as st

from ansible_collections.podnet.netmodes.plugins.module_utils import _iproute2 as ip

SYNTAX = '#;"\'\\{}$` \t\n'
NAMES = st.text(alphabet=st.characters(blacklist_categories=('Cs',)), min_size=1, max_size=15)
BUILDERS = [
    lambda v: ip.link_add(v, 'veth', 'p0'),
    lambda v: ip.link_add('v0', 'veth', v),
    lambda v: ip.link_add('v0', 'veth', 'p0', v),
    ip.link_delete,
    lambda v: ip.link_alias(v, 'podnet.netmodes'),
    lambda v: ip.link_mtu(v, 1500),
    lambda v: ip.link_master('v0', v),
    lambda v: ip.link_up(v, True),
    lambda v: ip.address('add', ipaddress.ip_interface('10.0.0.1/24'), v),
    lambda v: ip.route_replace('10.0.0.0/24', 94, 254, 0, dev=v),
]


@pytest.mark.parametrize('build', BUILDERS)
@given(name=NAMES)
def test_a_value_is_one_word_of_the_line_or_refused(build, name):
    try:
        line = build(name)
    except ip.UnsafeValue:
        assert set(name) & set(SYNTAX) or any(ord(c) < 32 or ord(c) == 127 or c.isspace() for c in name)
        return
    assert name in line.split(' ') and not set(name) & set(SYNTAX)


@pytest.mark.parametrize('build', [lambda: ip.link_add('v0', 'vxlan'), lambda: ip.address('flush', None, 'v0'),
                                   lambda: ip.route_replace('10.0.0.0/24', 94, 254, 0, rtype='unreachable;'),
                                   lambda: ip.route_replace('10.0.0.0/24', 94, 254, 0, scope='host')])
def test_keywords_outside_the_known_ones_are_refused(build):
    with pytest.raises(ip.UnsafeValue):
        build()


def test_ipv6_route_delete_names_the_gateway_so_only_that_next_hop_goes():
    assert ip.route_delete('fd00:9::/64', 94, 254, 1024, via='fd00:1::2') == \
        'route del fd00:9::/64 via fd00:1::2 proto 94 table 254 metric 1024'


@pytest.mark.parametrize('stderr, count', [
    ('RTNETLINK answers: File exists\nCommand failed -:1\n', 0),
    ('Error: Nexthop has invalid gateway.\nCommand failed -:3\n', 2),
    ('Command failed -:9\n', 3),  # never more than were sent
    ('Segmentation fault\n', None),
])
def test_applied_count_comes_from_the_failed_line_number(stderr, count):
    assert ip.applied_count(['a', 'b', 'c'], stderr) == count
