# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Registers the lab marker for tests/lab."""


def pytest_configure(config):
    config.addinivalue_line("markers", "lab: builds podman containers and networks (slow, needs root + podman)")
