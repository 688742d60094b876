# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The nft runner and what podnet knows about one nftables table: its script, its JSON and its owner mark.

nft joins its arguments and parses them as one command line, and reads a script's ';', newlines and '#' as
syntax, so every name and rule that reaches nft here has passed the rule book first (``nft_name_problem``,
``nft_rule_problem``): a rule stays one rule inside its chain block.

The kernel state is read as ``nft -j`` JSON. What a declaration *will* look like in the kernel is learnt the
same way: the script is loaded into a scratch network namespace that exists only for one nft call, and
listed there. So the comparison covers the whole table (every rule's expressions, sets, chains), not a
fingerprint, and check mode knows the exact result of the real run.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re
import sys

from ansible_collections.podnet.netmodes.plugins.module_utils._bootfile import header_line
from ansible_collections.podnet.netmodes.plugins.module_utils._runner import CommandRunner

# nft 1.0.6 loads table comments but does not show them in its JSON, so the mark that proves a table is
# podnet's is a rule with a fixed comment in a regular chain that nothing jumps to.
OWNER_CHAIN = 'podnet_owner'
OWNER_COMMENT = 'managed by podnet.netmodes nft_table'
# Tables written by podnet 0.1 carry no owner chain; each of their rules has this fingerprint comment.
LEGACY_RULE_COMMENT = re.compile(r'^podnet:[0-9a-f]{16}$')

BOOT_FILE_HEADER = header_line('nft_table', 'podnet-nftables.service', verb='loaded')

MISSING_TABLE_ERROR = 'Error: No such file or directory'

# Runs in a child of the module: a new network namespace that dies with the process, the script loaded
# there, the table listed. Nothing reaches the host's ruleset.
SCRATCH_LOAD_SCRIPT = '''
import ctypes, os, subprocess, sys
CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(CLONE_NEWNET) != 0:
    sys.stderr.write("unshare(CLONE_NEWNET) failed: %s\\n" % os.strerror(ctypes.get_errno()))
    sys.exit(125)
nft, family, name = sys.argv[1:4]
load = subprocess.run([nft, "-f", "-"], stdin=sys.stdin)
if load.returncode != 0:
    sys.exit(load.returncode)
os.execv(nft, [nft, "-j", "list", "table", family, name])
'''


class NftRunner(CommandRunner):
    """Every nft call of podnet."""

    tool = 'nft'

    def __init__(self, module, binary=None, python=None):
        super(NftRunner, self).__init__(module, binary)
        self.scratch = CommandRunner(module, binary=python or sys.executable)

    def list_table(self, family, name):
        """The table's JSON objects, or None when nft says the table does not exist. Any other failure fails."""
        args = ['-j', 'list', 'table', family, name]
        rc, out, err = self.run(args, expected_rcs=(0, 1))
        if rc == 1:
            if err.strip().splitlines()[:1] == [MISSING_TABLE_ERROR]:
                return None
            self.fail([self.binary] + args, rc, out, err)
        return self.parse_json([self.binary] + args, rc, out, err)

    def objects_after_loading(self, script, family, name):
        """The JSON objects of table FAMILY NAME after loading ``script`` into an empty scratch namespace."""
        args = ['-c', SCRATCH_LOAD_SCRIPT, self.binary, family, name]
        rc, out, err = self.scratch.run(args, data=script, expected_rcs=range(0, 256))
        if rc != 0:
            self.scratch.fail([self.scratch.binary] + args, rc, out, err,
                              msg='nft refused the table %s %s: %s' % (family, name, (err or out).strip()),
                              ruleset=script)
        return self.parse_json(['nft', '-j', 'list', 'table', family, name], rc, out, err)

    def load(self, script):
        """Load ``script`` (one atomic nft transaction)."""
        rc, out, err = self.run(['-f', '-'], data=script, expected_rcs=range(0, 256))
        if rc != 0:
            self.fail([self.binary, '-f', '-'], rc, out, err, ruleset=script, changed=False,
                      msg='nft refused the ruleset: %s' % (err or out).strip())

    def delete_table(self, family, handle):
        """Delete the table with this handle: the one that was read and proven ours, not a same-named newcomer."""
        self.run(['delete', 'table', family, 'handle', str(int(handle))])

    def parse_json(self, cmd, rc, out, err):
        try:
            items = json.loads(out)['nftables']
        except (ValueError, KeyError, TypeError):
            self.fail(cmd, rc, out, err, msg='%s printed no nftables JSON (is nft built with JSON support?): %s'
                      % (' '.join(cmd), (err or out).strip()[:300]))
        return [item for item in items if 'metainfo' not in item]


def render_table(family, name, chains):
    """The nft script that replaces table FAMILY NAME atomically with the declared chains and the owner mark.

    Every value must have passed the rule book: this only places them.
    """
    # Adding then deleting the table first makes the load one atomic replace whether or not it exists.
    lines = [BOOT_FILE_HEADER.rstrip('\n'),
             'table %s %s' % (family, name), 'delete table %s %s' % (family, name), 'table %s %s {' % (family, name),
             '  chain %s {' % OWNER_CHAIN, '    return comment "%s"' % OWNER_COMMENT, '  }']
    for chain in chains:
        lines.append('  chain %s {' % chain['name'])
        if chain.get('type'):
            lines.append('    type %s hook %s priority %d; policy %s;'
                         % (chain['type'], chain['hook'], int(chain['priority']), chain['policy']))
        for rule in chain['rules']:
            lines.append('    %s' % rule)
        lines.append('  }')
    lines.append('}')
    return '\n'.join(lines) + '\n'


def owner(objects):
    """'podnet' when the table carries podnet's mark, 'podnet-0.1' for a table podnet 0.1 wrote, else None."""
    rules = [item['rule'] for item in objects if 'rule' in item]
    if any(rule.get('chain') == OWNER_CHAIN and rule.get('comment') == OWNER_COMMENT for rule in rules):
        return 'podnet'
    if rules and all(LEGACY_RULE_COMMENT.match(str(rule.get('comment', ''))) for rule in rules):
        return 'podnet-0.1'
    return None


def table_handle(objects):
    for item in objects:
        if 'table' in item:
            return item['table']['handle']
    return None


_VOLATILE_KEYS = frozenset(['handle', 'packets', 'bytes', 'used', 'expires'])


def _without_volatile(value):
    """Handles, counter and quota readings and element expiry change without anyone changing the table."""
    if isinstance(value, dict):
        return dict((key, _without_volatile(item)) for key, item in value.items() if key not in _VOLATILE_KEYS)
    if isinstance(value, list):
        return [_without_volatile(item) for item in value]
    return value


def _compact(value):
    return json.dumps(value, sort_keys=True, separators=(',', ':'))


def object_lines(objects):
    """The table as diff lines: one per table, chain, rule (numbered within its chain) and other object."""
    lines = []
    rule_numbers = {}
    for item in objects:
        kind, body = next(iter(item.items()))
        body = _without_volatile(body)
        if kind == 'table':
            lines.append('table %s %s' % (body.get('family'), body.get('name')))
        elif kind == 'chain':
            lines.append(_chain_line(body))
        elif kind == 'rule':
            chain = body.get('chain')
            rule_numbers[chain] = rule_numbers.get(chain, 0) + 1
            line = 'rule %s %03d: %s' % (chain, rule_numbers[chain], _compact(body.get('expr', [])))
            if 'comment' in body:
                line += ' comment %s' % json.dumps(body['comment'])
            lines.append(line)
        else:
            rest = dict((key, val) for key, val in body.items() if key not in ('family', 'table', 'name'))
            lines.append('%s %s: %s' % (kind, body.get('name', ''), _compact(rest)))
    return lines


def _chain_line(body):
    rest = dict((key, val) for key, val in body.items()
                if key not in ('family', 'table', 'name', 'type', 'hook', 'prio', 'policy'))
    line = 'chain %s' % body.get('name')
    if 'hook' in body:
        line += ': type %s hook %s priority %s policy %s' % (body.get('type'), body.get('hook'), body.get('prio'),
                                                             body.get('policy'))
    if rest:
        line += ' %s' % _compact(rest)
    return line


def is_boot_file_of(text, family, name):
    """Whether a boot file was written by nft_table (or by podnet 0.1, which wrote no header) for this table."""
    if text is None:
        return True
    legacy_start = 'table %s %s\ndelete table %s %s\n' % (family, name, family, name)
    return text.startswith(BOOT_FILE_HEADER) or text.startswith(legacy_start)
