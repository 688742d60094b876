# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""roles/common/vars/main.yml: which packages the node needs, and the programs that prove them installed.

common calls apt only when a proof is missing or a package has none; these tests evaluate the role's own variables
with ansible-playbook, so what they check is what a play computes.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
PLAY = """\
- hosts: localhost
  gather_facts: false
  vars_files:
    - {root}/roles/common/defaults/main.yml
    - {root}/roles/common/vars/main.yml
  tasks:
    - name: Show
      ansible.builtin.debug:
        msg:
          wanted: "{{{{ __podnet_wanted_packages }}}}"
          proofs: "{{{{ __podnet_package_proofs }}}}"
          unproven: "{{{{ __podnet_packages_unproven }}}}"
"""


def evaluate(tmp_path, *extra):
    play = tmp_path / 'play.yml'
    play.write_text(PLAY.format(root=ROOT))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'), ANSIBLE_STDOUT_CALLBACK='ansible.posix.json')
    argv = [PLAYBOOK, '-i', 'localhost,', '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable,
            str(play)]
    for value in extra:
        argv += ['-e', json.dumps(value)]
    done = subprocess.run(argv, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)['plays'][0]['tasks'][0]['hosts']['localhost']['msg']


@pytest.mark.skipif(not os.path.exists(PLAYBOOK), reason='needs ansible-playbook next to the interpreter')
def test_every_default_package_has_a_proof_and_bgp_adds_bird(tmp_path):
    shown = evaluate(tmp_path, {'__podnet_mode_packages': ['bird2']})
    assert shown['wanted'] == ['iproute2', 'nftables', 'containernetworking-plugins', 'bird2']
    assert shown['proofs'] == ['/sbin/ip', '/usr/sbin/nft', '/usr/lib/cni/host-local', '/usr/sbin/bird']
    assert shown['unproven'] == []


@pytest.mark.skipif(not os.path.exists(PLAYBOOK), reason='needs ansible-playbook next to the interpreter')
def test_a_package_without_a_known_program_is_always_handed_to_apt(tmp_path):
    shown = evaluate(tmp_path, {'podnet_packages': ['iproute2', 'ethtool']})
    assert shown['wanted'] == ['iproute2', 'ethtool']
    assert shown['proofs'] == ['/sbin/ip']
    assert shown['unproven'] == ['ethtool']
