# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every role's argument spec runs in every mode that uses the role, before anything can change a host.

ansible-core validates a spec only for the entry point a role is entered through (``tasks_from`` must name it),
so these tests look at what ansible-playbook really runs, not at the spec files.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
CHAINS = {
    'bridge': ['bridge', 'common'],
    'hostgw': ['hostgw', 'bridge', 'common'],
    'bgp': ['bgp', 'common'],
}
# Roles a mode imports after the plan guard: their specs declare no options, so there is nothing they could refuse.
LATE = {'hostgw': ['ipip'], 'bgp': ['ipip']}
# The last task before the first one that may change a host.
GUARD = 'Stop before any host changes if the inventory has a problem'
ROLES = os.path.join(ROOT, 'roles')


def run(tmp_path, mode, *args):
    playbook = tmp_path / 'play.yml'
    playbook.write_text('- hosts: localhost\n  gather_facts: false\n  roles:\n    - podnet.netmodes.%s\n' % mode)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'),
               ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_STDOUT_CALLBACK='ansible.posix.json')
    argv = [PLAYBOOK, '-i', 'localhost,', '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable,
            str(playbook)] + list(args)
    return subprocess.run(argv, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize('mode', sorted(CHAINS))
def test_every_role_of_the_mode_validates_its_spec_before_the_plan_guard(tmp_path, mode):
    listed = run(tmp_path, mode, '--list-tasks')
    assert listed.returncode == 0, listed.stderr
    tasks = [line.strip().split('\t')[0] for line in listed.stdout.splitlines() if ' : ' in line]
    validations = [task.split(' : ')[0] for task in tasks if "Validating arguments against arg spec 'main'" in task]
    assert validations == ['podnet.netmodes.%s' % role for role in CHAINS[mode] + LATE.get(mode, [])]
    guard = [index for index, task in enumerate(tasks) if task.endswith(GUARD)]
    assert len(guard) == 1
    assert all('Validating arguments' in task or 'podnet.netmodes.common : Plan the cluster' in task
               for task in tasks[:guard[0]])


WRONG_TYPES = [
    ('bridge', {'podnet_masquerade': 'maybe'}, 'common'),
    ('hostgw', {'podnet_hostgw_purge': 'maybe'}, 'hostgw'),
    ('hostgw', {'podnet_pod_mtu': ['a']}, 'common'),
    ('bgp', {'podnet_bgp_as': 'sixty-four'}, 'bgp'),
    ('bgp', {'podnet_route_proto': {'a': 1}}, 'common'),
]


@pytest.mark.parametrize('mode, extra_vars, role', WRONG_TYPES)
def test_a_wrong_type_is_refused_by_the_spec_of_the_role_that_owns_it(tmp_path, mode, extra_vars, role):
    ran = run(tmp_path, mode, '-e', json.dumps(dict(extra_vars, podnet_uplink='lo')))
    assert ran.returncode != 0
    report = json.loads(ran.stdout)
    tasks = [task for play in report['plays'] for task in play['tasks']]
    failed = [task for task in tasks if task['hosts']['localhost'].get('failed')]
    assert len(failed) == 1
    assert failed[0]['task']['name'].startswith("podnet.netmodes.%s : Validating arguments against arg spec 'main'"
                                                % role)
    assert list(extra_vars)[0] in failed[0]['hosts']['localhost']['msg']
    assert len(tasks) == len(failed) + CHAINS[mode].index(role)


@pytest.mark.parametrize('role', sorted(set(sum(LATE.values(), []))))
def test_roles_entered_after_the_guard_take_no_options(role):
    with open(os.path.join(ROLES, role, 'meta', 'argument_specs.yml')) as handle:
        spec = yaml.safe_load(handle)
    assert spec['argument_specs']['main']['options'] == {}
