# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The boot files of ip_link and ip_routes without root (cases in test_boot_files.yaml, each naming its module).

Below the cases: every line a boot file can hold is built by _iproute2's line builders, which refuse any value
ip -batch would read as more than one word, whatever a module checked before.
"""

import pytest

from harness import assert_files, cases_for, run_case, with_tmp, write_file

from ansible_collections.podnet.netmodes.plugins.module_utils import _iproute2 as ip
from ansible_collections.podnet.netmodes.plugins.module_utils._bootfile import BootFile, header_line
from ansible_collections.podnet.netmodes.plugins.modules import ip_link, ip_routes

MODULES = {'ip_link': ip_link, 'ip_routes': ip_routes}


@pytest.mark.parametrize('case', cases_for(__file__))
def test_boot_file(case, tmp_path):
    case = with_tmp(case, str(tmp_path))
    for path, text in (case.get('files') or {}).items():
        write_file(path, text)
    run_case(MODULES[case['module']], case)
    assert_files(case.get('files_after'))


HOSTILE = ['cni0\nlink del ens5', 'cni0 up', 'cni0#', 'cni0;', 'a"b', "a'b", 'a\\b', 'a\tb', 'a\rb']


@pytest.mark.parametrize('value', HOSTILE + [''])
def test_every_value_of_a_boot_line_is_one_word_or_refused(value):
    # An empty via, dev or src means "none" and is left out of the line; every other value must be refused.
    optional = [] if value == '' else [
        lambda: ip.route_replace('10.244.1.0/24', 94, 254, 0, via=value, dev='ens5'),
        lambda: ip.route_replace('10.244.1.0/24', 94, 254, 0, dev=value),
        lambda: ip.route_replace('10.244.1.0/24', 94, 254, 0, dev='ens5', src=value),
    ]
    builders = optional + [
        lambda: ip.link_add(value, 'bridge'),
        lambda: ip.link_add('v1', 'veth', peer=value),
        lambda: ip.link_alias(value, ip.OWNER_MARK),
        lambda: ip.link_mtu(value, 1450),
        lambda: ip.link_master('v1', value),
        lambda: ip.link_up(value, True),
        lambda: ip.route_replace(value, 94, 254, 0, dev='ens5'),
    ]
    for build in builders:
        with pytest.raises(ip.UnsafeValue):
            build()


@pytest.mark.parametrize('value', ['1450\nlink del ens5', '1450 up', 'x'])
def test_numbers_of_a_boot_line_are_integers_or_refused(value):
    with pytest.raises(ValueError):
        ip.link_mtu('cni0', value)
    with pytest.raises(ValueError):
        ip.route_replace('10.244.1.0/24', 94, 254, value, dev='ens5')


def test_boot_file_without_lines_is_no_file_and_a_file_needs_our_header(tmp_path):
    header = header_line('ip_routes', ip.BOOT_UNIT)
    path = str(tmp_path / 'x.batch')
    assert BootFile(path, header, []).after is None
    (tmp_path / 'x.batch').write_text('# Written by someone else\n')
    assert BootFile(path, header, ['route replace ...']).foreign
    (tmp_path / 'x.batch').write_text(header)
    assert not BootFile(path, header, []).foreign


def test_default_boot_files_sort_bridges_then_tunnels_then_veths_then_routes():
    paths = [ip.routes_boot_path(94, 254), ip.link_boot_path('veth', 'a0'), ip.link_boot_path('ipip', 'tunl0'),
             ip.link_boot_path('bridge', 'zz0')]
    assert sorted(paths) == [ip.link_boot_path('bridge', 'zz0'), ip.link_boot_path('ipip', 'tunl0'),
                             ip.link_boot_path('veth', 'a0'), ip.routes_boot_path(94, 254)]
