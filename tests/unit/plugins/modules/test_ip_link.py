# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ip_link without root: canned ``ip -json`` output in, ``ip -batch`` script, result and diff out (cases in the .yaml)."""

import pytest

from harness import cases_for, run_case

from ansible_collections.podnet.netmodes.plugins.modules import ip_link


@pytest.mark.parametrize('case', cases_for(__file__))
def test_ip_link(case):
    run_case(ip_link, case)
