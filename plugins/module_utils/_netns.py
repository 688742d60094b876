# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``ip netns`` runner: named network namespaces (files in /run/netns) as cni_pod uses them.

Every name has passed ``netns_name_problem`` before it gets here; ip takes each argv entry as one word.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

from ansible_collections.podnet.netmodes.plugins.module_utils._runner import CommandRunner

NETNS_DIR = '/run/netns'
# `ip -n NAME` exits 255 with this when /run/netns/NAME is missing or is no namespace mount.
CANNOT_OPEN_NETNS = 'Cannot open network namespace'


def netns_path(name):
    return os.path.join(NETNS_DIR, name)


class NetnsRunner(CommandRunner):
    """Every ``ip netns`` (and ``ip -n``) call of cni_pod."""

    tool = 'ip'

    def loopback_up(self, name):
        """True or False for lo inside namespace NAME; None when there is no usable namespace of that name."""
        args = ['-n', name, '-json', 'link', 'show', 'dev', 'lo']
        rc, out, err = self.run(args, expected_rcs=(0, 255))
        if rc == 255:
            if CANNOT_OPEN_NETNS in err:
                return None
            self.fail([self.binary] + args, rc, out, err)
        try:
            links = json.loads(out or '[]')
        except ValueError:
            self.fail([self.binary] + args, rc, out, err, msg='ip printed no JSON for lo in %s' % name)
        return bool(links) and 'UP' in links[0].get('flags', [])

    def file_exists(self, name):
        """Whether /run/netns/NAME exists at all (it may be a stale file that is no namespace any more)."""
        return os.path.lexists(netns_path(name))

    def add(self, name):
        """(rc, stderr) of ``ip netns add NAME``: the caller undoes its ownership mark before failing."""
        rc, dummy, err = self.run(['netns', 'add', name], expected_rcs=range(0, 256))
        return rc, err

    def delete(self, name):
        self.run(['netns', 'delete', name])

    def set_loopback_up(self, name):
        self.run(['-n', name, 'link', 'set', 'dev', 'lo', 'up'])
