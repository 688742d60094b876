# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""node_files against a temporary directory: what is written, what changed reports, and that check mode and
--diff predict the real run exactly. /proc/sys is stood in for by a directory of the same shape."""
import os
import stat
import subprocess
from unittest import mock

import pytest

import harness
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


@pytest.fixture
def real_commands():
    """validate runs real programs: the harness's canned commands answer by running them."""
    def run(self, args, data=None, **kwargs):
        try:
            done = subprocess.run([str(arg) for arg in args], capture_output=True, text=True,
                                  env=dict(os.environ, **(kwargs.get('environ_update') or {})))
        except OSError as caught:  # AnsibleModule.run_command fails the module here; a failure either way
            return caught.errno, '', str(caught)
        return done.returncode, done.stdout, done.stderr
    with mock.patch.object(harness.CannedCommands, '__call__', run):
        yield


def refusing_validator(tmp_path):
    """A validator that refuses any content with the word 'bad' in it, and records each file it was shown."""
    script = tmp_path / 'check-config'
    script.write_text('#!/bin/sh\necho "$1" >> %s\nif grep -q bad "$1"; then echo "line 1: bad word" >&2; exit 1; fi\n'
                      % (tmp_path / 'shown'))
    os.chmod(str(script), 0o755)
    return '%s %%s' % script


def test_validate_refuses_bad_content_in_both_modes_and_leaves_the_file(tmp_path, proc, real_commands):
    target = tmp_path / 'bird.conf'
    target.write_text('good\n')
    args = {'files': [{'path': str(target), 'content': 'bad\n', 'validate': refusing_validator(tmp_path)}]}
    for check_mode in (True, False):
        result, _ = run_module(node_files, args, check_mode=check_mode)
        assert result['failed'] and 'refused the new content' in result['msg'] and 'bad word' in result['msg']
        assert result['rc'] == 1
    assert target.read_text() == 'good\n'
    shown = (tmp_path / 'shown').read_text().split()
    assert len(shown) == 2 and not any(os.path.exists(path) for path in shown)


def test_validate_accepts_good_content_and_runs_only_when_the_content_differs(tmp_path, proc, real_commands):
    target = tmp_path / 'bird.conf'
    args = {'files': [{'path': str(target), 'content': 'good\n', 'validate': refusing_validator(tmp_path)}]}
    done, _ = run_module(node_files, args)
    assert done['changed'] and target.read_text() == 'good\n'
    again, _ = run_module(node_files, args)
    assert again['changed'] is False
    assert len((tmp_path / 'shown').read_text().split()) == 1


def test_validate_without_placeholder_is_refused_before_anything_is_written(tmp_path, proc, real_commands):
    target = tmp_path / 'bird.conf'
    result, _ = run_module(node_files, {'files': [{'path': str(target), 'content': 'x', 'validate': '/bin/true'}]})
    assert result['failed'] and 'no %s' in result['msg'] and not target.exists()


def test_check_mode_skips_a_validator_that_is_not_installed_yet(tmp_path, proc, real_commands):
    args = {'files': [{'path': str(tmp_path / 'bird.conf'), 'content': 'x\n',
                       'validate': str(tmp_path / 'not-installed') + ' -p -c %s'}]}
    predicted, _ = run_module(node_files, args, check_mode=True)
    assert predicted['changed'] is True and not predicted.get('failed')
    done, _ = run_module(node_files, args)
    assert done['failed'] and not (tmp_path / 'bird.conf').exists()


def test_validate_placeholder_stays_one_argument(tmp_path, proc, real_commands):
    """Content and path never reach a shell: the command's words are split once, %s is replaced inside a word."""
    target = tmp_path / 'x; touch pwned'
    args = {'files': [{'path': str(target), 'content': '$(touch pwned2)\n', 'validate': refusing_validator(tmp_path)}]}
    done, _ = run_module(node_files, args)
    assert done['changed'] and target.read_text() == '$(touch pwned2)\n'
    assert not (tmp_path / 'pwned').exists() and not os.path.exists('pwned') and not os.path.exists('pwned2')


@pytest.mark.skipif(not os.access('/usr/sbin/bird', os.X_OK), reason='bird2 is not installed')
def test_bird_refuses_a_broken_config_through_validate(tmp_path, proc, real_commands):
    args = {'files': [{'path': str(tmp_path / 'bird.conf'), 'content': 'protocol device {\n',
                       'validate': '/usr/sbin/bird -p -c %s'}]}
    result, _ = run_module(node_files, args)
    assert result['failed'] and 'syntax error' in result['msg'] and not (tmp_path / 'bird.conf').exists()


MARK = '# Written by podnet.netmodes'


def podnet_tree(tmp_path):
    """/etc/podnet-like: two marked boot files, one foreign file, and a directory that only holds marked files."""
    top = tmp_path / 'podnet'
    (top / 'iproute2').mkdir(parents=True)
    (top / 'nftables').mkdir()
    (top / 'iproute2' / '10-bridge-cni0.batch').write_text(MARK + ' ip_link\nlink add cni0 type bridge\n')
    (top / 'nftables' / 'ip-podnet.nft').write_text(MARK + ' nft_table\ntable ip podnet {}\n')
    (top / 'iproute2' / 'admin.batch').write_text('route add 10.9.0.0/16 dev eth0\n')
    return top


def test_absent_deletes_marked_files_and_emptied_directories_and_check_mode_predicts_it(tmp_path, proc):
    top = podnet_tree(tmp_path)
    conf = tmp_path / '90-podnet.conf'
    conf.write_text(MARK + '\nnet.ipv4.ip_forward=1\n')
    args = {'absent': [{'path': str(conf), 'mark': MARK}, {'path': str(top), 'mark': MARK}]}
    predicted, _ = run_module(node_files, args, check_mode=True, diff_mode=True)
    assert conf.exists() and (top / 'nftables' / 'ip-podnet.nft').exists()
    done, _ = run_module(node_files, args, diff_mode=True)
    assert predicted == done
    assert done['changed'] is True
    assert done['removed'] == [str(conf), str(top / 'iproute2' / '10-bridge-cni0.batch'),
                               str(top / 'nftables' / 'ip-podnet.nft'), str(top / 'nftables')]
    # The foreign file stays, and so do the directories that hold it.
    assert done['kept'] == [str(top / 'iproute2' / 'admin.batch'), str(top / 'iproute2'), str(top)]
    assert not conf.exists() and not (top / 'nftables').exists()
    assert (top / 'iproute2' / 'admin.batch').read_text() == 'route add 10.9.0.0/16 dev eth0\n'
    assert {'before_header': str(conf), 'after_header': str(conf), 'before': MARK + '\nnet.ipv4.ip_forward=1\n',
            'after': ''} in done['diff']
    again, _ = run_module(node_files, args, diff_mode=True)
    assert again['changed'] is False and again['removed'] == [] and again['diff'] == []


def test_absent_keeps_a_file_without_the_mark_and_needs_a_mark_for_a_file(tmp_path, proc):
    conf = tmp_path / '90-podnet.conf'
    conf.write_text('net.ipv4.ip_forward=1\n')
    kept, _ = run_module(node_files, {'absent': [{'path': str(conf), 'mark': MARK}]})
    assert kept['changed'] is False and kept['kept'] == [str(conf)] and conf.exists()
    unmarked, _ = run_module(node_files, {'absent': [{'path': str(conf)}]})
    assert unmarked['failed'] and 'give mark' in unmarked['msg'] and conf.exists()


def test_a_directory_without_a_mark_only_loses_empty_directories(tmp_path, proc):
    top = tmp_path / 'lib-podnet'
    (top / 'cni' / 'pods' / 'gone').mkdir(parents=True)
    (top / 'cni' / 'pods' / 'web-1').mkdir()
    (top / 'cni' / 'pods' / 'web-1' / 'eth0.json').write_text('{}')
    done, _ = run_module(node_files, {'absent': [{'path': str(top)}]})
    assert done['removed'] == [str(top / 'cni' / 'pods' / 'gone')]
    assert (top / 'cni' / 'pods' / 'web-1' / 'eth0.json').exists()
    os.remove(str(top / 'cni' / 'pods' / 'web-1' / 'eth0.json'))
    done, _ = run_module(node_files, {'absent': [{'path': str(top)}]})
    assert done['changed'] is True and not top.exists()


def test_backup_keeps_the_first_original_and_absent_restores_it(tmp_path, proc):
    conf = tmp_path / 'bird' / 'bird.conf'
    conf.parent.mkdir()
    conf.write_text('# the package\'s config\n')
    os.chmod(str(conf), 0o640)
    backup = tmp_path / 'podnet' / 'bird' / 'bird.conf.before-podnet'
    write = {'files': [{'path': str(conf), 'content': '# BIRD 2 for podnet.netmodes\n', 'mode': '0640',
                        'backup': str(backup), 'mark': 'BIRD 2 for podnet.netmodes'}]}
    predicted, _ = run_module(node_files, write, check_mode=True)
    assert predicted['changed'] and not backup.exists()
    run_module(node_files, write)
    assert backup.read_text() == '# the package\'s config\n' and mode_of(backup) == 0o640
    conf.write_text('# BIRD 2 for podnet.netmodes, edited\n')
    run_module(node_files, write)
    assert backup.read_text() == '# the package\'s config\n'
    remove = {'absent': [{'path': str(conf), 'mark': 'BIRD 2 for podnet.netmodes', 'restore': str(backup)}]}
    predicted, _ = run_module(node_files, remove, check_mode=True, diff_mode=True)
    done, _ = run_module(node_files, remove, diff_mode=True)
    assert predicted == done
    assert done['removed'] == [str(conf)]
    assert done['diff'][0]['after'] == '# the package\'s config\n'
    assert conf.read_text() == '# the package\'s config\n' and not backup.exists()
    again, _ = run_module(node_files, remove)
    assert again['changed'] is False and again['kept'] == [str(conf)]


def test_backup_is_not_taken_of_a_file_that_is_podnets_own_already(tmp_path, proc):
    """A node converged before backups existed: its bird.conf is podnet's older config, not the package's."""
    conf = tmp_path / 'bird.conf'
    conf.write_text('# BIRD 2 for podnet.netmodes, older\n')
    backup = tmp_path / 'kept' / 'bird.conf.before-podnet'
    run_module(node_files, {'files': [{'path': str(conf), 'content': '# BIRD 2 for podnet.netmodes\n',
                                       'backup': str(backup), 'mark': 'BIRD 2 for podnet.netmodes'}]})
    assert conf.read_text() == '# BIRD 2 for podnet.netmodes\n' and not backup.exists()
