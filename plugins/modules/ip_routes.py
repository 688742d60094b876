#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) podnet.netmodes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: ip_routes
short_description: Declare a set of routes in one routing table, owned by one route protocol id
version_added: 0.1.0
description:
  - Makes the routes of protocol I(proto) in table I(table) match the declared I(routes).
  - Reads the table once with C(ip -json route show) and applies every change in one C(ip -batch -) run,
    with C(route replace) for new and changed routes and C(route del) for purged ones, so a changed route is
    never deleted first.
  - A route is identified by its destination and metric within the table, which is what the kernel's
    replace matches on. Routes of any other protocol are never replaced or deleted; declaring a route whose
    destination and metric are already held by another protocol makes the module fail.
author:
  - podnet.netmodes maintainers (@podnet)
requirements:
  - iproute2 (the C(ip) command) on the target host
options:
  routes:
    description:
      - The declared routes. IPv4 and IPv6 can be mixed.
    type: list
    elements: dict
    default: []
    suboptions:
      dest:
        description:
          - Destination network in CIDR notation, without host bits set (C(10.244.1.0/24), not C(10.244.1.5/24)).
          - A bare address means a host route (/32 or /128).
        type: str
        required: true
      via:
        description: Gateway address, of the same family as I(dest). Not allowed with I(type=blackhole).
        type: str
      dev:
        description:
          - Output interface. A C(unicast) route needs I(via), I(dev) or both.
          - When omitted, the kernel picks the interface and the module does not compare it.
        type: str
      type:
        description: Route type.
        type: str
        choices: [unicast, blackhole]
        default: unicast
      scope:
        description:
          - Route scope (IPv4 only). Default is C(link) for a unicast route without I(via), C(global) otherwise.
        type: str
        choices: [global, link]
      onlink:
        description: Treat the gateway as directly reachable on I(dev) even without a matching prefix. Needs I(via) and I(dev).
        type: bool
        default: false
      metric:
        description:
          - Route priority. Part of the route's identity. Default is 0 for IPv4 and 1024 for IPv6, as in the kernel.
        type: int
      src:
        description: Preferred source address, of the same family as I(dest).
        type: str
  table:
    description: Routing table, C(main) or a number from 1 to 4294967295.
    type: raw
    default: main
  proto:
    description:
      - Route protocol id that marks the routes this module owns. 94 is the podnet.netmodes mark.
      - Values 0 to 4 (unspec, redirect, kernel, boot, static) belong to the kernel and to administrators and are refused.
    type: int
    default: 94
  purge:
    description:
      - Delete routes of protocol I(proto) in I(table) that are not declared. Routes of other protocols are never deleted.
    type: bool
    default: false
  netns:
    description: Named network namespace (as in C(ip netns)) to work in. Default is the current one.
    type: str
attributes:
  check_mode:
    support: full
    description: Computes the same added, modified, removed and commands as a real run, without changing anything.
  diff_mode:
    support: full
    description:
      - Before and after are texts with one route string per line, sorted, of the routes of protocol
        I(proto) in I(table).
  platform:
    support: full
    platforms: posix
    description: Linux only.
notes:
  - Only the Python standard library and iproute2 are needed on the target.
  - When a route does not declare I(dev), its predicted diff string has no C(dev) part while the kernel's will.
'''

EXAMPLES = r'''
- name: Host-gw routes to every peer's pod subnet, and nothing else of ours
  podnet.netmodes.ip_routes:
    purge: true
    routes:
      - dest: 10.244.1.0/24
        via: 10.89.1.12
        dev: ens5
      - dest: 10.244.2.0/24
        via: 10.89.1.13
        dev: ens5

- name: Blackhole the cluster range so unknown pod addresses are not sent upstream
  podnet.netmodes.ip_routes:
    routes:
      - dest: 10.244.0.0/16
        type: blackhole
        metric: 4000

- name: Routes in a separate table, in a namespace
  podnet.netmodes.ip_routes:
    netns: pod-abc123
    table: 100
    proto: 95
    routes:
      - dest: 0.0.0.0/0
        via: 10.244.1.1
        dev: eth0
        onlink: true
'''

RETURN = r'''
added:
  description: Routes that were (or in check mode would be) added, as route strings.
  returned: always
  type: list
  elements: str
  sample: ["10.244.1.0/24 via 10.89.1.12 dev ens5"]
modified:
  description:
    - Routes that were (or would be) replaced because an attribute differed, as declared route strings.
    - Named C(modified) because C(changed) is the result's own boolean.
  returned: always
  type: list
  elements: str
  sample: ["10.244.2.0/24 via 10.89.1.14 dev ens5"]
removed:
  description: Routes of I(proto) that were (or would be) deleted by I(purge), as route strings.
  returned: always
  type: list
  elements: str
  sample: ["blackhole 10.244.9.0/24"]
commands:
  description: The C(ip -batch) lines that ran (or would run).
  returned: always
  type: list
  elements: str
  sample: ["route replace 10.244.1.0/24 via 10.89.1.12 dev ens5 scope global proto 94 table 254 metric 0"]
'''

import ipaddress
import socket

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.podnet.netmodes.plugins.module_utils._iproute2 import (
    IpRoute2,
    interface_name_problem,
    netns_exists,
    netns_name_problem,
)

MAIN_TABLE = 254
MAX_TABLE = 0xFFFFFFFF
DEFAULT_METRIC = {4: 0, 6: 1024}
RESERVED_PROTOS = {0: 'unspec', 1: 'redirect', 2: 'kernel', 3: 'boot', 4: 'static'}
KNOWN_PROTOS = dict(RESERVED_PROTOS)
KNOWN_PROTOS.update({11: 'zebra', 12: 'bird', 16: 'dhcp', 42: 'babel', 186: 'bgp', 187: 'isis', 188: 'ospf', 189: 'rip'})
ROUTE_TYPES = {1: 'unicast', 2: 'local', 3: 'broadcast', 4: 'anycast', 5: 'multicast', 6: 'blackhole',
               7: 'unreachable', 8: 'prohibit', 9: 'throw', 10: 'nat'}
SCOPES = {0: 'global', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere'}


class Route(object):
    """One route in canonical form. ``dev`` None means "not declared" for declared routes."""

    __slots__ = ('family', 'dest', 'metric', 'type', 'via', 'dev', 'scope', 'onlink', 'src')

    def __init__(self, family, dest, metric, rtype='unicast', via=None, dev=None, scope=None, onlink=False, src=None):
        self.family = family
        self.dest = dest
        self.metric = metric
        self.type = rtype
        self.via = via
        self.dev = dev
        self.scope = scope
        self.onlink = onlink
        self.src = src

    @property
    def key(self):
        return (self.dest, self.metric)

    def default_scope(self):
        if self.family == 6:
            return None
        return 'link' if self.type == 'unicast' and self.via is None else 'global'

    def text(self):
        parts = [] if self.type == 'unicast' else [self.type]
        parts.append(self.dest)
        if self.via:
            parts += ['via', self.via]
        if self.dev:
            parts += ['dev', self.dev]
        if self.scope != self.default_scope():
            parts += ['scope', self.scope]
        if self.src:
            parts += ['src', self.src]
        if self.metric != DEFAULT_METRIC[self.family]:
            parts += ['metric', str(self.metric)]
        if self.onlink:
            parts.append('onlink')
        return ' '.join(parts)

    def satisfied_by(self, actual):
        """True when the kernel route ``actual`` (same key) already is this declared route."""
        return (self.type == actual.type and self.via == actual.via and self.scope == actual.scope
                and self.onlink == actual.onlink and self.src == actual.src
                and (self.dev is None or self.dev == actual.dev))

    def replace_line(self, proto, table):
        parts = ['route replace']
        if self.type != 'unicast':
            parts.append(self.type)
        parts.append(self.dest)
        if self.via:
            parts += ['via', self.via]
        if self.dev:
            parts += ['dev', self.dev]
        if self.scope:
            parts += ['scope', self.scope]
        if self.src:
            parts += ['src', self.src]
        if self.onlink:
            parts.append('onlink')
        parts += ['proto', str(proto), 'table', str(table), 'metric', str(self.metric)]
        return ' '.join(parts)

    def delete_line(self, proto, table):
        return 'route del %s proto %d table %d metric %d' % (self.dest, proto, table, self.metric)


# Parsing the declaration

def parse_table(module, value):
    if value is None or to_text(value).strip() == 'main':
        return MAIN_TABLE
    text = to_text(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_TABLE:
        module.fail_json(msg='table must be "main" or a number from 1 to %d, got %r' % (MAX_TABLE, value))
    return int(text)


# The two functions below take a C fast path for plain IPv4 text because declaring
# thousands of routes through ipaddress alone costs a noticeable part of the run.

def canonical_address(text):
    """(family, canonical text) of an IP address; ValueError when it is none."""
    try:
        return 4, socket.inet_ntop(socket.AF_INET, socket.inet_pton(socket.AF_INET, text))
    except (OSError, ValueError):
        addr = ipaddress.ip_address(text)
        return addr.version, addr.compressed


def canonical_network(text):
    """(family, canonical CIDR) of a network; ValueError when it is none or has host bits set."""
    addr, _sep, plen = text.partition('/')
    try:
        packed = socket.inet_pton(socket.AF_INET, addr)
    except (OSError, ValueError):
        packed = None
    if packed is None or not (plen.isdigit() or not plen) or int(plen or 32) > 32:
        net = ipaddress.ip_network(text, strict=True)
        return net.version, net.compressed
    prefixlen = int(plen or 32)
    host_mask = (1 << (32 - prefixlen)) - 1
    if int.from_bytes(packed, 'big') & host_mask:
        raise ValueError('%s has host bits set' % text)
    return 4, '%s/%d' % (socket.inet_ntop(socket.AF_INET, packed), prefixlen)


def _address(module, where, field, value, family):
    try:
        version, text = canonical_address(to_text(value).strip())
    except ValueError:
        module.fail_json(msg='%s: %s %r is not an IP address' % (where, field, value))
    if version != family:
        module.fail_json(msg='%s: %s %s is IPv%d but dest is IPv%d' % (where, field, text, version, family))
    return text


def declared_route(module, index, spec):
    where = 'routes[%d] (dest %s)' % (index, spec.get('dest'))
    try:
        family, dest = canonical_network(to_text(spec['dest']).strip())
    except ValueError as exc:
        module.fail_json(msg='%s: dest is not a network address: %s' % (where, exc))
    rtype = spec['type']
    via = _address(module, where, 'via', spec['via'], family) if spec['via'] else None
    src = _address(module, where, 'src', spec['src'], family) if spec['src'] else None
    dev = spec['dev'] or None
    if dev is not None and interface_name_problem(dev):
        module.fail_json(msg='%s: dev %r is not a valid interface name: it %s' % (where, dev, interface_name_problem(dev)))
    if rtype == 'blackhole' and (via or dev or spec['onlink']):
        module.fail_json(msg='%s: a blackhole route takes no via, dev or onlink' % where)
    if rtype == 'unicast' and not (via or dev):
        module.fail_json(msg='%s: a unicast route needs via, dev or both' % where)
    if spec['onlink'] and not (via and dev):
        module.fail_json(msg='%s: onlink needs both via and dev' % where)
    metric = spec['metric'] if spec['metric'] is not None else DEFAULT_METRIC[family]
    if not 0 <= metric <= MAX_TABLE:
        module.fail_json(msg='%s: metric %d is out of range' % (where, metric))
    route = Route(family, dest, metric, rtype, via, dev, None, bool(spec['onlink']), src)
    if family == 4:
        route.scope = spec['scope'] or route.default_scope()
    elif spec['scope'] not in (None, 'global'):
        module.fail_json(msg='%s: IPv6 routes have no scope; remove scope' % where)
    return route


def declared_routes(module):
    routes = {}
    for index, spec in enumerate(module.params['routes']):
        route = declared_route(module, index, spec)
        if route.key in routes:
            module.fail_json(msg='routes[%d]: %s metric %d is declared twice' % (index, route.dest, route.metric))
        routes[route.key] = route
    return routes


# Reading the kernel's routes

def _kernel_dest(dst, family):
    if dst == 'default':
        return '0.0.0.0/0' if family == 4 else '::/0'
    if '/' not in dst:
        dst += '/32' if family == 4 else '/128'
    # iproute2 prints IPv4 canonically already; IPv6 goes through ipaddress so both sides compare equal.
    return dst if family == 4 else ipaddress.ip_network(dst, strict=False).compressed


def _kernel_addr(value, family):
    if value is None or family == 4:
        return value
    return ipaddress.ip_address(value).compressed


def kernel_route(entry, family):
    """(protocol number, Route) for one entry of ``ip -N -d -json route show``."""
    rtype = ROUTE_TYPES.get(int(entry.get('type', 1)), entry.get('type'))
    via = entry.get('gateway')
    if 'nexthops' in entry:
        via = 'multipath'
    route = Route(family, _kernel_dest(entry['dst'], family), entry.get('metric', DEFAULT_METRIC[family]), rtype,
                  _kernel_addr(via, family) if via != 'multipath' else via, entry.get('dev'), None,
                  'onlink' in entry.get('flags', []), _kernel_addr(entry.get('prefsrc'), family))
    if rtype == 'blackhole':
        route.dev = None  # IPv6 reports blackholes on lo; that is not part of the route we declare
    if family == 4:
        scope = int(entry.get('scope', 0))
        route.scope = SCOPES.get(scope, str(scope))
    return int(entry.get('protocol', 0)), route


def proto_name(proto):
    name = KNOWN_PROTOS.get(proto)
    return '%s (%d)' % (name, proto) if name else str(proto)


class RoutePlan(object):

    def __init__(self, module, ip, table, proto, declared):
        self.module = module
        self.table = table
        self.proto = proto
        self.declared = declared
        self.ours = {}
        self.foreign = {}
        families = {4, 6} if module.params['purge'] else set(r.family for r in declared.values())
        for family in sorted(families):
            for entry in ip.routes(table, family):
                proto_id, route = kernel_route(entry, family)
                target = self.ours if proto_id == proto else self.foreign
                target.setdefault(route.key, (proto_id, route))
        self.added = []
        self.modified = []
        self.removed = []
        self.commands = []

    def plan(self, purge):
        for key, route in self.declared.items():
            held = self.foreign.get(key)
            if held is not None:
                self.module.fail_json(
                    msg='route %s metric %d in table %d is held by protocol %s, not %d; refusing to replace it'
                        % (route.dest, route.metric, self.table, proto_name(held[0]), self.proto),
                    foreign_route=held[1].text())
            current = self.ours.get(key)
            if current is None:
                self.added.append(route)
            elif not route.satisfied_by(current[1]):
                self.modified.append(route)
        if purge:
            self.removed = [route for key, (_proto, route) in self.ours.items() if key not in self.declared]
        for route in self.added + self.modified:
            self.commands.append(route.replace_line(self.proto, self.table))
        for route in self.removed:
            self.commands.append(route.delete_line(self.proto, self.table))

    def before_strings(self):
        return sorted(route.text() for _proto, route in self.ours.values())

    def after_strings(self):
        after = dict((key, route) for key, (_proto, route) in self.ours.items())
        for route in self.added + self.modified:
            after[route.key] = route
        for route in self.removed:
            del after[route.key]
        return sorted(route.text() for route in after.values())


def lines(strings):
    """One route per line: Ansible's diff output compares text, and a list would break it."""
    return ''.join(text + '\n' for text in strings)


def check_devices_exist(module, ip, declared):
    wanted = set(route.dev for route in declared.values() if route.dev)
    if not wanted:
        return
    present = set(link['ifname'] for link in ip.show('link', 'show'))
    missing = sorted(wanted - present)
    if missing:
        module.fail_json(msg='routes use interfaces that do not exist: %s' % ', '.join(missing))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            routes=dict(type='list', elements='dict', default=[], options=dict(
                dest=dict(type='str', required=True),
                via=dict(type='str'),
                dev=dict(type='str'),
                type=dict(type='str', choices=['unicast', 'blackhole'], default='unicast'),
                scope=dict(type='str', choices=['global', 'link']),
                onlink=dict(type='bool', default=False),
                metric=dict(type='int'),
                src=dict(type='str'),
            )),
            table=dict(type='raw', default='main'),
            proto=dict(type='int', default=94),
            purge=dict(type='bool', default=False),
            netns=dict(type='str'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    proto = params['proto']
    if proto in RESERVED_PROTOS or not 1 <= proto <= 255:
        module.fail_json(msg='proto must be 5-255 (0-4 are the kernel\'s and administrators\'), got %d' % proto)
    netns = params['netns']
    if netns is not None:
        if netns_name_problem(netns):
            module.fail_json(msg='netns %r: the namespace name %s' % (netns, netns_name_problem(netns)))
        if not netns_exists(netns):
            module.fail_json(msg='netns: network namespace %r does not exist' % netns)
    table = parse_table(module, params['table'])
    declared = declared_routes(module)

    ip = IpRoute2(module, netns)
    check_devices_exist(module, ip, declared)
    plan = RoutePlan(module, ip, table, proto, declared)
    plan.plan(params['purge'])

    result = dict(
        changed=bool(plan.commands),
        added=[r.text() for r in plan.added],
        modified=[r.text() for r in plan.modified],
        removed=[r.text() for r in plan.removed],
        commands=plan.commands,
    )
    if module._diff:
        header = 'routes of proto %d in table %d' % (proto, table)
        result['diff'] = dict(before=lines(plan.before_strings()), after=lines(plan.after_strings()),
                              before_header=header, after_header=header)
    if plan.commands and not module.check_mode:
        ip.batch(plan.commands)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
