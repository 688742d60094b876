#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: nft_table
short_description: Own one nftables table, in the kernel and in the file that restores it at boot
description:
  - Declares the chains and rules of one nftables table that podnet owns, loads it into the kernel
    atomically (the table is deleted and re-created in one C(nft -f) transaction) and writes the same
    script to O(path), which C(podnet-nftables.service) loads at boot.
  - "Ownership: the table carries a regular chain C(podnet_owner) holding one rule with the comment
    C(managed by podnet.netmodes nft_table); nothing jumps to it, so it never sees a packet. A table of the
    same name without that mark belongs to someone else (iptables-nft's C(nat) and C(filter), firewalld,
    Docker, an admin): the module refuses to change it, and refuses to delete it with O(state=absent).
    Tables written by podnet 0.1 (every rule carries a C(podnet:<fingerprint>) comment) are adopted."
  - "Comparison: the declared script is first loaded into a scratch network namespace that exists only for
    that one C(nft) call, and its C(nft -j) listing is compared with the kernel's, object by object (table,
    chains, every rule's expressions, sets and any other object). Handles, counter and quota readings and
    set element expiry are ignored. So a replaced rule, an added set or a changed policy is seen, and check
    mode predicts the real run exactly, including nft's refusal of a bad rule."
  - "Safety: nft reads C(;), newlines and C(#) as syntax. Names must be a letter followed by letters, digits
    or C(_), and each rule must be one statement: no C(;), C(#), C(\\), C($), C('), backtick or control
    characters, balanced double quotes, and braces that never close more than they opened. So no value can
    end its chain, flush or delete another table, in the kernel or in the boot file."
  - A boot file at O(path) that podnet did not write is neither overwritten nor deleted.
version_added: 0.1.0
author:
  - podnet.netmodes maintainers (@podnet)
options:
  name:
    description: Name of the table.
    type: str
    required: true
  family:
    description: Address family of the table.
    type: str
    choices: [ip, ip6, inet]
    default: ip
  chains:
    description:
      - The chains of the table, in order. Ignored when O(state=absent).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Chain name.
        type: str
        required: true
      type:
        description: Base chain type. Omit for a regular chain.
        type: str
        choices: [filter, nat, route]
      hook:
        description: Netfilter hook of a base chain.
        type: str
        choices: [prerouting, input, forward, output, postrouting]
      priority:
        description: Numeric priority of a base chain (srcnat is 100, filter is 0).
        type: int
        default: 0
      policy:
        description: Policy of a base chain.
        type: str
        choices: [accept, drop]
        default: accept
      rules:
        description:
          - Rule statements in nft syntax, one per item, in order. A rule may carry its own C(comment).
          - Use interface names (C(iifname), C(oifname)), not indexes (C(iif), C(oif)), because rules are
            first loaded into a scratch namespace, where no interface of the host exists.
        type: list
        elements: str
        default: []
  path:
    description:
      - File that holds the table for boot. Defaults to C(/etc/podnet/nftables/<family>-<name>.nft).
      - Outside C(/etc/podnet), a file there that podnet did not write for this table is neither overwritten nor
        deleted (the module fails). Under C(/etc/podnet), podnet's own directory, such a file is podnet's own
        damaged, and it is written anew (or removed), with a warning.
    type: path
  state:
    description: Whether the table should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - "One line per object, sorted: the table, each chain, each rule (numbered within its chain, its
        expressions as nft's JSON), each other object, and the boot file's digest. Check mode shows exactly
        the diff of the real run."
  platform:
    support: full
    platforms: posix
requirements:
  - nft (nftables) with JSON support on the target; root (the scratch namespace needs C(CAP_SYS_ADMIN))
'''

EXAMPLES = r'''
- name: Masquerade pod traffic that leaves the cluster
  podnet.netmodes.nft_table:
    name: podnet
    family: ip
    chains:
      - name: postrouting
        type: nat
        hook: postrouting
        priority: 100
        rules:
          - ip saddr 10.244.1.0/24 ip daddr != 10.244.0.0/16 masquerade

- name: Remove the table and its boot file
  podnet.netmodes.nft_table:
    name: podnet
    state: absent
'''

RETURN = r'''
kernel:
  description: What the kernel held before the run, compared with the declared table (C(in_sync), C(differs),
    C(missing)).
  returned: always
  type: str
  sample: differs
path:
  description: The boot file of the table.
  returned: always
  type: str
  sample: /etc/podnet/nftables/ip-podnet.nft
applied:
  description: What the run changed, in order (C(kernel) for the table load or delete, C(boot_file) for the file);
    also returned when a later step failed.
  returned: always
  type: list
  elements: str
  sample: [kernel, boot_file]
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.podnet.netmodes.plugins.module_utils._bootfile import in_podnet_dir, read_text, summary_lines, write_text
from ansible_collections.podnet.netmodes.plugins.module_utils._diff import object_diff
from ansible_collections.podnet.netmodes.plugins.module_utils._nft import (
    OWNER_CHAIN,
    NftRunner,
    is_boot_file_of,
    object_lines,
    owner,
    render_table,
    table_handle,
)
from ansible_collections.podnet.netmodes.plugins.module_utils._rules import nft_name_problem, nft_rule_problem

CHAIN_SPEC = dict(
    name=dict(type='str', required=True),
    type=dict(type='str', choices=['filter', 'nat', 'route']),
    hook=dict(type='str', choices=['prerouting', 'input', 'forward', 'output', 'postrouting']),
    priority=dict(type='int', default=0),
    policy=dict(type='str', choices=['accept', 'drop'], default='accept'),
    rules=dict(type='list', elements='str', default=[]),
)


def declaration_problems(name, chains):
    """Every reason the declared table cannot be written as an nft script, as full sentences."""
    problems = []
    reason = nft_name_problem(name)
    if reason:
        problems.append('name %r %s' % (name, reason))
    seen = set()
    for chain in chains:
        chain_name = chain['name']
        reason = nft_name_problem(chain_name)
        if reason:
            problems.append('chain name %r %s' % (chain_name, reason))
        elif chain_name == OWNER_CHAIN:
            problems.append('chain name %r is reserved for the mark that proves the table is podnet\'s'
                            % chain_name)
        elif chain_name in seen:
            problems.append('chain %r is declared twice' % chain_name)
        seen.add(chain_name)
        if bool(chain.get('type')) != bool(chain.get('hook')):
            problems.append('chain %r needs both type and hook (a base chain) or neither (a regular chain)'
                            % chain_name)
        for rule in chain['rules']:
            reason = nft_rule_problem(rule)
            if reason:
                problems.append('rule %r in chain %r %s' % (rule, chain_name, reason))
    return problems


def refuse_foreign(module, family, name, actual):
    if actual is not None and owner(actual) is None:
        module.fail_json(msg='table %s %s exists but is not podnet\'s: it has no %s chain with podnet\'s mark, '
                             'so another owner (iptables-nft, firewalld, Docker, an admin) may hold it. Refusing to '
                             'change or delete it; choose another name.' % (family, name, OWNER_CHAIN),
                         kernel='foreign')


def refuse_foreign_boot_file(module, family, name, path, text):
    if is_boot_file_of(text, family, name):
        return
    if in_podnet_dir(path):
        # podnet's own directory: the file is podnet's, damaged; it is written anew below (its text differs).
        module.warn('%s was not written by podnet for table %s %s (damaged); it is written anew from the declaration'
                    % (path, family, name))
        return
    module.fail_json(msg='%s exists but was not written by podnet for table %s %s; refusing to overwrite or '
                         'delete it' % (path, family, name), kernel='unknown')


def kernel_state(actual_lines, desired_lines):
    if actual_lines is None:
        return 'missing'
    return 'in_sync' if sorted(actual_lines) == sorted(desired_lines) else 'differs'


def apply_steps(module, steps, result):
    """Run (label, function) steps in order; a failure still reports what was applied before it."""
    for label, step in steps:
        try:
            step()
        except (OSError, IOError) as exc:
            result.update(changed=bool(result['applied']))
            module.fail_json(msg='%s failed after applying %s: %s' % (label, result['applied'] or 'nothing', exc),
                             **result)
        result['applied'].append(label)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            family=dict(type='str', choices=['ip', 'ip6', 'inet'], default='ip'),
            chains=dict(type='list', elements='dict', options=CHAIN_SPEC, default=[]),
            path=dict(type='path'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    family, name, present = params['family'], params['name'], params['state'] == 'present'
    chains = params['chains'] if present else []
    problems = declaration_problems(name, chains)
    if problems:
        module.fail_json(msg='; '.join(problems))
    path = params['path'] or '/etc/podnet/nftables/%s-%s.nft' % (family, name)

    nft = NftRunner(module)
    actual = nft.list_table(family, name)
    refuse_foreign(module, family, name, actual)
    old_text = read_text(path)
    refuse_foreign_boot_file(module, family, name, path, old_text)

    actual_lines = None if actual is None else object_lines(actual)
    if present:
        new_text = render_table(family, name, chains)
        desired_lines = object_lines(nft.objects_after_loading(new_text, family, name))
        state = kernel_state(actual_lines, desired_lines)
    else:
        new_text, desired_lines = None, []
        state = 'missing' if actual is None else 'differs'
    kernel_changes = state != ('in_sync' if present else 'missing')
    file_changes = old_text != new_text

    result = dict(changed=kernel_changes or file_changes, kernel=state, path=path, applied=[])
    if module._diff:
        result['diff'] = object_diff('nft table %s %s' % (family, name),
                                     (actual_lines or []) + summary_lines(path, old_text),
                                     desired_lines + summary_lines(path, new_text))
    if module.check_mode or not result['changed']:
        module.exit_json(**result)

    steps = []
    if kernel_changes:
        if present:
            steps.append(('kernel', lambda: nft.load(new_text)))
        else:
            steps.append(('kernel', lambda: nft.delete_table(family, table_handle(actual))))
    if file_changes:
        steps.append(('boot_file', lambda: write_text(module, path, new_text) if present else os.unlink(path)))
    apply_steps(module, steps, result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
