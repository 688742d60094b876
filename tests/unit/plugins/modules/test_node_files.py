# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""node_files against a temporary directory: what is written, what changed reports, and that check mode and
--diff predict the real run exactly. /proc/sys is stood in for by a directory of the same shape."""
import os
import stat
from unittest import mock

import pytest

from harness import run_module

from ansible_collections.podnet.netmodes.plugins.modules import node_files


@pytest.fixture
def proc(tmp_path):
    root = tmp_path / 'proc-sys'
    (root / 'net' / 'ipv4' / 'conf' / 'all').mkdir(parents=True)
    (root / 'net' / 'ipv4' / 'ip_forward').write_text('0\n')
    (root / 'net' / 'ipv4' / 'conf' / 'all' / 'rp_filter').write_text('2\n')
    (root / 'net' / 'ipv4' / 'ip_local_port_range').write_text('32768\t60999\n')
    with mock.patch.object(node_files, 'PROC_SYS', str(root)):
        yield root


def declaration(tmp_path):
    return {
        'directories': [{'path': str(tmp_path / 'etc' / 'facts.d')}],
        'files': [{'path': str(tmp_path / 'etc' / 'facts.d' / 'podnet.fact'), 'content': '{"pod_cidr": "x"}\n'},
                  {'path': str(tmp_path / 'unit.service'), 'content': '[Unit]\n', 'mode': '0600'}],
        'sysctl': {'net.ipv4.ip_forward': 1, 'net.ipv4.conf.all.rp_filter': 2},
    }


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_first_run_writes_everything_and_check_mode_predicts_it_without_writing(tmp_path, proc):
    args = declaration(tmp_path)
    predicted, _ = run_module(node_files, args, check_mode=True, diff_mode=True)
    assert not (tmp_path / 'etc').exists()
    assert (proc / 'net' / 'ipv4' / 'ip_forward').read_text() == '0\n'
    done, _ = run_module(node_files, args, diff_mode=True)
    for result in (predicted, done):
        assert result['changed'] is True
        assert result['directories'] == [str(tmp_path / 'etc' / 'facts.d')]
        assert result['files'] == [str(tmp_path / 'etc' / 'facts.d' / 'podnet.fact'), str(tmp_path / 'unit.service')]
        assert result['sysctl'] == {'net.ipv4.ip_forward': {'before': '0', 'after': '1'}}
    assert predicted['diff'] == done['diff']
    assert (tmp_path / 'etc' / 'facts.d' / 'podnet.fact').read_text() == '{"pod_cidr": "x"}\n'
    assert mode_of(tmp_path / 'etc' / 'facts.d') == 0o755
    assert mode_of(tmp_path / 'etc' / 'facts.d' / 'podnet.fact') == 0o644
    assert mode_of(tmp_path / 'unit.service') == 0o600
    assert (proc / 'net' / 'ipv4' / 'ip_forward').read_text().strip() == '1'


def test_rerun_reports_no_change_and_an_empty_diff(tmp_path, proc):
    args = declaration(tmp_path)
    run_module(node_files, args)
    for check_mode in (True, False):
        result, _ = run_module(node_files, args, check_mode=check_mode, diff_mode=True)
        assert result['changed'] is False
        assert result['diff'] == [] and result['files'] == [] and result['sysctl'] == {}


def test_changed_content_is_replaced_and_shown_as_text_diff(tmp_path, proc):
    args = declaration(tmp_path)
    run_module(node_files, args)
    fact = tmp_path / 'etc' / 'facts.d' / 'podnet.fact'
    fact.write_text('old\n')
    predicted, _ = run_module(node_files, args, check_mode=True, diff_mode=True)
    assert fact.read_text() == 'old\n'
    done, _ = run_module(node_files, args, diff_mode=True)
    assert predicted['diff'] == done['diff'] == [
        {'before_header': str(fact), 'after_header': str(fact), 'before': 'old\n', 'after': '{"pod_cidr": "x"}\n'}]
    assert done['files'] == [str(fact)] and fact.read_text() == '{"pod_cidr": "x"}\n'


def test_a_wrong_mode_alone_is_fixed_and_reported_like_the_file_module(tmp_path, proc):
    args = declaration(tmp_path)
    run_module(node_files, args)
    os.chmod(str(tmp_path / 'etc' / 'facts.d'), 0o700)
    os.chmod(str(tmp_path / 'unit.service'), 0o644)
    predicted, _ = run_module(node_files, args, check_mode=True, diff_mode=True)
    assert mode_of(tmp_path / 'unit.service') == 0o644
    done, _ = run_module(node_files, args, diff_mode=True)
    assert predicted['diff'] == done['diff'] == [
        {'before': {'path': str(tmp_path / 'etc' / 'facts.d'), 'mode': '0700'},
         'after': {'path': str(tmp_path / 'etc' / 'facts.d'), 'mode': '0755'}},
        {'before': {'path': str(tmp_path / 'unit.service'), 'mode': '0644'},
         'after': {'path': str(tmp_path / 'unit.service'), 'mode': '0600'}}]
    assert done['directories'] == [str(tmp_path / 'etc' / 'facts.d')]
    assert done['files'] == [str(tmp_path / 'unit.service')]
    assert mode_of(tmp_path / 'etc' / 'facts.d') == 0o755 and mode_of(tmp_path / 'unit.service') == 0o600


def test_multi_field_parameter_compares_fields_not_whitespace(tmp_path, proc):
    same, _ = run_module(node_files, {'sysctl': {'net.ipv4.ip_local_port_range': '32768 60999'}})
    assert same['changed'] is False
    other, _ = run_module(node_files, {'sysctl': {'net.ipv4.ip_local_port_range': '1024  65000'}})
    assert other['sysctl'] == {'net.ipv4.ip_local_port_range': {'before': '32768 60999', 'after': '1024 65000'}}
    assert (proc / 'net' / 'ipv4' / 'ip_local_port_range').read_text() == '1024 65000'


def test_unknown_parameter_and_a_directory_in_a_files_path_are_refused(tmp_path, proc):
    unknown, _ = run_module(node_files, {'sysctl': {'net.ipv4.no_such_thing': 1}})
    assert unknown['failed'] and 'net.ipv4.no_such_thing' in unknown['msg']
    (tmp_path / 'adir').mkdir()
    clash, _ = run_module(node_files, {'files': [{'path': str(tmp_path / 'adir'), 'content': 'x'}]})
    assert clash['failed'] and 'not a regular file' in clash['msg']
    relative, _ = run_module(node_files, {'files': [{'path': 'relative/file', 'content': 'x'}]})
    assert relative['failed'] and 'not absolute' in relative['msg']


@pytest.mark.parametrize('name, expected', [
    ('net.ipv4.ip_forward', '/proc/sys/net/ipv4/ip_forward'),
    ('net/ipv4/conf/eth0.100/rp_filter', '/proc/sys/net/ipv4/conf/eth0.100/rp_filter'),
])
def test_sysctl_names_map_to_proc_sys_as_sysctl_reads_them(name, expected):
    assert node_files.sysctl_path(name, '/proc/sys') == expected


def test_exists_reports_paths_without_touching_them_in_both_modes(tmp_path, proc):
    (tmp_path / 'there').write_text('x')
    os.symlink(str(tmp_path / 'nowhere'), str(tmp_path / 'dangling'))
    paths = [str(tmp_path / 'there'), str(tmp_path / 'dangling'), str(tmp_path / 'absent')]
    for check_mode in (True, False):
        result, _ = run_module(node_files, {'exists': paths}, check_mode=check_mode)
        assert result['changed'] is False
        assert result['exists'] == {paths[0]: True, paths[1]: True, paths[2]: False}
    assert not (tmp_path / 'absent').exists()
