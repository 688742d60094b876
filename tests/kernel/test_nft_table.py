# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nft_table against the real kernel: the module runs inside a throwaway network namespace."""
import json
import subprocess

import pytest

from moduleexec import run_module

RULE = 'ip saddr 10.244.1.0/24 ip daddr != 10.244.0.0/16 masquerade'
OTHER_RULE = 'ip saddr 10.244.2.0/24 ip daddr != 10.244.0.0/16 masquerade'
OWNER_COMMENT = 'managed by podnet.netmodes nft_table'


def nft(netns, *args, check=True, stdin=None):
    proc = subprocess.run(['ip', 'netns', 'exec', netns, 'nft'] + list(args), capture_output=True, text=True,
                          check=False, input=stdin)
    if check and proc.returncode != 0:
        raise AssertionError('nft %s: %s' % (' '.join(args), proc.stderr))
    return proc


def table_objects(netns, table='podnet', family='ip'):
    """The table's JSON objects without metainfo, or None when it does not exist."""
    proc = nft(netns, '-j', 'list', 'table', family, table, check=False)
    if proc.returncode != 0:
        return None
    return [item for item in json.loads(proc.stdout)['nftables'] if 'metainfo' not in item]


def chain_rules(netns, chain='postrouting', table='podnet'):
    """The rules of one chain of the table, or None when the table does not exist."""
    objects = table_objects(netns, table)
    if objects is None:
        return None
    return [item['rule'] for item in objects if 'rule' in item and item['rule']['chain'] == chain]


def add_foreign_table(netns, name='foreign'):
    nft(netns, '-f', '-', stdin='table ip %s {\n chain input {\n  type filter hook input priority 0;\n'
                                '  ip saddr 192.0.2.1 drop\n }\n}\n' % name)
    return table_objects(netns, name)


def masquerade_args(path, rules=(RULE,), **extra):
    args = {'name': 'podnet', 'path': str(path),
            'chains': [{'name': 'postrouting', 'type': 'nat', 'hook': 'postrouting', 'priority': 100,
                        'rules': list(rules)}]}
    args.update(extra)
    return args


def absent_args(path, name='podnet'):
    return {'name': name, 'path': str(path), 'state': 'absent'}


@pytest.fixture
def boot_file(tmp_path):
    return tmp_path / 'nftables' / 'ip-podnet.nft'


def test_present_loads_the_table_with_its_owner_mark_and_writes_its_boot_file(netns, boot_file):
    result = run_module('nft_table', masquerade_args(boot_file), netns=netns)
    assert result['changed'] and result['kernel'] == 'missing'
    assert result['applied'] == ['kernel', 'boot_file']
    assert len(chain_rules(netns)) == 1
    assert [rule.get('comment') for rule in chain_rules(netns, 'podnet_owner')] == [OWNER_COMMENT]
    assert RULE in boot_file.read_text()


def test_rerun_reports_unchanged(netns, boot_file):
    run_module('nft_table', masquerade_args(boot_file), netns=netns)
    result = run_module('nft_table', masquerade_args(boot_file), diff=True, netns=netns)
    assert not result['changed'] and result['kernel'] == 'in_sync' and result['applied'] == []
    assert result['diff']['before'] == result['diff']['after']


def test_rule_with_its_own_comment_and_counter_reruns_unchanged(netns, boot_file):
    rules = ['ip saddr 10.244.1.0/24 counter masquerade comment "pods of node-1"']
    run_module('nft_table', masquerade_args(boot_file, rules=rules), netns=netns)
    assert chain_rules(netns)[0]['comment'] == 'pods of node-1'
    assert not run_module('nft_table', masquerade_args(boot_file, rules=rules), netns=netns)['changed']


def test_check_mode_predicts_a_new_table_and_changes_nothing(netns, boot_file):
    predicted = run_module('nft_table', masquerade_args(boot_file), check=True, diff=True, netns=netns)
    assert predicted['changed'] and predicted['applied'] == []
    assert table_objects(netns) is None
    assert not boot_file.exists()
    result = run_module('nft_table', masquerade_args(boot_file), diff=True, netns=netns)
    assert predicted['diff'] == result['diff']


def test_changed_rule_is_replaced_and_check_mode_diff_equals_the_real_one(netns, boot_file):
    run_module('nft_table', masquerade_args(boot_file), netns=netns)
    predicted = run_module('nft_table', masquerade_args(boot_file, rules=[OTHER_RULE]), check=True, diff=True,
                           netns=netns)
    result = run_module('nft_table', masquerade_args(boot_file, rules=[OTHER_RULE]), diff=True, netns=netns)
    assert predicted['changed'] and result['changed']
    assert predicted['diff'] == result['diff']
    assert '10.244.1.0' in result['diff']['before'] and '10.244.2.0' in result['diff']['after']
    assert '10.244.1.0' not in result['diff']['after']
    assert chain_rules(netns)[0]['expr'][0]['match']['right']['prefix']['addr'] == '10.244.2.0'


def test_rule_removed_behind_its_back_is_detected_and_restored(netns, boot_file):
    run_module('nft_table', masquerade_args(boot_file), netns=netns)
    nft(netns, 'flush', 'chain', 'ip', 'podnet', 'postrouting')
    predicted = run_module('nft_table', masquerade_args(boot_file), check=True, netns=netns)
    assert predicted['changed'] and predicted['kernel'] == 'differs'
    result = run_module('nft_table', masquerade_args(boot_file), netns=netns)
    assert result['changed'] and len(chain_rules(netns)) == 1


def test_rule_replaced_behind_its_back_but_keeping_its_comment_is_detected(netns, boot_file):
    run_module('nft_table', masquerade_args(boot_file), netns=netns)
    rule = chain_rules(netns)[0]
    replacement = OTHER_RULE.split()
    if 'comment' in rule:
        replacement += ['comment', '"%s"' % rule['comment']]
    nft(netns, 'replace', 'rule', 'ip', 'podnet', 'postrouting', 'handle', str(rule['handle']), *replacement)
    result = run_module('nft_table', masquerade_args(boot_file), netns=netns)
    assert result['changed'] and result['kernel'] == 'differs'
    assert chain_rules(netns)[0]['expr'][0]['match']['right']['prefix']['addr'] == '10.244.1.0'


def test_set_added_behind_its_back_is_detected_and_removed(netns, boot_file):
    run_module('nft_table', masquerade_args(boot_file), netns=netns)
    nft(netns, 'add', 'set', 'ip', 'podnet', 'extra', '{ type ipv4_addr; }')
    result = run_module('nft_table', masquerade_args(boot_file), netns=netns)
    assert result['changed'] and result['kernel'] == 'differs'
    assert not [item for item in table_objects(netns) if 'set' in item]


def test_chain_policy_changed_behind_its_back_is_detected(netns, boot_file):
    run_module('nft_table', masquerade_args(boot_file), netns=netns)
    nft(netns, 'add', 'chain', 'ip', 'podnet', 'postrouting', '{ type nat hook postrouting priority 100; policy drop; }')
    result = run_module('nft_table', masquerade_args(boot_file), netns=netns)
    assert result['changed'] and result['kernel'] == 'differs'


def test_boot_file_alone_restores_exactly_the_declared_table(netns, boot_file):
    run_module('nft_table', masquerade_args(boot_file), netns=netns)
    nft(netns, 'delete', 'table', 'ip', 'podnet')
    nft(netns, '-f', str(boot_file))
    result = run_module('nft_table', masquerade_args(boot_file), netns=netns)
    assert not result['changed'] and result['kernel'] == 'in_sync'


def test_foreign_table_is_left_alone(netns, boot_file):
    foreign = add_foreign_table(netns, 'someone_else')
    run_module('nft_table', masquerade_args(boot_file), netns=netns)
    run_module('nft_table', absent_args(boot_file), netns=netns)
    assert table_objects(netns, 'someone_else') == foreign


@pytest.mark.parametrize('check', [True, False], ids=['check_mode', 'real_run'])
@pytest.mark.parametrize('state', ['present', 'absent'])
def test_name_that_injects_a_command_is_refused_and_the_foreign_table_survives(netns, boot_file, check, state):
    foreign = add_foreign_table(netns)
    args = masquerade_args(boot_file, name='podnet; delete table ip foreign', state=state)
    result = run_module('nft_table', args, check=check, netns=netns)
    assert result.failed and 'name' in result['msg']
    assert table_objects(netns, 'foreign') == foreign


@pytest.mark.parametrize('rule', [
    RULE + '; flush table ip foreign',
    RULE + '\n}\n}\nflush table ip foreign',
    RULE + ' } } flush table ip foreign table ip x { chain y {',
    'ip saddr { 10.0.0.1 } } } delete table ip foreign',
    RULE + ' comment "a" # }',
    'meta iifname "eth0 masquerade',
    RULE + ' \\',
    RULE + ' # pods leave the cluster',
], ids=['semicolon', 'newlines', 'closing_braces', 'set_then_closing_braces', 'hash', 'open_quote', 'backslash',
        'trailing_hash_comment'])
def test_rule_text_cannot_leave_its_chain_in_the_kernel_or_the_boot_file(netns, boot_file, rule):
    foreign = add_foreign_table(netns)
    for check in (True, False):
        result = run_module('nft_table', masquerade_args(boot_file, rules=[rule]), check=check, netns=netns)
        assert result.failed and 'rule' in result['msg'], result
    assert table_objects(netns, 'foreign') == foreign
    assert table_objects(netns) is None and not boot_file.exists()


def test_rule_with_an_anonymous_set_in_braces_is_accepted(netns, boot_file):
    rule = 'ip saddr { 10.244.1.0/24, 10.244.3.0/24 } ip daddr != 10.244.0.0/16 masquerade'
    result = run_module('nft_table', masquerade_args(boot_file, rules=[rule]), netns=netns)
    assert result['changed'] and not result.failed
    assert not run_module('nft_table', masquerade_args(boot_file, rules=[rule]), netns=netns)['changed']


@pytest.mark.parametrize('state', ['present', 'absent'])
def test_same_named_table_of_another_owner_is_refused(netns, tmp_path, state):
    # iptables-nft keeps its tables as `table ip nat` / `table ip filter`: a user naming podnet's table `nat`
    # must not take them over, nor delete them with state=absent.
    theirs = add_foreign_table(netns, 'nat')
    args = masquerade_args(tmp_path / 'ip-nat.nft', name='nat', state=state)
    for check in (True, False):
        result = run_module('nft_table', args, check=check, netns=netns)
        assert result.failed and 'not podnet' in result['msg'] and result['kernel'] == 'foreign'
    assert table_objects(netns, 'nat') == theirs
    assert not (tmp_path / 'ip-nat.nft').exists()


def test_table_written_by_podnet_0_1_is_adopted_and_gets_the_mark(netns, boot_file):
    nft(netns, '-f', '-', stdin='table ip podnet {\n chain postrouting {\n'
                                '  type nat hook postrouting priority 100; policy accept;\n'
                                '  %s comment "podnet:0123456789abcdef"\n }\n}\n' % RULE)
    result = run_module('nft_table', masquerade_args(boot_file), netns=netns)
    assert result['changed'] and not result.failed
    assert [rule.get('comment') for rule in chain_rules(netns, 'podnet_owner')] == [OWNER_COMMENT]


def test_boot_file_of_someone_else_is_neither_overwritten_nor_deleted(netns, boot_file):
    boot_file.parent.mkdir(parents=True)
    boot_file.write_text('table ip theirs {\n}\n')
    for state in ('present', 'absent'):
        result = run_module('nft_table', masquerade_args(boot_file, state=state), netns=netns)
        assert result.failed and 'not written by podnet' in result['msg']
    assert boot_file.read_text() == 'table ip theirs {\n}\n'
    assert table_objects(netns) is None


def test_absent_removes_table_and_boot_file_then_reports_unchanged(netns, boot_file):
    run_module('nft_table', masquerade_args(boot_file), netns=netns)
    predicted = run_module('nft_table', absent_args(boot_file), check=True, diff=True, netns=netns)
    result = run_module('nft_table', absent_args(boot_file), diff=True, netns=netns)
    assert result['changed'] and result['applied'] == ['kernel', 'boot_file']
    assert predicted['diff'] == result['diff'] and result['diff']['after'] == ''
    assert table_objects(netns) is None and not boot_file.exists()
    again = run_module('nft_table', absent_args(boot_file), netns=netns)
    assert not again['changed']


def test_failed_boot_file_write_after_the_load_reports_changed_and_what_was_applied(netns, tmp_path):
    blocker = tmp_path / 'not_a_directory'
    blocker.write_text('')
    result = run_module('nft_table', masquerade_args(blocker / 'ip-podnet.nft'), netns=netns)
    assert result.failed and result['changed'] is True and result['applied'] == ['kernel']
    assert len(chain_rules(netns)) == 1


def test_rule_nft_rejects_fails_with_nft_message_in_check_mode_and_loads_nothing(netns, boot_file):
    bad = masquerade_args(boot_file, rules=['ip saddr 10.244.1.0/33 masquerade'])
    for check in (True, False):
        result = run_module('nft_table', bad, check=check, netns=netns)
        assert result.failed and 'nft refused' in result['msg']
    assert table_objects(netns) is None and not boot_file.exists()
