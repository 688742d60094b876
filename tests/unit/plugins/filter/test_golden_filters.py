# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The three verify filters as Ansible loads them: names, and bad input refused with AnsibleFilterError."""
import os
import sys

import pytest
from ansible.errors import AnsibleFilterError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'plugin_utils'))
import golden_fixtures as fx  # noqa: E402

from ansible_collections.podnet.netmodes.plugins.filter import golden_render, golden_report, golden_targets  # noqa: E402


def test_each_file_provides_its_filter():
    assert list(golden_targets.FilterModule().filters()) == ['golden_targets']
    assert list(golden_report.FilterModule().filters()) == ['golden_report']
    assert list(golden_render.FilterModule().filters()) == ['golden_render']


def test_report_then_render_through_the_filters():
    report = golden_report.golden_report(fx.results(), fx.plan(), fx.probe_ips(), {'loss_max_percent': 0})
    assert report['healthy']
    assert golden_render.golden_render(report, 'prometheus').startswith('# HELP podnet_verify_healthy ')


def test_report_refuses_what_is_not_the_plan_or_the_results():
    with pytest.raises(AnsibleFilterError, match='plan must be podnet_plan'):
        golden_report.golden_report(fx.results(), {'problems': []})
    with pytest.raises(AnsibleFilterError, match='the input must map each node'):
        golden_report.golden_report([], fx.plan())
    with pytest.raises(AnsibleFilterError, match='golden_report: '):
        golden_report.golden_report(fx.results(), fx.plan(), settings={'loss_max_percent': 'lots'})


def test_render_refuses_an_unknown_format():
    with pytest.raises(AnsibleFilterError, match="format 'csv' is not one of"):
        golden_render.golden_render({}, 'csv')


def test_targets_filter():
    assert golden_targets.golden_targets(fx.plan(), 'node3', {})[0] == {
        'name': 'node1', 'address': '10.89.20.11', 'source': 'node'}
