#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: node_signals
short_description: Read a node's pod-network state and probe its peers with short ping trains
version_added: 0.2.0
description:
  - Reads what the node's kernel says about podnet's datapath and measures the paths to the given targets; it
    changes nothing. The report, thresholds and verdict are made on the controller from every node's result by
    the filter P(podnet.netmodes.golden_report#filter); this module only gathers numbers.
  - "White box: byte, packet, error and drop counters of O(devices) and of the node's pod veths (C(ip -json -stats
    link show)); the routes of protocol O(route_proto) and, with O(bird), of protocol C(bird) and the state of
    BIRD's protocols (C(birdc show protocols)); the drop counter of the IPIP guard (C(nft -j list table ip
    podnet_ipip)) when that table exists; the conntrack count and limit; the size of the main IPv4 routing table;
    the addresses the C(host-local) IPAM plugin has handed out for O(cni_network)."
  - "Black box: for every item of O(targets), one ping train of O(count) echo requests, O(interval) seconds apart,
    from the node itself or from inside the network namespace O(netns) (the probe pod). Each train stops by itself:
    C(ping -c COUNT -w DEADLINE), the deadline being O(count) times O(interval) plus O(timeout) seconds.
    Up to O(parallel) trains run at once."
  - Only the addresses given in O(targets) are probed; the caller builds them from the cluster's own node and pod
    addresses (filter P(podnet.netmodes.golden_targets#filter)). The module itself refuses any target that is not a
    unicast address (multicast, broadcast, unspecified, loopback, link-local and reserved addresses), so no train
    can reach more than one host.
author:
  - podnet.netmodes maintainers (@podnet)
options:
  targets:
    description:
      - The addresses to probe.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: A label for the target, returned unchanged (for example the peer node's name).
        type: str
        required: true
      address:
        description: The IPv4 address to ping.
        type: str
        required: true
      source:
        description:
          - V(node) pings from the node's own network namespace, V(pod) from inside O(netns).
        type: str
        choices: [node, pod]
        default: node
  netns:
    description:
      - Name of the network namespace (C(/run/netns/<netns>)) that O(targets) with O(targets[].source=pod) are
        pinged from. Without it those targets are returned with an error and not probed.
    type: str
  count:
    description: Echo requests per train.
    type: int
    default: 20
  interval:
    description: Seconds between echo requests (C(ping -i)); 0.002 to 10.
    type: float
    default: 0.1
  timeout:
    description: Seconds to wait for the last reply (C(ping -W)); also added to the train's deadline.
    type: int
    default: 1
  parallel:
    description: How many ping trains run at the same time.
    type: int
    default: 4
  devices:
    description:
      - Interfaces whose counters are read (for example the uplink, the bridge and C(tunl0)). A device that does
        not exist is returned with C(present=false) in RV(signals.links).
    type: list
    elements: str
    default: []
  pod_veths:
    description:
      - Also read the counters of the pod veths - the veths enslaved to O(bridge), and the veths that carry a
        route into O(pod_cidr) (CNI C(ptp)).
    type: bool
    default: true
  bridge:
    description: The pod bridge whose ports are pod veths.
    type: str
  pod_cidr:
    description: The node's pod subnet; a veth routing into it is a pod veth.
    type: str
  route_proto:
    description: The route protocol id of podnet's routes (C(ip -json route show proto ROUTE_PROTO)).
    type: int
    default: 94
  bird:
    description:
      - Read BIRD's protocols with C(birdc -r show protocols) (restricted mode - C(birdc) refuses every command that
        would change BIRD) and the routes of protocol C(bird).
      - C(birdc) is stopped after O(bird_timeout) seconds (coreutils C(timeout)), so a BIRD that accepts the
        connection but does not answer cannot hold the run.
    type: bool
    default: false
  bird_socket:
    description: BIRD's control socket (C(birdc -s)).
    type: path
    default: /run/bird/bird.ctl
  bird_timeout:
    description: Seconds C(birdc) may take; 1 to 60.
    type: int
    default: 10
  cni_network:
    description: The CNI network whose C(host-local) address files are counted.
    type: str
    default: podnet
  ipam_dir:
    description: The C(host-local) plugin's data directory.
    type: path
    default: /var/lib/cni/networks
  boot_files:
    description:
      - Glob patterns of podnet's boot files (those its boot units read); each matching file is reported with
        whether it starts with podnet's header. One without it is damaged, and the next boot would not restore
        the node from it.
    type: list
    elements: path
    default: []
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - The module only reads and sends echo requests, so it runs in check mode exactly as without it.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
notes:
  - Needs root, C(ip) from iproute2 and C(ping) from iputils. C(birdc) and coreutils C(timeout) with O(bird);
    C(nft) for the guard counter (without C(nft) the counter is not read).
  - "Run time is bounded: every train ends by its deadline, so the probes take at most
    ceil(len(O(targets)) / O(parallel)) x (ceil(O(count) x O(interval)) + O(timeout)) seconds; with the defaults
    and 2 x 99 targets (a 100-node cluster) about 150 seconds."
  - Always returns C(changed=false).
seealso:
  - module: podnet.netmodes.cni_pod
    description: Attaches the probe pod whose namespace O(netns) names.
'''

EXAMPLES = r'''
- name: Probe the other nodes and read this node's state
  podnet.netmodes.node_signals:
    netns: podnet-verify
    targets:
      - {name: node2, address: 10.89.20.12, source: node}
      - {name: node2, address: 10.244.1.7, source: pod}
    devices: [ens5, cni0]
    bridge: cni0
    pod_cidr: 10.244.0.0/24
    route_proto: 94
  register: signals
'''

RETURN = r'''
signals:
  description: Everything the module read and measured.
  returned: always
  type: dict
  contains:
    links:
      description: One entry per device of O(devices) (in that order) and per pod veth, with its counters.
      type: list
      elements: dict
      sample: [{"ifname": "ens5", "role": "device", "present": true, "operstate": "UP", "rx_bytes": 1200,
                "rx_packets": 12, "rx_errors": 0, "rx_dropped": 0, "tx_bytes": 900, "tx_packets": 9,
                "tx_errors": 0, "tx_dropped": 0}]
    routes:
      description: C(podnet) - the routes of O(route_proto) (dicts as C(ip -json route) prints them);
        C(bird) - the routes of protocol bird (with O(bird), else V(null)); C(main_count) - IPv4 routes in table main.
      type: dict
      sample: {"podnet": [{"dst": "10.244.1.0/24", "gateway": "10.89.20.12", "dev": "ens5", "flags": []}],
               "bird": null, "main_count": 6}
    bird:
      description: With O(bird), C(protocols) (C(name), C(proto), C(table), C(state), C(info) of each line of
        C(birdc -r show protocols)) and C(error) (V(null), or why BIRD could not be asked). V(null) without O(bird).
      type: dict
      sample: {"error": null, "protocols": [{"name": "peer_node2", "proto": "BGP", "state": "up",
               "info": "Established"}]}
    ipip_guard:
      description: C(packets) and C(bytes) dropped by the IPIP guard (the counters of the rules of table C(ip
        podnet_ipip) that drop); V(null) when the table or C(nft) is missing.
      type: dict
      sample: {"packets": 0, "bytes": 0}
    conntrack:
      description: C(count) and C(max) of the conntrack table; V(null) when conntrack is not loaded.
      type: dict
      sample: {"count": 12, "max": 262144}
    ipam:
      description: C(dir) and C(addresses), the addresses host-local has handed out for O(cni_network)
        (V(null) addresses when the directory does not exist).
      type: dict
      sample: {"dir": "/var/lib/cni/networks/podnet", "addresses": ["10.244.0.2"]}
    boot_files:
      description: Every file matching O(boot_files), as C(path) and C(podnet), whether it starts with podnet's
        header.
      type: list
      elements: dict
      sample: [{"path": "/etc/podnet/iproute2/10-bridge-cni0.batch", "podnet": true}]
    probes:
      description: One entry per target, in order - C(name), C(address), C(source), C(transmitted), C(received),
        C(rtts) (the round-trip time of each reply, ms) and C(error) (V(null), or why the train could not run).
      type: list
      elements: dict
      sample: [{"name": "node2", "address": "10.89.20.12", "source": "node", "transmitted": 20, "received": 20,
                "rtts": [0.05, 0.061], "error": null}]
'''

import os
import threading

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.podnet.netmodes.plugins.module_utils._bootfile import header_marks
from ansible_collections.podnet.netmodes.plugins.module_utils._iproute2 import IpRoute2
from ansible_collections.podnet.netmodes.plugins.module_utils._nft import NftRunner
from ansible_collections.podnet.netmodes.plugins.module_utils._rules import (
    cni_network_name_problem,
    ifname_problem,
    netns_name_problem,
    parse_ipv4_address,
    parse_ipv4_network,
)
from ansible_collections.podnet.netmodes.plugins.module_utils._signals import (
    BirdcRunner,
    PingRunner,
    guard_drops,
    ipam_addresses,
    link_counters,
    parse_bird_protocols,
    parse_ping,
    pod_veth_names,
    read_int,
    unicast_problem,
)

CONNTRACK = '/proc/sys/net/netfilter/nf_conntrack_%s'
GUARD_TABLE = ('ip', 'podnet_ipip')
BIRD_PROTO = 12  # "bird" in /etc/iproute2/rt_protos


class Signals(object):
    """One run: the node's state first (so the counters do not include the probes' packets), then the trains."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.ip = IpRoute2(module)

    def links(self, main_routes):
        links = self.ip.show('link', 'show', details=True, stats=True)
        by_name = dict((link['ifname'], link) for link in links)
        result = []
        for name in self.params['devices']:
            if name in by_name:
                result.append(link_counters(by_name[name], 'device'))
            else:
                result.append({'ifname': name, 'role': 'device', 'present': False})
        if self.params['pod_veths']:
            for name in pod_veth_names(links, main_routes, self.params['bridge'], self.params['pod_cidr']):
                if name not in self.params['devices']:
                    result.append(link_counters(by_name[name], 'pod_veth'))
        return result

    def bird(self):
        birdc = self.module.get_bin_path('birdc')
        if not birdc or not self.module.get_bin_path('timeout'):
            return {'error': '%s is not installed' % ('birdc' if not birdc else 'timeout (coreutils)'), 'protocols': []}
        runner = BirdcRunner(self.module, birdc, self.params['bird_socket'], self.params['bird_timeout'])
        error, out = runner.show('protocols')
        return {'error': error, 'protocols': [] if error else parse_bird_protocols(out)}

    def guard(self):
        binary = self.module.get_bin_path('nft')
        if not binary:
            return None
        objects = NftRunner(self.module, binary=binary).list_table(*GUARD_TABLE)
        return None if objects is None else guard_drops(objects)

    def probe(self, target, pinger):
        entry = {'name': target['name'], 'address': target['address'], 'source': target['source'],
                 'transmitted': 0, 'received': 0, 'rtts': [], 'error': None}
        netns = self.params['netns'] if target['source'] == 'pod' else None
        if target['source'] == 'pod' and (not netns or not os.path.exists('/run/netns/%s' % netns)):
            entry['error'] = 'no probe pod: network namespace %s is missing' % (netns or '(netns not given)')
            return entry
        p = self.params
        # The canonical form of the address param_problems checked, never the caller's text.
        address = str(parse_ipv4_address(target['address'])[0])
        rc, out, err = pinger.train(address, netns, p['count'], p['interval'], p['timeout'])
        transmitted, received, rtts = parse_ping(out)
        if transmitted is None:
            entry['error'] = 'ping failed (rc=%d): %s' % (rc, (err or out).strip()[:300])
        else:
            entry.update(transmitted=transmitted, received=received, rtts=rtts)
        return entry

    def probes(self):
        targets = self.params['targets']
        if not targets:
            return []
        pinger = PingRunner(self.module, self.ip.binary)
        results = [None] * len(targets)
        lock = threading.Lock()
        pending = list(enumerate(targets))

        def worker():
            while True:
                with lock:
                    if not pending:
                        return
                    index, target = pending.pop(0)
                results[index] = self.probe(target, pinger)

        threads = [threading.Thread(target=worker) for dummy in range(min(self.params['parallel'], len(targets)))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    def gather(self):
        p = self.params
        main_routes = self.ip.show('route', 'show', 'table', 'main', family=4)
        signals = {
            'links': self.links(main_routes),
            'routes': {
                'podnet': self.ip.show('route', 'show', 'proto', str(p['route_proto']), family=4),
                'bird': self.ip.show('route', 'show', 'proto', str(BIRD_PROTO), family=4) if p['bird'] else None,
                'main_count': len(main_routes),
            },
            'bird': self.bird() if p['bird'] else None,
            'ipip_guard': self.guard(),
            'conntrack': None,
            'ipam': None,
        }
        count, limit = read_int(CONNTRACK % 'count'), read_int(CONNTRACK % 'max')
        if count is not None and limit is not None:
            signals['conntrack'] = {'count': count, 'max': limit}
        directory, addresses = ipam_addresses(p['ipam_dir'], p['cni_network'])
        signals['ipam'] = {'dir': directory, 'addresses': addresses}
        signals['boot_files'] = header_marks(p['boot_files'])
        signals['probes'] = self.probes()
        return signals


def param_problems(params):
    problems = []
    for index, target in enumerate(params['targets']):
        address, reason = parse_ipv4_address(target['address'])
        if not reason:
            reason = unicast_problem(address)
        if reason:
            problems.append('targets[%d] (%s): address %r %s' % (index, target['name'], target['address'], reason))
    if params['netns'] is not None and netns_name_problem(params['netns']):
        problems.append('netns %r %s' % (params['netns'], netns_name_problem(params['netns'])))
    for name in params['devices'] + ([params['bridge']] if params['bridge'] else []):
        if ifname_problem(name):
            problems.append('device %r %s' % (name, ifname_problem(name)))
    if not 1 <= params['count'] <= 1000:
        problems.append('count %d is not within 1..1000' % params['count'])
    if not 0.002 <= params['interval'] <= 10:
        problems.append('interval %g is not within 0.002..10 seconds' % params['interval'])
    if not 1 <= params['timeout'] <= 30:
        problems.append('timeout %d is not within 1..30 seconds' % params['timeout'])
    if not 1 <= params['parallel'] <= 64:
        problems.append('parallel %d is not within 1..64' % params['parallel'])
    if not 0 <= params['route_proto'] <= 255:
        problems.append('route_proto %d is not within 0..255' % params['route_proto'])
    if not 1 <= params['bird_timeout'] <= 60:
        problems.append('bird_timeout %d is not within 1..60 seconds' % params['bird_timeout'])
    reason = cni_network_name_problem(params['cni_network'])
    if reason:
        problems.append('cni_network %r %s' % (params['cni_network'], reason))
    reason = params['pod_cidr'] and parse_ipv4_network(params['pod_cidr'])[1]
    if reason:
        problems.append('pod_cidr %r %s' % (params['pod_cidr'], reason))
    return problems


def main():
    module = AnsibleModule(
        argument_spec=dict(
            targets=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                address=dict(type='str', required=True),
                source=dict(type='str', default='node', choices=['node', 'pod']),
            )),
            netns=dict(type='str'),
            count=dict(type='int', default=20),
            interval=dict(type='float', default=0.1),
            timeout=dict(type='int', default=1),
            parallel=dict(type='int', default=4),
            devices=dict(type='list', elements='str', default=[]),
            pod_veths=dict(type='bool', default=True),
            bridge=dict(type='str'),
            pod_cidr=dict(type='str'),
            route_proto=dict(type='int', default=94),
            bird=dict(type='bool', default=False),
            bird_socket=dict(type='path', default='/run/bird/bird.ctl'),
            bird_timeout=dict(type='int', default=10),
            cni_network=dict(type='str', default='podnet'),
            ipam_dir=dict(type='path', default='/var/lib/cni/networks'),
            boot_files=dict(type='list', elements='path', default=[]),
        ),
        supports_check_mode=True,
    )
    problems = param_problems(module.params)
    if problems:
        module.fail_json(msg='; '.join(problems))
    module.exit_json(changed=False, signals=Signals(module).gather())


if __name__ == '__main__':
    main()
