# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The boot files of ip_link and ip_routes without root (cases in test_boot_files.yaml, each naming its module).

Below the cases: every line a boot file can hold is built by _iproute2's line builders, which refuse any value
ip -batch would read as more than one word, whatever a module checked before.
"""

from unittest import mock

import pytest
from ansible.module_utils import basic

from harness import assert_files, cases_for, run_case, run_module, with_tmp, write_file

from ansible_collections.podnet.netmodes.plugins.module_utils import _bootfile, _iproute2 as ip
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


# A boot file in podnet's own directory without the header is podnet's own file damaged: written anew, with a
# warning, in check mode predicted. The same text outside that directory is someone else's and refused.
DAMAGES = {
    'empty': b'',
    'not_utf8': b'\x00\xff\xfe route flush\n',
    'header_lost': b'route replace 10.244.1.0/24 via 10.89.20.12 dev ens5 scope global proto 94 table 254 metric 0\n',
}
ROUTES_IN_SYNC = [
    {'command': ['ip', '-json', 'link', 'show'], 'out': '[{"ifindex": 2, "ifname": "ens5"}]'},
    {'command': ['ip', '-json', '-details', '-N', '-4', 'route', 'show', 'table', '254'],
     'out': '[{"type": "1", "dst": "10.244.1.0/24", "gateway": "10.89.20.12", "dev": "ens5", "protocol": "94",'
            ' "scope": "0", "flags": []}]'},
]
LINK_IN_SYNC = [
    {'command': ['ip', '-json', '-details', 'link', 'show'],
     'out': '[{"ifindex": 3, "ifname": "cni0", "flags": ["BROADCAST", "UP"], "mtu": 1450,'
            ' "ifalias": "podnet.netmodes", "linkinfo": {"info_kind": "bridge"}}]'},
    {'command': ['ip', '-json', 'address', 'show', 'dev', 'cni0'],
     'out': '[{"ifname": "cni0", "addr_info": [{"family": "inet", "local": "10.244.1.1", "prefixlen": 24}]}]'},
]


def run_with_warnings(module, args, calls, check_mode):
    warnings = []
    with mock.patch.object(basic.AnsibleModule, 'warn', lambda self, msg, **kwargs: warnings.append(msg)):
        result, dummy = run_module(module, args, calls, check_mode=check_mode)
    return result, warnings


@pytest.mark.parametrize('check_mode', [True, False])
@pytest.mark.parametrize('damage', sorted(DAMAGES))
@pytest.mark.parametrize('kind', ['routes', 'link'])
def test_damaged_boot_file_in_podnets_directory_is_written_anew_and_elsewhere_refused(kind, damage, check_mode,
                                                                                     tmp_path, monkeypatch):
    own, elsewhere = tmp_path / 'etc-podnet', tmp_path / 'elsewhere'
    monkeypatch.setattr(_bootfile, 'PODNET_DIR', str(own))
    if kind == 'routes':
        module, calls, name, lines = ip_routes, ROUTES_IN_SYNC, '50-routes-proto94-table254.batch', [
            'route replace 10.244.1.0/24 via 10.89.20.12 dev ens5 scope global proto 94 table 254 metric 0']
        args = dict(route_lines=['10.244.1.0/24 via 10.89.20.12 dev ens5'], boot=True)
    else:
        module, calls, name, lines = ip_link, LINK_IN_SYNC, '10-bridge-cni0.batch', [
            'link add name cni0 type bridge', 'link set dev cni0 alias podnet.netmodes', 'link set dev cni0 mtu 1450',
            'address add 10.244.1.1/24 broadcast + dev cni0', 'link set dev cni0 up']
        args = dict(name='cni0', kind='bridge', mtu=1450, addresses=['10.244.1.1/24'], boot=True)
    header = header_line(kind == 'routes' and 'ip_routes' or 'ip_link', ip.BOOT_UNIT)
    for directory in (own, elsewhere):
        (directory / 'iproute2').mkdir(parents=True)
        (directory / 'iproute2' / name).write_bytes(DAMAGES[damage])

    path = own / 'iproute2' / name
    result, warnings = run_with_warnings(module, dict(args, boot_file=str(path)), calls, check_mode)
    assert not result.get('failed'), result
    assert result['changed'] and result['boot_file'] == dict(path=str(path), changed=True, lines=len(lines))
    assert result['commands'] == []
    assert warnings == ['%s did not start with "%s" (damaged); it is written anew from the declaration'
                        % (path, header.rstrip('\n'))]
    if check_mode:
        assert path.read_bytes() == DAMAGES[damage]
    else:
        assert path.read_text() == header + ''.join(line + '\n' for line in lines)

    path = elsewhere / 'iproute2' / name
    result, warnings = run_with_warnings(module, dict(args, boot_file=str(path)), calls, check_mode)
    assert result.get('failed') and 'was not written by podnet' in result['msg'], result
    assert path.read_bytes() == DAMAGES[damage]


def test_podnets_directory_is_resolved_through_symbolic_links(tmp_path, monkeypatch):
    (tmp_path / 'real').mkdir()
    (tmp_path / 'link').symlink_to(tmp_path / 'real')
    monkeypatch.setattr(_bootfile, 'PODNET_DIR', str(tmp_path / 'link'))
    assert _bootfile.in_podnet_dir(str(tmp_path / 'real' / 'iproute2' / 'x.batch'))
    assert not _bootfile.in_podnet_dir(str(tmp_path / 'real-not' / 'x.batch'))
    assert not _bootfile.in_podnet_dir(str(tmp_path / 'link'))


def test_header_marks_tell_podnets_boot_files_from_damaged_ones_of_the_units_patterns(tmp_path):
    (tmp_path / 'iproute2').mkdir()
    (tmp_path / 'nftables').mkdir()
    (tmp_path / 'iproute2' / '10-bridge-cni0.batch').write_text(header_line('ip_link', ip.BOOT_UNIT) + 'link ...\n')
    (tmp_path / 'iproute2' / '50-routes-proto94-table254.batch').write_bytes(b'')
    (tmp_path / 'iproute2' / '50-routes-proto94-table254.batch.tmp').write_bytes(b'x')  # not read at boot
    (tmp_path / 'iproute2' / '60-x.batch').mkdir()
    (tmp_path / 'nftables' / 'ip-podnet.nft').write_bytes(b'# Written by podnet.netmodez\xff')
    marks = _bootfile.header_marks([str(tmp_path / 'iproute2' / '*.batch'), str(tmp_path / 'nftables' / '*.nft'),
                                    str(tmp_path / 'missing' / '*.nft')])
    assert marks == [
        {'path': str(tmp_path / 'iproute2' / '10-bridge-cni0.batch'), 'podnet': True},
        {'path': str(tmp_path / 'iproute2' / '50-routes-proto94-table254.batch'), 'podnet': False},
        {'path': str(tmp_path / 'nftables' / 'ip-podnet.nft'), 'podnet': False},
    ]
