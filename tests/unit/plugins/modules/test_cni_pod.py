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

from harness import assert_files, cases_for, run_case, with_tmp, write_file

from ansible_collections.podnet.netmodes.plugins.modules import cni_pod


@pytest.mark.parametrize('case', cases_for(__file__))
def test_cni_pod(case, tmp_path):
    case = with_tmp(case, str(tmp_path))
    for path, text in (case.get('files') or {}).items():
        write_file(path, text)
    for plugin in case.get('plugins') or []:
        write_file(os.path.join(str(tmp_path), 'bin', plugin), '', 0o755)
    case['input'] = dict({'conf_dir': '%s/net.d' % tmp_path, 'cache_dir': '%s/cache' % tmp_path,
                          'bin_dir': '%s/bin' % tmp_path}, **case['input'])
    run_case(cni_pod, case)
    assert_files(case.get('files_after'))
