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
short_description: Declare one Linux network link (bridge, veth pair or ipip tunnel) with iproute2
version_added: 0.1.0
description:
  - Creates, adopts, reconfigures or deletes one network link in the current or a named network namespace.
  - Reads the kernel state with C(ip -json) and applies all changes in one C(ip -batch -) run.
  - Links created or adopted by this module carry the interface alias C(podnet.netmodes), the ownership mark.
    Only links with that alias are ever deleted.
  - An existing link of the requested kind with no alias at all is adopted with I(state=present); the alias is
    set, its declared MTU is pinned, and that is reported as a change. A link whose alias is set to anything
    else (for example C(docker-managed)) belongs to another owner and is refused, never changed.
  - C(tunl0) is the ipip kernel module's fallback device. The kernel creates it (in every namespace) when the
    module loads and never deletes it, so this module never creates or deletes it. With I(kind=ipip) and
    I(state=present) it adopts C(tunl0) like any other link (alias, MTU, addresses, up) and fails when it does
    not exist, saying that the ipip module is not loaded. I(state=absent) on an owned C(tunl0) removes its
    addresses, sets it down and clears the alias; a C(tunl0) without alias, or none at all, is left as it is.
  - In check mode, a missing C(tunl0) while the ipip module is not loaded is taken to be the C(tunl0) that
    C(modprobe ipip) will create (MTU 1480, down, no alias, no addresses, ends any), because in check mode the
    caller's C(modprobe ipip) only predicts its change. The module then reports the change, commands and diff
    that the real run will have. When loading the module would give this namespace no C(tunl0)
    (C(net.core.fb_tunnels_only_for_init_net)), or the module is loaded already, check mode fails like the
    real run.
  - Named ipip tunnels (any other name) are created with C(ip link add NAME type ipip remote R ...) and changed
    in place (C(ip link set NAME type ipip ...)), so their ifindex, addresses and routes survive a new remote.
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
    choices: [bridge, veth, ipip]
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
      - MTU of the link, 68 to 65535 (at least 1280 when an IPv6 address is declared; at most 65500 for ipip).
        Always set explicitly on a created or adopted link, even when it equals the kernel default, so that a
        bridge keeps it when ports with another MTU join.
      - When omitted, an existing link keeps its MTU and a new one gets the kernel default.
      - Required with I(ipip), because the kernel sets a new tunnel's MTU from its route to the remote end (and again
        when its I(dev) changes), so only a declared MTU is certain. The value (uplink MTU minus 20 for ipip) is
        the caller's decision.
    type: int
  mac:
    description:
      - Ethernet address of a bridge or veth, a unicast MAC such as C(0a:58:0a:f4:01:01). A new link is created
        with it (C(ip link add NAME address MAC type ...)), an existing one is changed in place when it differs;
        when omitted, a link keeps the address it has.
      - Created with the address, not given it a moment later, because udev's C(MACAddressPolicy=persistent)
        (systemd's default) replaces the random address of a new bridge shortly after it appears and would race
        a later change.
      - A bridge whose address was never set takes the lowest address of its ports, so it changes whenever a
        port with a lower one joins or the lowest one leaves; the pods' neighbour entries for their gateway then
        point at an address that is no longer the bridge's and their traffic stops until the entries are probed
        again (seconds). A set address is kept whatever the ports do.
      - Not valid with I(kind=ipip), which has no Ethernet address.
    type: str
  master:
    description:
      - Bridge in the same namespace that this link is a port of. A bridge whose alias marks another owner is
        refused. Not valid with I(kind=ipip) (a tunnel is not an Ethernet device).
      - An empty string means the link must not have a master. When omitted, the master is left alone.
    type: str
  addresses:
    description:
      - The exact set of addresses the link holds, in CIDR notation such as C(10.244.0.1/24). A host address such
        as C(10.244.1.1/32) on C(tunl0) is fine; an ipip link takes IPv4 addresses only.
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
  ipip:
    description:
      - The ends of a named ipip tunnel (I(kind=ipip), any name but C(tunl0), whose ends the kernel fixes).
        Required to create one, and then I(mtu) is required too. When omitted, an existing tunnel's ends are
        left alone.
      - These are the tunnel's exact ends; a change is applied in place with C(ip link set NAME type ipip).
        Going from a I(dev) to none deletes and re-creates the tunnel (iproute2 cannot unbind a tunnel), which
        drops the routes through it until they are programmed again; a tunnel not yet marked as ours is refused.
      - Refused in planning, also in check mode, when another ipip tunnel has the same local, remote and dev,
        because the kernel allows only one.
    type: dict
    suboptions:
      remote:
        description: IPv4 address of the other end (a unicast node address).
        type: str
        required: true
      local:
        description: IPv4 source address of the outer packets. Default C(any) (the kernel picks by route).
        type: str
      ttl:
        description: TTL of the outer header, 1 to 255. Default C(inherit) (the inner packet's TTL).
        type: int
      dev:
        description: Device the tunnel is bound to (outer packets leave through it). Default none.
        type: str
  boot:
    description:
      - Also keep a boot file from which C(podnet-network.service) builds the link again at boot, without Ansible.
        It holds the C(ip -batch) lines this module would run on a freshly booted kernel that lacks the link
        (C(tunl0) as loading the ipip module makes it, with the declared MTU set whatever it is), computed by the
        same planning and the same line builders as the lines it applies, after a header line that marks the
        file as podnet's.
      - The file is written (atomically, only when its text differs) with I(state=present) and removed with
        I(state=absent). Outside C(/etc/podnet), a file at that path without podnet's header is neither
        overwritten nor deleted; the module fails in planning, also in check mode. Under C(/etc/podnet), podnet's
        own directory, such a file is podnet's own damaged (truncated or overwritten), and it is written anew (or
        removed) like any file whose text differs, with a warning.
      - Only for links in the host's namespace, so not valid with I(netns) or I(peer_netns), because named namespaces do
        not survive a reboot, and a container runtime makes its pods anew.
    type: bool
    default: false
  boot_file:
    description:
      - Path of the boot file with I(boot=true), which it needs. Defaults to
        C(/etc/podnet/iproute2/<rank>-<kind>-<name>.batch), rank 10 for a bridge, 20 for ipip and 30 for a veth;
        C(podnet-network.service) runs the C(*.batch) files of that directory in name order, so a bridge is
        there before its ports and every link before the routes (rank 50) that use it.
      - A file elsewhere is not read at boot by C(podnet-network.service).
    type: path
attributes:
  check_mode:
    support: full
    description: Computes and returns the commands that would run, without running them.
  diff_mode:
    support: full
    description:
      - Before and after are the link as sorted text lines (kind, alias, mtu, mac when declared, state, master,
        addresses, peer, tunnel) and, with I(boot), one line with the boot file's size and digest; after predicts the state the
        real run leaves, in check mode too.
  platform:
    support: full
    platforms: posix
    description: Linux only.
notes:
  - Only the Python standard library and iproute2 are needed on the target.
  - When a batch fails half way, the module fails with C(changed=true) and returns the lines that were applied.
  - Loading the ipip kernel module (C(modprobe ipip), C(/etc/modules-load.d)) is the caller's job. Without it, a
    declared C(tunl0) fails in planning and creating a named tunnel fails with a message that says so.
    Check mode is the exception for C(tunl0), see above; it predicts the run that follows the caller's
    C(modprobe ipip).
  - Check mode cannot tell whether C(modprobe ipip) will succeed. On a kernel without the ipip module it
    still predicts C(tunl0), and the real run stops at the caller's C(modprobe ipip).
'''

EXAMPLES = r'''
- name: Pod bridge with its gateway address, and an address of its own that pods joining do not change
  podnet.netmodes.ip_link:
    name: cni0
    kind: bridge
    mtu: 1450
    mac: 0a:58:0a:f4:01:01
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

- name: The ipip fallback device up, MTU uplink - 20, a host address from the node's pod block
  podnet.netmodes.ip_link:
    name: tunl0
    kind: ipip
    mtu: 1480
    addresses:
      - 10.244.1.1/32

- name: Give tunl0 back (it stays, since the kernel never deletes it)
  podnet.netmodes.ip_link:
    name: tunl0
    state: absent

- name: Pod bridge that podnet-network.service builds again at boot
  podnet.netmodes.ip_link:
    name: cni0
    kind: bridge
    mtu: 1450
    addresses:
      - 10.244.1.1/24
    boot: true

- name: A point-to-point ipip tunnel to one peer
  podnet.netmodes.ip_link:
    name: ipip-rack-b
    kind: ipip
    mtu: 1480
    ipip:
      local: 10.100.0.11
      remote: 10.100.1.21
      ttl: 64
      dev: ens5
'''

RETURN = r'''
link:
  description:
    - State of the link after the run (the predicted state in check mode).
    - C(mac) is the link's Ethernet address when I(mac) is declared, and null otherwise (then the module neither
      reads nor sets it).
    - C(tunnel) is an ipip link's C(remote), C(local), C(ttl) (0 means inherit) and C(dev) (null for any or
      none; C(tunl0) has all of them null or 0), and null for other kinds.
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
    mac: 0a:58:0a:f4:01:01
    master: null
    addresses: [10.244.1.1/24]
    peer: null
    peer_netns: null
    tunnel: null
commands:
  description:
    - The C(ip -batch) lines that ran (or would run in check mode).
    - Lines run in the peer's namespace are prefixed with C(-n NAMESPACE).
  returned: always
  type: list
  elements: str
  sample: ["link add name cni0 type bridge", "link set dev cni0 alias podnet.netmodes", "link set dev cni0 up"]
boot_file:
  description:
    - The boot file (I(boot=true)) - its C(path), whether the run (or in check mode, would) write or remove it
      (C(changed)), and how many C(ip -batch) lines it holds afterwards (C(lines), 0 when there is no file).
  returned: when I(boot=true)
  type: dict
  sample: {path: /etc/podnet/iproute2/10-bridge-cni0.batch, changed: true, lines: 5}
applied:
  description: On a failed apply, the C(ip -batch) lines that the kernel had already applied.
  returned: failure
  type: list
  elements: str
'''

import ipaddress
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.podnet.netmodes.plugins.module_utils._bootfile import BootFile, header_line, summary_lines
from ansible_collections.podnet.netmodes.plugins.module_utils._diff import object_diff
from ansible_collections.podnet.netmodes.plugins.module_utils._iproute2 import (
    BOOT_UNIT,
    OWNER_MARK,
    IpRoute2,
    UnsafeValue,
    address,
    link_add,
    link_alias,
    link_alias_clear,
    link_boot_path,
    link_delete,
    link_master,
    link_mac,
    link_mtu,
    link_tunnel,
    link_up,
    netns_exists,
    netns_path,
    same_netns,
    unsafe_value_message,
)
from ansible_collections.podnet.netmodes.plugins.module_utils._rules import (
    ifname_problem,
    ipip_mtu_problem,
    mtu_problem,
    netns_name_problem,
    parse_ip_interface,
    parse_mac,
    parse_tunnel_endpoint,
    tunnel_ttl_problem,
)

DEFAULT_MTU = 1500
MANAGED_KINDS = ('bridge', 'veth', 'ipip')
STATE_KEYS = ('name', 'state', 'kind', 'alias', 'owned', 'up', 'mtu', 'mac', 'master', 'addresses', 'peer',
              'peer_netns', 'tunnel')
# The ipip kernel module creates this device in every namespace when it loads; the kernel neither creates it on
# request nor deletes it (its dellink is a silent no-op) nor changes its endpoints (changelink answers EINVAL).
FALLBACK_TUNNEL = 'tunl0'
# Present (also for a built-in ipip) once the module is loaded.
IPIP_SYSFS = '/sys/module/ipip'
# Not 0: the kernel gives fallback devices to the first network namespace only (see fallback_after_modprobe).
FB_TUNNELS_SYSCTL = '/proc/sys/net/core/fb_tunnels_only_for_init_net'
FIRST_NETNS = '/proc/1/ns/net'
BOOT_FILE_HEADER = header_line('ip_link', BOOT_UNIT)


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


def fresh_fallback_link():
    """tunl0 as ``modprobe ipip`` creates it, in ``ip -json -details link show`` form (read off Debian 12's 6.1
    kernel, also in a namespace made later): MTU 1500 - 20, down, no alias, no addresses, both ends any, ttl
    inherit, bound to no device, any inner protocol."""
    return {'ifname': FALLBACK_TUNNEL, 'link': None, 'flags': ['NOARP'], 'mtu': 1480, 'qdisc': 'noop',
            'operstate': 'DOWN', 'link_type': 'ipip', 'address': '0.0.0.0', 'broadcast': '0.0.0.0',
            'linkinfo': {'info_kind': 'ipip', 'info_data': {'proto': 'any', 'remote': 'any', 'local': 'any',
                                                            'ttl': 0, 'pmtudisc': False}}}


def boot_fallback_link():
    """tunl0 as the boot file finds it: as ``modprobe ipip`` creates it, but with its MTU left unknown, so that the
    file sets the declared MTU whatever the booting kernel gave the device."""
    link = fresh_fallback_link()
    link['mtu'] = None
    return link


def fallback_after_modprobe(netns):
    """Whether loading the ipip module gives the namespace a tunl0: the first namespace always gets one, the
    others only while net.core.fb_tunnels_only_for_init_net is 0 (the default)."""
    if not os.path.exists(FB_TUNNELS_SYSCTL):
        return True
    with open(FB_TUNNELS_SYSCTL) as handle:
        if handle.read().strip() == '0':
            return True
    try:
        ours, first = os.stat(netns_path(netns)), os.stat(FIRST_NETNS)
    except OSError:
        return False
    return (ours.st_dev, ours.st_ino) == (first.st_dev, first.st_ino)


def tunnel_state(link):
    """remote/local/ttl/dev of an ipip link as iproute2 prints them in ``linkinfo.info_data``; "any" is None."""
    data = link.get('linkinfo', {}).get('info_data') or {}

    def endpoint(key):
        value = data.get(key)
        return None if value in (None, 'any') else value
    return dict(remote=endpoint('remote'), local=endpoint('local'), ttl=int(data.get('ttl') or 0),
                dev=data.get('link') or None)


def tunnel_text(tunnel):
    dev = ' dev %s' % tunnel['dev'] if tunnel['dev'] else ''
    return 'remote %s local %s ttl %s%s' % (tunnel['remote'] or 'any', tunnel['local'] or 'any',
                                            tunnel['ttl'] or 'inherit', dev)


def state_lines(state):
    """The link as text lines, the one diff shape of podnet's modules; an absent link has none."""
    if state['state'] != 'present':
        return []
    lines = ['kind %s' % state['kind'], 'mtu %s' % state['mtu'], 'state %s' % ('up' if state['up'] else 'down')]
    if state['mac']:
        lines.append('mac %s' % state['mac'])
    if state['tunnel']:
        lines.append('tunnel %s' % tunnel_text(state['tunnel']))
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
        self.mac = None if p['mac'] is None else self._parse_mac(p['mac'])
        self.master = p['master']
        self.peer = p['peer']
        self.netns = p['netns']
        self.addresses = None if p['addresses'] is None else self._parse_addresses(p['addresses'])
        self._validate_names()
        self.peer_netns = self._peer_netns(p['peer_netns'])
        self.tunnel = None if p['ipip'] is None else self._parse_tunnel(p['ipip'])
        self.fallback = self.name == FALLBACK_TUNNEL
        self._validate_combination()
        self._validate_ipip()
        self.boot_file = self._boot_file(p['boot'], p['boot_file'])

    def _boot_file(self, boot, path):
        fail = self.module.fail_json
        if not boot:
            if path is not None:
                fail(msg='boot_file is only used with boot=true')
            return None
        if self.netns is not None or self.module.params['peer_netns'] is not None:
            fail(msg='boot is not valid with netns or peer_netns: podnet-network.service restores links in the'
                 ' host\'s namespace, and named namespaces do not survive a reboot (a runtime makes its pods anew)')
        if self.state == 'present' and self.kind == 'veth' and self.peer is None:
            fail(msg='boot with a veth needs peer: the boot file creates the pair')
        if self.state == 'present' and self.kind == 'ipip' and not self.fallback and self.tunnel is None:
            fail(msg='boot with a named ipip tunnel needs ipip (its ends) and mtu: the boot file creates the tunnel')
        if path is not None:
            return path
        if self.kind is None:
            fail(msg='boot needs kind, which names the default boot file (or give boot_file)')
        return link_boot_path(self.kind, self.name)

    def _parse_mac(self, value):
        mac, reason = parse_mac(value)
        if reason:
            self.module.fail_json(msg='mac %r %s' % (value, reason))
        return mac

    def _parse_addresses(self, values):
        parsed = set()
        for value in values:
            iface, reason = parse_ip_interface(value)
            if reason:
                self.module.fail_json(msg='addresses: %r %s' % (value, reason))
            parsed.add('%s/%d' % (iface.ip.compressed, iface.network.prefixlen))
        return sorted(parsed)

    def _parse_tunnel(self, options):
        """The ipip endpoints, canonical as the kernel prints them (ttl 0 = inherit)."""
        fail = self.module.fail_json
        tunnel = dict(remote=None, local=None, ttl=0, dev=options.get('dev'))
        for key in ('remote', 'local'):
            if options.get(key) is None:
                continue
            addr, reason = parse_tunnel_endpoint(options[key])
            if reason:
                fail(msg='ipip.%s %r %s' % (key, options[key], reason))
            tunnel[key] = str(addr)
        if tunnel['remote'] is None:
            fail(msg='ipip.remote is required: a tunnel without a remote end is what tunl0 already is')
        if tunnel['remote'] == tunnel['local']:
            fail(msg='ipip.local and ipip.remote are the same address %s' % tunnel['remote'])
        if options.get('ttl') is not None:
            problem = tunnel_ttl_problem(options['ttl'])
            if problem:
                fail(msg='ipip.ttl %r %s' % (options['ttl'], problem))
            tunnel['ttl'] = int(options['ttl'])
        if tunnel['dev'] is not None:
            problem = ifname_problem(tunnel['dev'])
            if problem:
                fail(msg='ipip.dev %r is not a valid interface name: it %s' % (tunnel['dev'], problem))
            if tunnel['dev'] == self.name:
                fail(msg='ipip.dev cannot be the tunnel %s itself' % self.name)
        return tunnel

    def _validate_ipip(self):
        fail = self.module.fail_json
        if self.kind != 'ipip':
            if self.tunnel is not None:
                fail(msg='ipip is only valid with kind=ipip')
            if self.fallback and self.kind is not None:
                fail(msg='%s is the name of the ipip kernel module\'s fallback device; declare it with kind=ipip'
                     % FALLBACK_TUNNEL)
            return
        if self.fallback and self.tunnel is not None:
            fail(msg='ipip options are not valid for %s: it is the kernel\'s fallback device, whose ends are fixed'
                 ' (any, any) and which the kernel refuses to change; declare a tunnel with another name'
                 % FALLBACK_TUNNEL)
        if self.master:
            fail(msg='an ipip tunnel is not an Ethernet device and cannot be a bridge port (master=%s)' % self.master)
        if self.mac is not None:
            fail(msg='an ipip tunnel is not an Ethernet device and has no mac')
        if any(':' in addr for addr in self.addresses or []):
            fail(msg='an ipip tunnel carries IPv4 only; IPv6 addresses cannot be declared on it')
        if self.mtu is not None:
            problem = ipip_mtu_problem(self.mtu)
            if problem:
                fail(msg='mtu %s %s' % (self.mtu, problem))
        elif self.tunnel is not None:
            # The kernel sets a tunnel's MTU from the route to its remote when it creates it and again when its
            # device changes; only a declared MTU makes the result (and check mode's prediction) certain.
            fail(msg='mtu is required with ipip: the kernel derives a new tunnel\'s MTU from its route to the'
                 ' remote end (the role declares uplink MTU - 20)')

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

    def __init__(self, module, decl, kernel=None):
        """``kernel``: (links by name, the link's addr_info) to plan against instead of reading the kernel."""
        self.module = module
        self.decl = decl
        self.ip = IpRoute2(module, decl.netns)
        self.peer_ip = IpRoute2(module, decl.peer_netns) if decl.peer_netns else None
        self.links, self.addr_info = kernel if kernel is not None else self._read_kernel()
        self.current = self.links.get(decl.name)
        if self.current is None and self._predicts_fallback():
            self.current = self.links[decl.name] = fresh_fallback_link()
        self.commands = []
        self.peer_commands = []
        self.before = self.describe()
        self.after = dict(self.before)

    # reading

    def _read_kernel(self):
        links = self.ip.links()
        return links, self.ip.addresses(self.decl.name) if self.decl.name in links else []

    def describe(self):
        link = self.current
        if link is None:
            return absent_state(self.decl.name)
        alias = link.get('ifalias') or None
        kind = link_kind(link)
        state = dict(name=self.decl.name, state='present', kind=kind, alias=alias,
                     owned=alias == OWNER_MARK, up='UP' in link.get('flags', []), mtu=link.get('mtu'),
                     mac=link.get('address') if self.decl.mac else None, master=link.get('master'),
                     addresses=self._managed_addresses(), peer=None, peer_netns=None,
                     tunnel=None)
        if kind == 'veth':
            state['peer'], state['peer_netns'] = self._known_peer(link)
        if kind == 'ipip':
            state['tunnel'] = tunnel_state(link)
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
        fallback = self.decl.fallback
        if self.decl.state == 'absent':
            (self._plan_fallback_absent if fallback else self._plan_absent)()
        elif self.current is None:
            (self._refuse_missing_fallback if fallback else self._plan_create)()
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
            self._refuse('link %s is of kind %s; ip_link only deletes the bridges, veths and ipip tunnels it creates'
                         % (decl.name, before['kind']))
        if not before['owned']:
            self._refuse('link %s exists but was not created by podnet.netmodes (its alias is %r, not %r);'
                         ' refusing to delete it' % (decl.name, before['alias'], OWNER_MARK))
        self._refuse_foreign_peer()
        self.commands.append(link_delete(decl.name))
        self.after = absent_state(decl.name)

    def _plan_fallback_absent(self):
        """tunl0 cannot be deleted: ``absent`` takes back what podnet gave it (addresses, up, the alias)."""
        decl = self.decl
        before = self.before
        if self.current is None or not before['alias']:
            return
        if decl.kind is not None and before['kind'] != decl.kind:
            self._refuse('link %s is of kind %s, not %s; leaving it alone' % (decl.name, before['kind'], decl.kind))
        if not before['owned']:
            self._refuse('%s carries the alias %r of another owner, not %r; refusing to change it'
                         % (decl.name, before['alias'], OWNER_MARK))
        if before['up']:
            self.commands.append(link_up(decl.name, False))
        secondaries = set(address_text(a) for a in self.addr_info if a.get('secondary'))
        for addr in sorted(before['addresses'], key=lambda text: (text not in secondaries, text)):
            self.commands.append(address_line('delete', addr, decl.name))
        # The mark goes last: a run that fails half way leaves tunl0 still ours, and the rerun finishes the job.
        self.commands.append(link_alias_clear(decl.name))
        self.after.update(alias=None, owned=False, up=False, addresses=[])

    def _predicts_fallback(self):
        """Check mode of a run whose ``modprobe ipip`` is only predicted: plan against the tunl0 that loading the
        module creates, so that check mode reports the change and the diff of the real run. Only when the module
        is not loaded yet and loading it gives this namespace a tunl0; otherwise the real run fails, so this
        one does too."""
        decl = self.decl
        return (decl.fallback and decl.state == 'present' and self.module.check_mode
                and not os.path.exists(IPIP_SYSFS) and fallback_after_modprobe(decl.netns))

    def _refuse_missing_fallback(self):
        fb_note = ('net.core.fb_tunnels_only_for_init_net keeps fallback devices out of namespaces other than the'
                   ' first; declare a named ipip tunnel instead')
        if os.path.exists(IPIP_SYSFS):
            reason = 'the ipip kernel module is loaded, but this namespace has no %s: %s' % (FALLBACK_TUNNEL, fb_note)
        else:
            reason = ('the ipip kernel module is missing (not loaded): %s is the device that module creates when'
                      ' it loads, ip link add cannot make it; load it first with modprobe ipip (and list it in'
                      ' /etc/modules-load.d for boot)' % FALLBACK_TUNNEL)
            if not fallback_after_modprobe(self.decl.netns):
                reason += '. Even then this namespace gets none: ' + fb_note
        self._refuse('%s does not exist: %s' % (FALLBACK_TUNNEL, reason))

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
        if decl.kind == 'ipip':
            if decl.tunnel is None:
                self._refuse('creating ipip tunnel %s needs ipip.remote (and mtu)' % decl.name)
            self._check_tunnel_ends()
        self.commands.append(link_add(decl.name, decl.kind, decl.peer, decl.peer_netns, decl.tunnel, decl.mac))
        self.commands.append(link_alias(decl.name, OWNER_MARK))
        if decl.kind == 'veth':
            (self.peer_commands if decl.peer_netns else self.commands).append(link_alias(decl.peer, OWNER_MARK))
        # A new tunnel's MTU comes from the route to its remote end: unknown here, so the declared one is set.
        self.after.update(state='present', kind=decl.kind, alias=OWNER_MARK, owned=True, up=False,
                          mtu=None if decl.kind == 'ipip' else DEFAULT_MTU, mac=decl.mac, master=None, addresses=[],
                          peer=decl.peer, peer_netns=decl.peer_netns, tunnel=decl.tunnel)
        self._plan_settings(pin_mtu=True)

    def _check_tunnel_ends(self):
        """The kernel keeps one tunnel per (local, remote, device) and answers EEXIST for a second one."""
        decl = self.decl
        wanted = decl.tunnel
        if wanted['dev'] is not None and wanted['dev'] not in self.links:
            self._refuse('ipip.dev %s of tunnel %s does not exist' % (wanted['dev'], decl.name))
        for name, link in sorted(self.links.items()):
            if name == decl.name or link_kind(link) != 'ipip':
                continue
            other = tunnel_state(link)
            if (other['local'], other['remote'], other['dev']) == (wanted['local'], wanted['remote'], wanted['dev']):
                self._refuse('tunnel %s already has local %s, remote %s%s; the kernel allows one tunnel per pair'
                             % (name, other['local'] or 'any', other['remote'],
                                ' and dev %s' % other['dev'] if other['dev'] else ''))

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
        if decl.tunnel is not None and before['tunnel'] != decl.tunnel and self._recreate_tunnel(adopting):
            return
        if adopting:
            self.commands.append(link_alias(decl.name, OWNER_MARK))
            self.after.update(alias=OWNER_MARK, owned=True)
        if decl.tunnel is not None and before['tunnel'] != decl.tunnel:
            self._check_tunnel_ends()
            self.commands.append(link_tunnel(decl.name, decl.tunnel))
            if before['tunnel']['dev'] != decl.tunnel['dev']:
                # A new device makes the kernel recompute the tunnel's MTU (ip_tunnel_update): set it again.
                self.after['mtu'] = None
            self.after['tunnel'] = decl.tunnel
        self._plan_settings(pin_mtu=adopting)

    def _recreate_tunnel(self, adopting):
        """True when the tunnel must be deleted and created again. iproute2 can bind a tunnel to another device
        but has no word to unbind it, and the kernel refuses (EINVAL) to give a remote to a tunnel without one or
        to change a metadata ("external") tunnel. Only a tunnel that is ours already is deleted."""
        decl = self.decl
        current = self.before['tunnel']
        data = self.current.get('linkinfo', {}).get('info_data') or {}
        if current['dev'] and decl.tunnel['dev'] is None:
            why = 'is bound to dev %s, and iproute2 cannot unbind a tunnel' % current['dev']
        elif current['remote'] is None or data.get('external'):
            why = 'has no remote end (or is an "external" metadata tunnel), which the kernel cannot change'
        else:
            return False
        if adopting:
            self._refuse('tunnel %s %s; changing it means deleting it, and it has no alias: ip_link deletes only'
                         ' links it created' % (decl.name, why))
        self.commands.append(link_delete(decl.name))
        self.after = absent_state(decl.name)
        self._plan_create()
        return True

    def _plan_settings(self, pin_mtu):
        """Lines for mtu, master, up/down and addresses, after the link exists.

        ``pin_mtu``: pin a declared bridge MTU even when the bridge has it already (see ``_plan_mtu``).
        """
        decl = self.decl
        after = self.after
        self._plan_mtu(pin_mtu)
        self._plan_mac()
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

    def _plan_mac(self):
        decl = self.decl
        if decl.mac is not None and self.after['mac'] != decl.mac:
            self.commands.append(link_mac(decl.name, decl.mac))
            self.after['mac'] = decl.mac

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

    # the boot file

    def boot_lines(self):
        """The batch lines that build the declared link on a freshly booted kernel: this plan, run against this
        kernel without the link (and its veth peer), where tunl0 is as loading the ipip module makes it."""
        decl = self.decl
        if decl.state != 'present':
            return []
        links = dict((name, link) for name, link in self.links.items() if name not in (decl.name, decl.peer))
        if decl.fallback:
            links[decl.name] = boot_fallback_link()
        boot = LinkPlan(self.module, decl, kernel=(links, []))
        boot.plan()
        return boot.commands

    def boot_file(self):
        """The declaration's BootFile, None without ``boot``; a file podnet did not write is refused."""
        if self.decl.boot_file is None:
            return None
        boot = BootFile(self.decl.boot_file, BOOT_FILE_HEADER, self.boot_lines())
        if boot.foreign:
            self._refuse(boot.refusal())
        return boot

    # applying

    def apply(self):
        self.ip.batch(self.commands, explain=self._explain_failure)
        if self.peer_commands:
            self.peer_ip.batch(self.peer_commands, done=self.commands)

    def _explain_failure(self, stderr):
        # The kernel loads ipip on demand for "link add type ipip"; this answer means it has no such module.
        if self.decl.kind == 'ipip' and FALLBACK_TUNNEL not in self.links and 'Unknown device type' in stderr:
            return ('the ipip kernel module is missing: this kernel does not know the link type ipip (%s does not'
                    ' exist either); load it with modprobe ipip, or use a kernel that has it' % FALLBACK_TUNNEL)
        return None

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
            mac=dict(type='str'),
            master=dict(type='str'),
            addresses=dict(type='list', elements='str'),
            peer=dict(type='str'),
            peer_netns=dict(type='str'),
            netns=dict(type='str'),
            ipip=dict(type='dict', options=dict(
                remote=dict(type='str', required=True),
                local=dict(type='str'),
                ttl=dict(type='int'),
                dev=dict(type='str'),
            )),
            boot=dict(type='bool', default=False),
            boot_file=dict(type='path'),
        ),
        required_if=[('state', 'present', ['kind'])],
        supports_check_mode=True,
    )
    decl = LinkDeclaration(module)
    plan = LinkPlan(module, decl)
    try:
        plan.plan()
        boot = plan.boot_file()
    except UnsafeValue as exc:
        module.fail_json(msg=unsafe_value_message(exc))
    kernel_changed = bool(plan.commands or plan.peer_commands)
    file_changed = boot is not None and boot.changed
    if boot is not None and boot.damaged:
        module.warn(boot.damage_warning())
    result = dict(changed=kernel_changed or file_changed, commands=plan.reported_commands(), link=plan.after)
    if boot is not None:
        result['boot_file'] = boot.result()
    if module._diff:
        result['diff'] = object_diff(diff_header(decl),
                                     state_lines(plan.before) + summary_lines(decl.boot_file, boot and boot.before),
                                     state_lines(plan.after) + summary_lines(decl.boot_file, boot and boot.after))
    if module.check_mode:
        module.exit_json(**result)
    if kernel_changed:
        plan.apply()
        result['link'] = plan.read_back()
    if file_changed:
        boot.apply(module, plan.reported_commands() if kernel_changed else [])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
