# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run iproute2 on the target host: read state with ``ip -json``, write with ``ip -batch -``.

This is the only place in the collection that builds ``ip`` command lines or reads ``ip`` output. Modules ask for
the batch lines they need (``link_add``, ``address``, ``route_replace`` ...); each line is built with
``batch_line``: podnet's keywords as plain strings, every other value wrapped in ``Value`` so that nothing can be
re-parsed by ``ip -batch`` as more than one word or as a comment. Standard library only.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re

from ansible_collections.podnet.netmodes.plugins.module_utils._rules import netns_name_problem
from ansible_collections.podnet.netmodes.plugins.module_utils._runner import (
    CommandRunner,
    UnsafeValue,
    Value,
    script_line,
)

OWNER_MARK = 'podnet.netmodes'
NETNS_RUN_DIR = '/run/netns'
# Boot files of ip_link and ip_routes: podnet-network.service runs every *.batch file here with ip -batch, in name
# order. The rank that starts a default name gives that order: bridges before the veths that may be their ports,
# every link (with its addresses) before the routes that leave through it.
BOOT_DIR = '/etc/podnet/iproute2'
BOOT_UNIT = 'podnet-network.service'
BOOT_RANKS = {'bridge': 10, 'ipip': 20, 'veth': 30, 'routes': 50}
OWN_NETNS = '/proc/self/ns/net'

# The kernel answers a dump of a routing table that was never created with this error (rc 2) instead of an
# empty list; that is an empty table for every caller here.
_MISSING_TABLE_RC = 2
_MISSING_TABLE_ERROR = 'FIB table does not exist'
# Without -force, ip -batch stops at the first failing line and names it; everything before it was applied.
_FAILED_LINE_RE = re.compile(r'Command failed -:(\d+)')


def batch_line(*words):
    """One ``ip -batch`` line (without the leading ``ip``); wrap every value that is not our keyword in Value."""
    return script_line(*words)


def _keyword(word, allowed):
    if word not in allowed:
        raise UnsafeValue('%r is not one of the keywords %s' % (word, ', '.join(allowed)))
    return word


# The ip -batch lines podnet's modules use. Modules say what they want; only these functions know ip's syntax.

def link_add(name, kind, peer=None, peer_netns=None, tunnel=None, mac=None):
    """``tunnel``: the endpoints of an ipip tunnel, a dict as ``tunnel_words`` takes it. ``mac``: the link is born
    with that address, counted as set, so udev's MACAddressPolicy=persistent (which replaces a random one shortly
    after the link appears, racing a later ``link set address``) leaves it alone."""
    words = ['link', 'add', 'name', Value(name, 'name')]
    if mac is not None:
        words += ['address', Value(mac, 'mac')]
    words += ['type', _keyword(kind, ('bridge', 'veth', 'ipip'))]
    if peer is not None:
        words += ['peer', 'name', Value(peer, 'peer')]
        if peer_netns is not None:
            words += ['netns', Value(peer_netns, 'peer_netns')]
    if kind == 'ipip':
        words += tunnel_words(tunnel)
    return batch_line(*words)


def tunnel_words(tunnel):
    """``remote R local L|any ttl T|inherit [dev D]`` of an ipip tunnel.

    ``tunnel`` has ``remote``, ``local`` (None: any), ``ttl`` (None or 0: inherit) and ``dev`` (None: no device).
    Every endpoint is given, also when it is the default: ``link set ... type ipip`` starts from the tunnel's
    current values, so an omitted word would keep an old local address or TTL.
    """
    words = ['remote', Value(tunnel['remote'], 'remote'),
             'local', Value(tunnel['local'], 'local') if tunnel.get('local') else 'any',
             'ttl', int(tunnel['ttl']) if tunnel.get('ttl') else 'inherit']
    if tunnel.get('dev'):
        words += ['dev', Value(tunnel['dev'], 'dev')]
    return words


def link_tunnel(name, tunnel):
    """Change an existing ipip tunnel's endpoints in place (the kernel's changelink; ifindex, addresses and
    routes stay). A tunnel bound to a device cannot be unbound this way: iproute2 has no word for "no device"."""
    return batch_line(*(['link', 'set', 'dev', Value(name, 'name'), 'type', 'ipip'] + tunnel_words(tunnel)))


def link_delete(name):
    return batch_line('link', 'delete', 'dev', Value(name, 'name'))


def link_alias(name, alias):
    return batch_line('link', 'set', 'dev', Value(name, 'name'), 'alias', Value(alias, 'alias'))


def link_alias_clear(name):
    """Remove a link's alias: ip -batch reads ``""`` as one empty word, which the kernel takes as "no alias"."""
    return batch_line('link', 'set', 'dev', Value(name, 'name'), 'alias', '""')


def link_mtu(name, mtu):
    return batch_line('link', 'set', 'dev', Value(name, 'name'), 'mtu', int(mtu))


def link_mac(name, mac):
    """Set a link's Ethernet address; the kernel then counts it as chosen (a bridge keeps it as ports come and go)."""
    return batch_line('link', 'set', 'dev', Value(name, 'name'), 'address', Value(mac, 'mac'))


def link_master(name, master):
    """Make ``name`` a port of bridge ``master``; None releases it."""
    if master is None:
        return batch_line('link', 'set', 'dev', Value(name, 'name'), 'nomaster')
    return batch_line('link', 'set', 'dev', Value(name, 'name'), 'master', Value(master, 'master'))


def link_up(name, up):
    return batch_line('link', 'set', 'dev', Value(name, 'name'), 'up' if up else 'down')


def address(verb, iface, dev):
    """``address add|replace|delete`` of an ipaddress interface; IPv4 gets its broadcast address computed."""
    words = ['address', _keyword(verb, ('add', 'replace', 'delete')), Value(iface.with_prefixlen, 'address')]
    if verb != 'delete' and iface.version == 4 and iface.network.prefixlen < 31:
        words += ['broadcast', '+']
    return batch_line(*(words + ['dev', Value(dev, 'dev')]))


def route_replace(dest, proto, table, metric, rtype='unicast', via=None, dev=None, scope=None, src=None,
                  onlink=False):
    words = ['route', 'replace']
    if rtype != 'unicast':
        words.append(_keyword(rtype, ('blackhole',)))
    words.append(Value(dest, 'dest'))
    if via:
        words += ['via', Value(via, 'via')]
    if dev:
        words += ['dev', Value(dev, 'dev')]
    if scope:
        words += ['scope', _keyword(scope, ('global', 'link'))]
    if src:
        words += ['src', Value(src, 'src')]
    if onlink:
        words.append('onlink')
    return batch_line(*(words + ['proto', int(proto), 'table', int(table), 'metric', int(metric)]))


def route_delete(dest, proto, table, metric, via=None):
    """Delete one route; the kernel checks ``proto`` before it deletes anything.

    With ``via`` an IPv6 route loses only that next hop; without it the kernel deletes every next hop merged into
    the route, whatever their protocol.
    """
    words = ['route', 'del', Value(dest, 'dest')]
    if via:
        words += ['via', Value(via, 'via')]
    return batch_line(*(words + ['proto', int(proto), 'table', int(table), 'metric', int(metric)]))


def link_boot_path(kind, name):
    """The default boot file of link ``name`` (an interface name is a safe file name: no '/', no whitespace)."""
    return os.path.join(BOOT_DIR, '%02d-%s-%s.batch' % (BOOT_RANKS[kind], kind, name))


def routes_boot_path(proto, table):
    return os.path.join(BOOT_DIR, '%02d-routes-proto%d-table%d.batch' % (BOOT_RANKS['routes'], int(proto), int(table)))


def netns_path(name):
    return os.path.join(NETNS_RUN_DIR, name) if name else OWN_NETNS


def netns_exists(name):
    """True when the named network namespace exists (``ip netns`` keeps them in /run/netns)."""
    return os.path.exists(netns_path(name))


def same_netns(name, other):
    """True when two namespace names (None = the module's own) are one namespace, e.g. a name for our own."""
    if name == other:
        return True
    try:
        first, second = os.stat(netns_path(name)), os.stat(netns_path(other))
    except OSError:
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def applied_count(lines, stderr):
    """How many of ``lines`` ip -batch applied before it failed; None when stderr does not say."""
    match = _FAILED_LINE_RE.search(stderr or '')
    if not match:
        return None
    return min(max(int(match.group(1)) - 1, 0), len(lines))


class IpRoute2(CommandRunner):
    """Runs ``ip`` for one network namespace (None = the module's own namespace)."""

    tool = 'ip'

    def __init__(self, module, netns=None):
        problem = netns is not None and netns_name_problem(netns)
        if problem:
            module.fail_json(msg='netns %r %s' % (netns, problem))
        super(IpRoute2, self).__init__(module)
        self.netns = netns

    def _argv(self, *args):
        return (['-n', self.netns] if self.netns else []) + list(args)

    def _json(self, args, out):
        text = out.decode('utf-8') if isinstance(out, bytes) else out
        text = text.strip()
        if not text:
            return []
        try:
            return json.loads(text)
        except ValueError as exc:
            self.module.fail_json(msg='ip %s printed no valid JSON: %s' % (' '.join(args), exc), stdout=text)

    def show(self, *args, **options):
        """``ip -json [-stats] [-details] [-N] [-4|-6] ARGS`` parsed; options: stats, details, numeric, family."""
        flags = ['-json']
        if options.get('stats'):
            flags.append('-stats')
        if options.get('details'):
            flags.append('-details')
        if options.get('numeric'):
            flags.append('-N')
        if options.get('family'):
            flags.append('-%d' % options['family'])
        argv = self._argv(*(flags + list(args)))
        _rc, out, _err = self.run(argv)
        return self._json(argv, out)

    def links(self):
        """All links of the namespace with details, keyed by interface name."""
        return dict((link['ifname'], link) for link in self.show('link', 'show', details=True))

    def addresses(self, dev):
        """The ``addr_info`` list of ``dev`` ([] when it has none)."""
        entries = self.show('address', 'show', 'dev', dev)
        return entries[0].get('addr_info', []) if entries else []

    def routes(self, table, family):
        """Routes of one table and family with numeric type/protocol/scope; [] for a table never created."""
        argv = self._argv('-json', '-details', '-N', '-%d' % family, 'route', 'show', 'table', str(int(table)))
        rc, out, err = self.run(argv, expected_rcs=(0, _MISSING_TABLE_RC))
        if rc == 0:
            return self._json(argv, out)
        if _MISSING_TABLE_ERROR in _text(err):
            return []
        return self.fail([self.binary] + argv, rc, out, err)

    def batch(self, lines, done=(), explain=None):
        """Run ``ip -batch -`` with ``lines``; ``done`` are lines an earlier batch of this run already applied.

        On failure the module fails with ``changed`` true when anything was applied, ``applied`` the lines that
        were, and ``failed_line`` the line the kernel refused. ``explain(stderr)`` may return a sentence that
        names the cause (e.g. a missing kernel module); it leads the failure message.
        """
        if not lines:
            return
        argv = self._argv('-batch', '-')
        rc, _out, err = self.run(argv, data='\n'.join(lines) + '\n', expected_rcs=_ANY_RC)
        if rc != 0:
            self._batch_failed(argv, lines, done, rc, _text(err), explain)

    def _batch_failed(self, argv, lines, done, rc, err, explain=None):
        count = applied_count(lines, err)
        failed_line = lines[count] if count is not None and count < len(lines) else None
        applied = list(done) + list(lines[:count or 0])
        where = ' in netns %s' % self.netns if self.netns else ''
        at = ' at "%s"' % failed_line if failed_line else ''
        # When ip does not name the failed line, how far it got is unknown: changed must not claim "nothing".
        msg = 'ip -batch%s failed%s: %s' % (where, at, err.strip())
        cause = explain(err) if explain else None
        self.module.fail_json(msg='%s (%s)' % (cause, msg) if cause else msg,
                              changed=bool(applied) or count is None, applied=applied, failed_line=failed_line,
                              cmd=[self.binary] + argv, rc=rc, stderr=err, netns=self.netns)


class _AnyRc(object):
    """Every exit code is handled by the caller (ip -batch: the failed line decides what is reported)."""

    def __contains__(self, rc):
        return True


_ANY_RC = _AnyRc()


def unsafe_value_message(exc):
    """The failure message for a value refused on its way into an ip -batch line."""
    return 'refusing to pass %s to ip -batch' % exc


def _text(data):
    return data.decode('utf-8', 'replace') if isinstance(data, bytes) else (data or '')
