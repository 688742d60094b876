# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cni_pod without root: canned ``ip`` and plugin output in; calls, result, diff and errors out (test_cni_pod.yaml).

"@TMP@" in a case stands for a fresh temporary directory. ``files`` are written before the run (conflists,
cache entries), ``plugins`` become empty executables in @TMP@/bin (the harness answers their calls), and
``files_after`` says which files must hold what afterwards (null: must not exist).
"""
import os

import pytest

from harness import cases_for, run_case

from ansible_collections.podnet.netmodes.plugins.modules import cni_pod


def _with_tmp(value, tmp):
    if isinstance(value, str):
        return value.replace('@TMP@', tmp)
    if isinstance(value, list):
        return [_with_tmp(item, tmp) for item in value]
    if isinstance(value, dict):
        return dict((_with_tmp(key, tmp), _with_tmp(item, tmp)) for key, item in value.items())
    return value


def _write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as handle:
        handle.write(text)
    os.chmod(path, mode)


@pytest.mark.parametrize('case', cases_for(__file__))
def test_cni_pod(case, tmp_path):
    case = _with_tmp(case, str(tmp_path))
    for path, text in (case.get('files') or {}).items():
        _write(path, text)
    for plugin in case.get('plugins') or []:
        _write(os.path.join(str(tmp_path), 'bin', plugin), '', 0o755)
    case['input'] = dict({'conf_dir': '%s/net.d' % tmp_path, 'cache_dir': '%s/cache' % tmp_path,
                          'bin_dir': '%s/bin' % tmp_path}, **case['input'])
    run_case(cni_pod, case)
    for path, text in (case.get('files_after') or {}).items():
        if text is None:
            assert not os.path.exists(path), path
        else:
            with open(path) as handle:
                assert handle.read() == text, path
