#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) podnet.netmodes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: ip_link
short_description: Declare one Linux network link (bridge or veth pair) with iproute2
version_added: 0.1.0
description:
  - Creates, adopts, reconfigures or deletes one network link in the current or a named network namespace.
  - Reads the kernel state with C(ip -json) and applies all changes in one C(ip -batch -) run.
  - Links created or adopted by this module carry the interface alias C(podnet.netmodes). Only links
    with that alias are ever deleted.
  - An existing link of the requested kind without the alias is adopted with I(state=present); the alias is
    set and that is reported as a change.
author:
  - podnet.netmodes maintainers (@podnet)
requirements:
  - iproute2 (the C(ip) command) on the target host
options:
  name:
    description:
      - Interface name, at most 15 bytes, without whitespace, C(/) or C(:).
    type: str
    required: true
  kind:
    description:
      - Link type. Required with I(state=present).
      - With I(state=absent), when given, an existing link of another kind makes the module fail.
    type: str
    choices: [bridge, veth]
  state:
    description:
      - C(present) creates or updates the link; C(absent) deletes it when it carries the ownership alias.
      - With C(absent), a link without the alias makes the module fail and is left alone.
      - Deleting either end of a veth pair deletes both ends.
    type: str
    choices: [present, absent]
    default: present
  up:
    description:
      - Whether the link is administratively up.
    type: bool
    default: true
  mtu:
    description:
      - MTU of the link. When omitted, an existing link keeps its MTU and a new one gets the kernel default.
    type: int
  master:
    description:
      - Bridge in the same namespace that this link is a port of.
      - An empty string means the link must not have a master. When omitted, the master is left alone.
    type: str
  addresses:
    description:
      - The exact set of addresses the link holds, in CIDR notation such as C(10.244.0.1/24).
      - Addresses not listed are removed, except IPv6 link-local (scope link) addresses, which the kernel
        generates itself; they are never removed and never reported.
      - When omitted, addresses are left alone.
    type: list
    elements: str
  peer:
    description:
      - Name of the other end of the veth pair. Required to create a veth; only valid with I(kind=veth).
      - For an existing veth, when given, the module checks that this is really its peer and fails otherwise.
    type: str
  peer_netns:
    description:
      - Named network namespace that the peer end lives in. Omit when the peer is in the same namespace.
      - The peer end is created there with the ownership alias, down and without addresses; configure it
        with another task that uses I(netns).
    type: str
  netns:
    description:
      - Named network namespace (as in C(ip netns)) that the link lives in. Default is the current one.
    type: str
attributes:
  check_mode:
    support: full
    description: Computes and returns the commands that would run, without running them.
  diff_mode:
    support: full
    description: Before and after hold the same keys; after predicts the state the real run leaves.
  platform:
    support: full
    platforms: posix
    description: Linux only.
notes:
  - Only the Python standard library and iproute2 are needed on the target.
'''

EXAMPLES = r'''
- name: Pod bridge with its gateway address
  podnet.netmodes.ip_link:
    name: cni0
    kind: bridge
    mtu: 1450
    addresses:
      - 10.244.1.1/24

- name: Veth pair for one pod, host end on cni0, pod end in the pod's namespace
  podnet.netmodes.ip_link:
    name: vethabc123
    kind: veth
    peer: eth0
    peer_netns: pod-abc123
    master: cni0
    mtu: 1450

- name: Configure the pod end
  podnet.netmodes.ip_link:
    name: eth0
    kind: veth
    netns: pod-abc123
    mtu: 1450
    addresses:
      - 10.244.1.5/24

- name: Remove the bridge
  podnet.netmodes.ip_link:
    name: cni0
    state: absent
'''

RETURN = r'''
link:
  description: State of the link after the run (the predicted state in check mode).
  returned: always
  type: dict
  sample:
    name: cni0
    state: present
    kind: bridge
    owned: true
    up: true
    mtu: 1450
    master: null
    addresses: [10.244.1.1/24]
    peer: null
    peer_netns: null
commands:
  description:
    - The C(ip -batch) lines that ran (or would run in check mode).
    - Lines run in the peer's namespace are prefixed with C(-n NAMESPACE).
  returned: always
  type: list
  elements: str
  sample: ["link add name cni0 type bridge", "link set dev cni0 alias podnet.netmodes", "link set dev cni0 up"]
'''

import ipaddress

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.podnet.netmodes.plugins.module_utils._iproute2 import (
    OWNER_MARK,
    IpRoute2,
    interface_name_problem,
    netns_exists,
    netns_name_problem,
)

DEFAULT_MTU = 1500
STATE_KEYS = ('name', 'state', 'kind', 'owned', 'up', 'mtu', 'master', 'addresses', 'peer', 'peer_netns')


def canonical_interface(text):
    iface = ipaddress.ip_interface(to_text(text).strip())
    return '%s/%d' % (iface.ip.compressed, iface.network.prefixlen)


def link_kind(link):
    return link.get('linkinfo', {}).get('info_kind')


def is_kernel_link_local(addr):
    return addr.get('family') == 'inet6' and addr.get('scope') == 'link'


def address_strings(addr_info):
    return sorted('%s/%d' % (ipaddress.ip_address(a['local']).compressed, a['prefixlen']) for a in addr_info)


def absent_state(name):
    state = dict.fromkeys(STATE_KEYS)
    state.update(name=name, state='absent', owned=False)
    return state


class LinkDeclaration(object):
    """Validated module parameters."""

    def __init__(self, module):
        p = module.params
        self.module = module
        self.name = p['name']
        self.kind = p['kind']
        self.state = p['state']
        self.up = p['up']
        self.mtu = p['mtu']
        self.master = p['master']
        self.peer = p['peer']
        self.peer_netns = p['peer_netns']
        self.netns = p['netns']
        self.addresses = None
        if p['addresses'] is not None:
            self.addresses = self._parse_addresses(p['addresses'])
        self._validate()

    def _parse_addresses(self, values):
        parsed = []
        for value in values:
            try:
                parsed.append(canonical_interface(value))
            except ValueError as exc:
                self.module.fail_json(msg='addresses: %r is not an address in CIDR notation: %s' % (value, exc))
        return sorted(set(parsed))

    def _validate(self):
        fail = self.module.fail_json
        for option in ('name', 'peer'):
            value = getattr(self, option)
            problem = value is not None and interface_name_problem(value)
            if problem:
                fail(msg='%s %r is not a valid interface name: it %s' % (option, value, problem))
        if self.master:
            problem = interface_name_problem(self.master)
            if problem:
                fail(msg='master %r is not a valid interface name: it %s' % (self.master, problem))
            if self.master == self.name:
                fail(msg='a link cannot be its own master')
            if self.kind == 'bridge':
                fail(msg='a bridge cannot be a port of another bridge (master=%s)' % self.master)
        for option in ('netns', 'peer_netns'):
            value = getattr(self, option)
            if value is not None:
                problem = netns_name_problem(value)
                if problem:
                    fail(msg='%s %r: the namespace name %s' % (option, value, problem))
                if not netns_exists(value):
                    fail(msg='%s: network namespace %r does not exist' % (option, value))
        if self.kind != 'veth' and (self.peer is not None or self.peer_netns is not None):
            fail(msg='peer and peer_netns are only valid with kind=veth')
        if self.peer_netns is not None and self.peer is None:
            fail(msg='peer_netns requires peer')
        if self.peer is not None and self.peer_netns is None and self.peer == self.name:
            fail(msg='a veth and its peer in the same namespace need different names')
        if self.mtu is not None and not 68 <= self.mtu <= 65535:
            fail(msg='mtu %d is out of range 68-65535' % self.mtu)


class LinkPlan(object):
    """Reads the kernel state of one link and computes the ip -batch lines that reach the declaration."""

    def __init__(self, module, decl):
        self.module = module
        self.decl = decl
        self.ip = IpRoute2(module, decl.netns)
        self.links = self.ip.links()
        self.current = self.links.get(decl.name)
        self.commands = []
        self.peer_commands = []
        self.same_netns_peer_commands = []
        self.before = self._describe_current()
        self.after = dict(self.before)

    # reading

    def _describe_current(self):
        link = self.current
        if link is None:
            return absent_state(self.decl.name)
        state = dict(
            name=self.decl.name,
            state='present',
            kind=link_kind(link),
            owned=link.get('ifalias') == OWNER_MARK,
            up='UP' in link.get('flags', []),
            mtu=link.get('mtu'),
            master=link.get('master'),
            addresses=address_strings(self._managed_addr_info()),
            peer=None,
            peer_netns=None,
        )
        if state['kind'] == 'veth':
            state['peer'], state['peer_netns'] = self._known_peer(link)
        return state

    def _managed_addr_info(self):
        return [a for a in self.ip.addresses(self.decl.name) if not is_kernel_link_local(a)]

    def _known_peer(self, link):
        """(peer name, peer netns) as far as they can be confirmed; (None, None) otherwise."""
        decl = self.decl
        if 'link_netnsid' not in link:
            for other in self.links.values():
                if other.get('ifindex') == link.get('link_index'):
                    return other['ifname'], None
            return None, None
        if decl.peer is not None and decl.peer_netns is not None:
            peer = IpRoute2(self.module, decl.peer_netns).links().get(decl.peer)
            if (peer is not None and peer.get('ifindex') == link.get('link_index')
                    and peer.get('link_index') == link.get('ifindex')):
                return decl.peer, decl.peer_netns
        return None, None

    # planning

    def plan(self):
        if self.decl.state == 'absent':
            self._plan_absent()
        elif self.current is None:
            self._plan_create()
        else:
            self._plan_update()

    def _plan_absent(self):
        decl = self.decl
        if self.current is None:
            return
        if decl.kind is not None and self.before['kind'] != decl.kind:
            self.module.fail_json(msg='link %s is of kind %s, not %s; not deleting it'
                                  % (decl.name, self.before['kind'], decl.kind))
        if not self.before['owned']:
            self.module.fail_json(msg='link %s exists but was not created by podnet.netmodes (its alias is %r, not %r);'
                                  ' refusing to delete it' % (decl.name, self.current.get('ifalias'), OWNER_MARK))
        self.commands.append('link delete dev %s' % decl.name)
        self.after = absent_state(decl.name)

    def _plan_create(self):
        decl = self.decl
        name = decl.name
        add = 'link add name %s type %s' % (name, decl.kind)
        if decl.kind == 'veth':
            add += self._veth_peer_clause()
        self.commands.append(add)
        self.commands.append('link set dev %s alias %s' % (name, OWNER_MARK))
        self.commands.extend(self.same_netns_peer_commands)
        self.after.update(state='present', kind=decl.kind, owned=True, up=False, mtu=DEFAULT_MTU,
                          master=None, addresses=[], peer=decl.peer, peer_netns=decl.peer_netns)
        self._plan_settings()

    def _veth_peer_clause(self):
        decl = self.decl
        if decl.peer is None:
            self.module.fail_json(msg='creating veth %s needs peer (the name of the other end)' % decl.name)
        if decl.peer_netns is None:
            if decl.peer in self.links:
                self.module.fail_json(msg='cannot create veth %s: peer name %s is already used' % (decl.name, decl.peer))
            self.same_netns_peer_commands.append('link set dev %s alias %s' % (decl.peer, OWNER_MARK))
            return ' peer name %s' % decl.peer
        if decl.peer in IpRoute2(self.module, decl.peer_netns).links():
            self.module.fail_json(msg='cannot create veth %s: peer name %s is already used in netns %s'
                                  % (decl.name, decl.peer, decl.peer_netns))
        self.peer_commands.append('link set dev %s alias %s' % (decl.peer, OWNER_MARK))
        return ' peer name %s netns %s' % (decl.peer, decl.peer_netns)

    def _plan_update(self):
        decl = self.decl
        if self.before['kind'] != decl.kind:
            self.module.fail_json(msg='link %s exists with kind %s, but kind %s was declared; delete it first'
                                  % (decl.name, self.before['kind'], decl.kind))
        if decl.peer is not None and (self.before['peer'], self.before['peer_netns']) != (decl.peer, decl.peer_netns):
            where = ('netns %s' % decl.peer_netns) if decl.peer_netns else 'the same namespace'
            self.module.fail_json(msg='veth %s exists but its peer is not %s in %s; delete it first to recreate it'
                                  % (decl.name, decl.peer, where))
        if not self.before['owned']:
            self.commands.append('link set dev %s alias %s' % (decl.name, OWNER_MARK))
            self.after['owned'] = True
        self._plan_settings()

    def _plan_settings(self):
        """Lines for mtu, master, addresses and up/down, after the link exists."""
        decl = self.decl
        name = decl.name
        after = self.after
        if decl.mtu is not None and after['mtu'] != decl.mtu:
            # Set after creation, not in "link add": only then does a bridge keep its MTU when ports join.
            self.commands.append('link set dev %s mtu %d' % (name, decl.mtu))
            after['mtu'] = decl.mtu
        self._plan_master()
        if decl.addresses is not None and after['addresses'] != decl.addresses:
            for addr in sorted(set(after['addresses']) - set(decl.addresses)):
                self.commands.append('address delete %s dev %s' % (addr, name))
            for addr in decl.addresses:
                if addr not in after['addresses']:
                    self.commands.append(address_add_line(addr, name))
            after['addresses'] = list(decl.addresses)
        if after['up'] != decl.up:
            self.commands.append('link set dev %s %s' % (name, 'up' if decl.up else 'down'))
            after['up'] = decl.up

    def _plan_master(self):
        decl = self.decl
        after = self.after
        if decl.master is None:
            return
        wanted = decl.master or None
        if after['master'] == wanted:
            return
        if wanted is None:
            self.commands.append('link set dev %s nomaster' % decl.name)
        else:
            master = self.links.get(wanted)
            if master is None or link_kind(master) != 'bridge':
                self.module.fail_json(msg='master %s of %s must be an existing bridge in the same namespace'
                                      % (wanted, decl.name))
            self.commands.append('link set dev %s master %s' % (decl.name, wanted))
        after['master'] = wanted

    # applying

    def apply(self):
        self.ip.batch(self.commands)
        if self.peer_commands:
            IpRoute2(self.module, self.decl.peer_netns).batch(self.peer_commands)

    def reported_commands(self):
        prefix = '-n %s ' % self.decl.peer_netns if self.decl.peer_netns else ''
        return self.commands + [prefix + line for line in self.peer_commands]

    def read_back(self):
        self.links = self.ip.links()
        self.current = self.links.get(self.decl.name)
        return self._describe_current()


def address_add_line(addr, dev):
    iface = ipaddress.ip_interface(addr)
    brd = ' broadcast +' if iface.version == 4 and iface.network.prefixlen < 31 else ''
    return 'address add %s%s dev %s' % (addr, brd, dev)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            kind=dict(type='str', choices=['bridge', 'veth']),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            up=dict(type='bool', default=True),
            mtu=dict(type='int'),
            master=dict(type='str'),
            addresses=dict(type='list', elements='str'),
            peer=dict(type='str'),
            peer_netns=dict(type='str'),
            netns=dict(type='str'),
        ),
        required_if=[('state', 'present', ['kind'])],
        supports_check_mode=True,
    )
    decl = LinkDeclaration(module)
    plan = LinkPlan(module, decl)
    plan.plan()
    changed = bool(plan.commands or plan.peer_commands)
    result = dict(changed=changed, commands=plan.reported_commands(), link=plan.after)
    if module._diff:
        result['diff'] = dict(before=plan.before, after=plan.after)
    if changed and not module.check_mode:
        plan.apply()
        result['link'] = plan.read_back()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
