# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bgp role's "Reconfigure BIRD" task (roles/bgp/tasks/reconfigure.yml), run by Ansible against a stand-in birdc.

On a fresh host apt starts BIRD with Debian's default config, so the first `birdc configure`
answers "Reconfiguration in progress" while BIRD shuts down the default protocols: that is success,
as "Reconfigured" is. Everything else fails the play.
"""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECONFIGURE = os.path.join(ROOT, "roles", "bgp", "tasks", "reconfigure.yml")
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

PLAY = """\
- name: Run the bgp role's reconfigure tasks
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Reconfigure BIRD
      ansible.builtin.include_tasks: {tasks}
"""


def run_reconfigure(tmp_path, answer, rc=0):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    birdc = bin_dir / "birdc"
    birdc.write_text(f"#!/bin/sh\nprintf 'BIRD 2.0.12 ready.\\n%s\\n' '{answer}'\nexit {rc}\n")
    birdc.chmod(0o755)
    play = tmp_path / "play.yml"
    play.write_text(PLAY.format(tasks=RECONFIGURE))
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg")}
    return subprocess.run([ANSIBLE_PLAYBOOK, "-i", "localhost,", "-e", f"ansible_python_interpreter={sys.executable}",
                           str(play)], env=env, capture_output=True, text=True, check=False)


@pytest.mark.skipif(not os.path.exists(ANSIBLE_PLAYBOOK), reason="needs ansible-playbook next to the interpreter")
@pytest.mark.parametrize("answer,rc,accepted", [
    ("Reading configuration from /etc/bird/bird.conf\nReconfigured", 0, True),
    ("Reading configuration from /etc/bird/bird.conf\nReconfiguration in progress", 0, True),
    ("Reading configuration from /etc/bird/bird.conf\n/etc/bird/bird.conf:3:1 syntax error\nReconfiguration rejected", 0,
     False),
    ("Unable to connect to server control socket (/run/bird/bird.ctl): No such file or directory", 1, False),
    ("Reconfigured soon", 0, False),
])
def test_reconfigure_bird_accepts_only_birds_two_success_answers(tmp_path, answer, rc, accepted):
    result = run_reconfigure(tmp_path, answer, rc)
    assert (result.returncode == 0) == accepted, result.stdout + result.stderr
