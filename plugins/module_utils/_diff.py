# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one diff shape of every podnet module: the object as sorted text lines, before and after.

Check mode computes the same ``after`` lines from the plan that a real run reaches, so ``--check --diff``
predicts the real run exactly.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


def as_text(lines):
    """One line per item, sorted; Ansible's diff callback compares text, a list would not diff."""
    return ''.join(line + '\n' for line in sorted(lines))


def object_diff(header, before_lines, after_lines):
    """The ``diff`` result of a module for one object (``header`` names it, e.g. ``link cni0``)."""
    return dict(before_header=header, after_header=header, before=as_text(before_lines), after=as_text(after_lines))
