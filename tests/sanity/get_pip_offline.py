# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stand-in for the pip bootstrap script ansible-test downloads from a host this machine cannot reach.

ansible-test runs the script with pip-install arguments inside a fresh venv. We bootstrap pip from the
wheel the standard library bundles (ensurepip, no network), then let that pip install what was asked,
from the package index the machine does reach.
"""
import ensurepip
import os
import runpy
import sys

GET_PIP_ONLY_OPTIONS = {'--no-setuptools', '--no-wheel'}

ensurepip.bootstrap(upgrade=True)
# ensurepip hides the machine's pip configuration (index, CA bundle) from the rest of this process.
for name in ('PIP_CONFIG_FILE', 'ENSUREPIP_OPTIONS'):
    os.environ.pop(name, None)
sys.argv = ['pip', 'install'] + [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
runpy.run_module('pip', run_name='__main__', alter_sys=True)
