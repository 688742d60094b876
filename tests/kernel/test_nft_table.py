"""nft_table against the real kernel: the module runs inside a throwaway network namespace."""
import json
import subprocess

import pytest

from moduleexec import run_module

RULE = 'ip saddr 10.244.1.0/24 ip daddr != 10.244.0.0/16 masquerade'
OTHER_RULE = 'ip saddr 10.244.2.0/24 ip daddr != 10.244.0.0/16 masquerade'


def nft(netns, *args, check=True):
    proc = subprocess.run(['ip', 'netns', 'exec', netns, 'nft'] + list(args), capture_output=True, text=True,
                          check=False)
    if check and proc.returncode != 0:
        raise AssertionError('nft %s: %s' % (' '.join(args), proc.stderr))
    return proc


def kernel_rules(netns, table='podnet'):
    """Rule comments of the table, or None when the table does not exist."""
    proc = nft(netns, '-j', 'list', 'table', 'ip', table, check=False)
    if proc.returncode != 0:
        return None
    items = json.loads(proc.stdout)['nftables']
    return [item['rule'].get('comment') for item in items if 'rule' in item]


def masquerade_args(path, rules=(RULE,), **extra):
    args = {'name': 'podnet', 'path': str(path),
            'chains': [{'name': 'postrouting', 'type': 'nat', 'hook': 'postrouting', 'priority': 100,
                        'rules': list(rules)}]}
    args.update(extra)
    return args


@pytest.fixture
def boot_file(tmp_path):
    return tmp_path / 'nftables' / 'ip-podnet.nft'


def test_present_loads_the_table_and_writes_its_boot_file(netns, boot_file):
    result = run_module('nft_table', masquerade_args(boot_file), netns=netns)
    assert result['changed'] and result['kernel'] == 'missing'
    assert len(kernel_rules(netns)) == 1
    assert RULE in boot_file.read_text()


def test_rerun_reports_unchanged(netns, boot_file):
    run_module('nft_table', masquerade_args(boot_file), netns=netns)
    result = run_module('nft_table', masquerade_args(boot_file), netns=netns)
    assert not result['changed'] and result['kernel'] == 'in_sync'


def test_check_mode_predicts_a_new_table_and_changes_nothing(netns, boot_file):
    result = run_module('nft_table', masquerade_args(boot_file), check=True, netns=netns)
    assert result['changed']
    assert kernel_rules(netns) is None
    assert not boot_file.exists()


def test_changed_rule_is_replaced_and_diff_shows_both_texts(netns, boot_file):
    run_module('nft_table', masquerade_args(boot_file), netns=netns)
    before = kernel_rules(netns)
    predicted = run_module('nft_table', masquerade_args(boot_file, rules=[OTHER_RULE]), check=True, diff=True,
                           netns=netns)
    result = run_module('nft_table', masquerade_args(boot_file, rules=[OTHER_RULE]), diff=True, netns=netns)
    assert predicted['changed'] and result['changed']
    assert predicted['diff'] == result['diff']
    assert RULE in result['diff']['before'] and OTHER_RULE in result['diff']['after']
    assert kernel_rules(netns) != before and len(kernel_rules(netns)) == 1


def test_rule_removed_behind_its_back_is_detected_and_restored(netns, boot_file):
    run_module('nft_table', masquerade_args(boot_file), netns=netns)
    nft(netns, 'flush', 'chain', 'ip', 'podnet', 'postrouting')
    predicted = run_module('nft_table', masquerade_args(boot_file), check=True, netns=netns)
    assert predicted['changed'] and predicted['kernel'] == 'differs'
    result = run_module('nft_table', masquerade_args(boot_file), netns=netns)
    assert result['changed'] and len(kernel_rules(netns)) == 1


def test_boot_file_alone_restores_exactly_the_declared_table(netns, boot_file):
    run_module('nft_table', masquerade_args(boot_file), netns=netns)
    nft(netns, 'delete', 'table', 'ip', 'podnet')
    nft(netns, '-f', str(boot_file))
    result = run_module('nft_table', masquerade_args(boot_file), netns=netns)
    assert not result['changed'] and result['kernel'] == 'in_sync'


def test_foreign_table_is_left_alone(netns, boot_file):
    nft(netns, 'add', 'table', 'ip', 'someone_else')
    nft(netns, 'add', 'chain', 'ip', 'someone_else', 'input')
    run_module('nft_table', masquerade_args(boot_file), netns=netns)
    run_module('nft_table', {'name': 'podnet', 'path': str(boot_file), 'state': 'absent'}, netns=netns)
    assert nft(netns, '-j', 'list', 'table', 'ip', 'someone_else', check=False).returncode == 0


def test_absent_removes_table_and_boot_file_then_reports_unchanged(netns, boot_file):
    run_module('nft_table', masquerade_args(boot_file), netns=netns)
    result = run_module('nft_table', {'name': 'podnet', 'path': str(boot_file), 'state': 'absent'}, netns=netns)
    assert result['changed']
    assert kernel_rules(netns) is None and not boot_file.exists()
    again = run_module('nft_table', {'name': 'podnet', 'path': str(boot_file), 'state': 'absent'}, netns=netns)
    assert not again['changed']


def test_rule_with_its_own_comment_is_refused(netns, boot_file):
    result = run_module('nft_table', masquerade_args(boot_file, rules=[RULE + ' comment "mine"']), netns=netns)
    assert result.failed and 'comment' in result['msg']
    assert kernel_rules(netns) is None


def test_rule_nft_rejects_fails_with_nft_message_and_loads_nothing(netns, boot_file):
    result = run_module('nft_table', masquerade_args(boot_file, rules=['ip saddr 10.244.1.0/33 masquerade']),
                        netns=netns)
    assert result.failed and 'nft refused' in result['msg']
    assert kernel_rules(netns) is None and not boot_file.exists()
