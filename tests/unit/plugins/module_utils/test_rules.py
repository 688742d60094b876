# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rule book: each rule accepts what Linux, iproute2, nft and BIRD accept as one value, and nothing else."""

import ipaddress

import pytest
from hypothesis import given, strategies as st

from ansible_collections.podnet.netmodes.plugins.module_utils import _rules as rules
from ansible_collections.podnet.netmodes.plugins.module_utils._runner import UnsafeValue, Value, script_line


@pytest.mark.parametrize('name', ['cni0', 'docker0', 'ens5', 'br-1.100', 'veth_ab12', 'x' * 15, 'größe'])
def test_ifname_accepts_names_linux_and_ip_batch_both_take(name):
    assert rules.ifname_problem(name) is None


@pytest.mark.parametrize('name, fragment', [
    ('', 'non-empty'),
    (None, 'non-empty'),
    ('x' * 16, '16 bytes'),
    ('ü' * 8, '16 bytes'),  # 8 characters, 16 bytes: the kernel counts bytes
    ('.', '"."'),
    ('br:0', '":"'),
    ('br/0', '"/"'),
    ('br#0', '#'),
    ('br;0', ';'),
    ('br 0', 'whitespace'),
    ('br\n0', 'whitespace'),
    ('br"0', '"'),
    ("br'0", "'"),
    ('br\\0', '\\'),
    ('br\x010', 'control'),
])
def test_ifname_refuses_what_linux_or_ip_batch_would_misread(name, fragment):
    reason = rules.ifname_problem(name)
    assert reason is not None and fragment in reason


@given(st.text(min_size=1, max_size=20))
def test_an_accepted_ifname_is_always_one_ip_batch_word(name):
    if rules.ifname_problem(name) is None:
        assert len(name.encode('utf-8')) <= 15
        assert name.split() == [name]
        assert not set(name) & set('#;"\'\\:/')


@pytest.mark.parametrize('name, good', [
    ('pod-1', True), ('a' * 255, True), ('a' * 256, False), ('..', False), ('a/b', False), ('rv2#x', False),
    ('a b', False), ('', False),
])
def test_netns_names_are_plain_files_and_single_words(name, good):
    assert (rules.netns_name_problem(name) is None) is good


@pytest.mark.parametrize('name, good', [
    ('podnet', True), ('post_routing', True), ('P1', True), ('1table', False), ('a-b', False),
    ('podnet; delete table ip foreign', False), ('x' * 256, False), ('', False),
])
def test_nft_names_are_identifiers(name, good):
    assert (rules.nft_name_problem(name) is None) is good


@pytest.mark.parametrize('value, ipv6, good', [
    (1500, False, True), ('9000', False, True), (68, False, True), (67, False, False), (65535, False, True),
    (65536, False, False), (1279, True, False), (1280, True, True), (True, False, False), ('15x0', False, False),
    (None, False, False),
])
def test_mtu_range_and_ipv6_floor(value, ipv6, good):
    assert (rules.mtu_problem(value, ipv6=ipv6) is None) is good


@pytest.mark.parametrize('value, good', [(94, True), ('94', True), (5, True), (255, True), (4, False),
                                         (0, False), (256, False), (-1, False), ('bird', False)])
def test_route_proto_is_ours_to_take(value, good):
    assert (rules.route_proto_problem(value) is None) is good


@pytest.mark.parametrize('value, expected', [('main', 254), (None, 254), (100, 100), ('100', 100),
                                             (0xFFFFFFFF, 0xFFFFFFFF)])
def test_route_table_parses(value, expected):
    assert rules.parse_route_table(value) == (expected, None)


@pytest.mark.parametrize('value', [0, 253, 255, 0x100000000, 'local', -3, True])
def test_route_table_refuses_reserved_and_out_of_range(value):
    table, reason = rules.parse_route_table(value)
    assert table is None and reason


@pytest.mark.parametrize('value, good', [(64512, True), ('65000', True), (4200000000, True), (23456, False),
                                         (0, False), (4294967296, False), ('AS65000', False),
                                         (65535, False), (4294967295, False), (65534, True), (65536, True)])
def test_bgp_as(value, good):
    assert (rules.bgp_as_problem(value) is None) is good


@pytest.mark.parametrize('value, good', [('', True), ('s3cret with space', True), ('x' * 80, True),
                                         ('x' * 81, False), ('a"b', False), ('a\\b', False), ('a\nb', False),
                                         (5, False)])
def test_bgp_password_fits_bird_and_tcp_md5(value, good):
    assert (rules.bgp_password_problem(value) is None) is good


def test_ipv4_network_parsing_says_why():
    assert rules.parse_ipv4_network('10.244.0.0/16') == (ipaddress.IPv4Network('10.244.0.0/16'), None)
    assert 'host bits' in rules.parse_ipv4_network('10.244.0.1/16')[1]
    assert 'IPv6' in rules.parse_ipv4_network('fd00::/64')[1]
    assert 'prefix length' in rules.parse_ipv4_network('10.0.0.0')[1]
    assert 'valid' in rules.parse_ipv4_network('10.0.0.0/33')[1]


def test_ipv4_address_parsing_says_why():
    assert rules.parse_ipv4_address(' 10.0.0.1 ')[0] == ipaddress.IPv4Address('10.0.0.1')
    assert 'prefix' in rules.parse_ipv4_address('10.0.0.1/24')[1]
    assert rules.parse_ipv4_address(None)[0] is None


def test_ip_parsers_cover_both_families():
    assert rules.parse_ip_network('fd00::/64')[0].version == 6
    assert rules.parse_ip_network('10.0.0.1/8')[0] is None
    assert rules.parse_ip_address('fe80::1')[0].version == 6
    assert rules.parse_ip_interface('10.244.1.1/24')[0].network == ipaddress.IPv4Network('10.244.1.0/24')
    assert rules.parse_ip_interface('10.244.1.1')[0] is None


def test_script_line_refuses_a_value_that_would_be_two_words():
    assert script_line('link', 'del', 'dev', Value('vb1', 'name')) == 'link del dev vb1'
    with pytest.raises(UnsafeValue, match="name 'vb#1'"):
        script_line('link', 'del', 'dev', Value('vb#1', 'name'))
    with pytest.raises(UnsafeValue):
        script_line('route', 'replace', Value('10.0.0.0/8 table 7', 'dest'))


@pytest.mark.parametrize('value', ['cni0', '10.244.0.0/16', 'fe80::1', 'größe'])
def test_token_accepts_single_words(value):
    assert rules.token_problem(value) is None


@pytest.mark.parametrize('value, fragment', [('a b', 'whitespace'), ('a\u2028b', 'whitespace'), ('a#b', '#'),
                                             ('a;b', ';'), ('a{b', '{'), ('a$b', '$'), ('a`b', '`'), ('', 'non-empty')])
def test_token_refuses_what_a_script_would_split_or_interpret(value, fragment):
    assert fragment in rules.token_problem(value)


@given(st.text(max_size=12))
def test_token_regex_fast_path_agrees_with_the_character_checks(value):
    slow_bad = (not value or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value)
                or bool(set(value) & set('#;"\'\\{}$`')))
    assert (rules.token_problem(value) is not None) is slow_bad


@pytest.mark.parametrize('value, expected', [(7, 7), (' 42 ', 42), ('0', 0)])
def test_parse_int_takes_ints_and_ascii_digit_strings(value, expected):
    assert rules.parse_int(value) == (expected, None)


@pytest.mark.parametrize('value', [True, '4.2', '¹', '٣', '-1', None, [1]])
def test_parse_int_refuses_booleans_and_anything_but_ascii_digits(value):
    assert rules.parse_int(value)[0] is None


@pytest.mark.parametrize('rule', ['ip saddr 10.244.1.0/24 ip daddr != 10.244.0.0/16 masquerade',
                                  'tcp dport { 22, 80 } accept', 'counter comment "a } in quotes"'])
def test_nft_rule_accepts_one_statement_with_balanced_braces(rule):
    assert rules.nft_rule_problem(rule) is None


@pytest.mark.parametrize('rule, fragment', [
    ('accept; flush ruleset', ';'), ('accept # x', '#'), ('accept\nflush ruleset', 'newline'),
    ('accept } } table ip x {', 'closes'), ('tcp dport { 22', 'open'), ('comment "x', 'quote'), (' ', 'non-empty'),
    ('x' * 5000, 'longer'),
])
def test_nft_rule_refuses_text_that_leaves_its_chain(rule, fragment):
    assert fragment in rules.nft_rule_problem(rule)


@pytest.mark.parametrize('name, good', [('podnet', True), ('k8s-pod.net_1', True), ('pod net', False),
                                        ('../x', False), ('-x', False), ('', False)])
def test_cni_network_name_follows_the_cni_specification(name, good):
    assert (rules.cni_network_name_problem(name) is None) is good


@pytest.mark.parametrize('value, good', [('10.89.1.12', True), ('0.0.0.0', False), ('224.0.0.1', False),
                                         ('127.0.0.1', False), ('255.255.255.255', False), ('fd00::1', False),
                                         ('10.0.0.1/32', False)])
def test_tunnel_endpoints_are_unicast_node_addresses(value, good):
    assert (rules.parse_tunnel_endpoint(value)[1] is None) is good


@pytest.mark.parametrize('value, good', [(1, True), (64, True), (255, True), (0, False), (256, False), ('x', False)])
def test_tunnel_ttl_range(value, good):
    assert (rules.tunnel_ttl_problem(value) is None) is good


@pytest.mark.parametrize('value, good', [(1480, True), (65500, True), (65501, False), (67, False)])
def test_ipip_mtu_range(value, good):
    assert (rules.ipip_mtu_problem(value) is None) is good
