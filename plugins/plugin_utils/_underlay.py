# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The underlay: eBGP to each rack's top-of-rack routers (podnet_bgp_topology: tor), checked and planned.

The inventory describes every rack once, in ``podnet_racks``::

    podnet_racks:
      r1:
        as: 65101                  # the AS of the rack's nodes; podnet_bgp_as when not given
        tors:                      # one or two routers on the rack's node network
          - {address: 10.89.70.1, as: 65001}
          - {address: 10.89.70.2, as: 65001, password: "{{ vault_tor_r1b }}"}

Who speaks to the routers is ``podnet_tor_peers``: every node (``nodes``) or the rack's route reflectors. The routers
carry the pod blocks between racks; iBGP stays inside each rack (see _bgp_topology.py). docs/underlay.md explains the
choices; this module only judges the values and says, per node, which sessions it holds.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from ansible_collections.podnet.netmodes.plugins.module_utils import _rules
from ansible_collections.podnet.netmodes.plugins.plugin_utils._adjacency import uplink_networks
from ansible_collections.podnet.netmodes.plugins.plugin_utils._values import ALL_HOSTS, quote

RACKS_VAR = 'podnet_racks'
# A rack has a pair of routers at most (one, or two for redundancy and ECMP). A third entry is more likely a spine or
# a router of another rack than a third top-of-rack router, and the lab proves one and two.
MAX_TORS = 2
RACK_KEYS = ('as', 'tors')
TOR_KEYS = ('address', 'as', 'password')
# Where a session's MD5 password comes from. The plan names the source, never the secret: the plan is a fact that
# -v prints, and the template reads the password itself.
PASSWORD_FROM_TOR = 'podnet_racks'
PASSWORD_FROM_ALL = 'podnet_tor_password'
_BIRD_UNSAFE = re.compile(r'[^A-Za-z0-9_]')


def tor_protocol(address):
    """BIRD protocol name of the session with a router: its address, unique because addresses are."""
    return 'tor_' + _BIRD_UNSAFE.sub('_', str(address))


def _rack_label(rack):
    return 'podnet_racks[%s]' % quote(rack)


def _password_problem(where, value):
    """A password problem; the value itself never goes into a message."""
    reason = _rules.bgp_password_problem(value)
    if not reason:
        return []
    return ['%s: %s (value hidden) %s. Fix: choose a password of printable characters without double quote or '
            'backslash, at most %d bytes.' % (ALL_HOSTS, where, reason, _rules.TCP_MD5_MAX_KEY_LEN)]


def _unknown_keys(where, entry, known):
    unknown = sorted(str(key) for key in entry if key not in known)
    if not unknown:
        return []
    return ['%s: %s has unknown key(s) %s. Fix: use only %s (a misspelt key, such as a password, would be ignored '
            'silently otherwise).' % (ALL_HOSTS, where, ', '.join(unknown), ', '.join(known))]


class Underlay(object):
    """podnet_racks checked against the nodes, and each node's sessions with its rack's routers.

    ``nodes`` are the plan's node records (``name``, ``address``, ``rack``, ``uplink_networks``, ``pod_cidr``
    once assigned). Problems are collected in ``problems``; nothing raises.
    """

    def __init__(self, settings, nodes, cluster, default_as):
        self.problems = []
        self.racks = {}
        self._nodes = nodes
        self._cluster = cluster
        self._default_as = default_as
        self.tor_peers = settings.get('podnet_tor_peers') or 'nodes'
        password = settings.get(PASSWORD_FROM_ALL)
        self._global_password = bool(password)
        if password is not None:
            self.problems += _password_problem(PASSWORD_FROM_ALL, password)
        self._read_racks(settings.get(RACKS_VAR))
        if not self.problems:
            self._check_against_nodes()

    # ---- podnet_racks on its own ----------------------------------------------------------------------------

    def _read_racks(self, value):
        if value is None or value == {}:
            self.problems.append('%s: %s is not set, but podnet_bgp_topology tor peers with each rack\'s top-of-rack '
                                 'routers. Fix: describe every rack: %s: {RACK: {as: 65101, tors: [{address: '
                                 '10.89.70.1, as: 65001}]}}.' % (ALL_HOSTS, RACKS_VAR, RACKS_VAR))
            return
        if not isinstance(value, dict):
            self.problems.append('%s: %s is a %s, not a mapping of rack name to rack. Fix: %s: {RACK: {as: 65101, '
                                 'tors: [...]}}.' % (ALL_HOSTS, RACKS_VAR, type(value).__name__, RACKS_VAR))
            return
        for rack in sorted(value, key=str):
            if not isinstance(rack, str):
                # bird.conf.j2 looks a rack's passwords up by the name podnet_rack gives, which is text.
                self.problems.append('%s: %s has the rack name %s, a %s. Fix: quote it in the inventory ("%s").'
                                     % (ALL_HOSTS, RACKS_VAR, quote(rack), type(rack).__name__, rack))
                continue
            self._read_rack(rack, value[rack])

    def _read_rack(self, rack, entry):
        where = _rack_label(rack)
        if not isinstance(entry, dict):
            self.problems.append('%s: %s is a %s, not a mapping with tors (and as). Fix: %s: {as: 65101, tors: '
                                 '[{address: ..., as: ...}]}.' % (ALL_HOSTS, where, type(entry).__name__, where))
            return
        self.problems += _unknown_keys(where, entry, RACK_KEYS)
        if any(char in '"\\' or ord(char) < 32 for char in rack):
            self.problems.append('%s: rack name %s contains a double quote, backslash or control character, which '
                                 'bird.conf cannot carry. Fix: rename the rack (podnet_rack and %s).'
                                 % (ALL_HOSTS, quote(rack), RACKS_VAR))
        node_as = entry.get('as')
        if node_as is None:
            node_as = self._default_as
            as_where = 'podnet_bgp_as (the AS of rack %s, which sets no as)' % quote(rack)
        else:
            as_where = '%s.as' % where
            reason = _rules.bgp_as_problem(node_as)
            if reason:
                self.problems.append('%s: %s %s %s. Fix: set it to the AS of the rack\'s nodes, such as 65101 '
                                     '(private range 64512-65534), or remove it to use podnet_bgp_as.'
                                     % (ALL_HOSTS, as_where, quote(node_as), reason))
                node_as = None
            else:
                node_as = _rules.parse_int(node_as)[0]
        tors = entry.get('tors')
        if not isinstance(tors, list) or not tors:
            self.problems.append('%s: %s.tors %s is not a list of one or two routers. Fix: list the rack\'s '
                                 'top-of-rack routers, such as tors: [{address: 10.89.70.1, as: 65001}].'
                                 % (ALL_HOSTS, where, quote(tors)))
            tors = []
        elif len(tors) > MAX_TORS:
            self.problems.append('%s: %s.tors lists %d routers; a rack has one or two top-of-rack routers. Fix: '
                                 'list only the routers of this rack that its nodes are cabled to (at most %d).'
                                 % (ALL_HOSTS, where, len(tors), MAX_TORS))
        planned = []
        for index, tor in enumerate(tors):
            found = self._read_tor(rack, index, tor, node_as, as_where)
            if found:
                planned.append(found)
        self.racks[rack] = {'as_number': node_as, 'tors': planned}

    def _read_tor(self, rack, index, tor, node_as, as_where):
        where = '%s.tors[%d]' % (_rack_label(rack), index)
        if not isinstance(tor, dict):
            self.problems.append('%s: %s is a %s, not a mapping. Fix: {address: 10.89.70.1, as: 65001}.'
                                 % (ALL_HOSTS, where, type(tor).__name__))
            return None
        self.problems += _unknown_keys(where, tor, TOR_KEYS)
        problems = []
        value = tor.get('address')
        address, reason = _rules.parse_ipv4_address(value)
        if reason is None and (address.is_unspecified or address.is_multicast or address.is_loopback
                               or address.is_reserved):
            reason = 'is not a unicast host address'
        if reason is None and self._cluster is not None and address in self._cluster:
            reason = 'is inside podnet_cluster_cidr %s, where pod routes would shadow it' % self._cluster
        if reason:
            problems.append('%s: %s.address %s %s. Fix: set it to the router\'s address on the rack\'s node network.'
                            % (ALL_HOSTS, where, quote(value), 'is not set' if value is None else reason))
        value = tor.get('as')
        reason = 'is not set' if value is None else _rules.bgp_as_problem(value)
        tor_as = None
        if reason:
            problems.append('%s: %s.as %s %s. Fix: set it to the AS the router speaks, such as 65001.'
                            % (ALL_HOSTS, where, quote(value), reason))
        else:
            tor_as = _rules.parse_int(value)[0]
            if tor_as == node_as:
                problems.append('%s: %s.as %d is also the AS of the rack\'s nodes (%s), so the session would be iBGP '
                                'and the router would not pass the blocks on to other racks as podnet expects. Fix: '
                                'give the nodes their own AS (%s.as) or correct the router\'s AS.'
                                % (ALL_HOSTS, where, tor_as, as_where, _rack_label(rack)))
        password = tor.get('password')
        if password is not None:
            problems += _password_problem('%s.password' % where, password)
        self.problems += problems
        if problems:
            return None
        if password:
            source = PASSWORD_FROM_TOR
        else:
            source = PASSWORD_FROM_ALL if self._global_password else None
        return {'address': str(address), 'as_number': tor_as, 'index': index, 'password_from': source,
                'protocol': tor_protocol(address), '_address': address}

    # ---- podnet_racks against the nodes ----------------------------------------------------------------------

    def _check_against_nodes(self):
        members = {}
        for node in self._nodes:
            rack = '' if node.get('rack') is None else str(node['rack'])
            members.setdefault(rack, []).append(node)
        for rack in sorted(members):
            names = ', '.join(node['name'] for node in members[rack])
            if rack == '':
                self.problems.append('%s: podnet_rack is not set, but with podnet_bgp_topology tor every node '
                                     'peers within its rack and through its rack\'s routers. Fix: set podnet_rack '
                                     'for these nodes and describe the rack in %s.' % (names, RACKS_VAR))
            elif rack not in self.racks:
                self.problems.append('%s: rack %s (podnet_rack) is not in %s, so its nodes have no top-of-rack '
                                     'router. Fix: add %s: {tors: [{address: ..., as: ...}]} to %s.'
                                     % (names, quote(rack), RACKS_VAR, rack, RACKS_VAR))
        for rack in sorted(self.racks):
            if rack not in members:
                self.problems.append('%s: %s describes a rack no node of group podnet_nodes is in (podnet_rack). '
                                     'Fix: correct the rack\'s name, or remove it from %s.'
                                     % (ALL_HOSTS, _rack_label(rack), RACKS_VAR))
        node_ips = dict((node['address'], node['name']) for node in self._nodes if node.get('address') is not None)
        owners = {}
        for rack in sorted(self.racks):
            for tor in self.racks[rack]['tors']:
                where = '%s.tors[%d].address %s' % (_rack_label(rack), tor['index'], quote(tor['address']))
                address = tor['_address']
                if address in node_ips:
                    self.problems.append('%s: %s is the podnet_node_ip of %s. Fix: set it to the router\'s own '
                                         'address.' % (ALL_HOSTS, where, node_ips[address]))
                if address in owners:
                    self.problems.append('%s: %s is also listed as %s; a router serves one rack, and each is listed '
                                         'once. Fix: remove the repeated entry or correct the address.'
                                         % (ALL_HOSTS, where, owners[address]))
                else:
                    owners[address] = '%s.tors[%d]' % (_rack_label(rack), tor['index'])
                for node in members.get(rack, []):
                    problem = self._off_segment(node, address)
                    if problem:
                        self.problems.append(
                            '%s: %s %s. Fix: give the address the router has on the rack\'s node network, or check '
                            'podnet_rack of %s.' % (node['name'], where, problem, node['name']))

    @staticmethod
    def _off_segment(node, address):
        """Why ``address`` is not a router the node reaches on-link, or None."""
        networks = uplink_networks(node)
        if not networks:
            return None  # a node without uplink networks is reported by the plan's own checks
        for network in networks:
            if address in network:
                if network.prefixlen < 31 and address in (network.network_address, network.broadcast_address):
                    return 'is the network or broadcast address of %s\'s uplink network %s' % (node['name'], network)
                return None
        return ('is on none of the uplink networks of %s (%s): BGP sessions to the router are direct (one hop), and '
                'its pod routes go via that address' % (node['name'], ', '.join(str(n) for n in networks)))

    # ---- the plan --------------------------------------------------------------------------------------------

    def node_as(self, node):
        return self.racks[str(node['rack'])]['as_number']

    def shared_as(self, rack):
        """Whether another rack's nodes use the same AS (single-AS clusters): their blocks then carry it."""
        own = self.racks[rack]['as_number']
        return any(other != rack and entry['as_number'] == own for other, entry in self.racks.items())

    def node_part(self, node, role):
        """The node's ToR part: its rack, which blocks it announces to the routers, and its sessions with them."""
        rack = str(node['rack'])
        speaks = self.tor_peers == 'nodes' or role == 'rr'
        sessions = []
        if speaks:
            for tor in self.racks[rack]['tors']:
                sessions.append(dict((key, value) for key, value in tor.items() if not key.startswith('_')))
        return {
            'rack': rack,
            # A node announces its own block; a route reflector speaks for its whole rack.
            'export': ('own' if self.tor_peers == 'nodes' else 'rack') if speaks else None,
            'allow_local_as': speaks and self.shared_as(rack),
            'sessions': sessions,
        }

    def racks_part(self, assigned):
        """Every rack's node AS, its routers, and its nodes' blocks (what its ToR filters name), by rack."""
        blocks = {}
        for node in self._nodes:
            blocks.setdefault(str(node['rack']), []).append(assigned[node['name']])
        return dict((rack, {'as_number': entry['as_number'],
                            'tors': [{'address': tor['address'], 'as_number': tor['as_number']}
                                     for tor in entry['tors']],
                            'blocks': [str(block) for block in sorted(blocks.get(rack, []))]})
                    for rack, entry in self.racks.items())

    def has_passwords(self):
        return self._global_password or any(tor['password_from'] == PASSWORD_FROM_TOR
                                            for entry in self.racks.values() for tor in entry['tors'])
