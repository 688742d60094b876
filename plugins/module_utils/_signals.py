# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What node_signals needs besides ip and nft: the ping and birdc runners, and the parsers of what they and the
kernel print. Standard library only; nothing here changes anything on the node.

Both runners bound their tool's run time: a ping train by ``-w DEADLINE``, birdc by coreutils ``timeout`` (with
``--kill-after``), so no probe can hold a verify run.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import math
import os
import re

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.podnet.netmodes.plugins.module_utils._runner import CommandRunner

LIMITED_BROADCAST = ipaddress.IPv4Address('255.255.255.255')
REPLY_RE = re.compile(r'icmp_seq=\d+ .*time[=<]([\d.]+) ms')
SUMMARY_RE = re.compile(r'(\d+) packets transmitted, (\d+) (?:packets )?received')
SINCE_WORD_RE = re.compile(r'^[0-9][0-9:.\-]*$')
ANY_RC = range(0, 256)
# coreutils timeout: 124 when the command timed out, 137 when it had to be killed (--kill-after).
TIMEOUT_RCS = (124, 137)
STAT_FIELDS = ('bytes', 'packets', 'errors', 'dropped')


class PingRunner(CommandRunner):
    """One ping train, from the node or (through ``ip netns exec``) from inside a namespace.

    Every exit code is ping's answer, not a failure of the module: 1 is "some or all echoes unanswered", 2 an
    error that the missing summary line shows.
    """

    tool = 'ping'

    def __init__(self, module, ip_binary):
        super(PingRunner, self).__init__(module)
        self.in_netns = CommandRunner(module, binary=ip_binary)

    def train(self, address, netns, count, interval, timeout):
        deadline = int(math.ceil(count * interval)) + timeout
        args = ['-n', '-c', count, '-i', '%g' % interval, '-W', timeout, '-w', deadline, address]
        if netns:
            rc, out, err = self.in_netns.run(['netns', 'exec', netns, self.binary] + args, expected_rcs=ANY_RC)
        else:
            rc, out, err = self.run(args, expected_rcs=ANY_RC)
        return rc, to_text(out), to_text(err)


def parse_ping(out):
    """(transmitted, received, [rtt ms of each reply]) from ping's per-reply lines and summary."""
    rtts = [float(match.group(1)) for match in REPLY_RE.finditer(out)]
    summary = SUMMARY_RE.search(out)
    if not summary:
        return None, None, rtts
    return int(summary.group(1)), int(summary.group(2)), rtts


def parse_bird_protocols(text):
    """Protocol lines of ``birdc show protocols``: name, proto, table, state, since (one or more words), info.

    Columns are split on whitespace, not on the header's positions: BIRD pads each column to a minimum width only,
    so a long protocol name or ``timeformat protocol iso long`` (a "since" of two words) shifts every later column.
    "since" is the run of words made of digits, ``:``, ``.`` and ``-`` after the state; info is the rest
    ("Established", "Active        Socket: Connection refused", ...).
    """
    protocols = []
    for line in text.splitlines():
        words = line.split()
        if len(words) < 4 or line[0].isspace() or words[0] == 'BIRD' or words[:2] == ['Name', 'Proto']:
            continue
        rest = words[4:]
        while rest and SINCE_WORD_RE.match(rest[0]):
            rest.pop(0)
        protocols.append({'name': words[0], 'proto': words[1], 'table': words[2], 'state': words[3],
                          'info': ' '.join(rest)})
    return protocols


def guard_drops(objects):
    """Summed counters of the rules that drop, from ``nft -j list table`` objects."""
    packets = octets = 0
    for item in objects or []:
        rule = item.get('rule')
        if not rule:
            continue
        exprs = rule.get('expr') or []
        if not any('drop' in expr for expr in exprs if isinstance(expr, dict)):
            continue
        for expr in exprs:
            counter = expr.get('counter') if isinstance(expr, dict) else None
            if isinstance(counter, dict):
                packets += int(counter.get('packets', 0))
                octets += int(counter.get('bytes', 0))
    return {'packets': packets, 'bytes': octets}


def link_counters(link, role):
    stats = link.get('stats64') or link.get('stats') or {}
    entry = {'ifname': link['ifname'], 'role': role, 'present': True, 'operstate': link.get('operstate'),
             'kind': (link.get('linkinfo') or {}).get('info_kind')}
    for direction in ('rx', 'tx'):
        for field in STAT_FIELDS:
            entry['%s_%s' % (direction, field)] = int((stats.get(direction) or {}).get(field, 0))
    return entry


def pod_veth_names(links, routes, bridge, pod_cidr):
    """Veths enslaved to the pod bridge, and veths that carry a route into the pod subnet (CNI ptp)."""
    subnet = ipaddress.ip_network(to_text(pod_cidr)) if pod_cidr else None
    routed = set()
    for route in routes if subnet else []:
        dst = route.get('dst', '')
        if dst and dst != 'default' and route.get('dev'):
            try:
                if ipaddress.ip_network(to_text(dst), strict=False).subnet_of(subnet):
                    routed.add(route['dev'])
            except (ValueError, TypeError):
                continue
    names = []
    for link in links:
        if (link.get('linkinfo') or {}).get('info_kind') != 'veth':
            continue
        if (bridge and link.get('master') == bridge) or link['ifname'] in routed:
            names.append(link['ifname'])
    return sorted(names)


def read_int(path):
    try:
        with open(path) as handle:
            return int(handle.read().strip())
    except (IOError, OSError, ValueError):
        return None


def ipam_addresses(ipam_dir, network):
    """The addresses host-local recorded (one file per address); None when it has no directory for ``network``."""
    directory = os.path.join(ipam_dir, network)
    if not os.path.isdir(directory):
        return directory, None
    addresses = []
    for name in os.listdir(directory):
        try:
            addresses.append(str(ipaddress.ip_address(to_text(name))))
        except ValueError:
            continue  # lock, last_reserved_ip.0
    return directory, sorted(addresses, key=lambda text: ipaddress.ip_address(to_text(text)))


class BirdcRunner(CommandRunner):
    """``birdc -r -s SOCKET COMMAND...`` under coreutils ``timeout``: BIRD's restricted mode, in which birdc refuses
    anything but show commands, and a deadline, since birdc waits for ever on a BIRD that accepts and never answers.
    """

    tool = 'timeout'

    def __init__(self, module, birdc, socket, seconds):
        super(BirdcRunner, self).__init__(module)
        self.birdc, self.socket, self.seconds = birdc, socket, seconds

    def show(self, *words):
        """(error or None, output). Every exit is an answer here: a BIRD that cannot be asked is reported, not fatal."""
        rc, out, err = self.run(['--kill-after=1', self.seconds, self.birdc, '-r', '-s', self.socket, 'show']
                                + list(words), expected_rcs=ANY_RC)
        out, err = to_text(out), to_text(err)
        if rc in TIMEOUT_RCS:
            return 'birdc did not answer within %d seconds' % self.seconds, out
        if rc != 0 or 'Unable to connect' in out:
            return 'birdc show %s failed (rc=%d): %s' % (' '.join(words), rc, (err or out).strip()[:300]), out
        return None, out


def unicast_problem(address):
    """Why a ping to ``address`` could reach another host than one node or pod (None when it cannot)."""
    if address == LIMITED_BROADCAST or address.is_multicast:
        return 'is a broadcast or multicast address; only node and pod addresses are probed'
    if address.is_unspecified or address.is_loopback or address.is_link_local or address.is_reserved:
        return 'is not a unicast address of a node or pod'
    return None
