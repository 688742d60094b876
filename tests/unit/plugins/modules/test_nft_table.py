# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nft_table without root: canned ``nft -j`` output in; nft calls, result, diff and errors out (test_nft_table.yaml).

The scratch-namespace load appears in the cases as ``[python, -c, <scratch-load>, nft, FAMILY, NAME]``.
"@TMP@" in a case stands for a fresh temporary directory (for boot files the module really writes).
"""
from unittest import mock

import pytest

from harness import assert_files, cases_for, run_case, with_tmp, write_file

from ansible_collections.podnet.netmodes.plugins.module_utils import _bootfile, _nft
from ansible_collections.podnet.netmodes.plugins.modules import nft_table


@pytest.mark.parametrize('case', cases_for(__file__))
def test_nft_table(case, tmp_path, monkeypatch):
    case = with_tmp(case, str(tmp_path))
    # Cases run outside podnet's own directory unless they name one.
    monkeypatch.setattr(_bootfile, 'PODNET_DIR', case.get('podnet_dir', str(tmp_path / 'not-podnet')))
    for path, text in (case.get('files') or {}).items():
        write_file(path, text)
    with mock.patch.object(_nft, 'SCRATCH_LOAD_SCRIPT', '<scratch-load>'), mock.patch('sys.executable', 'python'):
        run_case(nft_table, case)
    assert_files(case.get('files_after'))
