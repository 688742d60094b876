# -*- coding: utf-8 -*-
# Copyright (c) podnet.netmodes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Run iproute2 on the target host: read state with ``ip -json``, write with ``ip -batch -``.

This is the only place in the collection that builds ``ip`` command lines or reads
``ip`` output. Everything here uses the Python standard library only.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

OWNER_MARK = 'podnet.netmodes'
NETNS_RUN_DIR = '/run/netns'
IFNAMSIZ = 16

_C_LOCALE = {'LANG': 'C', 'LC_ALL': 'C', 'LC_MESSAGES': 'C'}

# The kernel answers a dump of a routing table that was never created with an error
# instead of an empty list; that is an empty table for every caller here.
_MISSING_TABLE_ERROR = 'FIB table does not exist'


def interface_name_problem(name):
    """Return why ``name`` is not a valid Linux interface name, or None when it is."""
    if not name:
        return 'must not be empty'
    if len(name.encode('utf-8')) >= IFNAMSIZ:
        return 'is %d bytes long; Linux allows at most %d' % (len(name.encode('utf-8')), IFNAMSIZ - 1)
    if name in ('.', '..'):
        return 'must not be "." or ".."'
    bad = [c for c in name if c == '/' or c == ':' or c.isspace()]
    if bad:
        return 'must not contain whitespace, "/" or ":"'
    return None


def netns_name_problem(name):
    """Return why ``name`` is not usable as an ``ip netns`` name, or None."""
    if not name or name in ('.', '..') or '/' in name or any(c.isspace() for c in name):
        return 'must be a plain name without whitespace or "/"'
    return None


def netns_exists(name):
    """True when the named network namespace exists (``ip netns`` keeps them in /run/netns)."""
    return os.path.exists(os.path.join(NETNS_RUN_DIR, name))


class IpRoute2(object):
    """Runs ``ip`` for one network namespace (None = the module's own namespace)."""

    def __init__(self, module, netns=None):
        self.module = module
        self.netns = netns
        self.ip_bin = module.get_bin_path('ip', required=True)

    def _base(self):
        cmd = [self.ip_bin]
        if self.netns:
            cmd += ['-n', self.netns]
        return cmd

    def _run(self, cmd, data=None):
        return self.module.run_command(cmd, data=data, environ_update=_C_LOCALE,
                                       check_rc=False, binary_data=True)

    def run_json(self, args, details=False, numeric=False, family=None):
        """Run ``ip -json [-details] [-N] [-4|-6] ARGS``; return (rc, parsed list or None, stderr)."""
        cmd = self._base() + ['-json']
        if details:
            cmd.append('-details')
        if numeric:
            cmd.append('-N')
        if family:
            cmd.append('-%d' % family)
        cmd += list(args)
        rc, out, err = self._run(cmd)
        if rc != 0:
            return rc, None, err
        out = out.strip()
        if not out:
            return rc, [], err
        try:
            return rc, json.loads(out), err
        except ValueError as exc:
            self.module.fail_json(msg='Could not parse JSON from %s: %s' % (' '.join(cmd), exc),
                                  stdout=out, stderr=err)

    def show(self, *args, **kwargs):
        """Run ``ip -json ... ARGS`` and return the parsed list; fail the module on error.

        Keyword arguments: ``details`` (-details), ``numeric`` (-N), ``family`` (4 or 6).
        """
        rc, data, err = self.run_json(args, **kwargs)
        if rc != 0:
            self.module.fail_json(msg='ip %s failed: %s' % (' '.join(args), err.strip()),
                                  rc=rc, netns=self.netns, stderr=err)
        return data

    def links(self):
        """All links of the namespace with details, keyed by interface name."""
        return dict((link['ifname'], link) for link in self.show('link', 'show', details=True))

    def addresses(self, dev):
        """The ``addr_info`` list of ``dev`` ([] when it has none)."""
        entries = self.show('address', 'show', 'dev', dev)
        return entries[0].get('addr_info', []) if entries else []

    def routes(self, table, family):
        """Routes of one table and family with numeric type/protocol/scope; [] for a missing table."""
        args = ('route', 'show', 'table', str(table))
        rc, data, err = self.run_json(args, details=True, numeric=True, family=family)
        if rc == 0:
            return data
        if _MISSING_TABLE_ERROR in err:
            return []
        self.module.fail_json(msg='ip -%d route show table %s failed: %s' % (family, table, err.strip()),
                              rc=rc, netns=self.netns, stderr=err)

    def batch(self, commands):
        """Run ``ip -batch -`` with ``commands`` (lines without the leading ``ip``).

        Stops at the first failing line (no ``-force``) and fails the module with the
        error and the lines, so nothing after a failure is applied silently.
        """
        if not commands:
            return
        cmd = self._base() + ['-batch', '-']
        rc, out, err = self._run(cmd, data='\n'.join(commands) + '\n')
        if rc != 0:
            self.module.fail_json(msg='ip -batch failed: %s' % err.strip(), rc=rc, netns=self.netns,
                                  stdout=out, stderr=err, commands=commands)
