# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module of this collection for real, as Ansible would on the target: a subprocess with an args file."""
import json
import os
import subprocess
import sys
import tempfile

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS_PATH = os.path.join(REPO_ROOT, '.collections')
MODULES_DIR = os.path.join(REPO_ROOT, 'plugins', 'modules')


class ModuleResult(dict):
    """The module's JSON result; ``failed`` is true when the module failed."""

    @property
    def failed(self):
        return bool(self.get('failed'))


def run_module(name, args, check=False, diff=False, timeout=120, netns=None):
    """Run plugins/modules/<name>.py with ``args``; return its parsed JSON result.

    ``netns`` runs the whole module inside that namespace (for modules without a netns option). nsenter, not
    ``ip netns exec``: the latter also gives the process a private mount namespace.
    """
    module_args = dict(args)
    module_args['_ansible_check_mode'] = check
    module_args['_ansible_diff'] = diff
    with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as handle:
        json.dump({'ANSIBLE_MODULE_ARGS': module_args}, handle)
        args_path = handle.name
    env = dict(os.environ)
    # Kept behind the collection: where ansible-core is not installed (the VM lab's guests), PYTHONPATH brings it.
    env['PYTHONPATH'] = os.pathsep.join([COLLECTIONS_PATH] + [p for p in [os.environ.get('PYTHONPATH')] if p])
    try:
        prefix = ['nsenter', '--net=/run/netns/%s' % netns] if netns else []
        proc = subprocess.run(prefix + [sys.executable, os.path.join(MODULES_DIR, name + '.py'), args_path],
                              capture_output=True, text=True, env=env, timeout=timeout, check=False)
    finally:
        os.unlink(args_path)
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError('module %s printed no JSON (rc=%d)\nstdout: %s\nstderr: %s'
                             % (name, proc.returncode, proc.stdout, proc.stderr))
    return ModuleResult(result)
