# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The top-of-rack routers' FRR configuration: one renderer for the lab's routers and for docs/examples/frr-tor.conf.

The network team owns real routers; podnet never configures one. The lab still needs routers nobody here wrote, so
its ToRs run Debian's unmodified ``frr`` and get their ``frr.conf`` from here, filled in from the lab inventory (the
same ``podnet_racks`` the collection reads). The example in the docs is rendered by the same function with the
docs' values (``python3 lab/frr.py --example``), and tests/lab/test_tors.py checks that the file in the docs is
exactly that output: what the lab proves is what the docs tell the network team.

    python3 lab/frr.py --example > docs/examples/frr-tor.conf
"""
import dataclasses
import ipaddress
import sys

# The same BFD timers as BIRD's podnet_bfd on the nodes (roles/bgp/templates/bird.conf.j2).
BFD_INTERVAL_MS = 300
BFD_MULTIPLIER = 3
# A node announces one block, a route reflector its rack's; more than this from one session is a leak.
MAX_PREFIX = 256
# The collection's block size in bgp mode when podnet_node_prefix is unset (DEFAULT_NODE_PREFIX in _plan.py; a unit
# test keeps the two equal): the lab reads the inventory, not the plan.
DEFAULT_BLOCK_PREFIX = 26
# /etc/frr/daemons of Debian's frr starts zebra, staticd and watchfrr only; the ToR needs these two as well.
DAEMONS = ("bgpd", "bfdd")


class FrrError(Exception):
    """A value that cannot go into frr.conf."""


@dataclasses.dataclass(frozen=True)
class TorConfig:
    """Everything one router's frr.conf depends on."""
    hostname: str
    address: ipaddress.IPv4Address          # on the rack's node network; also the router id
    asn: int
    rack: str
    index: int                              # its place in podnet_racks[rack].tors
    node_network: ipaddress.IPv4Network     # the rack's node network: nodes open sessions from it
    node_as: int
    cluster: ipaddress.IPv4Network          # podnet_cluster_cidr
    block_prefix: int                       # podnet_node_prefix
    fabric_peers: tuple = ()                # the other racks' routers (or spines), eBGP over the fabric
    password: str | None = None             # MD5 for the node sessions
    # Networks the fabric also carries (the lab: every rack's node network, for node-to-node traffic between
    # racks). The example carries none: podnet needs only the pod blocks.
    fabric_networks: tuple = ()
    header: tuple = ()                      # comment lines at the top, without the leading '!'


def _check(tor):
    for value, what in ((tor.hostname, "hostname"), (tor.rack, "rack")):
        if not value or any(char.isspace() or ord(char) < 33 or char in "!#" for char in value):
            raise FrrError(f"{what} {value!r}: frr.conf needs one word of printable characters")
    if tor.password is not None and (not tor.password or any(ord(c) < 33 or ord(c) > 126 for c in tor.password)
                                     or len(tor.password) > 80):
        raise FrrError(f"{tor.hostname}: the MD5 password (value hidden) must be 1-80 printable characters without "
                       "spaces, as FRR reads one word")
    if not tor.cluster.prefixlen <= tor.block_prefix <= 32:
        raise FrrError(f"block prefix /{tor.block_prefix} is not inside the cluster {tor.cluster}")
    if tor.asn == tor.node_as:
        raise FrrError(f"{tor.hostname}: AS {tor.asn} is also the nodes' AS; the sessions must be eBGP")


def _route_map(name, sequence, prefix_list):
    return [f"route-map {name} permit {sequence}", f" match ip address prefix-list {prefix_list}", "exit"]


def render(tor):
    """frr.conf for one router, as text."""
    _check(tor)
    block = f"{tor.cluster} ge {tor.block_prefix} le {tor.block_prefix}"
    lines = [f"! {line}".rstrip() for line in tor.header]
    lines += [
        "!",
        "frr version 8.4",
        "frr defaults datacenter",
        f"hostname {tor.hostname}",
        "log syslog informational",
        "service integrated-vtysh-config",
        "!",
        "! Pod blocks only, whole blocks only: the same rule as podnet's BIRD filters. Nothing else is accepted from "
        "the",
        "! nodes (no default route, no node networks), and nothing else is sent to them.",
        f"ip prefix-list PODNET-BLOCKS seq 10 permit {block}",
    ]
    if tor.fabric_networks:
        lines += [f"ip prefix-list FABRIC-NETS seq {10 * (i + 1)} permit {net}"
                  for i, net in enumerate(tor.fabric_networks)]
    lines += ["!", *_route_map("PODNET-IN", 10, "PODNET-BLOCKS"), "!", *_route_map("PODNET-OUT", 10, "PODNET-BLOCKS"),
              "!",
              "! What the fabric gets from this router and gives it: the pod blocks (add the rack's own networks here "
              "if the",
              "! fabric carries them, which podnet does not need)."]
    for name in ("FABRIC-OUT", "FABRIC-IN"):
        lines += _route_map(name, 10, "PODNET-BLOCKS")
        if tor.fabric_networks:
            lines += _route_map(name, 20, "FABRIC-NETS")
        lines.append("!")
    lines += [
        f"! BIRD on the nodes runs BFD with {BFD_INTERVAL_MS} ms x {BFD_MULTIPLIER} (bird.conf, protocol bfd "
        "podnet_bfd): the same here, so a dead node or",
        "! link is noticed in about a second.",
        "bfd",
        " profile podnet",
        f"  detect-multiplier {BFD_MULTIPLIER}",
        f"  receive-interval {BFD_INTERVAL_MS}",
        f"  transmit-interval {BFD_INTERVAL_MS}",
        " exit",
        " !",
        "exit",
        "!",
        f"router bgp {tor.asn}",
        f" bgp router-id {tor.address}",
        " bgp log-neighbor-changes",
        " ! Keep a restarting node's blocks (marked stale) for its restart time instead of withdrawing them. Helper "
        "mode is",
        " ! FRR's default; this line also lets FRR itself restart gracefully.",
        " bgp graceful-restart",
        " bgp bestpath as-path multipath-relax",
        " !",
        " ! Every node of the rack (podnet_tor_peers: nodes), or only the rack's route reflectors (route_reflectors).",
        " ! A listen range takes new nodes without a change here: the nodes open the sessions (BIRD is active).",
        " neighbor PODNET peer-group",
        f" neighbor PODNET remote-as {tor.node_as}",
        f" neighbor PODNET description podnet nodes of rack {tor.rack}",
        " neighbor PODNET bfd profile podnet",
        f" ! The MD5 password of this router in podnet_racks.{tor.rack}.tors[{tor.index}].password "
        "(or podnet_tor_password); omit it for none.",
        f" neighbor PODNET password {tor.password}" if tor.password else " ! neighbor PODNET password CHANGE-ME",
        " ! A node's BIRD restart keeps its blocks here (stale, graceful restart helper) although its BFD session",
        " ! drops with BIRD: measured in the lab (docs/underlay.md). So no bfd check-control-plane-failure, which would",
        " ! notice a node that really died only at the hold time.",
        f" bgp listen range {tor.node_network} peer-group PODNET",
        " !",
        " neighbor FABRIC peer-group",
        " neighbor FABRIC remote-as external",
        " neighbor FABRIC bfd profile podnet",
        *[f" neighbor {peer} peer-group FABRIC" for peer in tor.fabric_peers],
        " !",
        " address-family ipv4 unicast",
    ]
    if tor.fabric_networks:
        lines += [f"  network {tor.node_network}"]
    lines += [
        "  neighbor PODNET activate",
        "  neighbor PODNET route-map PODNET-IN in",
        "  neighbor PODNET route-map PODNET-OUT out",
        "  ! A node announces one block; a route reflector its rack's. More is a leak: stop the session.",
        f"  neighbor PODNET maximum-prefix {MAX_PREFIX}",
        "  neighbor FABRIC activate",
        "  neighbor FABRIC route-map FABRIC-IN in",
        "  neighbor FABRIC route-map FABRIC-OUT out",
        "  maximum-paths 16",
        " exit-address-family",
        "exit",
        "!",
    ]
    return "\n".join(lines) + "\n"


def enable_daemons(text):
    """/etc/frr/daemons as shipped, with bgpd and bfdd switched on; FrrError if a line to switch is missing."""
    lines = text.splitlines()
    for daemon in DAEMONS:
        found = [i for i, line in enumerate(lines) if line.strip() in (f"{daemon}=no", f"{daemon}=yes")]
        if not found:
            raise FrrError(f"/etc/frr/daemons has no '{daemon}=no' line: not the file Debian's frr ships")
        for i in found:
            lines[i] = f"{daemon}=yes"
    return "\n".join(lines) + "\n"


# docs/underlay.md's example inventory: router 1 of rack r1, the fabric 10.89.90.0/24.
EXAMPLE = TorConfig(
    hostname="r1-tor1", address=ipaddress.IPv4Address("10.89.70.1"), asn=65001, rack="r1", index=0,
    node_network=ipaddress.IPv4Network("10.89.70.0/24"), node_as=65101,
    cluster=ipaddress.IPv4Network("10.244.0.0/16"), block_prefix=DEFAULT_BLOCK_PREFIX,
    fabric_peers=(ipaddress.IPv4Address("10.89.90.2"),),
    header=(
        "FRR (8.4, Debian's frr package) on a top-of-rack router that peers with podnet nodes over eBGP.",
        "This is what the network team applies; podnet never configures a router. The values are those of the "
        "example in",
        "docs/underlay.md - router r1-tor1 of rack r1:",
        "  this router           10.89.70.1, AS 65001  (r1-tor2 is 10.89.70.2: change hostname, router-id, address)",
        "  rack r1's nodes        10.89.70.0/24, AS 65101 (podnet_racks.r1.as; podnet_bgp_as in a single-AS cluster)",
        "  pod blocks             10.244.0.0/16 carved into /26 (podnet_cluster_cidr, podnet_node_prefix)",
        "  the fabric             10.89.90.0/24: spines or the other racks' routers, any AS but 65001 and the nodes'",
        "/etc/frr/daemons needs bgpd=yes and bfdd=yes.",
        "The lab's routers run this same configuration with the lab's values (lab/frr.py renders both).",
    ),
)


def main(argv):
    if argv != ["--example"]:
        print("usage: frr.py --example   (prints docs/examples/frr-tor.conf)", file=sys.stderr)
        return 2
    sys.stdout.write(render(EXAMPLE))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
