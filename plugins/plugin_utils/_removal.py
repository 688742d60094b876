# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_state, and the settings a removal needs, judged with the rule book before any host changes.

A removal does not plan the cluster: it must work on one node (--limit), on a node that has left the inventory and
on a node whose facts no longer agree with it. It needs only the names of what podnet made there.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import posixpath

from ansible_collections.podnet.netmodes.plugins.module_utils import _rules
from ansible_collections.podnet.netmodes.plugins.plugin_utils._values import ALL_HOSTS, is_unset, problem

STATES = ('present', 'absent')


def state_problems(settings):
    value = settings.get('podnet_state')
    if is_unset(value) or value in STATES:
        return []
    return [problem(ALL_HOSTS, 'podnet_state', value, 'is not one of %s' % ', '.join(STATES),
                    'set podnet_state to present (build the pod network) or absent (remove it).')]


def removal_problems(settings):
    """Every problem with the settings a removal uses, each naming the variable, its value and the fix."""
    settings = dict(settings or {})
    problems = state_problems(settings)
    checks = (
        ('podnet_route_proto', _rules.route_proto_problem,
         'set podnet_route_proto to the protocol id podnet was run with, such as 94.'),
        ('podnet_bridge_name', _rules.ifname_problem, 'set podnet_bridge_name to the bridge podnet made, such as cni0.'),
        ('podnet_cni_network', _rules.cni_network_name_problem,
         'set podnet_cni_network to the CNI network name podnet was run with, such as podnet.'),
    )
    for name, rule, fix in checks:
        value = settings.get(name)
        reason = rule(value)
        if reason:
            problems.append(problem(ALL_HOSTS, name, value, reason, fix))
    value = settings.get('podnet_cni_conf_dir')
    if not isinstance(value, str) or not posixpath.isabs(value) or '\n' in value:
        problems.append(problem(ALL_HOSTS, 'podnet_cni_conf_dir', value, 'is not an absolute path',
                                'set podnet_cni_conf_dir to the directory podnet wrote the CNI config to, such as '
                                '/etc/cni/net.d.'))
    return problems
