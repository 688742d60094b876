# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: removal_problems
author: podnet.netmodes maintainers (@podnet)
version_added: "0.3.0"
short_description: Check podnet_state and the settings a removal of podnet needs
description:
  - The check that C(podnet_state=absent) (C(playbooks/remove.yml)) runs once, before any host changes, in place
    of P(podnet.netmodes.cluster_plan#filter). A removal does not plan the cluster, so it also works with
    C(--limit) and on a node that has left the inventory.
  - "The checks, with the rule book the modules use: C(podnet_state) (V(present) or V(absent));
    C(podnet_route_proto) (5-255); C(podnet_bridge_name) (an interface name); C(podnet_cni_network) (a CNI network
    name); C(podnet_cni_conf_dir) (an absolute path)."
options:
  _input:
    description: The C(podnet_*) settings by name, as the play sees them.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Stop before any host changes if a removal setting is wrong
  run_once: true
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join('\n') }}"
  vars:
    __problems: "{{ {'podnet_state': 'absent', 'podnet_route_proto': 94} | podnet.netmodes.removal_problems }}"
"""

RETURN = r"""
_value:
  description: One line per problem - hosts, variable, value, what is wrong, and the fix. Empty when all is well.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.podnet.netmodes.plugins.plugin_utils._removal import removal_problems as _removal_problems


def removal_problems(settings):
    if not isinstance(settings, dict):
        raise AnsibleFilterError('removal_problems: the input must be the podnet_* settings as a dict')
    return _removal_problems(settings)


class FilterModule(object):
    def filters(self):
        return {'removal_problems': removal_problems}
