# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Registers the vmlab marker for tests/vmlab."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "vmlab: boots QEMU VMs (slow, needs root + qemu-system-x86; run under flock /tmp/podnet-lab.lock)")
