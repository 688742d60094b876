# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nft_table without root: canned ``nft -j`` output in; nft calls, result, diff and errors out (test_nft_table.yaml).

The scratch-namespace load appears in the cases as ``[python, -c, <scratch-load>, nft, FAMILY, NAME]``.
"@TMP@" in a case stands for a fresh temporary directory (for boot files the module really writes).
"""
import os
from unittest import mock

import pytest

from harness import cases_for, run_case

from ansible_collections.podnet.netmodes.plugins.module_utils import _nft
from ansible_collections.podnet.netmodes.plugins.modules import nft_table


def _with_tmp(value, tmp):
    if isinstance(value, str):
        return value.replace('@TMP@', tmp)
    if isinstance(value, list):
        return [_with_tmp(item, tmp) for item in value]
    if isinstance(value, dict):
        return dict((_with_tmp(key, tmp), _with_tmp(item, tmp)) for key, item in value.items())
    return value


@pytest.mark.parametrize('case', cases_for(__file__))
def test_nft_table(case, tmp_path):
    case = _with_tmp(case, str(tmp_path))
    for name, text in (case.get('files') or {}).items():
        with open(name, 'w') as handle:
            handle.write(text)
    with mock.patch.object(_nft, 'SCRATCH_LOAD_SCRIPT', '<scratch-load>'), mock.patch('sys.executable', 'python'):
        run_case(nft_table, case)
    for name, text in (case.get('files_after') or {}).items():
        if text is None:
            assert not os.path.exists(name), name
        else:
            with open(name) as handle:
                assert handle.read() == text, name
