#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
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
  - The kernel merges IPv6 gateway routes with the same destination and metric into one multipath route even
    when their protocols differ, and reports only the first next hop's protocol. Such a route counts as ours
    only when its first next hop is ours, and then only that next hop. Purge deletes just it (the kernel checks
    its protocol again), and a declared route that differs from it is refused, because replacing it would
    also remove the other next hops.
author:
  - podnet.netmodes maintainers (@podnet)
requirements:
  - iproute2 (the C(ip) command) on the target host
options:
  routes:
    description:
      - The declared routes. IPv4 and IPv6 can be mixed.
      - For thousands of routes prefer I(route_lines), which declares the same routes as one string each; at
        10,000 routes a task with it ran about 2 to 3 times faster (see C(docs/benchmarks.md)).
      - Mutually exclusive with I(route_lines).
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
          - An interface name as in M(podnet.netmodes.ip_link); names with characters that C(ip -batch) reads
            as syntax (such as C(#)) are refused.
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
          - For IPv6 the kernel stores metric 0 as 1024, so C(0) means 1024 there.
        type: int
      src:
        description: Preferred source address, of the same family as I(dest).
        type: str
  route_lines:
    description:
      - The declared routes as one string per route, in the form the module reports routes in (C(added),
        C(modified), the diff lines) -
        C([blackhole] DEST [via GW] [dev DEV] [scope global|link] [src ADDR] [metric N] [onlink]).
      - Each word means what the suboption of the same name in I(routes) means, with the same defaults and the same
        checks; the keywords after I(DEST) may come in any order, each at most once. A leading C(unicast) is
        allowed and is the default.
      - A line the module cannot read, or a route it refuses, fails with the same message as the equivalent
        I(routes) item, naming the line as C(route_lines[INDEX] (dest DEST)).
      - "Why a second format: Ansible checks every suboption of every I(routes) item itself and echoes the filled-in
        dicts back in the result's C(invocation); at 10,000 routes that costs more than programming the kernel.
        A list of strings is checked by this module's own code in one pass."
      - Mutually exclusive with I(routes).
    type: list
    elements: str
  exclude:
    description:
      - Destinations (networks in CIDR notation) whose routes are left out of I(routes) or I(route_lines). Every
        declared route to one of them, whatever its metric, is dropped before anything is compared, so with
        I(purge) a route of protocol I(proto) to it is removed like any other undeclared one.
      - For one route list shared by many hosts, each leaving out its own entry - the host-gw plan gives every node
        of a segment the same list of every node's route, and each node excludes its own pod subnet. Filtering
        here, on the node, costs nothing on the controller, where filtering a list per host in a template costs
        N*N item lookups for N hosts (docs/benchmarks.md).
    type: list
    elements: str
    default: []
  table:
    description:
      - Routing table, C(main) or a number from 1 to 4294967295, except the kernel's reserved tables
        253 (default) and 255 (local).
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
  report:
    description:
      - What the result lists. C(routes) returns C(added), C(modified), C(removed) and C(commands) with one string
        per route or line; C(counts) returns only how many there are, in C(counts).
      - C(counts) is for large route sets, where the lists repeat the declaration back (10,000 added routes and
        10,000 batch lines on a first apply) and passing them back through Ansible costs a noticeable part of the
        run. C(changed), the diff (with C(--diff)) and check mode are the same either way.
    type: str
    choices: [routes, counts]
    default: routes
  boot:
    description:
      - Also keep a boot file from which C(podnet-network.service) programs the declared routes again at boot,
        without Ansible. It holds the C(ip -batch) lines this module would run on a freshly booted kernel, where
        none of the routes exists (one C(route replace) per declared route, in declaration order, after
        I(exclude)), computed by the same planning and line builders as the lines it applies, after a header
        line that marks the file as podnet's.
      - The file is written (atomically, only when its text differs) when routes are declared and removed when
        none are. Outside C(/etc/podnet), a file at that path without podnet's header is neither overwritten
        nor deleted; the module fails in planning, also in check mode. Under C(/etc/podnet), podnet's own
        directory, such a file is podnet's own damaged (truncated or overwritten), and it is written anew (or
        removed) like any file whose text differs, with a warning.
      - Only for the host's namespace, so not valid with I(netns).
    type: bool
    default: false
  boot_file:
    description:
      - Path of the boot file with I(boot=true), which it needs. Defaults to
        C(/etc/podnet/iproute2/50-routes-proto<proto>-table<table>.batch) (C(table) as a number, 254 for main).
        C(podnet-network.service) runs the C(*.batch) files of that directory in name order, the links
        (ranks 10 to 30, see M(podnet.netmodes.ip_link)) before these routes.
      - A file elsewhere is not read at boot by C(podnet-network.service).
    type: path
attributes:
  check_mode:
    support: full
    description: Computes the same added, modified, removed and commands as a real run, without changing anything.
  diff_mode:
    support: full
    description:
      - Before and after are texts with one route string per line, sorted, of the routes of protocol
        I(proto) in I(table), and with I(boot) one line with the boot file's size and digest.
  platform:
    support: full
    platforms: posix
    description: Linux only.
notes:
  - Only the Python standard library and iproute2 are needed on the target.
  - When a route does not declare I(dev), its diff line has no C(dev) part in before and after, so that
    check mode predicts the real run exactly; the kernel's choice of interface is not compared.
  - When a batch fails half way, the module fails with C(changed=true) and returns the lines that were applied.
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

- name: The same host-gw routes as one string each, the fast form for thousands of routes
  podnet.netmodes.ip_routes:
    purge: true
    route_lines:
      - 10.244.1.0/24 via 10.89.1.12 dev ens5
      - 10.244.2.0/24 via 10.89.1.13 dev ens5
      - blackhole 10.244.0.0/16 metric 4000

- name: The node's blackhole route, also programmed again at boot by podnet-network.service
  podnet.netmodes.ip_routes:
    purge: true
    boot: true
    route_lines:
      - blackhole 10.244.1.0/26

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
counts:
  description: How many routes were (or in check mode would be) added, modified and removed, and how many C(ip -batch)
    lines that took.
  returned: always
  type: dict
  contains:
    added:
      description: Number of added routes.
      type: int
    modified:
      description: Number of modified routes.
      type: int
    removed:
      description: Number of removed routes.
      type: int
    commands:
      description: Number of C(ip -batch) lines.
      type: int
  sample: {"added": 1, "modified": 0, "removed": 0, "commands": 1}
added:
  description: Routes that were (or in check mode would be) added, as route strings.
  returned: when I(report=routes), the default
  type: list
  elements: str
  sample: ["10.244.1.0/24 via 10.89.1.12 dev ens5"]
modified:
  description:
    - Routes that were (or would be) replaced because an attribute differed, as declared route strings.
    - Named C(modified) because C(changed) is the result's own boolean.
  returned: when I(report=routes), the default
  type: list
  elements: str
  sample: ["10.244.2.0/24 via 10.89.1.14 dev ens5"]
removed:
  description: Routes of I(proto) that were (or would be) deleted by I(purge), as route strings.
  returned: when I(report=routes), the default
  type: list
  elements: str
  sample: ["blackhole 10.244.9.0/24"]
commands:
  description: The C(ip -batch) lines that ran (or would run).
  returned: when I(report=routes), the default
  type: list
  elements: str
  sample: ["route replace 10.244.1.0/24 via 10.89.1.12 dev ens5 scope global proto 94 table 254 metric 0"]
boot_file:
  description:
    - The boot file (I(boot=true)) - its C(path), whether the run (or in check mode, would) write or remove it
      (C(changed)), and how many C(ip -batch) lines it holds afterwards (C(lines), 0 when there is no file).
  returned: when I(boot=true)
  type: dict
  sample: {path: /etc/podnet/iproute2/50-routes-proto94-table254.batch, changed: false, lines: 3}
applied:
  description: On a failed apply, the C(ip -batch) lines that the kernel had already applied.
  returned: failure
  type: list
  elements: str
'''

import functools
import ipaddress
import re
import socket

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.podnet.netmodes.plugins.module_utils._bootfile import BootFile, header_line, summary_lines
from ansible_collections.podnet.netmodes.plugins.module_utils._diff import object_diff
from ansible_collections.podnet.netmodes.plugins.module_utils._iproute2 import (
    BOOT_UNIT,
    IpRoute2,
    UnsafeValue,
    netns_exists,
    route_delete,
    route_replace,
    routes_boot_path,
    unsafe_value_message,
)
from ansible_collections.podnet.netmodes.plugins.module_utils._rules import (
    ifname_problem,
    netns_name_problem,
    parse_route_table,
    route_proto_problem,
)

MAX_METRIC = 0xFFFFFFFF
# The kernel stores an IPv6 route's metric 0 as 1024 (IP6_RT_PRIO_USER); IPv4 keeps 0.
DEFAULT_METRIC = {4: 0, 6: 1024}
KNOWN_PROTOS = {0: 'unspec', 1: 'redirect', 2: 'kernel', 3: 'boot', 4: 'static', 11: 'zebra', 12: 'bird',
                16: 'dhcp', 42: 'babel', 186: 'bgp', 187: 'isis', 188: 'ospf', 189: 'rip'}
ROUTE_TYPES = {1: 'unicast', 2: 'local', 3: 'broadcast', 4: 'anycast', 5: 'multicast', 6: 'blackhole',
               7: 'unreachable', 8: 'prohibit', 9: 'throw', 10: 'nat'}
SCOPES = {0: 'global', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere'}
BOOT_FILE_HEADER = header_line('ip_routes', BOOT_UNIT)


class Route(object):
    """One route in canonical form. ``dev`` None means "not declared" for declared routes.

    ``other_hops`` lists the further next hops of a kernel multipath route as text; ``shared`` marks an IPv6
    multipath route whose further next hops may belong to other protocols (only the first one is provably ours).
    """

    __slots__ = ('family', 'dest', 'metric', 'type', 'via', 'dev', 'scope', 'onlink', 'src', 'other_hops', 'shared')

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
        self.other_hops = ()
        self.shared = False

    @property
    def key(self):
        return (self.dest, self.metric)

    def default_scope(self):
        if self.family == 6:
            return None
        return 'link' if self.type == 'unicast' and self.via is None else 'global'

    def text(self, show_dev=True):
        parts = [] if self.type == 'unicast' else [self.type]
        parts.append(self.dest)
        if self.via:
            parts += ['via', self.via]
        if self.dev and show_dev:
            parts += ['dev', self.dev]
        parts.extend(self.other_hops)
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
        return (not actual.other_hops and self.type == actual.type and self.via == actual.via
                and self.scope == actual.scope and self.onlink == actual.onlink and self.src == actual.src
                and (self.dev is None or self.dev == actual.dev))

    def replace_line(self, proto, table):
        return route_replace(self.dest, proto, table, self.metric, self.type, self.via, self.dev, self.scope,
                             self.src, self.onlink)

    def delete_line(self, proto, table):
        """Deletes this route only. For IPv6 the gateway is named, so that only our next hop of a merged multipath
        route goes; the interface name read from the kernel is not needed to find the route and is left out."""
        return route_delete(self.dest, proto, table, self.metric, self.via if self.family == 6 else None)


# Parsing the declaration

# Declaring and reading thousands of routes through ipaddress alone costs a noticeable part of the run, so plain
# address text takes the C path (inet_pton/inet_ntop). Text that path cannot read, and any result the C library
# would print differently from ipaddress (IPv6 with an embedded IPv4 part), goes through ipaddress, whose text is
# the canonical form; property tests in tests/unit/plugins/modules/test_ip_routes.py hold both paths equal.

def _ntop(family, packed):
    text = socket.inet_ntop(socket.AF_INET if family == 4 else socket.AF_INET6, packed)
    return None if family == 6 and '.' in text else text


def _pton(text):
    """(family, packed) of plain IPv4 or IPv6 address text, or (None, None)."""
    family, af = (6, socket.AF_INET6) if ':' in text else (4, socket.AF_INET)
    try:
        return family, socket.inet_pton(af, text)
    except (OSError, ValueError):
        return None, None


def canonical_address(text):
    """(family, canonical text) of an IP address; ValueError when it is none."""
    family, packed = _pton(text)
    canonical = _ntop(family, packed) if family else None
    if canonical is None:
        addr = ipaddress.ip_address(text)
        return addr.version, addr.compressed
    return family, canonical


def canonical_network(text):
    """(family, canonical CIDR) of a network; ValueError when it is none or has host bits set."""
    addr, sep, plen = text.partition('/')
    family, packed = _pton(addr)
    bits = 32 if family == 4 else 128
    plain = family and (not sep or (plen.isascii() and plen.isdigit() and int(plen) <= bits))
    canonical = _ntop(family, packed) if plain else None
    if canonical is None:
        net = ipaddress.ip_network(text, strict=True)
        return net.version, net.compressed
    prefixlen = int(plen) if sep else bits
    if int.from_bytes(packed, 'big') & ((1 << (bits - prefixlen)) - 1):
        raise ValueError('%s has host bits set' % text)
    return family, '%s/%d' % (canonical, prefixlen)


# Most routes share a handful of interface names; the rule is checked once per name.
_dev_problem = functools.lru_cache(maxsize=None)(ifname_problem)

ROUTE_LINE_TYPES = ('unicast', 'blackhole')
ROUTE_LINE_VALUE_WORDS = ('via', 'dev', 'scope', 'src', 'metric')
ROUTE_LINE_WORDS = ROUTE_LINE_VALUE_WORDS + ('onlink',)
SCOPE_CHOICES = ('global', 'link')
_INTEGER_RE = re.compile(r'^-?[0-9]+$')


def route_line_spec(text):
    """One ``route_lines`` item as the dict a ``routes`` item becomes after Ansible's defaults.

    Returns (spec, problem): ``problem`` completes "route_lines[i] (dest D): ..." for a line that is not one
    route, and then ``spec`` holds what was read so far (at least ``dest`` when there is one).
    """
    spec = dict(dest=None, via=None, dev=None, type='unicast', scope=None, onlink=False, metric=None, src=None)
    words = text.split() if isinstance(text, str) else []
    if words and words[0] in ROUTE_LINE_TYPES:
        spec['type'] = words.pop(0)
    if not words:
        return spec, 'is not a route: expected "[blackhole] DEST [via GW] [dev DEV] [scope global|link] [src ADDR]' \
                     ' [metric N] [onlink]"'
    spec['dest'] = words[0]
    seen = set()
    index = 1
    while index < len(words):
        word = words[index]
        if word not in ROUTE_LINE_WORDS:
            return spec, '%r is not one of %s' % (word, ', '.join(ROUTE_LINE_WORDS))
        if word in seen:
            return spec, '%s is given twice' % word
        seen.add(word)
        if word == 'onlink':
            spec['onlink'] = True
            index += 1
            continue
        if index + 1 == len(words):
            return spec, '%s has no value' % word
        value = words[index + 1]
        if word == 'metric':
            # A negative number is read, so that it gets the range message a routes item gets.
            if not _INTEGER_RE.match(value):
                return spec, 'metric %r is not an integer' % value
            value = int(value)
        elif word == 'scope' and value not in SCOPE_CHOICES:
            return spec, 'scope %r is not one of %s' % (value, ', '.join(SCOPE_CHOICES))
        spec[word] = value
        index += 2
    return spec, None


def _address(module, where, field, value, family):
    try:
        version, text = canonical_address(to_text(value).strip())
    except ValueError:
        module.fail_json(msg='%s: %s %r is not an IP address' % (where, field, value))
    if version != family:
        module.fail_json(msg='%s: %s %s is IPv%d but dest is IPv%d' % (where, field, text, version, family))
    return text


def _metric(module, where, value, family):
    if value is None or (family == 6 and value == 0):
        return DEFAULT_METRIC[family]
    if not 0 <= value <= MAX_METRIC:
        module.fail_json(msg='%s: metric %d is outside 0..%d' % (where, value, MAX_METRIC))
    return value


def declared_route(module, where, spec):
    """The Route of one declared item; ``where`` names it in messages, e.g. ``routes[3] (dest 10.244.1.0/24)``."""
    try:
        family, dest = canonical_network(to_text(spec['dest']).strip())
    except ValueError as exc:
        module.fail_json(msg='%s: dest is not a network address: %s' % (where, exc))
    rtype = spec['type']
    via = _address(module, where, 'via', spec['via'], family) if spec['via'] else None
    src = _address(module, where, 'src', spec['src'], family) if spec['src'] else None
    dev = spec['dev'] or None
    problem = dev is not None and _dev_problem(dev)
    if problem:
        module.fail_json(msg='%s: dev %r is not a valid interface name: it %s' % (where, dev, problem))
    if rtype == 'blackhole' and (via or dev or spec['onlink']):
        module.fail_json(msg='%s: a blackhole route takes no via, dev or onlink' % where)
    if rtype == 'unicast' and not (via or dev):
        module.fail_json(msg='%s: a unicast route needs via, dev or both' % where)
    if spec['onlink'] and not (via and dev):
        module.fail_json(msg='%s: onlink needs both via and dev' % where)
    metric = _metric(module, where, spec['metric'], family)
    route = Route(family, dest, metric, rtype, via, dev, None, bool(spec['onlink']), src)
    if family == 4:
        route.scope = spec['scope'] or route.default_scope()
    elif spec['scope'] not in (None, 'global'):
        module.fail_json(msg='%s: IPv6 routes have no scope; remove scope' % where)
    return route


def declared_items(params):
    """(where, spec) of every declared route, from whichever of routes and route_lines the task uses."""
    for index, spec in enumerate(params['routes'] or []):
        yield 'routes[%d] (dest %s)' % (index, spec.get('dest')), spec, None
    for index, line in enumerate(params['route_lines'] or []):
        spec, problem = route_line_spec(line)
        where = 'route_lines[%d]' % index + (' (dest %s)' % spec['dest'] if spec['dest'] else '')
        yield where, spec, problem


def excluded_destinations(module):
    excluded = set()
    for index, text in enumerate(module.params['exclude'] or []):
        try:
            excluded.add(canonical_network(to_text(text).strip()))
        except ValueError as exc:
            module.fail_json(msg='exclude[%d]: not a network address: %s' % (index, exc))
    return excluded


def declared_routes(module):
    routes = {}
    excluded = excluded_destinations(module)
    for where, spec, problem in declared_items(module.params):
        if problem:
            module.fail_json(msg='%s: %s' % (where, problem))
        route = declared_route(module, where, spec)
        if excluded and (route.family, route.dest) in excluded:
            continue
        if route.key in routes:
            module.fail_json(msg='%s: %s metric %d is declared twice' % (where.split(' ')[0], route.dest,
                                                                         route.metric))
        routes[route.key] = route
    return routes


# Reading the kernel's routes

def _kernel_dest(dst, family):
    if dst == 'default':
        return '0.0.0.0/0' if family == 4 else '::/0'
    if '/' not in dst:
        dst += '/32' if family == 4 else '/128'
    # iproute2 prints IPv4 canonically already; IPv6 is made canonical so both sides compare equal.
    if family == 4:
        return dst
    try:
        return canonical_network(dst)[1]
    except ValueError:
        return ipaddress.ip_network(dst, strict=False).compressed


def _hop_gateway(hop):
    """The gateway of one next hop as canonical text; an IPv4 route via IPv6 (RFC 5549) names its family."""
    if 'gateway' in hop:
        return canonical_address(hop['gateway'])[1]
    via = hop.get('via')
    if isinstance(via, dict) and via.get('host'):
        return '%s %s' % (via.get('family'), canonical_address(via['host'])[1])
    return None


def _hop_text(hop):
    parts = ['nexthop']
    if _hop_gateway(hop):
        parts += ['via', _hop_gateway(hop)]
    if hop.get('dev'):
        parts += ['dev', hop['dev']]
    return ' '.join(parts)


def kernel_route(entry, family):
    """(protocol number, Route) for one entry of ``ip -N -d -json route show``."""
    rtype = ROUTE_TYPES.get(int(entry.get('type', 1)), entry.get('type'))
    hops = entry.get('nexthops') or [entry]
    first = hops[0]
    src = entry.get('prefsrc')
    route = Route(family, _kernel_dest(entry['dst'], family), entry.get('metric', DEFAULT_METRIC[family]), rtype,
                  _hop_gateway(first), first.get('dev'), None, 'onlink' in first.get('flags', []),
                  canonical_address(src)[1] if src else None)
    if len(hops) > 1:
        if family == 6:
            # The kernel reports the protocol of the first next hop only; the others may be anyone's.
            route.shared = True
        else:
            route.other_hops = tuple(_hop_text(hop) for hop in hops[1:])
    if rtype == 'blackhole':
        route.dev = None  # IPv6 reports blackholes on lo; that is not part of the route we declare
    if family == 4:
        scope = int(entry.get('scope', 0))
        route.scope = SCOPES.get(scope, str(scope))
    return int(entry.get('protocol', 0)), route


def proto_name(proto):
    name = KNOWN_PROTOS.get(proto)
    return '%s (%d)' % (name, proto) if name else str(proto)


class FreshKernel(object):
    """The routing tables of a kernel that has just booted, as far as podnet's routes go: none of them."""

    def routes(self, table, family):
        return []


class RoutePlan(object):

    def __init__(self, module, ip, table, proto, declared, purge):
        """``ip``: where the current routes are read (``IpRoute2``, or ``FreshKernel`` for the boot file)."""
        self.module = module
        self.table = table
        self.proto = proto
        self.declared = declared
        self.purge = purge
        self.ours = {}
        self.foreign = {}
        families = {4, 6} if purge else set(r.family for r in declared.values())
        for family in sorted(families):
            for entry in ip.routes(table, family):
                proto_id, route = kernel_route(entry, family)
                if proto_id == proto:
                    self.ours.setdefault(route.key, route)
                else:
                    self.foreign.setdefault(route.key, (proto_id, route))
        self.added = []
        self.modified = []
        self.removed = []
        self.commands = []

    def _refuse(self, msg, route):
        self.module.fail_json(msg=msg, kernel_route=route.text())

    def plan(self):
        for key, route in self.declared.items():
            held = self.foreign.get(key)
            if held is not None:
                self._refuse('route %s metric %d in table %d is held by protocol %s, not %d; refusing to replace it'
                             % (route.dest, route.metric, self.table, proto_name(held[0]), self.proto), held[1])
            current = self.ours.get(key)
            if current is None:
                self.added.append(route)
            elif not route.satisfied_by(current):
                if current.shared:
                    self._refuse('route %s metric %d in table %d has further next hops that the kernel merged into it'
                                 ' and that may belong to other protocols; replacing it would remove them, refusing'
                                 % (route.dest, route.metric, self.table), current)
                self.modified.append(route)
        if self.purge:
            self.removed = [route for key, route in sorted(self.ours.items()) if key not in self.declared]
        for route in self.added + self.modified:
            self.commands.append(route.replace_line(self.proto, self.table))
        for route in self.removed:
            self.commands.append(route.delete_line(self.proto, self.table))

    def boot_file(self, path):
        """The BootFile at ``path``: the lines this plan makes on a freshly booted kernel, where every declared route
        is missing, so the file is this same planning's replace lines; none (no file) for no declared route."""
        boot = RoutePlan(self.module, FreshKernel(), self.table, self.proto, self.declared, purge=False)
        boot.plan()
        boot_file = BootFile(path, BOOT_FILE_HEADER, boot.commands)
        if boot_file.foreign:
            self.module.fail_json(msg=boot_file.refusal())
        return boot_file

    def _line(self, route):
        """A route as a diff line; without dev when the declaration leaves dev to the kernel."""
        declared = self.declared.get(route.key)
        return route.text(show_dev=declared is None or declared.dev is not None)

    def before_lines(self):
        return [self._line(route) for route in self.ours.values()]

    def after_lines(self):
        after = dict(self.ours)
        for route in self.added + self.modified:
            after[route.key] = route
        for route in self.removed:
            del after[route.key]
        return [self._line(route) for route in after.values()]


def check_devices_exist(module, ip, declared):
    wanted = set(route.dev for route in declared.values() if route.dev)
    if not wanted:
        return
    present = set(link['ifname'] for link in ip.show('link', 'show'))
    missing = sorted(wanted - present)
    if missing:
        module.fail_json(msg='routes use interfaces that do not exist: %s' % ', '.join(missing))


def boot_file_path(module, netns, table, proto):
    """The boot file's path with ``boot``, else None."""
    params = module.params
    if not params['boot']:
        if params['boot_file'] is not None:
            module.fail_json(msg='boot_file is only used with boot=true')
        return None
    if netns is not None:
        module.fail_json(msg='boot is not valid with netns: podnet-network.service restores routes in the host\'s'
                             ' namespace, and named namespaces do not survive a reboot')
    return params['boot_file'] or routes_boot_path(proto, table)


def validated_scope(module):
    """(netns, table, proto) after the rule book's checks."""
    params = module.params
    problem = route_proto_problem(params['proto'])
    if problem:
        module.fail_json(msg='proto must be 5-255: %s %s' % (params['proto'], problem))
    table, reason = parse_route_table(params['table'])
    if reason:
        module.fail_json(msg='table %r %s' % (params['table'], reason))
    netns = params['netns']
    if netns is not None:
        problem = netns_name_problem(netns)
        if problem:
            module.fail_json(msg='netns %r: the namespace name %s' % (netns, problem))
        if not netns_exists(netns):
            module.fail_json(msg='netns: network namespace %r does not exist' % netns)
    return netns, table, int(params['proto'])


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
            route_lines=dict(type='list', elements='str'),
            exclude=dict(type='list', elements='str', default=[]),
            table=dict(type='raw', default='main'),
            proto=dict(type='int', default=94),
            purge=dict(type='bool', default=False),
            netns=dict(type='str'),
            report=dict(type='str', choices=['routes', 'counts'], default='routes'),
            boot=dict(type='bool', default=False),
            boot_file=dict(type='path'),
        ),
        mutually_exclusive=[('routes', 'route_lines')],
        supports_check_mode=True,
    )
    netns, table, proto = validated_scope(module)
    boot_path = boot_file_path(module, netns, table, proto)
    declared = declared_routes(module)

    ip = IpRoute2(module, netns)
    check_devices_exist(module, ip, declared)
    plan = RoutePlan(module, ip, table, proto, declared, module.params['purge'])
    try:
        plan.plan()
        boot = plan.boot_file(boot_path) if boot_path else None
    except UnsafeValue as exc:
        module.fail_json(msg=unsafe_value_message(exc))
    file_changed = boot is not None and boot.changed
    if boot is not None and boot.damaged:
        module.warn(boot.damage_warning())

    result = dict(
        changed=bool(plan.commands) or file_changed,
        counts=dict(added=len(plan.added), modified=len(plan.modified), removed=len(plan.removed),
                    commands=len(plan.commands)),
    )
    if boot is not None:
        result['boot_file'] = boot.result()
    if module.params['report'] == 'routes':
        result.update(added=[r.text() for r in plan.added], modified=[r.text() for r in plan.modified],
                      removed=[r.text() for r in plan.removed], commands=plan.commands)
    if module._diff:
        header = 'routes of proto %d in table %d%s' % (proto, table, ' in netns %s' % netns if netns else '')
        result['diff'] = object_diff(header, plan.before_lines() + summary_lines(boot_path, boot and boot.before),
                                     plan.after_lines() + summary_lines(boot_path, boot and boot.after))
    if module.check_mode:
        module.exit_json(**result)
    if plan.commands:
        ip.batch(plan.commands)
    if file_changed:
        boot.apply(module, plan.commands)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
