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
