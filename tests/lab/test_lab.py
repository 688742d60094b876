# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab harness: inventory parsing (pure) and a real two-rack lab in podman (marker `lab`)."""
import copy
import glob
import importlib.util
import ipaddress
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HARNESS = os.path.join(ROOT, "lab", "podnet_lab.py")
TEST_INVENTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "labtest.yml")


def load_harness():
    spec = importlib.util.spec_from_file_location("podnet_lab", HARNESS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lab_mod = load_harness()


def read_inventory(path=TEST_INVENTORY):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def with_lab_spec(**changes):
    inventory = read_inventory()
    inventory["all"]["vars"]["podnet_lab"].update(changes)
    return inventory


def with_host(name, **host_vars):
    inventory = read_inventory()
    inventory["all"]["children"]["podnet_nodes"]["hosts"][name] = host_vars
    return inventory


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize("name,lab_name,hosts,racks,router", [
    ("bridge.yml", "bridge", {"node1": "10.89.10.11", "node2": "10.89.10.12"}, {"r1": "10.89.10.0/24"}, []),
    ("hostgw.yml", "hostgw", {"node1": "10.89.20.11", "node2": "10.89.20.12", "node3": "10.89.20.13"},
     {"r1": "10.89.20.0/24"}, []),
    ("two-racks.yml", "tworacks", {"node1": "10.89.30.11", "node2": "10.89.31.11"},
     {"r1": "10.89.30.0/24", "r2": "10.89.31.0/24"}, ["r1", "r2"]),
])
def test_shipped_inventories_parse(name, lab_name, hosts, racks, router):
    lab = lab_mod.load_lab(os.path.join(ROOT, "inventories", "lab", name))
    assert lab.name == lab_name
    assert {h.name: str(h.ip) for h in lab.hosts} == hosts
    assert {r.name: str(r.subnet) for r in lab.racks.values()} == racks
    assert lab.router_racks == router
    assert all(h.uplink == "ens5" for h in lab.hosts)


def test_shipped_inventories_use_distinct_subnets():
    subnets = []
    for name in ("bridge.yml", "hostgw.yml", "two-racks.yml"):
        lab = lab_mod.load_lab(os.path.join(ROOT, "inventories", "lab", name))
        subnets += [r.subnet for r in lab.racks.values()]
    subnets.append(ipaddress.IPv4Network("10.89.250.0/24"))  # the private test lab
    for i, first in enumerate(subnets):
        assert not any(first.overlaps(second) for second in subnets[i + 1:]), first


def test_names_and_router_addresses():
    lab = lab_mod.parse_lab(read_inventory())
    assert lab.containers() == ["podnet-labtest-node1", "podnet-labtest-node2",
                                "podnet-labtest-node3", "podnet-labtest-router"]
    assert lab.networks() == ["podnet-labtest-r1", "podnet-labtest-r2"]
    assert lab_mod.router_interfaces(lab) == [
        ("r1", "ens5", ipaddress.IPv4Address("10.89.250.254")),
        ("r2", "ens6", ipaddress.IPv4Address("10.89.251.254")),
    ]
    assert lab.racks["r2"].mtu == 1400 and lab.racks["r1"].mtu is None


def test_group_vars_are_inherited_and_host_vars_win():
    hosts = {h.name: h for h in lab_mod.parse_lab(read_inventory()).hosts}
    assert hosts["node1"].uplink == "eth-up"
    assert hosts["node3"].uplink == "eth-up"
    assert hosts["node2"].uplink == "ens5"


def test_routes_point_at_own_racks_router():
    lab = lab_mod.parse_lab(read_inventory())
    hosts = {h.name: h for h in lab.hosts}
    net = ipaddress.IPv4Network
    addr = ipaddress.IPv4Address
    assert lab_mod.host_routes(lab, hosts["node1"]) == [(net("10.89.251.0/24"), addr("10.89.250.254"))]
    assert lab_mod.host_routes(lab, hosts["node2"]) == [(net("10.89.250.0/24"), addr("10.89.251.254"))]


def test_no_router_means_no_routes():
    lab = lab_mod.load_lab(os.path.join(ROOT, "inventories", "lab", "hostgw.yml"))
    assert lab.router_container is None
    assert all(lab_mod.host_routes(lab, h) == [] for h in lab.hosts)


def test_hosts_outside_the_lab_are_ignored():
    inventory = read_inventory()
    inventory["all"]["children"]["other"] = {"hosts": {"localhost": {"ansible_connection": "local"}}}
    assert "localhost" not in {h.name for h in lab_mod.parse_lab(inventory).hosts}


@pytest.mark.parametrize("inventory,message", [
    ({"all": {"vars": {}}}, "no all.vars.podnet_lab"),
    (None, "no all.vars.podnet_lab"),
    (with_lab_spec(name="Bad_Name"), "podnet_lab.name"),
    (with_lab_spec(racks={}), "racks is empty"),
    (with_lab_spec(racks={"r1": {"subnet": "10.89.250.0/33"}}), "bad subnet"),
    (with_lab_spec(racks={"r1": {"mtu": 1500}}), "needs a 'subnet'"),
    (with_lab_spec(racks={"r1": {"subnet": "10.89.250.0/24", "mtu": 100}}), "mtu"),
    (with_lab_spec(racks={"r1": {"subnet": "10.89.250.0/24"}, "r2": {"subnet": "10.89.250.128/25"}}),
     "overlap"),
    (with_lab_spec(router={"racks": ["r1"]}), "at least two racks"),
    (with_lab_spec(router={"racks": ["r1", "r9"]}), "unknown rack 'r9'"),
    (with_lab_spec(racks={"r1": {"subnet": "10.89.250.0/25"}, "r2": {"subnet": "10.89.251.0/24"}}),
     "no .254 address"),
    (with_host("node4", podnet_node_ip="10.89.250.13", podnet_rack="r7"), "podnet_rack 'r7'"),
    (with_host("node4", podnet_node_ip="10.89.251.13", podnet_rack="r1"), "not a usable address"),
    (with_host("node4", podnet_node_ip="10.89.250.255", podnet_rack="r1"), "not a usable address"),
    (with_host("node4", podnet_node_ip="10.89.250.254", podnet_rack="r1"), "router's address"),
    (with_host("node4", podnet_node_ip="10.89.250.11", podnet_rack="r1"), "share 10.89.250.11"),
    (with_host("node4", podnet_node_ip="not-an-ip", podnet_rack="r1"), "bad podnet_node_ip"),
    (with_host("node4", podnet_node_ip="10.89.250.13", podnet_rack="r1", podnet_uplink="a-very-long-ifname"),
     "bad interface name"),
    (with_host("router", podnet_node_ip="10.89.250.13", podnet_rack="r1"), "reserved"),
    (with_host("Node_4", podnet_node_ip="10.89.250.13", podnet_rack="r1"), "host name"),
    (with_lab_spec(backend="kvm"), "podnet_lab.backend 'kvm'"),
])
def test_bad_inventories_are_refused(inventory, message):
    with pytest.raises(lab_mod.LabError, match=message):
        lab_mod.parse_lab(copy.deepcopy(inventory))


def test_router_address_is_free_on_racks_without_router():
    inventory = with_host("node4", podnet_node_ip="10.89.250.254", podnet_rack="r1")
    del inventory["all"]["vars"]["podnet_lab"]["router"]
    lab = lab_mod.parse_lab(inventory)
    assert "10.89.250.254" in {str(h.ip) for h in lab.hosts}


def test_foreign_networks_that_overlap_are_reported():
    lab = lab_mod.parse_lab(read_inventory())
    networks = [
        {"name": "podnet-labtest-r1", "subnets": [{"subnet": "10.89.250.0/24"}]},  # own: ignored
        {"name": "podman", "subnets": [{"subnet": "10.88.0.0/16"}]},
        {"name": "other", "subnets": [{"subnet": "10.89.251.128/25"}, {"subnet": "fd00::/64"}]},
        {"name": "wide", "subnets": [{"subnet": "10.0.0.0/8"}]},
    ]
    clashes = lab_mod.foreign_collisions(lab, networks)
    assert sorted((rack, net) for rack, _, net, _ in clashes) == [("r1", "wide"), ("r2", "other"),
                                                                ("r2", "wide")]


def test_cli_reports_a_bad_inventory_without_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump(with_host("node4", podnet_node_ip="10.89.250.11", podnet_rack="r1")))
    assert lab_mod.main(["up", "-i", str(bad)]) == 1
    assert "share 10.89.250.11" in capsys.readouterr().err
    assert lab_mod.main(["down", "-i", str(tmp_path / "missing.yml")]) == 1
    assert "cannot read inventory" in capsys.readouterr().err


def test_restart_refuses_a_host_the_lab_does_not_have_before_touching_podman(monkeypatch, capsys):
    monkeypatch.setattr(lab_mod, "podman", lambda *args, **kwargs: pytest.fail(f"podman {args} was called"))
    assert lab_mod.main(["restart", "-i", TEST_INVENTORY, "node1", "node9"]) == 1
    assert "lab labtest has no host node9" in capsys.readouterr().err


def test_restart_restarts_then_adds_the_routes_up_adds_and_waits_for_the_boot(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(lab_mod, "podman", lambda *args, **kwargs: calls.append(args))
    monkeypatch.setattr(lab_mod, "wait_booted", lambda container: calls.append(("booted", container)) or "running")
    monkeypatch.setattr(lab_mod, "uplink_addresses", lambda container: {"ens5": ["10.89.251.11/24"]})
    assert lab_mod.main(["restart", "-i", TEST_INVENTORY, "node2"]) == 0
    assert calls == [("restart", "podnet-labtest-node2"),
                     ("exec", "podnet-labtest-node2", "ip", "route", "replace", "10.89.250.0/24", "via", "10.89.251.254"),
                     ("booted", "podnet-labtest-node2")]
    assert capsys.readouterr().out == "podnet-labtest-node2: running ens5=10.89.251.11/24\n"


# ---------------------------------------------------------------- bare hosts and their package source

def role_apt_packages():
    """Every package an ansible.builtin.apt task of a role installs: {{ podnet_packages }} resolved, plus each
    mode's __podnet_mode_packages, given to common's apt run where the mode imports common."""
    with open(os.path.join(ROOT, "roles", "common", "defaults", "main.yml"), encoding="utf-8") as handle:
        defaults = yaml.safe_load(handle)
    packages = set()
    for path in glob.glob(os.path.join(ROOT, "roles", "*", "tasks", "*.yml")):
        with open(path, encoding="utf-8") as handle:
            tasks = yaml.safe_load(handle) or []
        stack = list(tasks)
        while stack:
            task = stack.pop()
            stack += task.get("block", []) + task.get("rescue", []) + task.get("always", [])
            packages.update((task.get("vars") or {}).get("__podnet_mode_packages", []))
            apt = task.get("ansible.builtin.apt") or task.get("apt")
            if not apt:
                continue
            names = apt["name"] if isinstance(apt, dict) else apt
            if names == "{{ __podnet_wanted_packages }}":
                names = defaults["podnet_packages"]
            packages.update([names] if isinstance(names, str) else names)
    return packages


def test_every_package_a_role_installs_is_served_by_the_lab():
    packages = role_apt_packages()
    assert {"bird2", "nftables", "containernetworking-plugins"} <= packages
    assert packages <= set(lab_mod.REPO_PACKAGES) | set(lab_mod.IMAGE_PACKAGES), packages


def test_the_image_holds_nothing_a_role_installs_beyond_a_fresh_server():
    # iproute2 is priority "important": every fresh Debian server has it, the roles only make sure.
    assert role_apt_packages() & set(lab_mod.IMAGE_PACKAGES) == {"iproute2"}


def test_the_lab_key_follows_the_package_lists(monkeypatch):
    key = lab_mod.lab_key()
    assert key == lab_mod.lab_key()
    monkeypatch.setattr(lab_mod, "REPO_PACKAGES", [*lab_mod.REPO_PACKAGES, "frr"])
    assert lab_mod.lab_key() != key
    monkeypatch.undo()
    monkeypatch.setattr(lab_mod, "IMAGE_PACKAGES", [*lab_mod.IMAGE_PACKAGES, "nftables"])
    assert lab_mod.lab_key() != key


def test_prepared_rootfs_has_the_lab_repository_as_only_package_source(tmp_path):
    root = tmp_path
    for directory in ("etc/apt/sources.list.d", "etc/systemd/system", "var/lib/apt/lists/partial",
                      "var/cache/apt/archives"):
        (root / directory).mkdir(parents=True)
    (root / "etc/apt/sources.list").write_text("deb http://deb.debian.org/debian bookworm main\n")
    (root / "etc/apt/sources.list.d/extra.list").write_text("deb http://example.invalid/ x main\n")
    (root / "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease").write_text("x")
    (root / "var/cache/apt/archives/bird2_2.0.12-7_amd64.deb").write_text("x")
    (root / "etc/hostname").write_text("builder\n")
    lab_mod.prepare_rootfs(str(root))
    assert (root / "etc/apt/sources.list").read_text() == f"deb [trusted=yes] file:{lab_mod.REPO_MOUNT} ./\n"
    assert list((root / "etc/apt/sources.list.d").iterdir()) == []
    assert [p.name for p in (root / "var/lib/apt/lists").iterdir()] == ["partial"]
    assert list((root / "var/cache/apt/archives").iterdir()) == []
    assert not (root / "etc/hostname").exists()
    assert (root / "etc/machine-id").read_text() == ""
    for unit in lab_mod.MASKED_UNITS:
        assert os.readlink(root / "etc/systemd/system" / unit) == "/dev/null"


# ---------------------------------------------------------------- a real lab in podman

needs_podman = pytest.mark.skipif(shutil.which("podman") is None or os.geteuid() != 0,
                                  reason="needs root and podman")


def harness(*args, check=True):
    result = subprocess.run([sys.executable, HARNESS, *args], capture_output=True, text=True, check=False)
    if check:
        assert result.returncode == 0, result.stderr + result.stdout
    return result


def podman_exec(container, *cmd, check=True):
    result = subprocess.run(["podman", "exec", container, *cmd], capture_output=True, text=True, check=False)
    if check:
        assert result.returncode == 0, f"{cmd}: {result.stderr}{result.stdout}"
    return result


def podman_names(*listing, field):
    out = subprocess.run(["podman", *listing, "--format", "{{." + field + "}}"], capture_output=True,
                         text=True, check=True).stdout
    return set(out.split())


def lab_leftovers(lab):
    containers = podman_names("ps", "-a", field="Names") & set(lab.containers())
    networks = podman_names("network", "ls", field="Name") & set(lab.networks())
    return containers | networks


def ping_ttl(container, target):
    out = podman_exec(container, "ping", "-c", "1", "-W", "2", target).stdout
    ttl = [word for word in out.split() if word.startswith("ttl=")]
    assert ttl, out
    return int(ttl[0].split("=")[1])


def interface(container, ifname):
    links = json.loads(podman_exec(container, "ip", "-json", "addr", "show", "dev", ifname).stdout)
    assert len(links) == 1
    return links[0]


@pytest.fixture(scope="module")
def lab():
    parsed = lab_mod.load_lab(TEST_INVENTORY)
    harness("image")
    try:
        up = harness("up", "-i", TEST_INVENTORY)
        yield parsed, up.stdout
    finally:
        harness("down", "-i", TEST_INVENTORY, check=False)


@needs_podman
@pytest.mark.lab
class TestLiveLab:
    def test_up_prints_one_line_per_container(self, lab):
        parsed, stdout = lab
        lines = stdout.strip().splitlines()
        assert [line.split(":")[0] for line in lines] == parsed.containers()

    def test_uplinks_carry_the_inventory_addresses(self, lab):
        parsed, _ = lab
        for host in parsed.hosts:
            link = interface(parsed.container(host.name), host.uplink)
            inet = [(a["local"], a["prefixlen"]) for a in link["addr_info"] if a["family"] == "inet"]
            assert inet == [(str(host.ip), parsed.racks[host.rack].subnet.prefixlen)]

    def test_rack_mtu_reaches_the_uplink(self, lab):
        parsed, _ = lab
        assert interface("podnet-labtest-node2", "ens5")["mtu"] == 1400
        assert interface("podnet-labtest-node1", "eth-up")["mtu"] == 1500

    def test_router_has_one_leg_per_rack_and_forwards(self, lab):
        parsed, _ = lab
        for rack, ifname, ip in lab_mod.router_interfaces(parsed):
            link = interface(parsed.router_container, ifname)
            assert [a["local"] for a in link["addr_info"] if a["family"] == "inet"] == [str(ip)]
        forwarding = podman_exec(parsed.router_container, "sysctl", "-n", "net.ipv4.ip_forward").stdout
        assert forwarding.strip() == "1"

    def test_systemd_runs(self, lab):
        parsed, _ = lab
        for name in parsed.containers():
            state = podman_exec(name, "systemctl", "is-system-running", check=False).stdout.strip()
            assert state in ("running", "degraded"), (name, state)
            pid1 = podman_exec(name, "cat", "/proc/1/comm").stdout.strip()
            assert pid1 == "systemd"

    def test_hosts_come_without_what_the_roles_install(self, lab):
        parsed, _ = lab
        for name in parsed.containers():
            for package in ("bird2", "nftables", "containernetworking-plugins"):
                status = podman_exec(name, "dpkg-query", "-W", "-f", "${db:Status-Status}", package,
                                     check=False).stdout.strip()
                assert status in ("", "not-installed"), (name, package, status)
            assert podman_exec(name, "sh", "-c", "command -v nft birdc", check=False).returncode != 0

    def test_the_lab_repository_is_the_only_package_source_and_read_only(self, lab):
        parsed, _ = lab
        for name in parsed.containers():
            sources = podman_exec(name, "sh", "-c", "cat /etc/apt/sources.list /etc/apt/sources.list.d/* "
                                  "2>/dev/null", check=False).stdout
            assert sources == lab_mod.REPO_SOURCE, (name, sources)
            touch = podman_exec(name, "touch", f"{lab_mod.REPO_MOUNT}/written-by-a-host", check=False)
            assert touch.returncode != 0 and "Read-only file system" in touch.stderr, (name, touch.stderr)

    def test_package_lists_are_filled_as_on_a_freshly_installed_server(self, lab):
        # ansible.builtin.apt (with python3-apt present) installs from the lists it finds, without
        # an update: the lists must know the roles' packages from the start.
        policy = podman_exec("podnet-labtest-node1", "apt-cache", "policy", *sorted(lab_mod.REPO_PACKAGES)).stdout
        assert "Candidate: (none)" not in policy and policy.count("Candidate: ") == len(lab_mod.REPO_PACKAGES)

    def test_no_default_route_anywhere(self, lab):
        parsed, _ = lab
        for name in parsed.containers():
            routes = json.loads(podman_exec(name, "ip", "-json", "route", "show").stdout)
            assert [r for r in routes if r["dst"] == "default"] == [], name

    def test_same_rack_is_one_hop_other_rack_is_routed(self, lab):
        assert ping_ttl("podnet-labtest-node1", "10.89.250.12") == 64
        assert ping_ttl("podnet-labtest-node1", "10.89.251.11") == 63
        assert ping_ttl("podnet-labtest-node2", "10.89.250.11") == 63

    def test_route_to_other_rack_uses_the_router(self, lab):
        route = json.loads(podman_exec("podnet-labtest-node1", "ip", "-json", "route", "get",
                                       "10.89.251.11").stdout)[0]
        assert route["gateway"] == "10.89.250.254"
        assert route["dev"] == "eth-up"

    def test_other_rack_is_not_on_the_same_l2(self, lab):
        # Forcing node2's address on-link makes node1 ARP for it on rack r1: nobody must answer.
        node1 = "podnet-labtest-node1"
        podman_exec(node1, "ip", "route", "add", "10.89.251.11/32", "dev", "eth-up")
        podman_exec(node1, "ip", "route", "add", "10.89.250.12/32", "dev", "eth-up")
        try:
            assert podman_exec(node1, "ping", "-c", "1", "-W", "2", "10.89.251.11", check=False).returncode != 0
            neigh = json.loads(podman_exec(node1, "ip", "-json", "neigh", "show", "10.89.251.11").stdout)
            assert all("lladdr" not in n for n in neigh), neigh
            # The control: the same forced on-link path works for a host that is on the rack.
            assert ping_ttl(node1, "10.89.250.12") == 64
        finally:
            podman_exec(node1, "ip", "route", "del", "10.89.251.11/32", check=False)
            podman_exec(node1, "ip", "route", "del", "10.89.250.12/32", check=False)

    def test_status_lists_every_container(self, lab):
        parsed, _ = lab
        out = harness("status", "-i", TEST_INVENTORY).stdout
        for host in parsed.hosts:
            assert f"{parsed.container(host.name)}: " in out
            assert f"{host.uplink}={host.ip}/" in out

    def test_overlapping_lab_is_refused(self, lab, tmp_path):
        clash = read_inventory()
        clash["all"]["vars"]["podnet_lab"] = {"name": "labclash",
                                              "racks": {"r1": {"subnet": "10.89.250.128/25"}}}
        clash["all"]["children"]["podnet_nodes"]["hosts"] = {
            "node1": {"podnet_node_ip": "10.89.250.130", "podnet_rack": "r1"}}
        path = tmp_path / "clash.yml"
        path.write_text(yaml.safe_dump(clash))
        result = harness("up", "-i", str(path), check=False)
        assert result.returncode == 1
        assert "overlaps podman network podnet-labtest-r1" in result.stderr
        assert lab_leftovers(lab_mod.load_lab(str(path))) == set()


    def test_the_roles_packages_install_from_the_lab_repository(self, lab):
        # What the first converge does on a fresh Debian host: apt installs from the lists it has;
        # Debian's bird2 postinst then starts BIRD with its default config.
        node = "podnet-labtest-node3"
        install = podman_exec(node, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq",
                              *sorted(lab_mod.REPO_PACKAGES))
        assert "Err:" not in install.stdout, install.stdout
        assert podman_exec(node, "systemctl", "is-active", "bird").stdout.strip() == "active"
        assert "protocol kernel" in podman_exec(node, "cat", "/etc/bird/bird.conf").stdout
        for tool in ("nft", "birdc", "/usr/lib/cni/bridge", "/usr/lib/cni/ptp", "/usr/lib/cni/host-local"):
            podman_exec(node, "sh", "-c", f"command -v {tool}")

    def test_birdc_accepts_a_config_that_drops_debians_default_protocols(self, lab):
        # What the bgp role's "Reconfigure BIRD" task meets after apt started BIRD: either answer
        # below means BIRD accepted the new config (roles/bgp/tasks/reconfigure.yml).
        node = "podnet-labtest-node3"
        if podman_exec(node, "systemctl", "is-active", "bird", check=False).stdout.strip() != "active":
            pytest.skip("BIRD was not installed by the previous test")
        podman_exec(node, "sh", "-c", "printf 'router id 10.89.250.12;\\nprotocol device {}\\n' "
                    "> /etc/bird/bird.conf")
        answer = podman_exec(node, "birdc", "configure").stdout.splitlines()
        assert answer[-1] in ("Reconfigured", "Reconfiguration in progress"), answer


@needs_podman
@pytest.mark.lab
def test_down_removes_everything_and_is_idempotent(lab):
    parsed, _ = lab
    assert lab_leftovers(parsed) == set(parsed.containers()) | set(parsed.networks())
    harness("down", "-i", TEST_INVENTORY)
    assert lab_leftovers(parsed) == set()
    harness("down", "-i", TEST_INVENTORY)
    assert lab_leftovers(parsed) == set()
