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
class Lab:
    name: str
    racks: dict
    hosts: list
    router_racks: list = dataclasses.field(default_factory=list)
    backend: str = "container"

    def container(self, host_name):
        return f"podnet-{self.name}-{host_name}"

    def network(self, rack_name):
        return f"podnet-{self.name}-{rack_name}"

    @property
    def router_container(self):
        return self.container(ROUTER_HOST) if self.router_racks else None

    def containers(self):
        names = [self.container(h.name) for h in self.hosts]
        return names + ([self.router_container] if self.router_racks else [])

    def networks(self):
        return [self.network(r) for r in self.racks]


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
    return Lab(name, racks, hosts, router_racks, backend)


def read_inventory(path):
    """The inventory file as a dict, for either backend's parser."""
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except OSError as exc:
        raise LabError(f"cannot read inventory {path}: {exc}") from exc


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
            for rack in lab.racks.values():
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
    for subnet, via in host_routes(lab, host):
        podman("exec", lab.container(host.name), "ip", "route", "replace", str(subnet), "via", str(via))


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
    for rack in lab.racks.values():
        create_network(lab, rack)
    if lab.router_racks:
        start_router(lab)
    for host in lab.hosts:
        start_host(lab, host)
    for host in lab.hosts:
        add_routes(lab, host)
    for name in lab.containers():
        print_booted(name)


def print_booted(container):
    state = wait_booted(container)
    print(f"{container}: {state} {format_addresses(uplink_addresses(container))}")


def cmd_restart(lab, host_names):
    """Reboot hosts as far as a container can: a fresh network namespace and a fresh boot of systemd.

    podman gives the uplink its address again; what a real host's own network configuration would add besides
    (the routes to the other racks) is added the way `up` adds it.
    """
    hosts = {h.name: h for h in lab.hosts}
    unknown = [name for name in host_names if name not in hosts]
    if unknown:
        raise LabError(f"lab {lab.name} has no host {', '.join(unknown)} (hosts: {', '.join(sorted(hosts))})")
    for name in host_names:
        podman("restart", lab.container(name))
    for name in host_names:
        add_routes(lab, hosts[name])
    for name in host_names:
        print_booted(lab.container(name))


def format_addresses(addresses):
    return " ".join(f"{ifname}={','.join(cidrs)}" for ifname, cidrs in sorted(addresses.items()))


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
            "repo": sorted(REPO_PACKAGES), "tools": sorted(LAB_TOOL_PACKAGES), "masked": sorted(MASKED_UNITS),
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
    """Download REPO_PACKAGES and LAB_TOOL_PACKAGES, with what they need beyond the image, into a flat, indexed
    repository."""
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
    packages = [*REPO_PACKAGES, *LAB_TOOL_PACKAGES]
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
            cmd.add_argument("hosts", nargs="+", metavar="HOST", help="inventory name of a host to restart")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        if args.command == "image":
            (vm_backend().cmd_image if args.vm else cmd_image)(args.rebuild)
            return 0
        inventory = read_inventory(args.inventory)
        lab = parse_lab(inventory)
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
