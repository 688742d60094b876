# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: cluster_plan
author: podnet.netmodes maintainers (@podnet)
version_added: "0.2.0"
short_description: Check the whole podnet inventory and plan every node's part of the pod network
description:
  - The one planning step of podnet. Takes the variables and gathered facts of every host of group
    C(podnet_nodes) and the cluster-wide settings, and returns, for every node, everything the roles hand to the
    modules - address, uplink, rack, pod subnet, gateway, MTU, and what the mode needs (host-gw peer routes,
    BGP peers and role).
  - It is also the one place where the inventory is checked. Every value is judged with the rule book the
    modules use (C(plugins/module_utils/_rules.py)), so a value a module would refuse is refused here, before
    any host changes. Problems are returned, not raised; each names the host, the variable, the value and the fix.
  - "The checks: C(podnet_mode); C(podnet_cluster_cidr) and C(podnet_node_prefix) (default 24, 26 in bgp mode);
    C(podnet_bridge_name) (bridge, hostgw) as a Linux interface name iproute2's batch input cannot misread (at most
    15 bytes, no C(/), C(:), C(#), whitespace or quotes); C(podnet_route_proto) (5-255); C(podnet_cni_network)
    (CNI network name); C(podnet_ipip_mode) (V(Never), V(CrossSubnet) or V(Always); only V(Never) in bridge
    mode); in bgp mode C(podnet_bgp_as), C(podnet_bgp_password) (never
    echoed), C(podnet_bgp_mesh_max_nodes), C(podnet_bgp_rr_per_rack), C(podnet_rr_eligible), group
    C(podnet_route_reflectors), C(podnet_bgp_topology) and C(podnet_tor_peers)."
  - "With C(podnet_bgp_topology=tor): C(podnet_racks) describes every rack podnet_rack names, and no other - the
    AS of its nodes (C(as), else C(podnet_bgp_as)) and one or two routers (C(tors)), each with a unicast
    C(address) outside the cluster CIDR, on the uplink network of every node of the rack, not a node IP and
    listed once, an C(as) other than the nodes' (eBGP), and an optional C(password); unknown keys are refused.
    Passwords (also C(podnet_tor_password)) follow the rules of C(podnet_bgp_password) and are never echoed nor
    copied into the plan. Every node needs a rack; a rack meshed inside (C(podnet_tor_peers=nodes)) has at most
    C(podnet_bgp_mesh_max_nodes) nodes; IPIP is refused. Only the nodes of one rack must share an L2 segment."
  - "Per node: C(podnet_node_ip) is a unique IPv4 address outside the cluster CIDR; C(podnet_uplink) (required
    in hostgw and bgp) is an interface name; C(podnet_pod_mtu) is 68-65535; C(podnet_pod_cidr) overrides lie in
    the pool without overlap; C(podnet_pod_gateway) is a host address of the node's pod subnet."
  - "What the host says about itself must agree (gathered facts): C(podnet_uplink) exists on the host,
    C(podnet_node_ip) is an address of it (of the host, when no uplink is set), and C(podnet_pod_mtu) is not
    larger than the uplink's MTU, nor than the tunnel MTU (uplink MTU less 20) when the node tunnels."
  - Types (booleans, integers) are the roles' argument specs' job; the plan judges values.
  - In hostgw and bgp mode with C(podnet_ipip_mode) V(Never) every node must reach every other node's IP on-link
    (one L2 segment), because both route a peer's pods via the peer's node IP without a tunnel. Each pair that is not adjacent gets one problem;
    beyond 200 one-way failures the nodes are named by segment instead (one problem per set of uplink networks, at
    most 20, with examples), so a large inventory across racks gives a short list rather than one line per pair.
  - Pod subnets are stable - a node keeps the subnet it recorded in C(/etc/ansible/facts.d/podnet.fact) - and
    new nodes get the lowest free subnet in name order. A record that exists but gives no pod CIDR (damaged - not
    JSON, empty, no C(pod_cidr)) never makes the node a new one. In bridge and hostgw mode its subnet is read from
    the address of its bridge (gathered facts), listed in C(repairs), and the converge writes the record anew;
    otherwise (bgp mode, no such bridge address) it is a problem whose fix names the subnet to pin. Route
    reflectors are chosen per rack by rendezvous hashing unless group C(podnet_route_reflectors) names them.
positional: _input, settings, groups, play_hosts
options:
  _input:
    description:
      - The host variables of every host of group C(podnet_nodes) (C(groups['podnet_nodes'] | map('extract',
        hostvars))). Read are C(inventory_hostname), C(podnet_node_ip), C(podnet_uplink), C(podnet_rack),
        C(podnet_pod_cidr), C(podnet_pod_gateway), C(podnet_pod_mtu), C(podnet_rr_eligible), C(ansible_facts)
        (C(interfaces), the uplink's C(ipv4), C(ipv4_secondaries) and C(mtu), C(all_ipv4_addresses)) and
        C(ansible_local.podnet.pod_cidr).
    type: list
    elements: dict
    required: true
  settings:
    description:
      - The cluster-wide C(podnet_*) variables as the play sees them, by variable name, for example
        C(podnet_mode), C(podnet_cluster_cidr), C(podnet_bridge_name), C(podnet_bgp_as). Unknown names are ignored.
    type: dict
    required: true
  groups:
    description: The inventory groups; only C(podnet_route_reflectors) is read.
    type: dict
  play_hosts:
    description: The hosts of the play (C(ansible_play_hosts_all)); a node of C(podnet_nodes) missing from it is
      a problem (a C(--limit) run). V(null) skips this check.
    type: list
    elements: str
seealso:
  - module: podnet.netmodes.ip_routes
  - module: podnet.netmodes.ip_link
"""

EXAMPLES = r"""
- name: Plan the cluster once; run_once sets the fact on every host
  run_once: true
  ansible.builtin.set_fact:
    podnet_plan: >-
      {{ groups['podnet_nodes'] | map('extract', hostvars)
         | podnet.netmodes.cluster_plan(settings, groups, ansible_play_hosts_all) }}
  vars:
    settings: "{{ dict(names | zip(query('ansible.builtin.vars', *names))) }}"
    names: "{{ query('ansible.builtin.varnames', '^podnet_') }}"

- name: Stop before any host changes when the inventory has a problem
  run_once: true
  ansible.builtin.assert:
    that: podnet_plan.problems | length == 0
    fail_msg: "{{ podnet_plan.problems | join('\n') }}"

- name: Route every peer's pod subnet (host-gw) - the node's segment's list, without the node's own subnet
  podnet.netmodes.ip_routes:
    route_lines: "{{ podnet_plan.hostgw.segments[podnet_plan.nodes[inventory_hostname].hostgw.segment].route_lines }}"
    exclude:
      - "{{ podnet_plan.nodes[inventory_hostname].hostgw.exclude }}"
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    problems:
      description: One message per problem (host, variable, value, what is wrong, C(Fix:)). When not empty,
        C(nodes) is empty.
      type: list
      elements: str
    repairs:
      description: One message per node whose record was unreadable and whose subnet was read from its bridge;
        C(playbooks/verify.yml) reports each as a problem until a converge has written the record anew.
      type: list
      elements: str
    mode:
      description: C(podnet_mode).
      type: str
    cluster_cidr:
      description: The pod address pool.
      type: str
    node_prefix:
      description: Prefix length of each node's pod subnet.
      type: int
    ipip:
      description: C(mode) (C(podnet_ipip_mode), V(Never) when unset) and C(node_ips), every node's IP sorted (the
        only sources IPIP is accepted from).
      type: dict
    hostgw:
      description:
        - In hostgw mode, C(segments), one list of every node's route per segment, by name; V(null) otherwise. Nodes
          with the same uplink name (and, with C(podnet_ipip_mode=CrossSubnet), the same uplink networks) reach every
          node alike, so they share one list; each node's part says which (C(nodes[NAME].hostgw.segment)) and which
          entry is its own (C(exclude)). So the plan holds N entries per segment, not N lists of N-1.
        - Each segment holds C(peers) (every node's C(name), C(node_ip), C(pod_cidr), C(encap) and C(route)) sorted by
          pod subnet, C(routes) (their routes, as the M(podnet.netmodes.ip_routes) module takes them) and
          C(route_lines) (the same routes as strings, its faster form).
        - C(encap) is the plan's decision how the peer is reached - V(none), a direct route via the peer's node
          IP on the uplink, or V(ipip), the same route through C(tunl0) with C(onlink) - made once per pair from
          C(podnet_ipip_mode) (V(CrossSubnet) tunnels to peers whose node IP is on none of the node's uplink
          networks, V(Always) to every peer).
      type: dict
    bgp:
      description:
        - In bgp mode, the cluster's topology (C(mesh), C(route-reflectors) or C(tor)), C(as_number),
          C(route_reflectors) and the number of C(sessions) (with routers counted); V(null) in other modes.
        - With topology C(tor) also C(tor_peers) (C(nodes) or C(route_reflectors)), C(tor_passwords) (whether any
          router session has a password, so the role hides its task output) and C(racks), by rack name, its
          nodes' C(as_number), its C(tors) (C(address), C(as_number)) and C(blocks), its nodes' pod blocks sorted,
          which the BIRD filters name. Otherwise these are V(null), V(null) and V(false).
      type: dict
    nodes:
      description: Every node's part, by inventory hostname.
      type: dict
      contains:
        name:
          description: Inventory hostname.
          type: str
        node_ip:
          description: The node's address; peers route its pods via it.
          type: str
        uplink:
          description: The interface holding O(node_ip) (V(null) when not set, possible in bridge mode).
          type: str
        rack:
          description: C(podnet_rack), or an empty string.
          type: str
        mtu:
          description: MTU of the pod interfaces (and the bridge) - C(podnet_pod_mtu), else the uplink's MTU (less
            20 when the node tunnels to any peer), else 1500.
          type: int
        pod_cidr:
          description: The node's pod subnet.
          type: str
        pod_gateway:
          description: The pod subnet's gateway (C(podnet_pod_gateway), else its first address).
          type: str
        pod_prefix:
          description: Prefix length of the pod subnet.
          type: int
        bridge:
          description: In bridge and hostgw mode, the C(name), C(mtu), C(mac) and C(addresses) of the pod bridge, as
            the M(podnet.netmodes.ip_link) module takes them; V(null) otherwise. C(mac) is V(0a:58) and the gateway's
            four octets, set explicitly so that pods joining or leaving the bridge never change it.
          type: dict
        hostgw:
          description:
            - In hostgw mode, C(segment), the name of the node's list in the top-level C(hostgw.segments), and
              C(exclude), the node's own pod subnet, which it leaves out of that list; V(null) otherwise.
            - The node's routes are its segment's C(route_lines) (or C(routes)) without the one to C(exclude), as the
              M(podnet.netmodes.ip_routes) module takes them with its O(podnet.netmodes.ip_routes#module:exclude).
          type: dict
        bgp:
          description:
            - In bgp mode, the node's C(role) (C(mesh), C(rr), C(client)), C(cluster_id) (route reflectors),
              C(peers) (C(name), C(ip), C(rr_client), C(protocol), C(multihop) - the peer is off the node's segment -
              and C(encap)), C(routes) (the blackhole route of its block, for M(podnet.netmodes.ip_routes)) and
              C(next_hop_routes); V(null) otherwise.
            - C(next_hop_routes) is empty without IPIP; else one entry per node network (C(dest), C(dev) - the
              uplink or C(tunl0) - and C(encap)), how BIRD resolves BGP next hops on that network.
            - C(as_number) is the node's own AS (its rack's with topology C(tor), else the cluster's). C(tor) is
              V(null) unless the topology is C(tor); then C(rack), C(export) (C(own) - the node's block, C(rack) - the
              rack's blocks, for a route reflector speaking for its rack, or V(null) when the node speaks to no
              router), C(allow_local_as) (another rack's nodes share this AS, so routes from the routers carry it) and
              C(sessions), one per router the node speaks to (C(protocol), C(address), C(as_number), C(index) in
              the rack's C(tors), and C(password_from) - C(podnet_racks), C(podnet_tor_password) or V(null); the
              password itself is not in the plan).
          type: dict
        ipip:
          description: When the node tunnels to any peer, C(device) (C(tunl0)), C(mtu) (uplink MTU less 20) and
            C(addresses) (the pod gateway as a /32), as M(podnet.netmodes.ip_link) takes them; V(null) otherwise.
          type: dict
        switch:
          description:
            - When the node's local fact records another mode than C(podnet_mode), C(from) (that mode) and
              C(remove), what it built that this mode does not use, in the order the role C(remove) takes it away
              (C(bird), C(block_route), C(peer_routes), C(tunnel), C(bridge)); V(null) otherwise.
            - A switch that would renumber a node (its recorded subnet has another length than the new mode's default
              and C(podnet_node_prefix) is not set) is a problem, as is a recorded mode podnet does not know.
          type: dict
  sample:
    problems: []
    mode: hostgw
    cluster_cidr: 10.244.0.0/16
    node_prefix: 24
    ipip: {mode: Never, node_ips: [10.89.20.11, 10.89.20.12]}
    bgp: null
    hostgw:
      segments:
        ens5:
          peers:
            - {name: node1, node_ip: 10.89.20.11, pod_cidr: 10.244.0.0/24, encap: none,
               route: {dest: 10.244.0.0/24, via: 10.89.20.11, dev: ens5}}
            - {name: node2, node_ip: 10.89.20.12, pod_cidr: 10.244.1.0/24, encap: none,
               route: {dest: 10.244.1.0/24, via: 10.89.20.12, dev: ens5}}
          routes:
            - {dest: 10.244.0.0/24, via: 10.89.20.11, dev: ens5}
            - {dest: 10.244.1.0/24, via: 10.89.20.12, dev: ens5}
          route_lines: [10.244.0.0/24 via 10.89.20.11 dev ens5, 10.244.1.0/24 via 10.89.20.12 dev ens5]
    nodes:
      node1:
        name: node1
        node_ip: 10.89.20.11
        uplink: ens5
        rack: r1
        mtu: 1500
        pod_cidr: 10.244.0.0/24
        pod_gateway: 10.244.0.1
        pod_prefix: 24
        bridge: {name: cni0, mtu: 1500, mac: '0a:58:0a:f4:00:01', addresses: [10.244.0.1/24]}
        hostgw: {segment: ens5, exclude: 10.244.0.0/24}
        bgp: null
        ipip: null
        switch: null
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.podnet.netmodes.plugins.plugin_utils._plan import plan_cluster


def cluster_plan(hosts, settings, groups=None, play_hosts=None):
    try:
        hosts = list(hosts)
    except TypeError:
        raise AnsibleFilterError('cluster_plan: the input must be the list of hostvars of group podnet_nodes')
    return plan_cluster(hosts, settings, groups, play_hosts)


class FilterModule(object):
    def filters(self):
        return {'cluster_plan': cluster_plan}
