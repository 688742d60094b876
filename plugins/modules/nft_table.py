#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: podnet.netmodes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: nft_table
short_description: Own one nftables table, in the kernel and in the file that restores it at boot
description:
  - Declares the chains and rules of one nftables table that podnet owns, loads it into the kernel
    atomically (the table is deleted and re-created in one C(nft -f) transaction) and writes the same
    text to O(path), which C(podnet-nftables.service) loads at boot.
  - Each rule is loaded with a comment holding a fingerprint of its text, so the module can tell from
    C(nft -j) output alone whether the kernel still holds exactly the declared rules.
  - Tables of other owners are never read or changed.
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
        description: Rule statements in nft syntax, one per item, without a comment.
        type: list
        elements: str
        default: []
  path:
    description:
      - File that holds the table for boot. Defaults to C(/etc/podnet/nftables/<family>-<name>.nft).
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
  platform:
    support: full
    platforms: posix
requirements:
  - nft (nftables) on the target
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
  description: Whether the kernel held the declared table before the run (C(in_sync), C(differs), C(missing)).
  returned: always
  type: str
  sample: differs
path:
  description: The boot file of the table.
  returned: always
  type: str
  sample: /etc/podnet/nftables/ip-podnet.nft
'''

import hashlib
import json
import os

from ansible.module_utils.basic import AnsibleModule

MARK = 'podnet:'


def fingerprint(rule):
    return MARK + hashlib.sha256(rule.encode('utf-8')).hexdigest()[:16]


def render(family, name, chains):
    # Creating then deleting the table first makes the load one atomic replace whether or not it exists.
    lines = ['table %s %s' % (family, name), 'delete table %s %s' % (family, name),
             'table %s %s {' % (family, name)]
    for chain in chains:
        lines.append('  chain %s {' % chain['name'])
        if chain.get('type'):
            lines.append('    type %s hook %s priority %d; policy %s;'
                         % (chain['type'], chain['hook'], chain['priority'], chain['policy']))
        for rule in chain['rules']:
            lines.append('    %s comment "%s"' % (rule, fingerprint(rule)))
        lines.append('  }')
    lines.append('}')
    return '\n'.join(lines) + '\n'


def desired_shape(chains):
    shape = {}
    for chain in chains:
        base = None
        if chain.get('type'):
            base = (chain['type'], chain['hook'], chain['priority'], chain['policy'])
        shape[chain['name']] = (base, [fingerprint(rule) for rule in chain['rules']])
    return shape


def kernel_shape(module, nft, family, name):
    rc, out, err = module.run_command([nft, '-j', 'list', 'table', family, name])
    if rc != 0:
        return None
    shape = {}
    for item in json.loads(out).get('nftables', []):
        if 'chain' in item:
            chain = item['chain']
            base = None
            if 'hook' in chain:
                base = (chain['type'], chain['hook'], chain['prio'], chain['policy'])
            shape[chain['name']] = (base, [])
        elif 'rule' in item:
            rule = item['rule']
            shape.setdefault(rule['chain'], (None, []))[1].append(rule.get('comment', ''))
    return shape


def read_file(path):
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return handle.read()


def validate_chains(module, chains):
    for chain in chains:
        if chain.get('type') and not chain.get('hook'):
            module.fail_json(msg="chain '%s' has type '%s' but no hook; a base chain needs both"
                             % (chain['name'], chain['type']))
        for rule in chain['rules']:
            if 'comment' in rule.split() or '\n' in rule:
                module.fail_json(msg="rule '%s' in chain '%s' must be one line without a comment: "
                                     "podnet writes the comment itself" % (rule, chain['name']))


def main():
    chain_spec = dict(
        name=dict(type='str', required=True),
        type=dict(type='str', choices=['filter', 'nat', 'route']),
        hook=dict(type='str', choices=['prerouting', 'input', 'forward', 'output', 'postrouting']),
        priority=dict(type='int', default=0),
        policy=dict(type='str', choices=['accept', 'drop'], default='accept'),
        rules=dict(type='list', elements='str', default=[]),
    )
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            family=dict(type='str', choices=['ip', 'ip6', 'inet'], default='ip'),
            chains=dict(type='list', elements='dict', options=chain_spec, default=[]),
            path=dict(type='path'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    family, name, chains = params['family'], params['name'], params['chains']
    path = params['path'] or '/etc/podnet/nftables/%s-%s.nft' % (family, name)
    validate_chains(module, chains)
    nft = module.get_bin_path('nft', required=True)

    actual = kernel_shape(module, nft, family, name)
    old_text = read_file(path)
    if params['state'] == 'absent':
        kernel_state = 'missing' if actual is None else 'differs'
        changed = actual is not None or old_text is not None
        new_text = None
    else:
        new_text = render(family, name, chains)
        kernel_state = 'missing' if actual is None else (
            'in_sync' if actual == desired_shape(chains) else 'differs')
        changed = kernel_state != 'in_sync' or old_text != new_text

    result = dict(changed=changed, kernel=kernel_state, path=path)
    if module._diff:
        result['diff'] = dict(
            before_header=path, after_header=path,
            before=(old_text or '') + ('' if kernel_state == 'in_sync' else '# kernel: %s\n' % kernel_state),
            after=new_text or '')
    if not changed or module.check_mode:
        module.exit_json(**result)

    if params['state'] == 'absent':
        if actual is not None:
            module.run_command([nft, 'delete', 'table', family, name], check_rc=True)
        if old_text is not None:
            os.unlink(path)
        module.exit_json(**result)

    if kernel_state != 'in_sync':
        rc, out, err = module.run_command([nft, '-f', '-'], data=new_text, binary_data=True)
        if rc != 0:
            module.fail_json(msg='nft refused the table %s %s: %s' % (family, name, err.strip()),
                             ruleset=new_text)
    if old_text != new_text:
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        tmp = path + '.tmp'
        with open(tmp, 'w') as handle:
            handle.write(new_text)
        module.atomic_move(tmp, path)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
