# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ip_link without root: canned ``ip -json`` output in, ``ip -batch`` script, result and diff out (cases in the .yaml)."""

import pytest

from harness import cases_for, run_case

from ansible_collections.podnet.netmodes.plugins.modules import ip_link


@pytest.mark.parametrize('case', cases_for(__file__))
def test_ip_link(case):
    run_case(ip_link, case)


# The ipip lines of _iproute2: every end is one word of the line or refused, whatever the module checked before.

from ansible_collections.podnet.netmodes.plugins.module_utils import _iproute2 as ip  # noqa: E402

HOSTILE = ['10.0.0.1 remote 10.9.9.9', '10.0.0.1#x', '10.0.0.1;', 'ens5"', "ens5'", 'ens5\\', 'ens5\n', '$x', '']


@pytest.mark.parametrize('key', ['remote', 'local', 'dev'])
@pytest.mark.parametrize('value', HOSTILE)
def test_ipip_line_refuses_an_end_that_ip_batch_would_read_as_more_than_one_word(key, value):
    tunnel = dict(remote='10.100.1.21', local='10.100.0.11', ttl=64, dev='ens5')
    tunnel[key] = value
    if value == '':
        # An empty local or dev means "not given"; an empty remote must still be refused.
        if key != 'remote':
            assert '""' not in ip.link_tunnel('ipip1', tunnel)
            return
    with pytest.raises(ip.UnsafeValue):
        ip.link_tunnel('ipip1', tunnel)
    with pytest.raises(ip.UnsafeValue):
        ip.link_add('ipip1', 'ipip', tunnel=tunnel)


def test_ipip_line_spells_out_the_defaults_so_a_change_cannot_keep_an_old_end():
    assert ip.link_tunnel('ipip1', dict(remote='10.100.1.21', local=None, ttl=0, dev=None)) == \
        'link set dev ipip1 type ipip remote 10.100.1.21 local any ttl inherit'


def test_alias_clear_line_is_one_empty_word():
    assert ip.link_alias_clear('tunl0') == 'link set dev tunl0 alias ""'


# Check mode's tunl0 before `modprobe ipip`: only where loading the module gives the namespace a tunl0.

from harness import run_module  # noqa: E402

MISSING_TUNL0 = [dict(command=['ip', '-json', '-details', 'link', 'show'],
                      out='[{"ifindex": 2, "ifname": "ens5", "flags": ["UP"], "mtu": 1500}]')]


@pytest.fixture
def fb_tunnels_only_for_init_net(tmp_path, monkeypatch):
    """net.core.fb_tunnels_only_for_init_net = 1, and a first namespace that is not the module's own."""
    sysctl = tmp_path / 'fb_tunnels_only_for_init_net'
    sysctl.write_text('1\n')
    first = tmp_path / 'first-netns'
    first.write_text('')
    monkeypatch.setattr(ip_link, 'FB_TUNNELS_SYSCTL', str(sysctl))
    monkeypatch.setattr(ip_link, 'FIRST_NETNS', str(first))
    return first


def test_modprobe_gives_tunl0_to_every_namespace_unless_fb_tunnels_only_for_init_net(fb_tunnels_only_for_init_net,
                                                                                      monkeypatch):
    assert ip_link.fallback_after_modprobe(None) is False
    monkeypatch.setattr(ip_link, 'FIRST_NETNS', '/proc/self/ns/net')
    assert ip_link.fallback_after_modprobe(None) is True
    monkeypatch.setattr(ip_link, 'FB_TUNNELS_SYSCTL', str(fb_tunnels_only_for_init_net.parent / 'no-such-sysctl'))
    monkeypatch.setattr(ip_link, 'FIRST_NETNS', str(fb_tunnels_only_for_init_net))
    assert ip_link.fallback_after_modprobe(None) is True


def test_check_mode_fails_like_the_real_run_where_modprobe_would_give_this_namespace_no_tunl0(
        fb_tunnels_only_for_init_net):
    for check_mode in (True, False):
        result, _ = run_module(ip_link, dict(name='tunl0', kind='ipip', mtu=1480), MISSING_TUNL0,
                               check_mode=check_mode, paths={'/sys/module/ipip': False})
        assert result.get('failed'), result
        assert 'modprobe ipip' in result['msg'] and 'fb_tunnels_only_for_init_net' in result['msg'], result
