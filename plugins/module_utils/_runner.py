# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How podnet's modules call a binary: found once, C locale, argv lists only, one policy for exits.

Each tool (ip, nft, CNI plugins) has a runner built on ``CommandRunner``; modules never call
``run_command`` themselves. A non-zero exit is either a failure that names the command, rc and stderr, or
one of the exit codes the caller named as expected and handles.

Lines for a tool's script input (``ip -batch -``, ``nft -f -``) are built with ``script_line``, which refuses
any value that the tool could read as more than one argument or as a comment.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.podnet.netmodes.plugins.module_utils._rules import token_problem

C_LOCALE = {'LANG': 'C', 'LC_ALL': 'C', 'LC_MESSAGES': 'C'}


class UnsafeValue(ValueError):
    """A value that would be re-parsed as more than one argument by the tool reading the script."""


def script_line(*words):
    """Join ``words`` into one script line; every word that is not a str literal of ours is checked.

    Pass podnet's own keywords as plain strings and every value that came from outside wrapped in ``Value``:
    ``script_line('route', 'replace', Value(dest, 'dest'), 'dev', Value(dev, 'dev'))``.
    """
    parts = []
    for word in words:
        if isinstance(word, Value):
            parts.append(word.text())
        else:
            parts.append(str(word))
    return ' '.join(parts)


class Value(object):
    """A value from a module argument or from the kernel, placed as one word of a script line."""

    __slots__ = ('value', 'field')

    def __init__(self, value, field):
        self.value = value
        self.field = field

    def text(self):
        text = str(self.value)
        reason = token_problem(text)
        if reason:
            raise UnsafeValue('%s %r %s' % (self.field, self.value, reason))
        return text


class CommandRunner(object):
    """Runs one binary for one module."""

    tool = None  # the binary's name, set by each subclass

    def __init__(self, module, binary=None):
        self.module = module
        self.binary = binary or module.get_bin_path(self.tool, required=True)

    def run(self, args, data=None, expected_rcs=(0,), binary_data=True, environ=None):
        """Run ``binary ARGS``; return (rc, stdout, stderr). An rc not in ``expected_rcs`` fails the module.

        ``environ`` adds variables (e.g. the CNI_* protocol variables) on top of the C locale.
        """
        cmd = [self.binary] + [str(arg) for arg in args]
        env = dict(C_LOCALE)
        env.update(environ or {})
        rc, out, err = self.module.run_command(cmd, data=data, environ_update=env, check_rc=False,
                                               binary_data=binary_data)
        if rc not in expected_rcs:
            self.fail(cmd, rc, out, err)
        return rc, out, err

    def fail(self, cmd, rc, out, err, msg=None, **extra):
        self.module.fail_json(msg=msg or '%s failed (rc=%d): %s' % (' '.join(cmd), rc, (err or out).strip()),
                              cmd=cmd, rc=rc, stdout=out, stderr=err, **extra)
