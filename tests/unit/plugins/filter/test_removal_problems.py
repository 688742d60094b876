# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_state and the settings a removal uses are refused, naming variable, value and fix, before any host
changes; the cluster plan refuses a bad podnet_state too."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.podnet.netmodes.plugins.filter.removal_problems import FilterModule
from ansible_collections.podnet.netmodes.plugins.plugin_utils._plan import plan_cluster

removal_problems = FilterModule().filters()['removal_problems']

GOOD = {'podnet_state': 'absent', 'podnet_route_proto': 94, 'podnet_bridge_name': 'cni0',
        'podnet_cni_network': 'podnet', 'podnet_cni_conf_dir': '/etc/cni/net.d'}


def test_the_defaults_pass():
    assert removal_problems(GOOD) == []
    assert removal_problems(dict(GOOD, podnet_state='present')) == []


@pytest.mark.parametrize('name, value, fix', [
    ('podnet_state', 'gone', 'set podnet_state to present'),
    ('podnet_route_proto', 2, 'set podnet_route_proto'),
    ('podnet_route_proto', 'ninety', 'set podnet_route_proto'),
    ('podnet_bridge_name', 'cni0; reboot', 'set podnet_bridge_name'),
    ('podnet_bridge_name', 'x' * 16, 'set podnet_bridge_name'),
    ('podnet_cni_network', 'pod net', 'set podnet_cni_network'),
    ('podnet_cni_conf_dir', 'etc/cni', 'set podnet_cni_conf_dir'),
])
def test_each_bad_value_is_one_problem_naming_variable_and_fix(name, value, fix):
    problems = removal_problems(dict(GOOD, **{name: value}))
    assert len(problems) == 1
    assert name in problems[0] and 'Fix: ' + fix in problems[0]


def test_the_plan_refuses_an_unknown_podnet_state_too():
    plan = plan_cluster([], {'podnet_mode': 'bridge', 'podnet_state': 'removed'})
    assert any('podnet_state' in line and 'Fix:' in line for line in plan['problems'])
