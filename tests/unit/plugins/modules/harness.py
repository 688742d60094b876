# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module's ``main()`` without root: canned command output in; commands, result and failure out.

In the spirit of community.general's ``tests/unit/plugins/modules/test_xfconf.py`` + ``.yaml``.

How to use it for a module ``foo`` (``plugins/modules/foo.py``):

1. Write ``tests/unit/plugins/modules/test_foo.yaml``, a list of cases::

       - id: rerun_changes_nothing            # names the behaviour; becomes the pytest id
         input: {name: cni0, kind: bridge}    # module arguments
         check_mode: false                    # optional (default false)
         diff_mode: true                      # optional (default false)
         paths: {/run/netns/pod1: true}       # optional: what os.path.exists/lexists answer for these paths
         calls:                               # every run_command the module must make, in order
           - command: [ip, -json, -details, link, show]   # argv; binaries are found as their bare name
             data: null                       # optional: exact stdin (e.g. the ip -batch script); omitted = any
             rc: 0                            # optional (default 0)
             out: '[]'                        # optional stdout (default '')
             err: ''                          # optional stderr (default '')
         output:                              # keys of the result that must be equal
           changed: false
           commands: []
         msg_contains: [refusing]             # optional: substrings of the failure message
         failed: true                         # optional (default false): the module must fail

   A command not listed (or listed with other argv or stdin) fails the test and names what was run; a listed
   command the module did not run fails it too.

2. Write ``tests/unit/plugins/modules/test_foo.py``::

       import pytest
       from harness import cases_for, run_case
       from ansible_collections.podnet.netmodes.plugins.modules import foo

       @pytest.mark.parametrize('case', cases_for(__file__))
       def test_foo(case):
           run_case(foo, case)
"""

import json
import os
from unittest import mock

import pytest
import yaml

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class ModuleExit(Exception):
    """exit_json or fail_json was called; ``result`` is what the module returned."""

    def __init__(self, result):
        super(ModuleExit, self).__init__(result)
        self.result = result


def cases_for(test_file):
    """The cases of the ``.yaml`` file beside ``test_file``, as pytest params named by their ``id``."""
    path = os.path.splitext(test_file)[0] + '.yaml'
    with open(path) as handle:
        cases = yaml.safe_load(handle)
    ids = [case['id'] for case in cases]
    duplicates = sorted(set(i for i in ids if ids.count(i) > 1))
    if duplicates:
        raise ValueError('%s: duplicate case ids %s' % (path, ', '.join(duplicates)))
    return [pytest.param(case, id=case['id']) for case in cases]


class CannedCommands(object):
    """Stands in for AnsibleModule.run_command: answers the expected calls, in order, and nothing else."""

    def __init__(self, calls):
        self.pending = list(calls or [])
        self.ran = []

    def bound(self):
        """A function to patch in as the method (an instance would not receive the module as ``self``)."""
        def run_command(module, args, data=None, **kwargs):
            return self(args, data=data, **kwargs)
        return run_command

    def __call__(self, args, data=None, **kwargs):
        argv = [str(arg) for arg in args]
        self.ran.append(argv)
        if not self.pending:
            raise AssertionError('unexpected command %r (stdin %r); commands so far: %r' % (argv, data, self.ran))
        call = self.pending.pop(0)
        assert argv == [str(arg) for arg in call['command']], 'expected command %r, the module ran %r' % (
            call['command'], argv)
        if 'data' in call:
            assert _text(data) == call['data'], 'stdin of %r:\nexpected %r\ngot      %r' % (argv, call['data'],
                                                                                         _text(data))
        environ = kwargs.get('environ_update') or {}
        assert environ.get('LC_ALL') == 'C', '%r runs without the C locale (environ_update=%r)' % (argv, environ)
        return call.get('rc', 0), call.get('out', ''), call.get('err', '')


def _text(data):
    if isinstance(data, bytes):
        return data.decode('utf-8')
    return data


def _exit_json(module, **result):
    result.setdefault('changed', False)
    raise ModuleExit(result)


def _fail_json(module, msg, **result):
    result.pop('exception', None)
    result.update(failed=True, msg=msg)
    raise ModuleExit(result)


def _fake_exists(paths):
    real_exists, real_lexists = os.path.exists, os.path.lexists

    def answer(real):
        def exists(path):
            if path in paths:
                return bool(paths[path])
            return real(path)
        return exists
    return answer(real_exists), answer(real_lexists)


def run_module(module, args, calls=(), check_mode=False, diff_mode=False, paths=None):
    """Run ``module.main()`` with ``args``; return (result dict, CannedCommands)."""
    module_args = dict(args or {})
    module_args.update(_ansible_check_mode=check_mode, _ansible_diff=diff_mode)
    commands = CannedCommands(calls)
    exists, lexists = _fake_exists(paths or {})
    with patch_module_args(module_args), \
            mock.patch.object(basic.AnsibleModule, 'run_command', commands.bound()), \
            mock.patch.object(basic.AnsibleModule, 'get_bin_path', lambda self, name, *a, **kw: name), \
            mock.patch.object(basic.AnsibleModule, 'exit_json', _exit_json), \
            mock.patch.object(basic.AnsibleModule, 'fail_json', _fail_json), \
            mock.patch('os.path.exists', exists), mock.patch('os.path.lexists', lexists):
        with pytest.raises(ModuleExit) as raised:
            module.main()
    return raised.value.result, commands


def run_case(module, case):
    """Run one YAML case and assert everything it expects."""
    result, commands = run_module(module, case.get('input'), case.get('calls'), case.get('check_mode', False),
                                  case.get('diff_mode', False), case.get('paths'))
    shown = json.dumps(result, indent=1, sort_keys=True, default=str)
    assert bool(result.get('failed')) == bool(case.get('failed', False)), 'failed is not %s:\n%s' % (
        case.get('failed', False), shown)
    for key, expected in (case.get('output') or {}).items():
        assert key in result, 'the result has no %r:\n%s' % (key, shown)
        assert result[key] == expected, '%s differs:\nexpected %r\ngot      %r' % (key, expected, result[key])
    wanted = case.get('msg_contains') or []
    for part in [wanted] if isinstance(wanted, str) else wanted:
        assert part in result.get('msg', ''), 'msg lacks %r: %r' % (part, result.get('msg'))
    assert not commands.pending, 'expected commands the module never ran: %r' % (
        [call['command'] for call in commands.pending],)
    return result


# Cases of modules that really write files (boot files, CNI caches) name paths under "@TMP@", a fresh directory.

def with_tmp(value, tmp):
    """``value`` (a case, or any part of one) with every "@TMP@" replaced by ``tmp``."""
    if isinstance(value, str):
        return value.replace('@TMP@', tmp)
    if isinstance(value, list):
        return [with_tmp(item, tmp) for item in value]
    if isinstance(value, dict):
        return dict((with_tmp(key, tmp), with_tmp(item, tmp)) for key, item in value.items())
    return value


def write_file(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as handle:
        handle.write(text)
    os.chmod(path, mode)


def assert_files(expected):
    """Each path holds exactly its text afterwards; a path mapped to None must not exist."""
    for path, text in (expected or {}).items():
        if text is None:
            assert not os.path.exists(path), path
        else:
            with open(path) as handle:
                assert handle.read() == text, path
