# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A role's templates rendered outside a play, as Ansible's template module renders them, for tests and benchmarks."""
import os

import jinja2
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROLES_DIR = os.path.join(ROOT, 'roles')


def role_defaults(*roles):
    """The variables of roles/<role>/defaults/main.yml, later roles overriding earlier ones (common first)."""
    merged = {}
    for role in roles:
        with open(os.path.join(ROLES_DIR, role, 'defaults', 'main.yml'), encoding='utf-8') as stream:
            merged.update(yaml.safe_load(stream) or {})
    return merged


def render_role_template(role, template, variables):
    # Ansible's template module: trim_blocks on, lstrip_blocks off, the trailing newline kept. StrictUndefined so a
    # variable the caller forgot fails here instead of rendering as an empty string.
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(ROLES_DIR, role, 'templates')),
                             trim_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    return env.get_template(template).render(**variables)
