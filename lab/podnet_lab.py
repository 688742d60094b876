#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Podman lab harness: turn a lab inventory into containers (bare hosts) and networks (racks).

The inventory's ``all.vars.podnet_lab`` block names the lab, its racks and an optional router;
hosts come from the inventory itself (``podnet_node_ip``, ``podnet_rack``, ``podnet_uplink``).

Hosts come as bare as a fresh Debian server: the image holds no package a role installs. The lab
serves those packages (and their dependencies) from a local repository, fetched once into
``.cache/lab-repo`` and bind-mounted read-only into every host as its only apt source, so the
first converge runs the same apt steps as on a real rack while no host reaches outside the lab.

    podnet_lab.py image [--rebuild]
    podnet_lab.py up -i INVENTORY
    podnet_lab.py down -i INVENTORY
    podnet_lab.py status -i INVENTORY
    podnet_lab.py restart -i INVENTORY HOST...
    podnet_lab.py frr -i INVENTORY [--vars FILE] [--print]
"""
import argparse
import dataclasses
import fcntl
import glob
import hashlib
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frr  # noqa: E402  (the ToRs' frr.conf, shared with docs/examples/frr-tor.conf)

# PODNET_LAB_IMAGE and PODNET_LAB_CACHE let a second working tree of the project keep its own image and
# package source: the image is rebuilt whenever lab_key() differs, so two trees with different package
# lists sharing one image would rebuild it (and replace the package source under each other's hosts) in turn.
IMAGE = os.environ.get("PODNET_LAB_IMAGE", "localhost/podnet-lab:bookworm")
SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
# What a fresh Debian server has that Ansible and the verify steps rely on: systemd as PID 1,
# python3 and python3-apt (standard installs have both, via apt-listchanges), and the
# priority-important iproute2, procps (sysctl) and iputils-ping (the verify steps ping).
# Nothing a role installs may be here, or the lab hides first-converge bugs.
IMAGE_PACKAGES = [
    "systemd", "systemd-sysv", "dbus", "python3", "python3-apt", "iproute2", "procps", "iputils-ping",
]
# What the roles install (roles/common podnet_packages, roles/bgp bird2): served by the lab's
# package source with every dependency the image lacks, recommends included as apt installs them.
REPO_PACKAGES = ["bird2", "containernetworking-plugins", "iproute2", "nftables"]
# Lab tools: what the lab's own measurements install into a host on demand (benchmarks/datapath.py: iperf3;
# benchmarks/converge.py: openssh-server, to reach hosts over SSH as racks are reached), never a role. Served by the
# same source, so no host reaches outside the lab for them; kept apart so that REPO_PACKAGES stays exactly what the
# roles install.
LAB_TOOL_PACKAGES = ["iperf3", "openssh-server"]
# The lab's top-of-rack routers (podnet_lab.racks.RACK.tors): Debian's unmodified FRR, installed into the ToR
# containers only, at `up`. Never a role's package: podnet does not configure routers.
ROUTER_PACKAGES = ["frr"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE_DIR = os.environ.get("PODNET_LAB_CACHE", os.path.join(ROOT, ".cache"))
REPO_MOUNT = "/srv/podnet-lab-repo"
REPO_SOURCE = f"deb [trusted=yes] file:{REPO_MOUNT} ./\n"
KEY_LABEL = "podnet.lab.key"
KEY_FILE = "podnet-lab.key"
# Units that only make sense on real hardware/consoles; masked so a fresh container boots clean.
MASKED_UNITS = [
    "systemd-networkd-wait-online.service", "getty@tty1.service", "console-getty.service",
    "systemd-udevd.service", "systemd-udev-trigger.service", "systemd-udev-settle.service",
    "systemd-udevd-control.socket", "systemd-udevd-kernel.socket",
    "sys-kernel-config.mount", "sys-kernel-debug.mount", "sys-kernel-tracing.mount",
    "dev-hugepages.mount", "systemd-modules-load.service", "systemd-remount-fs.service",
]
PODMAN_GLOBAL = ["podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs",
                 "--events-backend", "file"]
RUN_LIMITS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=4096:4096"]
DEFAULT_UPLINK = "ens5"
ROUTER_HOST = "router"
ROUTER_OCTET = 254
FABRIC = "fabric"
# The collection's defaults for what a ToR's frr.conf needs when the inventory leaves it unset (roles/bgp/defaults
# podnet_bgp_as, roles/common/defaults podnet_cluster_cidr, _plan.py DEFAULT_NODE_PREFIX['bgp']; a test keeps them
# equal): the lab reads the inventory, not the plan.
DEFAULT_NODE_AS = 64512
DEFAULT_CLUSTER_CIDR = "10.244.0.0/16"
DEFAULT_BLOCK_PREFIX = 26
# A ToR's address on the fabric: the fabric network's address + FABRIC_FIRST_OCTET + its place in the lab.
FABRIC_FIRST_OCTET = 11
BOOT_TIMEOUT_S = 90
NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
IFNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")


BACKENDS = ("container", "vm")


class Interrupted(Exception):
    """SIGTERM or SIGHUP while a backend brings a lab up (it stops what it started, then raises this)."""


class LabError(Exception):
    """A problem with the lab definition or with building it; printed without a traceback."""


@dataclasses.dataclass(frozen=True)
class Rack:
    name: str
    subnet: ipaddress.IPv4Network
    mtu: int | None = None

    @property
    def router_ip(self):
        return self.subnet.network_address + ROUTER_OCTET


@dataclasses.dataclass(frozen=True)
class Host:
    name: str
    rack: str
    ip: ipaddress.IPv4Address
    uplink: str = DEFAULT_UPLINK


@dataclasses.dataclass(frozen=True)
class Tor:
    """A top-of-rack router of the lab: a container running FRR, on its rack and on the fabric."""
    name: str
    rack: str
    index: int                      # its place in podnet_racks[rack].tors
    address: ipaddress.IPv4Address  # on the rack (podnet_racks)
    asn: int
    fabric_ip: ipaddress.IPv4Address
    password: str | None = dataclasses.field(default=None, repr=False)


@dataclasses.dataclass(frozen=True)
class Underlay:
    """What the ToRs' frr.conf needs beyond the routers themselves, read from the inventory's podnet_* variables."""
    fabric: ipaddress.IPv4Network
    cluster: ipaddress.IPv4Network
    block_prefix: int
    node_as: dict                   # rack -> the AS of its nodes


@dataclasses.dataclass(frozen=True)
class Lab:
    name: str
    racks: dict
    hosts: list
    router_racks: list = dataclasses.field(default_factory=list)
    backend: str = "container"
    tors: list = dataclasses.field(default_factory=list)
    underlay: Underlay | None = None

    def container(self, host_name):
        return f"podnet-{self.name}-{host_name}"

    def network(self, rack_name):
        return f"podnet-{self.name}-{rack_name}"

    @property
    def router_container(self):
        return self.container(ROUTER_HOST) if self.router_racks else None

    def containers(self):
        names = [self.container(h.name) for h in self.hosts]
        names += [self.container(t.name) for t in self.tors]
        return names + ([self.router_container] if self.router_racks else [])

    def networks(self):
        return [self.network(r) for r in self.racks] + ([self.network(FABRIC)] if self.tors else [])


# ---------------------------------------------------------------- inventory parsing (pure)

def collect_hosts(inventory):
    """Return {host: vars} with group vars inherited down the tree (host vars win)."""
    hosts = {}

    def walk(group, inherited):
        group = group or {}
        merged = {**inherited, **(group.get("vars") or {})}
        for name, host_vars in (group.get("hosts") or {}).items():
            hosts.setdefault(name, {}).update({**merged, **(host_vars or {})})
        for child in (group.get("children") or {}).values():
            walk(child, merged)

    walk((inventory or {}).get("all"), {})
    return hosts


def parse_rack(name, spec):
    if not NAME_RE.match(str(name)):
        raise LabError(f"rack name {name!r}: use lower-case letters, digits and '-'")
    if not isinstance(spec, dict) or "subnet" not in spec:
        raise LabError(f"rack {name}: needs a 'subnet'")
    try:
        subnet = ipaddress.IPv4Network(spec["subnet"])
    except ValueError as exc:
        raise LabError(f"rack {name}: bad subnet {spec['subnet']!r}: {exc}") from exc
    mtu = spec.get("mtu")
    if mtu is not None and (not isinstance(mtu, int) or not 576 <= mtu <= 65535):
        raise LabError(f"rack {name}: mtu must be an integer in 576..65535, got {mtu!r}")
    return Rack(name, subnet, mtu)


def check_no_overlap(racks):
    items = list(racks.values())
    for i, first in enumerate(items):
        for second in items[i + 1:]:
            if first.subnet.overlaps(second.subnet):
                raise LabError(f"racks {first.name} and {second.name} overlap "
                               f"({first.subnet}, {second.subnet})")


def parse_host(name, host_vars, racks, router_racks):
    if not NAME_RE.match(str(name)):
        raise LabError(f"host name {name!r}: use lower-case letters, digits and '-'")
    rack_name = host_vars.get("podnet_rack")
    if rack_name not in racks:
        raise LabError(f"host {name}: podnet_rack {rack_name!r} is not one of {sorted(racks)}")
    rack = racks[rack_name]
    try:
        ip = ipaddress.IPv4Address(host_vars.get("podnet_node_ip"))
    except ValueError as exc:
        raise LabError(f"host {name}: bad podnet_node_ip: {exc}") from exc
    if ip not in rack.subnet or ip in (rack.subnet.network_address, rack.subnet.broadcast_address):
        raise LabError(f"host {name}: {ip} is not a usable address of rack {rack_name} ({rack.subnet})")
    if rack_name in router_racks and ip == rack.router_ip:
        raise LabError(f"host {name}: {ip} is the router's address on rack {rack_name}")
    uplink = str(host_vars.get("podnet_uplink", DEFAULT_UPLINK))
    if not IFNAME_RE.match(uplink):
        raise LabError(f"host {name}: bad interface name podnet_uplink={uplink!r}")
    return Host(str(name), rack_name, ip, uplink)


def parse_router(spec, racks):
    if not spec:
        return []
    router_racks = list(spec.get("racks") or []) if isinstance(spec, dict) else []
    if len(router_racks) < 2:
        raise LabError("router: needs 'racks' with at least two racks")
    for name in router_racks:
        if name not in racks:
            raise LabError(f"router: unknown rack {name!r}")
        if racks[name].router_ip not in racks[name].subnet:
            raise LabError(f"router: rack {name} ({racks[name].subnet}) has no .{ROUTER_OCTET} address")
    if len(set(router_racks)) != len(router_racks):
        raise LabError("router: a rack is listed twice")
    return router_racks


def check_unique_ips(hosts):
    seen = {}
    for host in hosts:
        if host.ip in seen:
            raise LabError(f"hosts {seen[host.ip]} and {host.name} share {host.ip}")
        seen[host.ip] = host.name


def parse_lab(inventory):
    """Build a Lab from a loaded inventory dict; raise LabError on anything unusable."""
    all_vars = ((inventory or {}).get("all") or {}).get("vars") or {}
    spec = all_vars.get("podnet_lab")
    if not isinstance(spec, dict):
        raise LabError("inventory has no all.vars.podnet_lab mapping")
    name = spec.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise LabError(f"podnet_lab.name {name!r}: use lower-case letters, digits and '-'")
    racks = {str(r): parse_rack(r, s) for r, s in (spec.get("racks") or {}).items()}
    if not racks:
        raise LabError("podnet_lab.racks is empty")
    check_no_overlap(racks)
    router_racks = parse_router(spec.get("router"), racks)
    host_vars = collect_hosts(inventory)
    lab_hosts = {n: v for n, v in host_vars.items() if "podnet_node_ip" in v or "podnet_rack" in v}
    if not lab_hosts:
        raise LabError("inventory has no hosts with podnet_node_ip/podnet_rack")
    if router_racks and ROUTER_HOST in lab_hosts:
        raise LabError(f"host name {ROUTER_HOST!r} is reserved for the lab router")
    hosts = [parse_host(n, v, racks, router_racks) for n, v in lab_hosts.items()]
    check_unique_ips(hosts)
    backend = spec.get("backend", "container")
    if backend not in BACKENDS:
        raise LabError(f"podnet_lab.backend {backend!r}: use one of {', '.join(BACKENDS)}")
    tors, underlay = parse_tors(spec, all_vars, racks, router_racks, hosts)
    if tors and backend != "container":
        raise LabError("podnet_lab: top-of-rack routers (racks.RACK.tors) are built by the container backend only")
    return Lab(name, racks, hosts, router_racks, backend, tors, underlay)


# ---------------------------------------------------------------- top-of-rack routers (pure)
#
# A lab for podnet_bgp_topology tor (inventories/lab/underlay.yml, docs/underlay.md "Lab") has no `router`: each rack
# names its ToRs, and the racks are joined only through them.
#
#   podnet_lab.racks.RACK.tors: [NAME, ...]   one or two container names, in the order of podnet_racks[RACK].tors
#   podnet_lab.fabric.subnet                  an --internal network between all ToRs (their second leg, ens6)
#
# Everything else about a ToR is read from the variables the collection itself reads, so the lab's routers and the
# nodes' BIRD cannot disagree: its address on the rack, its AS and its MD5 password from podnet_racks (password, or
# podnet_tor_password), the rack's node AS from podnet_racks[RACK].as (or podnet_bgp_as), the pod blocks from
# podnet_cluster_cidr and podnet_node_prefix. These must be literal values in all.vars: the lab reads YAML, not
# Jinja. The collection's plan checks them once more for the nodes' side (tests/lab/test_tors.py runs it).
#
# Each ToR runs Debian's frr (ROUTER_PACKAGES, from the lab's package source) with bgpd and bfdd on and the frr.conf
# lab/frr.py renders - docs/examples/frr-tor.conf's structure with the lab's values: a listen range over the rack's
# node network (its nodes or reflectors, whichever podnet_tor_peers makes speak), pod-block prefix lists both ways,
# BFD 300 ms x 3, graceful restart, MD5, maximum-paths, and eBGP over the fabric to every ToR of the other racks
# (ToRs of one rack share an AS and have nothing to tell each other). Unlike the example, a lab ToR also carries
# its rack's node network over the fabric, and each node gets a static route to every other rack's node network via
# its ToR(s) - a multipath route when it has two -, as a host's own network configuration would have: BIRD's
# filters take nothing but pod blocks from the routers, and lab tools may need to reach another rack's node.

def _literal(where, value):
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        raise LabError(f"{where} is a template; the lab renders frr.conf without Ansible: give a literal value")
    return value


def _as_number(where, value):
    _literal(where, value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4294967294:
        raise LabError(f"{where} {value!r}: needs an AS number (an integer in 1..4294967294)")
    return value


def _tor_names(spec, racks):
    """{rack: [names]} from podnet_lab.racks.RACK.tors; {} for a lab without ToRs."""
    names = {}
    for rack_name, rack_spec in (spec.get("racks") or {}).items():
        tors = rack_spec.get("tors") if isinstance(rack_spec, dict) else None
        if tors is None:
            continue
        if not isinstance(tors, list) or not 1 <= len(tors) <= 2:
            raise LabError(f"rack {rack_name}: tors must list one or two router names")
        for tor in tors:
            if not isinstance(tor, str) or not NAME_RE.match(tor):
                raise LabError(f"rack {rack_name}: ToR name {tor!r}: use lower-case letters, digits and '-'")
        names[str(rack_name)] = tors
    if names and set(names) != set(racks):
        raise LabError(f"racks {', '.join(sorted(set(racks) - set(names)))} have no tors: with top-of-rack routers "
                       "the racks are joined only through them, so every rack needs one or two")
    return names


def _fabric(spec, racks, count):
    fabric = spec.get(FABRIC)
    if not isinstance(fabric, dict) or "subnet" not in fabric:
        raise LabError("podnet_lab.fabric: a lab with tors needs fabric: {subnet: ...}, the network between its ToRs")
    try:
        subnet = ipaddress.IPv4Network(fabric["subnet"])
    except ValueError as exc:
        raise LabError(f"podnet_lab.fabric: bad subnet {fabric['subnet']!r}: {exc}") from exc
    for rack in racks.values():
        if subnet.overlaps(rack.subnet):
            raise LabError(f"podnet_lab.fabric {subnet} overlaps rack {rack.name} ({rack.subnet})")
    if subnet.num_addresses < FABRIC_FIRST_OCTET + count + 1:
        raise LabError(f"podnet_lab.fabric {subnet} is too small for {count} ToRs")
    return subnet


def _tor_address(where, value, rack, hosts):
    _literal(where, value)
    try:
        address = ipaddress.IPv4Address(value)
    except ValueError as exc:
        raise LabError(f"{where} {value!r}: {exc}") from exc
    # The first address is kept free: podman takes it as the network's gateway, and netavark puts it on the host's
    # bridge (for its DNS) even on --internal networks; not checked on this machine's podman.
    reserved = (rack.subnet.network_address, rack.subnet.network_address + 1, rack.subnet.broadcast_address)
    if address not in rack.subnet or address in reserved:
        raise LabError(f"{where} {address} is not a free address of rack {rack.name} ({rack.subnet}; the first "
                       "address is podman's)")
    for host in hosts:
        if host.ip == address:
            raise LabError(f"{where} {address} is the podnet_node_ip of {host.name}")
    return address


def parse_tors(spec, all_vars, racks, router_racks, hosts):
    """The lab's ToRs and what their frr.conf needs; ([], None) for a lab without ToRs."""
    names = _tor_names(spec, racks)
    if not names:
        if FABRIC in spec:
            raise LabError("podnet_lab.fabric is set but no rack has tors")
        return [], None
    if router_racks:
        raise LabError("podnet_lab: a lab with tors has no router; its racks are joined only through the ToRs")
    if FABRIC in racks:
        raise LabError(f"rack name {FABRIC!r} is the fabric network's")
    podnet_racks = all_vars.get("podnet_racks")
    if not isinstance(podnet_racks, dict):
        raise LabError("a lab with tors reads its routers from all.vars.podnet_racks (the collection's variable): "
                       "it is missing or not a mapping")
    if set(map(str, podnet_racks)) != set(names):
        raise LabError(f"podnet_racks describes racks {sorted(map(str, podnet_racks))}, the lab has racks "
                       f"{sorted(names)}: they must be the same")
    taken = {h.name for h in hosts} | {ROUTER_HOST, FABRIC}
    count = sum(len(n) for n in names.values())
    fabric = _fabric(spec, racks, count)
    default_password = _literal("podnet_tor_password", all_vars.get("podnet_tor_password")) or None
    default_as = all_vars.get("podnet_bgp_as", DEFAULT_NODE_AS)
    tors, node_as, addresses = [], {}, set()
    for rack_name in racks:
        entry = podnet_racks.get(rack_name)
        if not isinstance(entry, dict) or not isinstance(entry.get("tors"), list):
            raise LabError(f"podnet_racks.{rack_name}: needs a mapping with a list 'tors'")
        if len(entry["tors"]) != len(names[rack_name]):
            raise LabError(f"rack {rack_name}: podnet_lab names {len(names[rack_name])} ToRs, podnet_racks."
                           f"{rack_name}.tors lists {len(entry['tors'])}: one name for each router, in order")
        node_as[rack_name] = _as_number(f"podnet_racks.{rack_name}.as" if "as" in entry else "podnet_bgp_as",
                                        entry.get("as", default_as))
        for index, (name, tor) in enumerate(zip(names[rack_name], entry["tors"])):
            where = f"podnet_racks.{rack_name}.tors[{index}]"
            if name in taken:
                raise LabError(f"rack {rack_name}: ToR name {name!r} is already a host, ToR or reserved name")
            taken.add(name)
            if not isinstance(tor, dict):
                raise LabError(f"{where}: needs a mapping with address and as")
            address = _tor_address(f"{where}.address", tor.get("address"), racks[rack_name], hosts)
            if address in addresses:
                raise LabError(f"{where}.address {address} is listed twice")
            addresses.add(address)
            asn = _as_number(f"{where}.as", tor.get("as"))
            if asn == node_as[rack_name]:
                raise LabError(f"{where}.as {asn} is also the AS of rack {rack_name}'s nodes; the sessions are eBGP")
            password = _literal(f"{where}.password", tor.get("password")) or default_password
            tors.append(Tor(name, rack_name, index, address, asn,
                            fabric.network_address + FABRIC_FIRST_OCTET + len(tors), password))
    cluster = _literal("podnet_cluster_cidr", all_vars.get("podnet_cluster_cidr", DEFAULT_CLUSTER_CIDR))
    prefix = _literal("podnet_node_prefix", all_vars.get("podnet_node_prefix", DEFAULT_BLOCK_PREFIX))
    try:
        cluster = ipaddress.IPv4Network(cluster)
    except ValueError as exc:
        raise LabError(f"podnet_cluster_cidr {cluster!r}: {exc}") from exc
    if isinstance(prefix, bool) or not isinstance(prefix, int) or not cluster.prefixlen <= prefix <= 32:
        raise LabError(f"podnet_node_prefix {prefix!r}: needs an integer between {cluster.prefixlen} and 32")
    return tors, Underlay(fabric, cluster, prefix, node_as)


def tor_config(lab, tor, variant=None):
    """frr.TorConfig of one of the lab's ToRs."""
    underlay = lab.underlay
    return frr.TorConfig(
        hostname=tor.name, address=tor.address, asn=tor.asn, rack=tor.rack, index=tor.index,
        node_network=lab.racks[tor.rack].subnet, node_as=underlay.node_as[tor.rack], cluster=underlay.cluster,
        block_prefix=underlay.block_prefix, password=tor.password,
        fabric_peers=tuple(other.fabric_ip for other in lab.tors if other.rack != tor.rack),
        fabric_networks=tuple(rack.subnet for rack in lab.racks.values()),
        header=(f"Written by lab/podnet_lab.py for {tor.name} of lab {lab.name}{variant or ''}: "
                f"{tor.address} on rack {tor.rack}, {tor.fabric_ip} on the fabric.",
                "The structure is docs/examples/frr-tor.conf's (lab/frr.py renders both)."))


def rack_routes(lab, host):
    """(subnet, (via, ...)) a host needs to reach the other racks' nodes: through the router, or its ToRs."""
    if lab.tors:
        vias = tuple(t.address for t in lab.tors if t.rack == host.rack)
        return [(rack.subnet, vias) for rack in lab.racks.values() if rack.name != host.rack]
    return [(subnet, (via,)) for subnet, via in host_routes(lab, host)]


def route_argv(subnet, vias):
    if len(vias) == 1:
        return ["ip", "route", "replace", str(subnet), "via", str(vias[0])]
    return ["ip", "route", "replace", str(subnet)] + [arg for via in vias for arg in ("nexthop", "via", str(via))]


def read_inventory(path):
    """The inventory file as a dict, for either backend's parser."""
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except OSError as exc:
        raise LabError(f"cannot read inventory {path}: {exc}") from exc


def with_vars(inventory, overrides):
    """The inventory with all.vars updated from a mapping (a variant of the lab's settings)."""
    if not isinstance(overrides, dict):
        raise LabError("--vars: the file must hold a YAML mapping of variables")
    inventory = dict(inventory or {})
    inventory["all"] = dict(inventory.get("all") or {})
    inventory["all"]["vars"] = {**(inventory["all"].get("vars") or {}), **overrides}
    return inventory


def load_lab(path):
    return parse_lab(read_inventory(path))


def host_routes(lab, host):
    """(subnet, via) pairs a host needs to reach the other racks through the router."""
    if host.rack not in lab.router_racks:
        return []
    via = lab.racks[host.rack].router_ip
    return [(lab.racks[r].subnet, via) for r in lab.router_racks if r != host.rack]


def router_interfaces(lab):
    """(rack, interface name, address) for each rack the router serves: ens5, ens6, ..."""
    return [(r, f"ens{5 + i}", lab.racks[r].router_ip) for i, r in enumerate(lab.router_racks)]


def lab_segments(lab):
    """Every network the lab creates, as Racks: its racks, and the fabric of a lab with ToRs."""
    return list(lab.racks.values()) + ([Rack(FABRIC, lab.underlay.fabric)] if lab.tors else [])


def foreign_collisions(lab, networks):
    """Rack subnets that overlap podman networks not belonging to this lab.

    networks: the parsed output of `podman network ls --format json`.
    """
    own = set(lab.networks())
    clashes = []
    for net in networks:
        if net.get("name") in own:
            continue
        for sub in net.get("subnets") or []:
            try:
                other = ipaddress.ip_network(sub.get("subnet", ""), strict=False)
            except ValueError:
                continue
            for rack in lab_segments(lab):
                if other.version == 4 and rack.subnet.overlaps(other):
                    clashes.append((rack.name, str(rack.subnet), net.get("name"), str(other)))
    return clashes


# ---------------------------------------------------------------- podman

def podman(*args, check=True, capture=True, stdin=None):
    result = subprocess.run([*PODMAN_GLOBAL, *args], check=False, text=True, stdin=stdin,
                            capture_output=capture)
    if check and result.returncode != 0:
        detail = (result.stderr or "").strip() if capture else ""
        raise LabError(f"podman {' '.join(args)} failed ({result.returncode}): {detail}")
    return result


def image_exists(image=IMAGE):
    return podman("image", "exists", image, check=False).returncode == 0


def podman_networks():
    return json.loads(podman("network", "ls", "--format", "json").stdout or "[]")


def remove_lab(lab):
    for name in lab.containers():
        podman("rm", "--force", "--time", "0", "--ignore", name)
    for name in lab.networks():
        podman("network", "rm", "--force", name, check=False)


def create_network(lab, rack):
    args = ["network", "create", "--internal", "--disable-dns", "--subnet", str(rack.subnet)]
    if rack.mtu:
        args += ["--opt", f"mtu={rack.mtu}"]
    podman(*args, lab.network(rack.name))


def run_container(name, hostname, attachments, extra=()):
    """attachments: (network, interface, ip) triples, attached in order."""
    args = ["run", "-d", "--name", name, "--hostname", hostname, "--privileged",
            "--systemd=always", *RUN_LIMITS, "--volume", f"{repo_dir()}:{REPO_MOUNT}:ro", *extra]
    for network, ifname, ip in attachments:
        args += ["--network", f"{network}:interface_name={ifname},ip={ip}"]
    podman(*args, IMAGE, "/sbin/init")


def start_host(lab, host):
    run_container(lab.container(host.name), host.name,
                  [(lab.network(host.rack), host.uplink, host.ip)])


def start_router(lab):
    attachments = [(lab.network(r), ifname, ip) for r, ifname, ip in router_interfaces(lab)]
    run_container(lab.router_container, ROUTER_HOST, attachments,
                  extra=["--sysctl", "net.ipv4.ip_forward=1"])


def add_routes(lab, host):
    for subnet, vias in rack_routes(lab, host):
        podman("exec", lab.container(host.name), *route_argv(subnet, vias))


def start_tor(lab, tor):
    # A router forwards and does not drop what ECMP sends it back asymmetrically.
    sysctls = ["net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
               "net.ipv4.fib_multipath_hash_policy=1"]
    run_container(lab.container(tor.name), tor.name,
                  [(lab.network(tor.rack), DEFAULT_UPLINK, tor.address), (lab.network(FABRIC), "ens6", tor.fabric_ip)],
                  extra=[arg for sysctl in sysctls for arg in ("--sysctl", sysctl)])


def write_file(container, path, text, owner, mode):
    handle, local = tempfile.mkstemp(prefix="podnet-lab-", dir="/var/tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        podman("cp", local, f"{container}:{path}")
    finally:
        os.remove(local)
    podman("exec", container, "chown", owner, path)
    podman("exec", container, "chmod", mode, path)


def install_frr(lab, tor):
    container = lab.container(tor.name)
    podman("exec", "--env", "DEBIAN_FRONTEND=noninteractive", container, "apt-get", "install", "-q", "-y",
           *ROUTER_PACKAGES)
    daemons = podman("exec", container, "cat", "/etc/frr/daemons").stdout
    try:
        write_file(container, "/etc/frr/daemons", frr.enable_daemons(daemons), "frr:frr", "0640")
    except frr.FrrError as exc:
        raise LabError(f"{container}: {exc}") from exc


def configure_frr(lab, tor, variant=None):
    """Write the ToR's frr.conf, let FRR check it, and restart FRR with it."""
    container = lab.container(tor.name)
    try:
        text = frr.render(tor_config(lab, tor, variant))
    except frr.FrrError as exc:
        raise LabError(f"{container}: {exc}") from exc
    write_file(container, "/etc/frr/frr.conf", text, "frr:frr", "0640")
    podman("exec", container, "vtysh", "--dryrun", "--inputfile", "/etc/frr/frr.conf")
    # The scenario restarts FRR several times within a minute (variants, then back): more than systemd's start
    # limit for frr.service, which then refuses the restart (first run of molecule/underlay). Clear the count first.
    podman("exec", container, "systemctl", "reset-failed", "frr")
    podman("exec", container, "systemctl", "restart", "frr")


def system_state(container):
    result = podman("exec", container, "systemctl", "is-system-running", check=False)
    return (result.stdout or "").strip() or "unknown"


def wait_booted(container, timeout=BOOT_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    state = "unknown"
    while time.monotonic() < deadline:
        state = system_state(container)
        if state in ("running", "degraded"):
            return state
        time.sleep(0.5)
    raise LabError(f"{container}: systemd did not finish booting in {timeout}s (state {state})")


def uplink_addresses(container):
    """{ifname: [cidr, ...]} for the container's global IPv4 addresses."""
    out = podman("exec", container, "ip", "-json", "addr", check=False).stdout or "[]"
    result = {}
    for link in json.loads(out):
        addrs = [f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", [])
                 if a.get("family") == "inet" and a.get("scope") == "global"]
        if addrs:
            result[link["ifname"]] = addrs
    return result


# ---------------------------------------------------------------- commands

def cmd_up(lab):
    if not image_exists():
        raise LabError(f"image {IMAGE} is missing: run '{sys.argv[0]} image' first")
    if not repo_ready(image_key()):
        raise LabError(f"the package source of {IMAGE} is missing or stale in {repo_dir()}: "
                       f"run '{sys.argv[0]} image' first")
    remove_lab(lab)
    clashes = foreign_collisions(lab, podman_networks())
    if clashes:
        text = "; ".join(f"rack {r} {s} overlaps podman network {n} ({o})" for r, s, n, o in clashes)
        raise LabError(f"lab {lab.name}: {text}")
    for segment in lab_segments(lab):
        create_network(lab, segment)
    if lab.router_racks:
        start_router(lab)
    for tor in lab.tors:
        start_tor(lab, tor)
    for host in lab.hosts:
        start_host(lab, host)
    for host in lab.hosts:
        add_routes(lab, host)
    for name in lab.containers():
        print_booted(name)
    for tor in lab.tors:
        install_frr(lab, tor)
        configure_frr(lab, tor)


def print_booted(container):
    state = wait_booted(container)
    print(f"{container}: {state} {format_addresses(uplink_addresses(container))}")


def cmd_restart(lab, host_names):
    """Reboot hosts as far as a container can: a fresh network namespace and a fresh boot of systemd.

    podman gives the uplink its address again; what a real host's own network configuration would add besides
    (the routes to the other racks) is added the way `up` adds it.
    """
    hosts = {h.name: h for h in lab.hosts}
    known = set(hosts) | {t.name for t in lab.tors}
    unknown = [name for name in host_names if name not in known]
    if unknown:
        raise LabError(f"lab {lab.name} has no host {', '.join(unknown)} (hosts: {', '.join(sorted(known))})")
    for name in host_names:
        podman("restart", lab.container(name))
    for name in host_names:
        if name in hosts:
            add_routes(lab, hosts[name])
    for name in host_names:
        print_booted(lab.container(name))


def format_addresses(addresses):
    return " ".join(f"{ifname}={','.join(cidrs)}" for ifname, cidrs in sorted(addresses.items()))


def cmd_frr(lab, show, variant=None):
    """Print every ToR's frr.conf, or write it into the running ToRs and restart their FRR."""
    if not lab.tors:
        raise LabError(f"lab {lab.name} has no top-of-rack routers (podnet_lab.racks.RACK.tors)")
    for tor in lab.tors:
        if show:
            try:
                print(f"!!! {lab.container(tor.name)}:/etc/frr/frr.conf\n{frr.render(tor_config(lab, tor, variant))}")
            except frr.FrrError as exc:
                raise LabError(f"{tor.name}: {exc}") from exc
        else:
            configure_frr(lab, tor, variant)
            print(f"{lab.container(tor.name)}: frr.conf written, FRR restarted")


def cmd_down(lab):
    remove_lab(lab)
    print(f"lab {lab.name}: removed {len(lab.containers())} containers, {len(lab.networks())} networks")


def cmd_status(lab):
    for name in lab.containers():
        result = podman("inspect", "--format", "{{.State.Status}}", name, check=False)
        if result.returncode != 0:
            print(f"{name}: absent")
            continue
        status = result.stdout.strip()
        if status != "running":
            print(f"{name}: {status}")
            continue
        print(f"{name}: {system_state(name)} {format_addresses(uplink_addresses(name))}")


# ---------------------------------------------------------------- base image and package source

def lab_key():
    """Changes whenever what the image holds or what the package source serves would change."""
    spec = {"suite": SUITE, "mirror": DEBIAN_MIRROR, "image": sorted(IMAGE_PACKAGES),
            "repo": sorted(REPO_PACKAGES), "tools": sorted(LAB_TOOL_PACKAGES),
            "routers": sorted(ROUTER_PACKAGES), "masked": sorted(MASKED_UNITS),
            "mount": REPO_MOUNT, "lists": "filled"}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def repo_dir():
    return os.path.join(CACHE_DIR, "lab-repo")


def repo_ready(key):
    try:
        with open(os.path.join(repo_dir(), KEY_FILE), encoding="ascii") as handle:
            recorded = handle.read().strip()
    except OSError:
        return False
    return bool(key) and recorded == key and os.path.isfile(os.path.join(repo_dir(), "Packages"))


def image_key(image=IMAGE):
    result = podman("image", "inspect", "--format", "{{index .Labels \"" + KEY_LABEL + "\"}}", image,
                    check=False)
    key = (result.stdout or "").strip() if result.returncode == 0 else ""
    return "" if key == "<no value>" else key


def prepare_rootfs(root):
    """Make a debootstrapped tree boot like a fresh host inside a container."""
    with open(os.path.join(root, "etc/machine-id"), "w", encoding="ascii"):
        pass
    for unit in MASKED_UNITS:
        link = os.path.join(root, "etc/systemd/system", unit)
        if os.path.lexists(link):
            os.remove(link)
        os.symlink("/dev/null", link)
    hostname = os.path.join(root, "etc/hostname")
    if os.path.isfile(hostname):
        os.remove(hostname)
    # The lab's repository is the only package source: racks are --internal, no route leads out.
    with open(os.path.join(root, "etc/apt/sources.list"), "w", encoding="ascii") as handle:
        handle.write(REPO_SOURCE)
    for pattern in ("etc/apt/sources.list.d/*", "var/lib/apt/lists/*_*", "var/cache/apt/archives/*.deb",
                    "var/cache/apt/*.bin"):
        for path in glob.glob(os.path.join(root, pattern)):
            os.remove(path)


def debootstrap(root):
    os.makedirs(os.path.join(CACHE_DIR, "debootstrap"), exist_ok=True)
    cmd = ["debootstrap", "--variant=minbase", "--include=" + ",".join(IMAGE_PACKAGES),
           "--cache-dir=" + os.path.join(CACHE_DIR, "debootstrap"), SUITE, root, DEBIAN_MIRROR]
    if subprocess.run(cmd, check=False).returncode != 0:
        raise LabError("debootstrap failed (see its output above)")


def apt_options(work, status):
    """apt-get options that resolve against the image's dpkg status, with private lists and cache."""
    options = {
        "Dir::State::status": status,
        "Dir::State": os.path.join(work, "state"),
        "Dir::State::Lists": os.path.join(work, "lists"),
        "Dir::Cache": os.path.join(work, "cache"),
        "Dir::Cache::archives": os.path.join(work, "archives"),
        "Dir::Etc::sourcelist": os.path.join(work, "sources.list"),
        "Dir::Etc::sourceparts": os.path.join(work, "empty"),
        "Dir::Etc::preferences": os.path.join(work, "empty", "preferences"),
        "Dir::Etc::preferencesparts": os.path.join(work, "empty"),
        "Dir::Cache::pkgcache": "",
        "Dir::Cache::srcpkgcache": "",
        "APT::Architecture": subprocess.run(["dpkg", "--print-architecture"], capture_output=True,
                                            text=True, check=True).stdout.strip(),
    }
    return [arg for name, value in options.items() for arg in ("-o", f"{name}={value}")]


def fetch_repo(status, key):
    """Download REPO_PACKAGES, LAB_TOOL_PACKAGES and ROUTER_PACKAGES, with what they need beyond the image, into a
    flat, indexed repository."""
    started = time.monotonic()
    work = os.path.join(CACHE_DIR, "lab-apt")
    for sub in ("state", "lists/partial", "cache", "empty"):
        os.makedirs(os.path.join(work, sub), exist_ok=True)
    archives = os.path.join(work, "archives")
    shutil.rmtree(archives, ignore_errors=True)
    os.makedirs(os.path.join(archives, "partial"))
    with open(os.path.join(work, "sources.list"), "w", encoding="ascii") as handle:
        handle.write(f"deb {DEBIAN_MIRROR} {SUITE} main\n")
    options = apt_options(work, status)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}
    packages = [*REPO_PACKAGES, *LAB_TOOL_PACKAGES, *ROUTER_PACKAGES]
    for args in (["update", "-qq"], ["install", "-qq", "-y", "--download-only", *packages]):
        if subprocess.run(["apt-get", *options, *args], check=False, env=env).returncode != 0:
            raise LabError(f"apt-get {args[0]} for the lab's package source failed (see above)")
    debs = sorted(glob.glob(os.path.join(archives, "*.deb")))
    if not debs:
        raise LabError("apt-get downloaded no packages for the lab's package source")
    target = repo_dir()
    staging = target + ".new"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    for deb in debs:
        shutil.move(deb, staging)
    index = subprocess.run(["dpkg-scanpackages", "--multiversion", "."], cwd=staging, capture_output=True,
                           text=True, check=False)
    if index.returncode != 0:
        raise LabError(f"dpkg-scanpackages failed: {index.stderr.strip()}")
    with open(os.path.join(staging, "Packages"), "w", encoding="utf-8") as handle:
        handle.write(index.stdout)
    with open(os.path.join(staging, KEY_FILE), "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    for path in [staging, *glob.glob(os.path.join(staging, "*"))]:
        os.chmod(path, 0o755 if os.path.isdir(path) else 0o644)
    shutil.rmtree(target, ignore_errors=True)
    os.rename(staging, target)
    size = sum(os.path.getsize(deb) for deb in glob.glob(os.path.join(target, "*.deb")))
    print(f"{target}: {len(debs)} packages, {size / 1e6:.1f} MB, fetched in {time.monotonic() - started:.0f}s")


def image_status(image=IMAGE):
    """Copy the image's dpkg status out, to refetch the package source without rebuilding the image."""
    handle, path = tempfile.mkstemp(prefix="podnet-lab-status-", dir="/var/tmp")
    os.close(handle)
    container = podman("create", image, "/bin/true").stdout.strip()
    try:
        podman("cp", f"{container}:/var/lib/dpkg/status", path)
    finally:
        podman("rm", "--force", container, check=False)
    return path


def fill_package_lists(root):
    """Leave the package lists as a freshly installed server has them: read from its package source.

    apt links the list of a file: source to the source's own index, so inside a host the list
    follows the read-only mount of the lab repository.
    """
    mount = os.path.join(root, REPO_MOUNT.lstrip("/"))
    os.makedirs(mount, exist_ok=True)
    shutil.copy(os.path.join(repo_dir(), "Packages"), mount)
    try:
        result = subprocess.run(["chroot", root, "apt-get", "update", "-qq"], capture_output=True, text=True,
                                check=False, env={**os.environ, "LC_ALL": "C"})
    finally:
        os.remove(os.path.join(mount, "Packages"))
    if result.returncode != 0:
        raise LabError(f"apt-get update inside the image failed: {result.stderr.strip()}")


def import_rootfs(root, key, image=IMAGE):
    tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
    podman("import", "--change", "CMD=/sbin/init", "--change", f"LABEL {KEY_LABEL}={key}", "-", image,
           stdin=tar.stdout)
    tar.stdout.close()
    if tar.wait() != 0:
        raise LabError("tar of the rootfs failed")


def cmd_image(rebuild=False):
    # Several helpers or CI jobs may ask for the image at once; build it only once.
    with open("/var/tmp/podnet-lab-image.lock", "w", encoding="ascii") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        key = lab_key()
        image_current = image_exists() and image_key() == key
        if image_current and repo_ready(key) and not rebuild:
            print(f"{IMAGE}: present, package source {repo_dir()} ready")
            return
        if image_current and not rebuild:
            status = image_status()
            try:
                fetch_repo(status, key)
            finally:
                os.remove(status)
            return
        started = time.monotonic()
        root = tempfile.mkdtemp(prefix="podnet-lab-rootfs-", dir="/var/tmp")
        try:
            debootstrap(root)
            print(f"{IMAGE}: debootstrap done in {time.monotonic() - started:.0f}s")
            if rebuild or not repo_ready(key):
                fetch_repo(os.path.join(root, "var/lib/dpkg/status"), key)
            prepare_rootfs(root)
            fill_package_lists(root)
            import_rootfs(root, key)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        print(f"{IMAGE}: built in {time.monotonic() - started:.0f}s")


def build_parser():
    parser = argparse.ArgumentParser(description="Podman lab: containers as hosts, networks as racks.")
    sub = parser.add_subparsers(dest="command", required=True)
    image = sub.add_parser("image", help=f"build {IMAGE} and its package source if absent or stale")
    image.add_argument("--rebuild", action="store_true", help="build and fetch even if both are current")
    image.add_argument("--vm", action="store_true", help="build the VM lab's base image instead (lab/vmlab.py)")
    for name, text in (("up", "(re)create the lab"), ("down", "remove the lab"),
                       ("status", "show the lab's containers"),
                       ("restart", "reboot hosts: fresh network stack and systemd boot (containers only)")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("-i", "--inventory", required=True,
                         help="lab inventory (YAML); podnet_lab.backend picks containers (default) or VMs")
        if name == "restart":
            cmd.add_argument("hosts", nargs="+", metavar="HOST", help="inventory name of a host or ToR to restart")
    frr_cmd = sub.add_parser("frr", help="(re)write the ToRs' frr.conf from the inventory and restart FRR")
    frr_cmd.add_argument("-i", "--inventory", required=True, help="lab inventory (YAML) with racks.RACK.tors")
    frr_cmd.add_argument("--vars", metavar="FILE",
                         help="YAML mapping that overrides all.vars first (a variant: e.g. podnet_racks with no 'as')")
    frr_cmd.add_argument("--print", dest="show", action="store_true", help="print the configs, change nothing")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        if args.command == "image":
            (vm_backend().cmd_image if args.vm else cmd_image)(args.rebuild)
            return 0
        inventory = read_inventory(args.inventory)
        if args.command == "frr" and args.vars:
            inventory = with_vars(inventory, read_inventory(args.vars))
        lab = parse_lab(inventory)
        if args.command == "frr":
            cmd_frr(lab, args.show, f" (with {os.path.basename(args.vars)})" if args.vars else None)
            return 0
        if args.command == "restart":
            if lab.backend == "vm":
                raise LabError("restart: only container labs can restart a host")
            cmd_restart(lab, args.hosts)
            return 0
        if lab.backend == "vm":
            backend = vm_backend()
            lab = backend.parse_vm_lab(inventory)
        else:
            backend = sys.modules[__name__]
        {"up": backend.cmd_up, "down": backend.cmd_down, "status": backend.cmd_status}[args.command](lab)
        return 0
    except LabError as exc:
        print(f"podnet_lab: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Interrupted) as exc:
        print(f"podnet_lab: interrupted ({exc or 'SIGINT'}); what the lab had started was stopped", file=sys.stderr)
        return 130


def vm_backend():
    """lab/vmlab.py, imported only for VM labs: it needs QEMU and builds on this module's topology parser."""
    import vmlab  # pylint: disable=import-outside-toplevel
    return vmlab


if __name__ == "__main__":
    # Run the importable module, not this __main__ copy: the VM backend imports podnet_lab, and both must
    # share one LabError and Interrupted class.
    import podnet_lab  # pylint: disable=import-self
    sys.exit(podnet_lab.main())
