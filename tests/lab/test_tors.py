# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's top-of-rack routers (pure: no podman): parsing, frr.conf, routes, and what `up` would run."""
import copy
import dataclasses
import glob
import ipaddress
import os
import re
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "lab"))

import frr  # noqa: E402
import podnet_lab as lab_mod  # noqa: E402

UNDERLAY = os.path.join(ROOT, "inventories", "lab", "underlay.yml")
EXAMPLE = os.path.join(ROOT, "docs", "examples", "frr-tor.conf")
net = ipaddress.IPv4Network
addr = ipaddress.IPv4Address


def inventory():
    with open(UNDERLAY, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def changed(change):
    """The underlay inventory with change(all_vars) applied."""
    result = inventory()
    change(result["all"]["vars"])
    return result


def lab():
    return lab_mod.parse_lab(inventory())


def configs(parsed=None):
    parsed = parsed or lab()
    return {tor.name: frr.render(lab_mod.tor_config(parsed, tor)) for tor in parsed.tors}


# ---------------------------------------------------------------- the example and the lab share one renderer

def test_the_example_in_the_docs_is_what_the_renderer_writes():
    with open(EXAMPLE, encoding="utf-8") as handle:
        assert handle.read() == frr.render(frr.EXAMPLE), "run: python3 lab/frr.py --example > " + EXAMPLE


def test_a_lab_config_is_the_example_with_the_labs_values_and_its_fabric_networks():
    """Everything but values and the lab's extra fabric networks is the example's, line for line."""
    parsed = lab()
    config = lab_mod.tor_config(parsed, parsed.tors[0])
    lab_text = frr.render(config).splitlines()
    # The example with r1-tor1's lab values, no header and no password.
    example_shape = frr.render(dataclasses.replace(frr.EXAMPLE, header=())).replace(
        "10.89.70.1\n", "10.89.70.251\n").replace(
        "10.89.90.2 ", "10.89.79.13 ").splitlines()
    bare = frr.render(dataclasses.replace(config, header=(), password=None, fabric_networks=())).splitlines()
    assert bare == example_shape
    assert [line for line in lab_text if line not in example_shape and not line.startswith("! ")] == [
        "ip prefix-list FABRIC-NETS seq 10 permit 10.89.70.0/24",
        "ip prefix-list FABRIC-NETS seq 20 permit 10.89.71.0/24",
        "route-map FABRIC-OUT permit 20", " match ip address prefix-list FABRIC-NETS",
        "route-map FABRIC-IN permit 20", " match ip address prefix-list FABRIC-NETS",
        " neighbor PODNET password lab-only-tor-md5",
        "  network 10.89.70.0/24",
    ]


# FRR's own parser: the example and every config of the underlay lab must pass `vtysh --dryrun`. The vtysh is
# PODNET_VTYSH, the host's, or else the one in the frr package the lab serves its routers (unpacked, not installed:
# an installed frr would start routing daemons on this machine). `make labtest` builds that package source first,
# so under CI a missing vtysh is a failure, not a skip.
FRR_DEBS = ("frr", "libyang2", "libc-ares2")


@pytest.fixture(scope="module")
def vtysh(tmp_path_factory):
    """(argv, env) that run FRR's vtysh."""
    for candidate in (os.environ.get("PODNET_VTYSH"), "/usr/bin/vtysh"):
        if candidate and os.access(candidate, os.X_OK):
            return [candidate], None
    debs = [path for name in FRR_DEBS for path in glob.glob(os.path.join(lab_mod.repo_dir(), name + "_*.deb"))]
    if len(debs) != len(FRR_DEBS):
        if os.environ.get("CI"):
            pytest.fail(f"no vtysh and no {', '.join(FRR_DEBS)} packages in {lab_mod.repo_dir()}: run make image")
        pytest.skip("no vtysh (make image serves frr in the lab's package source, or set PODNET_VTYSH)")
    root = tmp_path_factory.mktemp("frr")
    for deb in debs:
        subprocess.run(["dpkg-deb", "-x", deb, str(root)], check=True)
    libs = root / "usr" / "lib" / "x86_64-linux-gnu"
    env = dict(os.environ, LD_LIBRARY_PATH=f"{libs / 'frr'}:{libs}")
    return [str(root / "usr" / "bin" / "vtysh")], env


def dryrun(vtysh, tmp_path, text):
    argv, env = vtysh
    path = tmp_path / "frr.conf"
    path.write_text(text)
    return subprocess.run([*argv, "--dryrun", "--inputfile", str(path)], capture_output=True, text=True, check=False,
                          env=env)


def test_frr_accepts_the_example_and_every_lab_config(vtysh, tmp_path):
    for name, text in [("example", frr.render(frr.EXAMPLE)), *configs().items()]:
        result = dryrun(vtysh, tmp_path, text)
        assert result.returncode == 0 and "Unknown command" not in result.stdout + result.stderr, (name, result)


def test_frr_dryrun_can_fail(vtysh, tmp_path):
    result = dryrun(vtysh, tmp_path, configs()["r1-tor1"].replace("listen range 10.89.70.0/24",
                                                                   "listen range 10.89.70.0/33"))
    assert result.returncode != 0


# ---------------------------------------------------------------- the underlay lab

def test_underlay_lab_has_three_tors_on_their_racks_and_the_fabric():
    parsed = lab()
    assert [(t.name, t.rack, t.index, str(t.address), t.asn, str(t.fabric_ip)) for t in parsed.tors] == [
        ("r1-tor1", "r1", 0, "10.89.70.251", 65001, "10.89.79.11"),
        ("r1-tor2", "r1", 1, "10.89.70.252", 65001, "10.89.79.12"),
        ("r2-tor1", "r2", 0, "10.89.71.251", 65002, "10.89.79.13"),
    ]
    assert parsed.router_racks == []
    assert parsed.underlay == lab_mod.Underlay(net("10.89.79.0/24"), net("10.244.0.0/16"), 26,
                                               {"r1": 65101, "r2": 65102})
    assert parsed.networks() == ["podnet-underlay-r1", "podnet-underlay-r2", "podnet-underlay-fabric"]
    assert parsed.containers() == ["podnet-underlay-node1", "podnet-underlay-node2", "podnet-underlay-node3",
                                   "podnet-underlay-r1-tor1", "podnet-underlay-r1-tor2", "podnet-underlay-r2-tor1"]


def test_passwords_come_from_the_tor_entry_or_podnet_tor_password():
    assert [t.password for t in lab().tors] == ["lab-only-tor-md5", "lab-only-r1-tor2-md5", "lab-only-tor-md5"]
    assert "lab-only" not in repr(lab().tors[0])


def test_each_tor_peers_with_its_racks_nodes_and_the_other_racks_tors():
    text = configs()
    assert "router bgp 65001\n bgp router-id 10.89.70.251\n" in text["r1-tor1"]
    assert " neighbor PODNET remote-as 65101\n" in text["r1-tor1"]
    assert " bgp listen range 10.89.70.0/24 peer-group PODNET\n" in text["r1-tor1"]
    assert " neighbor PODNET password lab-only-r1-tor2-md5\n" in text["r1-tor2"]
    assert " podnet_racks.r1.tors[1].password " in text["r1-tor2"]
    # ToRs of one rack share an AS: they peer only with the other rack's.
    assert [line for line in text["r1-tor1"].splitlines() if line.endswith("peer-group FABRIC")] == [
        " neighbor 10.89.79.13 peer-group FABRIC"]
    assert [line for line in text["r2-tor1"].splitlines() if line.endswith("peer-group FABRIC")] == [
        " neighbor 10.89.79.11 peer-group FABRIC", " neighbor 10.89.79.12 peer-group FABRIC"]
    assert " neighbor PODNET remote-as 65102\n" in text["r2-tor1"]
    assert "  network 10.89.71.0/24\n" in text["r2-tor1"]
    for config in text.values():
        assert "ip prefix-list PODNET-BLOCKS seq 10 permit 10.244.0.0/16 ge 26 le 26\n" in config
        assert "  maximum-paths 16\n" in config


def test_nodes_reach_other_racks_through_their_tors_two_paths_where_the_rack_has_two():
    parsed = lab()
    hosts = {h.name: h for h in parsed.hosts}
    assert lab_mod.rack_routes(parsed, hosts["node1"]) == [
        (net("10.89.71.0/24"), (addr("10.89.70.251"), addr("10.89.70.252")))]
    assert lab_mod.rack_routes(parsed, hosts["node3"]) == [(net("10.89.70.0/24"), (addr("10.89.71.251"),))]
    assert lab_mod.route_argv(net("10.89.71.0/24"), (addr("10.89.70.251"), addr("10.89.70.252"))) == [
        "ip", "route", "replace", "10.89.71.0/24", "nexthop", "via", "10.89.70.251", "nexthop", "via", "10.89.70.252"]


def test_single_as_variant_takes_podnet_bgp_as_for_every_rack():
    def single(all_vars):
        for entry in all_vars["podnet_racks"].values():
            del entry["as"]
        all_vars["podnet_bgp_as"] = 64600
    parsed = lab_mod.parse_lab(changed(single))
    assert parsed.underlay.node_as == {"r1": 64600, "r2": 64600}
    assert " neighbor PODNET remote-as 64600\n" in configs(parsed)["r2-tor1"]
    without = changed(lambda v: [entry.pop("as") for entry in v["podnet_racks"].values()])
    assert lab_mod.parse_lab(without).underlay.node_as == {"r1": 64512, "r2": 64512}


def test_frr_print_with_a_vars_file_renders_the_variant_without_podman(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(lab_mod, "podman", lambda *args, **kwargs: pytest.fail(f"podman {args} was called"))
    racks = copy.deepcopy(inventory()["all"]["vars"]["podnet_racks"])
    for entry in racks.values():
        del entry["as"]
    variant = tmp_path / "single-as.yml"
    variant.write_text(yaml.safe_dump({"podnet_racks": racks, "podnet_bgp_as": 64512}))
    assert lab_mod.main(["frr", "-i", UNDERLAY, "--vars", str(variant), "--print"]) == 0
    out = capsys.readouterr().out
    assert out.count("!!! podnet-underlay-") == 3
    assert out.count(" neighbor PODNET remote-as 64512\n") == 3
    assert "of lab underlay (with single-as.yml)" in out


def test_a_lab_without_tors_has_no_fabric_and_keeps_its_router_routes():
    parsed = lab_mod.load_lab(os.path.join(ROOT, "inventories", "lab", "two-racks.yml"))
    assert parsed.tors == [] and parsed.underlay is None
    assert "podnet-tworacks-fabric" not in parsed.networks()
    node1 = [h for h in parsed.hosts if h.name == "node1"][0]
    assert lab_mod.rack_routes(parsed, node1) == [(net("10.89.31.0/24"), (addr("10.89.30.254"),))]


def test_every_lab_inventory_uses_its_own_subnets():
    seen = []
    for name in sorted(os.listdir(os.path.join(ROOT, "inventories", "lab"))):
        parsed = lab_mod.load_lab(os.path.join(ROOT, "inventories", "lab", name))
        own = [rack.subnet for rack in parsed.racks.values()]
        own += [parsed.underlay.fabric] if parsed.underlay else []
        for subnet in own:
            assert not any(subnet.overlaps(other) for other, _ in seen), (name, subnet, seen)
        seen += [(subnet, name) for subnet in own]


def set_in(path, value):
    def change(all_vars):
        target = all_vars
        for key in path[:-1]:
            target = target[key]
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return change


DELETE = object()
R1 = ["podnet_lab", "racks", "r1"]


@pytest.mark.parametrize("change,message", [
    (set_in(["podnet_lab", "router"], {"racks": ["r1", "r2"]}), "has no router"),
    (set_in(["podnet_lab", "fabric"], DELETE), "needs fabric"),
    (set_in(["podnet_lab", "fabric"], {"subnet": "10.89.70.0/25"}), "overlaps rack r1"),
    (set_in(["podnet_lab", "fabric"], {"subnet": "10.89.79.0/29"}), "too small"),
    (set_in(R1 + ["tors"], DELETE), "racks r1 have no tors"),
    (set_in(R1 + ["tors"], ["r1-tor1", "r1-tor2", "r1-tor3"]), "one or two router names"),
    (set_in(R1 + ["tors"], ["r1-tor1"]), "podnet_lab names 1 ToRs, podnet_racks.r1.tors lists 2"),
    (set_in(R1 + ["tors"], ["node1", "r1-tor2"]), "'node1' is already a host"),
    (set_in(R1 + ["tors"], ["r1-tor1", "r1-tor1"]), "'r1-tor1' is already"),
    (set_in(R1 + ["tors"], ["R1_tor", "r1-tor2"]), "ToR name 'R1_tor'"),
    (set_in(["podnet_racks"], DELETE), "all.vars.podnet_racks"),
    (set_in(["podnet_racks", "r3"], {"tors": []}), "must be the same"),
    (set_in(["podnet_racks", "r1", "tors", 0, "address"], "10.89.70.1"), "first address is podman's"),
    (set_in(["podnet_racks", "r1", "tors", 0, "address"], "10.89.71.251"), "not a free address of rack r1"),
    (set_in(["podnet_racks", "r1", "tors", 0, "address"], "10.89.70.11"), "podnet_node_ip of node1"),
    (set_in(["podnet_racks", "r1", "tors", 1, "address"], "10.89.70.251"), "listed twice"),
    (set_in(["podnet_racks", "r1", "tors", 0, "as"], 65101), "also the AS of rack r1's nodes"),
    (set_in(["podnet_racks", "r1", "tors", 0, "as"], "65001"), "needs an AS number"),
    (set_in(["podnet_racks", "r1", "as"], 0), "podnet_racks.r1.as 0"),
    (set_in(["podnet_racks", "r1", "tors", 1, "password"], "{{ vault_tor }}"), "is a template"),
    (set_in(["podnet_tor_password"], "{{ vault_tor }}"), "podnet_tor_password is a template"),
    (set_in(["podnet_node_prefix"], 8), "podnet_node_prefix 8"),
    (set_in(["podnet_lab", "backend"], "vm"), "container backend only"),
])
def test_bad_tor_labs_are_refused(change, message):
    with pytest.raises(lab_mod.LabError, match=message.replace("[", r"\[").replace("(", r"\(")):
        lab_mod.parse_lab(changed(change))


def test_a_password_frr_cannot_read_as_one_word_is_refused_without_echoing_it(capsys):
    parsed = lab_mod.parse_lab(changed(set_in(["podnet_tor_password"], "two words")))
    with pytest.raises(frr.FrrError, match="value hidden") as caught:
        frr.render(lab_mod.tor_config(parsed, parsed.tors[0]))
    assert "two words" not in str(caught.value)


# ---------------------------------------------------------------- FRR's daemons file

DEBIAN_DAEMONS = """# This file tells the frr package which daemons to start.
bgpd=no
ospfd=no
bfdd=no
fabricd=no
vtysh_enable=yes
zebra_options="  -A 127.0.0.1 -s 90000000"
"""


def test_daemons_file_gets_bgpd_and_bfdd_and_nothing_else_changes():
    assert frr.enable_daemons(DEBIAN_DAEMONS) == DEBIAN_DAEMONS.replace("bgpd=no", "bgpd=yes").replace(
        "bfdd=no", "bfdd=yes")
    assert frr.enable_daemons(frr.enable_daemons(DEBIAN_DAEMONS)) == frr.enable_daemons(DEBIAN_DAEMONS)
    with pytest.raises(frr.FrrError, match="no 'bfdd=no' line"):
        frr.enable_daemons("bgpd=no\n")


# ---------------------------------------------------------------- what up runs (podman replaced)

class FakePodman:
    def __init__(self):
        self.calls = []

    def __call__(self, *args, **kwargs):
        self.calls.append(args)
        stdout = DEBIAN_DAEMONS if args[-2:] == ("cat", "/etc/frr/daemons") else "[]"
        return type("Result", (), {"stdout": stdout, "returncode": 0, "stderr": ""})()


def test_up_builds_tors_on_rack_and_fabric_then_nodes_then_frr(monkeypatch, capsys):
    fake = FakePodman()
    monkeypatch.setattr(lab_mod, "podman", fake)
    for name, value in (("image_exists", True), ("repo_ready", True), ("image_key", "k")):
        monkeypatch.setattr(lab_mod, name, lambda *args, value=value: value)
    monkeypatch.setattr(lab_mod, "wait_booted", lambda container: "running")
    monkeypatch.setattr(lab_mod, "uplink_addresses", lambda container: {})
    lab_mod.cmd_up(lab())
    calls = fake.calls
    creates = [c[-1] for c in calls if c[:2] == ("network", "create")]
    assert creates == ["podnet-underlay-r1", "podnet-underlay-r2", "podnet-underlay-fabric"]
    assert ("network", "create", "--internal", "--disable-dns", "--subnet", "10.89.79.0/24",
            "podnet-underlay-fabric") in calls
    run = [c for c in calls if c[0] == "run" and "podnet-underlay-r1-tor2" in c][0]
    assert "podnet-underlay-r1:interface_name=ens5,ip=10.89.70.252" in run
    assert "podnet-underlay-fabric:interface_name=ens6,ip=10.89.79.12" in run
    assert "net.ipv4.ip_forward=1" in run
    assert ("exec", "podnet-underlay-node1", "ip", "route", "replace", "10.89.71.0/24",
            "nexthop", "via", "10.89.70.251", "nexthop", "via", "10.89.70.252") in calls
    assert ("exec", "podnet-underlay-node3", "ip", "route", "replace", "10.89.70.0/24",
            "via", "10.89.71.251") in calls
    tor = [c for c in calls if c[0] in ("exec", "cp") and any(str(a).startswith("podnet-underlay-r2-tor1") for a in c)]
    assert tor[0] == ("exec", "--env", "DEBIAN_FRONTEND=noninteractive", "podnet-underlay-r2-tor1",
                      "apt-get", "install", "-q", "-y", "frr")
    assert [c for c in tor if c[0] == "cp"][-1][-1] == "podnet-underlay-r2-tor1:/etc/frr/frr.conf"
    assert tor[-3:] == [
        ("exec", "podnet-underlay-r2-tor1", "vtysh", "--dryrun", "--inputfile", "/etc/frr/frr.conf"),
        ("exec", "podnet-underlay-r2-tor1", "systemctl", "reset-failed", "frr"),
        ("exec", "podnet-underlay-r2-tor1", "systemctl", "restart", "frr")]
    # Every ToR starts before the nodes; FRR is configured once every container has booted.
    order = [c[c.index("--name") + 1] for c in calls if c[0] == "run"]
    assert order == ["podnet-underlay-r1-tor1", "podnet-underlay-r1-tor2", "podnet-underlay-r2-tor1",
                     "podnet-underlay-node1", "podnet-underlay-node2", "podnet-underlay-node3"]


def test_restart_of_a_tor_adds_no_node_routes(monkeypatch, capsys):
    fake = FakePodman()
    monkeypatch.setattr(lab_mod, "podman", fake)
    monkeypatch.setattr(lab_mod, "wait_booted", lambda container: "running")
    monkeypatch.setattr(lab_mod, "uplink_addresses", lambda container: {})
    assert lab_mod.main(["restart", "-i", UNDERLAY, "r1-tor2"]) == 0
    assert fake.calls == [("restart", "podnet-underlay-r1-tor2")]


def test_the_routers_package_is_served_and_part_of_the_lab_key(monkeypatch):
    assert lab_mod.ROUTER_PACKAGES == ["frr"]
    key = lab_mod.lab_key()
    monkeypatch.setattr(lab_mod, "ROUTER_PACKAGES", [])
    assert lab_mod.lab_key() != key


# ---------------------------------------------------------------- the lab and the collection read one inventory

def defaults(role):
    with open(os.path.join(ROOT, "roles", role, "defaults", "main.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_the_labs_fallbacks_are_the_collections_defaults():
    from ansible_collections.podnet.netmodes.plugins.plugin_utils import _plan
    assert lab_mod.DEFAULT_BLOCK_PREFIX == _plan.DEFAULT_NODE_PREFIX["bgp"]
    assert lab_mod.DEFAULT_NODE_AS == defaults("bgp")["podnet_bgp_as"]
    assert lab_mod.DEFAULT_CLUSTER_CIDR == defaults("common")["podnet_cluster_cidr"]


def plan_hostvars(parsed):
    """Each node as cluster_plan sees it after fact gathering in the lab (uplink ens5 on its rack's /24)."""
    hosts = []
    for node in parsed.hosts:
        rack = parsed.racks[node.rack].subnet
        hosts.append({
            "inventory_hostname": node.name, "podnet_node_ip": str(node.ip), "podnet_uplink": node.uplink,
            "podnet_rack": node.rack,
            "ansible_facts": {"interfaces": ["lo", node.uplink], "all_ipv4_addresses": [str(node.ip)],
                              node.uplink: {"device": node.uplink, "mtu": 1500,
                                            "ipv4": {"address": str(node.ip), "network": str(rack.network_address),
                                                     "prefix": str(rack.prefixlen)}}}})
    return hosts


def test_the_collections_plan_accepts_the_underlay_lab_and_sees_the_same_routers():
    from ansible_collections.podnet.netmodes.plugins.filter.cluster_plan import FilterModule
    cluster_plan = FilterModule().filters()["cluster_plan"]
    settings = {**defaults("common"), **defaults("bgp"), **inventory()["all"]["vars"]}
    settings.pop("podnet_lab")
    parsed = lab()
    plan = cluster_plan(plan_hostvars(parsed), settings)
    assert plan["problems"] == []
    racks = plan["bgp"]["racks"]
    assert {rack: [(tor["address"], tor["as_number"]) for tor in entry["tors"]] for rack, entry in racks.items()} == {
        rack: [(str(t.address), t.asn) for t in parsed.tors if t.rack == rack] for rack in parsed.racks}
    assert {rack: entry["as_number"] for rack, entry in racks.items()} == parsed.underlay.node_as
    assert plan["node_prefix"] == parsed.underlay.block_prefix
    assert plan["cluster_cidr"] == str(parsed.underlay.cluster)
    # Every block the routers will carry passes their prefix list (cluster CIDR, block length).
    for entry in racks.values():
        for block in map(ipaddress.IPv4Network, entry["blocks"]):
            assert block.subnet_of(parsed.underlay.cluster) and block.prefixlen == parsed.underlay.block_prefix


def test_a_foreign_network_on_the_fabric_subnet_is_a_collision():
    clashes = lab_mod.foreign_collisions(lab(), [{"name": "someone-else", "subnets": [{"subnet": "10.89.79.0/25"}]}])
    assert clashes == [("fabric", "10.89.79.0/24", "someone-else", "10.89.79.0/25")]


def bird_sessions(text):
    """{router address: (its AS, the password, the node's local AS)} of a rendered bird.conf's ToR sessions."""
    local_as = int(re.search(r"template bgp podnet_tor \{\n  local \S+ as (\d+);", text).group(1))
    sessions = {}
    pattern = (r'protocol bgp tor_\S+ from podnet_tor \{\n  description [^\n]*\n'
               r'  neighbor (\S+) as (\d+);\n(?:  password "([^"]*)";\n)?')
    for match in re.finditer(pattern, text):
        sessions[match.group(1)] = (int(match.group(2)), match.group(3), local_as)
    return sessions


def test_each_nodes_bird_and_its_routers_frr_agree_on_address_as_and_password():
    """What the collection writes on a node and what the lab writes on its routers, from the one inventory."""
    from ansible_collections.podnet.netmodes.plugins.filter.cluster_plan import FilterModule
    from role_template import render_role_template
    settings = {**defaults("common"), **defaults("bgp"), **inventory()["all"]["vars"]}
    settings.pop("podnet_lab")
    parsed = lab()
    plan = FilterModule().filters()["cluster_plan"](plan_hostvars(parsed), settings)
    routers = {str(tor.address): frr.render(lab_mod.tor_config(parsed, tor)) for tor in parsed.tors}
    for node in parsed.hosts:
        variables = dict(settings, podnet_plan=plan, inventory_hostname=node.name, ansible_managed="Ansible managed")
        text = render_role_template("bgp", "bird.conf.j2", variables)
        sessions = bird_sessions(text)
        assert sorted(sessions) == sorted(str(t.address) for t in parsed.tors if t.rack == node.rack), node.name
        for address, (tor_as, password, local_as) in sessions.items():
            config = routers[address]
            assert f"router bgp {tor_as}\n" in config
            assert f" neighbor PODNET remote-as {local_as}\n" in config
            assert f" neighbor PODNET password {password}\n" in config, (node.name, address)
            assert f" bgp listen range {parsed.racks[node.rack].subnet} peer-group PODNET\n" in config
