#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
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
  - Links created or adopted by this module carry the interface alias C(podnet.netmodes), the ownership mark.
    Only links with that alias are ever deleted.
  - An existing link of the requested kind with no alias at all is adopted with I(state=present); the alias is
    set, its declared MTU is pinned, and that is reported as a change. A link whose alias is set to anything
    else (for example C(docker-managed)) belongs to another owner and is refused, never changed.
author:
  - podnet.netmodes maintainers (@podnet)
requirements:
  - iproute2 (the C(ip) command) on the target host
options:
  name:
    description:
      - Interface name, at most 15 bytes, without whitespace, C(/), C(:) or characters that C(ip -batch) would
        read as syntax (such as C(#), which starts a comment there).
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
      - With C(absent), a link without the alias, or of a kind this module does not create, makes the module
        fail and is left alone.
      - Deleting either end of a veth pair deletes both ends, so a veth whose peer in the same namespace carries
        another owner's alias is refused too.
    type: str
    choices: [present, absent]
    default: present
  up:
    description:
      - Whether the link is administratively up.
      - Taking a link down makes the kernel drop its IPv6 addresses; declared ones are put back in the same run.
    type: bool
    default: true
  mtu:
    description:
      - MTU of the link, 68 to 65535 (at least 1280 when an IPv6 address is declared). Always set explicitly on a
        created or adopted link, even when it equals the kernel default, so that a bridge keeps it when ports
        with another MTU join.
      - When omitted, an existing link keeps its MTU and a new one gets the kernel default.
    type: int
  master:
    description:
      - Bridge in the same namespace that this link is a port of. A bridge whose alias marks another owner is
        refused.
      - An empty string means the link must not have a master. When omitted, the master is left alone.
    type: str
  addresses:
    description:
      - The exact set of addresses the link holds, in CIDR notation such as C(10.244.0.1/24).
      - Addresses not listed are removed, except addresses the kernel makes itself (IPv6 link-local and
        autoconfigured ones), which are neither removed nor reported unless they are listed.
      - Removing an IPv4 primary address makes the kernel drop (or promote) the secondaries of its subnet; the
        listed ones are put back in the same run.
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
      - Named network namespace that the peer end lives in. Omit when the peer is in the same namespace (a name
        of the link's own namespace means the same).
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
    description:
      - Before and after are the link as sorted text lines (kind, alias, mtu, state, master, addresses, peer);
        after predicts the state the real run leaves, in check mode too.
  platform:
    support: full
    platforms: posix
    description: Linux only.
notes:
  - Only the Python standard library and iproute2 are needed on the target.
  - When a batch fails half way, the module fails with C(changed=true) and returns the lines that were applied.
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
    alias: podnet.netmodes
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
applied:
  description: On a failed apply, the C(ip -batch) lines that the kernel had already applied.
  returned: failure
  type: list
  elements: str
'''

import ipaddress

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.podnet.netmodes.plugins.module_utils._diff import object_diff
from ansible_collections.podnet.netmodes.plugins.module_utils._iproute2 import (
    OWNER_MARK,
    IpRoute2,
    UnsafeValue,
    address,
    link_add,
    link_alias,
    link_delete,
    link_master,
    link_mtu,
    link_up,
    netns_exists,
    same_netns,
    unsafe_value_message,
)
from ansible_collections.podnet.netmodes.plugins.module_utils._rules import (
    ifname_problem,
    mtu_problem,
    netns_name_problem,
    parse_ip_interface,
)

DEFAULT_MTU = 1500
MANAGED_KINDS = ('bridge', 'veth')
STATE_KEYS = ('name', 'state', 'kind', 'alias', 'owned', 'up', 'mtu', 'master', 'addresses', 'peer', 'peer_netns')


def link_kind(link):
    return link.get('linkinfo', {}).get('info_kind')


def address_text(addr):
    """``addr/prefixlen`` of one ``addr_info`` entry, canonical like the declared ones."""
    return '%s/%d' % (ipaddress.ip_address(addr['local']).compressed, addr['prefixlen'])


def made_by_kernel(addr):
    """IPv6 link-local and autoconfigured addresses come and go with the link; we manage them only when declared."""
    return addr.get('family') == 'inet6' and (addr.get('scope') == 'link' or bool(addr.get('dynamic')))


def absent_state(name):
    state = dict.fromkeys(STATE_KEYS)
    state.update(name=name, state='absent', owned=False)
    return state


def state_lines(state):
    """The link as text lines, the one diff shape of podnet's modules; an absent link has none."""
    if state['state'] != 'present':
        return []
    lines = ['kind %s' % state['kind'], 'mtu %s' % state['mtu'], 'state %s' % ('up' if state['up'] else 'down')]
    if state['alias']:
        lines.append('alias %s' % state['alias'])
    if state['master']:
        lines.append('master %s' % state['master'])
    lines.extend('address %s' % addr for addr in state['addresses'])
    if state['peer']:
        lines.append('peer %s%s' % (state['peer'], ' netns %s' % state['peer_netns'] if state['peer_netns'] else ''))
    return lines


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
        self.netns = p['netns']
        self.addresses = None if p['addresses'] is None else self._parse_addresses(p['addresses'])
        self._validate_names()
        self.peer_netns = self._peer_netns(p['peer_netns'])
        self._validate_combination()

    def _parse_addresses(self, values):
        parsed = set()
        for value in values:
            iface, reason = parse_ip_interface(value)
            if reason:
                self.module.fail_json(msg='addresses: %r %s' % (value, reason))
            parsed.add('%s/%d' % (iface.ip.compressed, iface.network.prefixlen))
        return sorted(parsed)

    def _validate_names(self):
        for option in ('name', 'peer', 'master'):
            value = getattr(self, option)
            if value is None or (option == 'master' and value == ''):
                continue
            problem = ifname_problem(value)
            if problem:
                self.module.fail_json(msg='%s %r is not a valid interface name: it %s' % (option, value, problem))
        self._validate_netns('netns', self.netns)

    def _validate_netns(self, option, value):
        if value is None:
            return
        problem = netns_name_problem(value)
        if problem:
            self.module.fail_json(msg='%s %r: the namespace name %s' % (option, value, problem))
        if not netns_exists(value):
            self.module.fail_json(msg='%s: network namespace %r does not exist' % (option, value))

    def _peer_netns(self, value):
        """The peer's namespace, None when it is the link's own (also when named explicitly)."""
        self._validate_netns('peer_netns', value)
        if value is not None and same_netns(value, self.netns):
            return None
        return value

    def _validate_combination(self):
        fail = self.module.fail_json
        if self.master and self.master == self.name:
            fail(msg='a link cannot be its own master')
        if self.master and self.kind == 'bridge':
            fail(msg='a bridge cannot be a port of another bridge (master=%s)' % self.master)
        if self.kind != 'veth' and (self.peer is not None or self.peer_netns is not None):
            fail(msg='peer and peer_netns are only valid with kind=veth')
        if self.module.params['peer_netns'] is not None and self.peer is None:
            fail(msg='peer_netns requires peer')
        if self.peer is not None and self.peer_netns is None and self.peer == self.name:
            fail(msg='a veth and its peer in the same namespace need different names')
        if self.mtu is not None:
            ipv6 = any(':' in addr for addr in self.addresses or [])
            problem = mtu_problem(self.mtu, ipv6=ipv6)
            if problem:
                fail(msg='mtu %s %s' % (self.mtu, problem))


class LinkPlan(object):
    """Reads the kernel state of one link and computes the ip -batch lines that reach the declaration."""

    def __init__(self, module, decl):
        self.module = module
        self.decl = decl
        self.ip = IpRoute2(module, decl.netns)
        self.peer_ip = IpRoute2(module, decl.peer_netns) if decl.peer_netns else None
        self.links = self.ip.links()
        self.current = self.links.get(decl.name)
        self.addr_info = self.ip.addresses(decl.name) if self.current else []
        self.commands = []
        self.peer_commands = []
        self.before = self.describe()
        self.after = dict(self.before)

    # reading

    def describe(self):
        link = self.current
        if link is None:
            return absent_state(self.decl.name)
        alias = link.get('ifalias') or None
        state = dict(name=self.decl.name, state='present', kind=link_kind(link), alias=alias,
                     owned=alias == OWNER_MARK, up='UP' in link.get('flags', []), mtu=link.get('mtu'),
                     master=link.get('master'), addresses=self._managed_addresses(), peer=None, peer_netns=None)
        if state['kind'] == 'veth':
            state['peer'], state['peer_netns'] = self._known_peer(link)
        return state

    def _managed_addresses(self):
        declared = set(self.decl.addresses or [])
        return sorted(address_text(a) for a in self.addr_info
                      if not made_by_kernel(a) or address_text(a) in declared)

    def _known_peer(self, link):
        """(peer name, peer netns) as far as they can be confirmed; (None, None) otherwise."""
        if 'link_netnsid' not in link:
            # iproute2 names a peer in the same namespace ("link"); an index is all it has for one elsewhere.
            return link.get('link'), None
        decl = self.decl
        if decl.peer is not None and self.peer_ip is not None:
            peer = self.peer_ip.links().get(decl.peer)
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

    def _refuse(self, msg):
        self.module.fail_json(msg=msg, link=self.before)

    def _plan_absent(self):
        decl = self.decl
        before = self.before
        if self.current is None:
            return
        if decl.kind is not None and before['kind'] != decl.kind:
            self._refuse('link %s is of kind %s, not %s; not deleting it' % (decl.name, before['kind'], decl.kind))
        if before['kind'] not in MANAGED_KINDS:
            self._refuse('link %s is of kind %s; ip_link only deletes the bridges and veths it creates'
                         % (decl.name, before['kind']))
        if not before['owned']:
            self._refuse('link %s exists but was not created by podnet.netmodes (its alias is %r, not %r);'
                         ' refusing to delete it' % (decl.name, before['alias'], OWNER_MARK))
        self._refuse_foreign_peer()
        self.commands.append(link_delete(decl.name))
        self.after = absent_state(decl.name)

    def _refuse_foreign_peer(self):
        peer = self.links.get(self.before['peer']) if self.before['peer'] and not self.before['peer_netns'] else None
        alias = peer and peer.get('ifalias')
        if alias and alias != OWNER_MARK:
            self._refuse('deleting veth %s would also delete its peer %s, which carries the alias %r of another'
                         ' owner; refusing' % (self.decl.name, peer['ifname'], alias))

    def _plan_create(self):
        decl = self.decl
        if decl.kind == 'veth':
            self._check_peer_name_free()
        self.commands.append(link_add(decl.name, decl.kind, decl.peer, decl.peer_netns))
        self.commands.append(link_alias(decl.name, OWNER_MARK))
        if decl.kind == 'veth':
            (self.peer_commands if decl.peer_netns else self.commands).append(link_alias(decl.peer, OWNER_MARK))
        self.after.update(state='present', kind=decl.kind, alias=OWNER_MARK, owned=True, up=False, mtu=DEFAULT_MTU,
                          master=None, addresses=[], peer=decl.peer, peer_netns=decl.peer_netns)
        self._plan_settings(pin_mtu=True)

    def _check_peer_name_free(self):
        decl = self.decl
        if decl.peer is None:
            self._refuse('creating veth %s needs peer (the name of the other end)' % decl.name)
        if decl.peer_netns is None and decl.peer in self.links:
            self._refuse('cannot create veth %s: peer name %s is already used' % (decl.name, decl.peer))
        if decl.peer_netns is not None and decl.peer in self.peer_ip.links():
            self._refuse('cannot create veth %s: peer name %s is already used in netns %s'
                         % (decl.name, decl.peer, decl.peer_netns))

    def _plan_update(self):
        decl = self.decl
        before = self.before
        if before['kind'] != decl.kind:
            self._refuse('link %s exists with kind %s, but kind %s was declared; delete it first'
                         % (decl.name, before['kind'], decl.kind))
        if before['alias'] and not before['owned']:
            self._refuse('link %s carries the alias %r of another owner, not %r; refusing to adopt it'
                         % (decl.name, before['alias'], OWNER_MARK))
        if decl.peer is not None and (before['peer'], before['peer_netns']) != (decl.peer, decl.peer_netns):
            where = ('netns %s' % decl.peer_netns) if decl.peer_netns else 'the same namespace'
            self._refuse('veth %s exists but its peer is not %s in %s; delete it first to recreate it'
                         % (decl.name, decl.peer, where))
        adopting = not before['owned']
        if adopting:
            self.commands.append(link_alias(decl.name, OWNER_MARK))
            self.after.update(alias=OWNER_MARK, owned=True)
        self._plan_settings(pin_mtu=adopting)

    def _plan_settings(self, pin_mtu):
        """Lines for mtu, master, up/down and addresses, after the link exists.

        ``pin_mtu``: pin a declared bridge MTU even when the bridge has it already (see ``_plan_mtu``).
        """
        decl = self.decl
        after = self.after
        self._plan_mtu(pin_mtu)
        self._plan_master()
        going_down = after['up'] and not decl.up
        if going_down:
            # Before the addresses: taking the link down flushes its IPv6 addresses, which are then put back.
            self.commands.append(link_up(decl.name, False))
            after['up'] = False
        self._plan_addresses(going_down)
        if decl.up and not after['up']:
            self.commands.append(link_up(decl.name, True))
            after['up'] = True

    def _plan_mtu(self, pin_mtu):
        """The kernel adjusts a bridge's MTU to its ports until an MTU is set explicitly, and a set to the MTU the
        link has already is a no-op that does not count as explicit. So a created or adopted bridge whose MTU
        already is the declared one (1500 on a new bridge) is first set one off and then to the declared MTU."""
        decl = self.decl
        if decl.mtu is None:
            return
        mtu = int(decl.mtu)
        nudge = pin_mtu and decl.kind == 'bridge' and self.after['mtu'] == mtu
        if nudge:
            self.commands.append(link_mtu(decl.name, mtu + 1 if mtu < 65535 else mtu - 1))
        if nudge or self.after['mtu'] != mtu:
            self.commands.append(link_mtu(decl.name, mtu))
            self.after['mtu'] = mtu

    def _plan_master(self):
        decl = self.decl
        after = self.after
        if decl.master is None:
            return
        wanted = decl.master or None
        if after['master'] == wanted:
            return
        if wanted is not None:
            master = self.links.get(wanted)
            if master is None or link_kind(master) != 'bridge':
                self._refuse('master %s of %s must be an existing bridge in the same namespace' % (wanted, decl.name))
            if master.get('ifalias') and master.get('ifalias') != OWNER_MARK:
                self._refuse('master %s carries the alias %r of another owner; refusing to add %s to its ports'
                             % (wanted, master.get('ifalias'), decl.name))
        self.commands.append(link_master(decl.name, wanted))
        after['master'] = wanted

    def _plan_addresses(self, going_down):
        decl = self.decl
        if decl.addresses is None:
            return
        current = set(self.after['addresses'])
        wanted = set(decl.addresses)
        removed = current - wanted
        restored = self._lost_by_removal(removed, current & wanted)
        if going_down:
            restored |= set(addr for addr in current & wanted if ':' in addr)
        secondaries = set(address_text(a) for a in self.addr_info if a.get('secondary'))
        # Secondaries first: once their primary is gone, they are gone too and their delete would fail.
        for addr in sorted(removed, key=lambda text: (text not in secondaries, text)):
            self.commands.append(address_line('delete', addr, decl.name))
        for addr in sorted(restored):
            # replace, not add: the kernel may have promoted the address or kept it (keep_addr_on_down).
            self.commands.append(address_line('replace', addr, decl.name))
        for addr in sorted(wanted - current):
            self.commands.append(address_line('add', addr, decl.name))
        self.after['addresses'] = list(decl.addresses)

    def _lost_by_removal(self, removed, kept):
        """Kept IPv4 addresses the kernel drops with a removed primary of their subnet (promote_secondaries=0)."""
        primaries = [ipaddress.ip_interface(address_text(a)) for a in self.addr_info
                     if a.get('family') == 'inet' and not a.get('secondary') and address_text(a) in removed]
        lost = set()
        for addr in kept:
            iface = ipaddress.ip_interface(addr)
            if any(iface.version == 4 and iface.network == primary.network for primary in primaries):
                lost.add(addr)
        return lost

    # applying

    def apply(self):
        self.ip.batch(self.commands)
        if self.peer_commands:
            self.peer_ip.batch(self.peer_commands, done=self.commands)

    def reported_commands(self):
        prefix = '-n %s ' % self.decl.peer_netns if self.decl.peer_netns else ''
        return self.commands + [prefix + line for line in self.peer_commands]

    def read_back(self):
        self.links = self.ip.links()
        self.current = self.links.get(self.decl.name)
        self.addr_info = self.ip.addresses(self.decl.name) if self.current else []
        return self.describe()


def address_line(verb, addr, dev):
    return address(verb, ipaddress.ip_interface(addr), dev)


def diff_header(decl):
    return 'link %s%s' % (decl.name, ' in netns %s' % decl.netns if decl.netns else '')


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            kind=dict(type='str', choices=list(MANAGED_KINDS)),
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
    try:
        plan.plan()
    except UnsafeValue as exc:
        module.fail_json(msg=unsafe_value_message(exc))
    changed = bool(plan.commands or plan.peer_commands)
    result = dict(changed=changed, commands=plan.reported_commands(), link=plan.after)
    if module._diff:
        result['diff'] = object_diff(diff_header(decl), state_lines(plan.before), state_lines(plan.after))
    if changed and not module.check_mode:
        plan.apply()
        result['link'] = plan.read_back()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
