# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The VM lab harness: topology and QEMU command lines (pure), and a real ipip lab (marker `vmlab`).

Run the VM part alone, under the machine's lab lock:
    flock /tmp/podnet-lab.lock pytest -q -m vmlab tests/vmlab
"""
import copy
import importlib.util
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest
import yaml

import guest_kernel_tests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BACKEND = os.path.join(ROOT, "lab", "vmlab.py")
HARNESS = os.path.join(ROOT, "lab", "podnet_lab.py")  # one harness command for both backends
INVENTORY = os.path.join(ROOT, "inventories", "lab", "ipip.yml")
MEASUREMENTS = os.path.join(ROOT, ".lab", "vmlab-measurements.json")


def load_harness():
    spec = importlib.util.spec_from_file_location("vmlab", BACKEND)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


vmlab = load_harness()


def read_inventory():
    with open(INVENTORY, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def vms_by_name(lab):
    return {vm.name: vm for vm in lab.vms}


# ---------------------------------------------------------------- topology and command lines (pure)


def test_ipip_inventory_is_two_racks_of_two_and_one_nodes_behind_a_router():
    lab = vmlab.load_vm_lab(INVENTORY)
    vms = vms_by_name(lab)
    assert sorted(vms) == ["node1", "node2", "node3", "router"]
    assert {h.name: (h.rack, str(h.ip)) for h in lab.lab.hosts} == {
        "node1": ("r1", "10.89.60.11"), "node2": ("r1", "10.89.60.12"), "node3": ("r2", "10.89.61.11")}
    assert vms["node1"].routes == (("10.89.61.0/24", "10.89.60.254"),)
    assert vms["node3"].routes == (("10.89.60.0/24", "10.89.61.254"),)
    assert vms["router"].forward and not vms["node1"].forward
    assert [(n.name, n.address) for n in vms["router"].nics if n.rack] == [
        ("ens5", "10.89.60.254/24"), ("ens6", "10.89.61.254/24")]
    assert {vm.name: vm.ssh_port for vm in lab.vms} == {"node1": 22601, "node2": 22602, "node3": 22603,
                                                       "router": 22609}
    assert all(vm.memory_mib <= 768 for vm in lab.vms)


def test_ipip_inventory_subnets_clash_with_no_other_shipped_lab():
    own = [r.subnet for r in vmlab.load_vm_lab(INVENTORY).lab.racks.values()]
    inventories = os.path.join(ROOT, "inventories", "lab")
    for name in os.listdir(inventories):
        if name == "ipip.yml" or not name.endswith(".yml"):
            continue
        other = vmlab.podnet_lab.load_lab(os.path.join(inventories, name))
        for rack in other.racks.values():
            assert not any(rack.subnet.overlaps(subnet) for subnet in own), (name, rack)


def test_each_rack_is_its_own_multicast_segment_on_loopback():
    lab = vmlab.load_vm_lab(INVENTORY)
    endpoints = {r: vmlab.mcast_endpoint(lab.lab, r) for r in lab.lab.racks}
    assert len(set(endpoints.values())) == len(endpoints)
    assert len({port for _, port in endpoints.values()}) == len(endpoints)
    for group, _ in endpoints.values():
        assert ipaddress.IPv4Address(group) in ipaddress.IPv4Network("239.0.0.0/8")


def test_qemu_command_keeps_every_nic_inside_the_lab():
    lab = vmlab.load_vm_lab(INVENTORY)
    router = vms_by_name(lab)["router"]
    argv = vmlab.qemu_command(lab, router, vmlab.image_paths(), "/o.qcow2", "KEY")
    netdevs = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-netdev"]
    assert len(netdevs) == 3
    user = [n for n in netdevs if n.startswith("user,")]
    assert len(user) == 1 and "restrict=on" in user[0].split(",")
    assert re.search(r"hostfwd=tcp:127\.0\.0\.1:22609-:22(,|$)", user[0])
    for netdev in netdevs:
        if netdev.startswith("socket,"):
            assert "localaddr=127.0.0.1" in netdev.split(",")
    assert ["-accel", "tcg,tb-size=128"] == argv[argv.index("-accel"):argv.index("-accel") + 2]
    assert argv[argv.index("-smp") + 1] == "1"
    assert "-nodefaults" in argv


def test_kernel_command_line_gives_no_default_route():
    lab = vmlab.load_vm_lab(INVENTORY)
    for vm in lab.vms:
        cmdline = vmlab.kernel_cmdline(vm, "KEY")
        routes = re.findall(r"podnet\.route=(\S+)", cmdline)
        assert all(not r.startswith(("0.0.0.0", "default")) for r in routes)
        assert f"systemd.hostname={vm.name}" in cmdline
        assert len(cmdline) < 2048  # x86 COMMAND_LINE_SIZE


def test_inventory_view_reaches_every_vm_over_loopback_ssh():
    lab = vmlab.load_vm_lab(INVENTORY)
    view = vmlab.inventory_view(lab)
    groups = view["all"]["children"]
    assert sorted(groups["podnet_lab_vms"]["hosts"]) == ["node1", "node2", "node3"]
    assert groups["podnet_lab_routers"]["hosts"]["router"] == {"ansible_host": "127.0.0.1", "ansible_port": 22609}
    assert view["all"]["vars"]["ansible_user"] == "root"
    assert view["all"]["vars"]["ansible_python_interpreter"] == "/usr/bin/python3"


@pytest.mark.parametrize("change,message", [
    (lambda inv: inv["all"]["vars"]["podnet_lab"].pop("backend"), "backend"),
    (lambda inv: inv["all"]["children"]["podnet_nodes"]["hosts"]["node2"].pop("ansible_port"), "ansible_port"),
    (lambda inv: inv["all"]["children"]["podnet_nodes"]["hosts"]["node2"].update(ansible_port=22601),
     "both use SSH port 22601"),
    (lambda inv: inv["all"]["vars"]["podnet_lab"]["router"].update(ssh_port=22603), "both use SSH port 22603"),
    (lambda inv: inv["all"]["vars"]["podnet_lab"]["vm"].update(memory_mib=1024), "memory_mib: needs an integer in 128..768"),
    (lambda inv: inv["all"]["vars"]["podnet_lab"]["vm"].update(router_memory_mib="lots"), "router_memory_mib"),
    (lambda inv: inv["all"]["vars"]["podnet_lab"]["racks"].update(r2={"subnet": "10.89.60.128/25"}), "overlap"),
])
def test_bad_vm_inventories_are_refused(change, message):
    inventory = copy.deepcopy(read_inventory())
    change(inventory)
    with pytest.raises(vmlab.LabError, match=message):
        vmlab.parse_vm_lab(inventory)


def test_image_recipe_key_follows_what_the_image_holds(monkeypatch):
    before = vmlab.image_key()
    assert vmlab.image_key() == before
    monkeypatch.setattr(vmlab, "IMAGE_PACKAGES", vmlab.IMAGE_PACKAGES + ["nftables"])
    assert vmlab.image_key() != before


def test_image_holds_nothing_a_role_installs():
    for package in ("nftables", "bird2", "containernetworking-plugins"):
        assert package not in vmlab.IMAGE_PACKAGES


def fake_qemu(vm_lab, vm):
    """A process that looks like one of the lab's QEMUs in /proc (argv[0] and -name) but only sleeps."""
    # `read` is a shell builtin: no forked child that would briefly carry the same command line.
    return subprocess.Popen(["qemu-system-x86_64", "-c", "read never", "-name",
                             f"{vm_lab.qemu_name(vm.name)},process=x"], executable="/bin/sh",
                            stdin=subprocess.PIPE, start_new_session=True)


@pytest.fixture()
def doomed_lab(tmp_path, monkeypatch):
    """The ipip topology under another name and ports, with a fake QEMU and a state dir in tmp_path."""
    inventory = copy.deepcopy(read_inventory())
    inventory["all"]["vars"]["podnet_lab"]["name"] = "vmlabdoomed"
    inventory["all"]["vars"]["podnet_lab"]["router"]["ssh_port"] = 22719
    for index, host in enumerate(inventory["all"]["children"]["podnet_nodes"]["hosts"].values(), start=1):
        host["ansible_port"] = 22710 + index
    vm_lab = vmlab.parse_vm_lab(inventory)
    monkeypatch.setattr(vmlab, "LAB_DIR", str(tmp_path))
    monkeypatch.setattr(vmlab, "image_current", lambda key: True)
    monkeypatch.setattr(vmlab, "repo_disk", lambda lab: None)
    monkeypatch.setattr(vmlab, "boot_vm", lambda lab, vm, image, blob, repo: fake_qemu(lab, vm))
    monkeypatch.setattr(vmlab.shutil, "which", lambda name: "/usr/bin/" + name)
    yield vm_lab
    vmlab.stop_vms(vm_lab)


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")
@pytest.mark.parametrize("failure", [vmlab.LabError("no SSH"), KeyboardInterrupt()])
def test_a_failed_or_interrupted_up_leaves_no_vm_running(doomed_lab, monkeypatch, failure):
    started = {}

    def wait_ssh(lab, procs, timeout=0):
        started.update(procs)
        raise failure

    monkeypatch.setattr(vmlab, "wait_ssh", wait_ssh)
    with pytest.raises(type(failure)):
        vmlab.cmd_up(doomed_lab)
    assert sorted(started) == ["node1", "node2", "node3", "router"]
    assert all(proc.poll() is not None for proc in started.values())
    assert vmlab.lab_processes(doomed_lab) == {}


def test_leftover_vms_of_the_lab_are_stopped_and_no_other_labs(doomed_lab):
    leftovers = [fake_qemu(doomed_lab, vm) for vm in doomed_lab.vms[:2]]
    other = vmlab.parse_vm_lab(read_inventory())
    stranger = fake_qemu(other, vms_by_name(other)["node1"])
    time.sleep(0.5)  # until /proc shows the fakes' command lines
    try:
        assert vmlab.stop_vms(doomed_lab) == 2
        assert all(p.wait(timeout=10) is not None for p in leftovers)
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


# ---------------------------------------------------------------- a real lab (QEMU)

needs_vms = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("qemu-system-x86_64") is None
                               or shutil.which("debootstrap") is None,
                               reason="needs root, qemu-system-x86 and debootstrap")


def harness(*args, timeout=900):
    started = time.monotonic()
    result = subprocess.run([sys.executable, HARNESS, *args], capture_output=True, text=True, timeout=timeout,
                            check=False)
    assert result.returncode == 0, f"podnet_lab.py {' '.join(args)}: {result.stdout}\n{result.stderr}"
    return result.stdout, time.monotonic() - started


class Lab:
    def __init__(self, lab):
        self.lab = lab
        self.vms = vms_by_name(lab)
        self.measurements = {}

    def sh(self, host, command, check=True):
        result = vmlab.ssh(self.lab, self.vms[host], command, timeout=120)
        if check:
            assert result.returncode == 0, f"{host}: {command}: {result.stdout}{result.stderr}"
        return result


@pytest.fixture(scope="module")
def lab():
    vm_lab = vmlab.load_vm_lab(INVENTORY)
    out, image_s = harness("image", "--vm")
    built = "built in" in out

    def stop_on_sigterm(_signum, _frame):
        # `timeout` or CI cancelling the run sends SIGTERM, which skips fixture teardown: no stray VMs.
        vmlab.stop_vms(vm_lab)
        raise KeyboardInterrupt("SIGTERM")

    previous = signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        out, up_s = harness("up", "-i", INVENTORY)
        running = Lab(vm_lab)
        boots = {m.group(1): int(m.group(2)) for m in
                 re.finditer(r"podnet-vmlab-ipip-(\S+): ssh \S+ after (\d+)s", out)}
        running.measurements.update({
            "image_build_s": round(image_s, 1), "image_was_built": built,
            "up_s": round(up_s, 1), "boot_to_ssh_s": boots,
            "rss_mib_after_boot": {name: vmlab.rss_mib(pid) for pid, name in vmlab.lab_processes(vm_lab).items()},
        })
        running.measurements["idle_cpu_percent"] = idle_cpu_percent(vm_lab)
        yield running
        os.makedirs(os.path.dirname(MEASUREMENTS), exist_ok=True)
        with open(MEASUREMENTS, "w", encoding="utf-8") as handle:
            json.dump(running.measurements, handle, indent=2, sort_keys=True)
    finally:
        harness("down", "-i", INVENTORY)
        signal.signal(signal.SIGTERM, previous)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_cpu_percent(vm_lab, seconds=10):
    """CPU each booted, idle VM costs this machine: what a router VM costs compared to none."""
    procs = vmlab.lab_processes(vm_lab)
    before = {pid: cpu_seconds(pid) for pid in procs}
    time.sleep(seconds)
    return {name: round(100 * (cpu_seconds(pid) - before[pid]) / seconds, 1) for pid, name in procs.items()}


def ping_ttl(lab, host, target, source=None):
    extra = f"-I {source} " if source else ""
    out = lab.sh(host, f"ping -n -c 3 -W 3 {extra}{target}").stdout
    return {int(t) for t in re.findall(r"ttl=(\d+)", out)}


@needs_vms
@pytest.mark.vmlab
def test_every_vm_boots_systemd_with_its_own_name(lab):
    for name in lab.vms:
        assert lab.sh(name, "hostname").stdout.strip() == name
        assert lab.sh(name, "systemctl is-system-running", check=False).stdout.strip() == "running"


@needs_vms
@pytest.mark.vmlab
def test_ansible_reaches_the_nodes_over_ssh(lab):
    ansible = os.path.join(os.path.dirname(sys.executable), "ansible")
    started = time.monotonic()
    result = subprocess.run([ansible, "-i", INVENTORY, "podnet_nodes", "-m", "ping"], capture_output=True,
                            text=True, timeout=300, check=False, cwd=ROOT)
    lab.measurements["ansible_ping_s"] = round(time.monotonic() - started, 1)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == 3


@needs_vms
@pytest.mark.vmlab
def test_no_vm_has_a_default_route_or_a_way_out(lab):
    for name in lab.vms:
        assert lab.sh(name, "ip -4 route show default").stdout.strip() == ""
        # A route lookup sends nothing: it proves an outside address has no path at all.
        out = lab.sh(name, "ip route get 192.0.2.1", check=False)
        assert out.returncode != 0 and "unreachable" in out.stderr


@needs_vms
@pytest.mark.vmlab
def test_same_rack_nodes_reach_each_other_directly(lab):
    assert re.match(r"10\.89\.60\.12 dev ens4 src 10\.89\.60\.11", lab.sh("node1", "ip route get 10.89.60.12").stdout)
    assert ping_ttl(lab, "node1", "10.89.60.12") == {64}
    assert ping_ttl(lab, "node2", "10.89.60.11") == {64}


@needs_vms
@pytest.mark.vmlab
def test_cross_rack_nodes_reach_each_other_only_through_the_router(lab):
    assert "via 10.89.60.254 dev ens4" in lab.sh("node1", "ip route get 10.89.61.11").stdout
    assert "via 10.89.61.254 dev ens4" in lab.sh("node3", "ip route get 10.89.60.11").stdout
    # One routed hop: the reply left node3 with TTL 64 and the router decremented it once.
    assert ping_ttl(lab, "node1", "10.89.61.11") == {63}
    assert ping_ttl(lab, "node3", "10.89.60.12") == {63}
    lab.sh("router", "sysctl -qw net.ipv4.ip_forward=0")
    try:
        assert lab.sh("node1", "ping -n -c 2 -W 2 10.89.61.11", check=False).returncode != 0
    finally:
        lab.sh("router", "sysctl -qw net.ipv4.ip_forward=1")
    assert ping_ttl(lab, "node1", "10.89.61.11") == {63}


def tunl0_counters(lab, host):
    stats = json.loads(lab.sh(host, "ip -s -j link show dev tunl0").stdout)[0]["stats64"]
    return stats["tx"]["packets"], stats["rx"]["packets"]


@needs_vms
@pytest.mark.vmlab
def test_ipip_tunnel_across_racks_carries_ping(lab):
    ends = {"node1": ("10.244.1.1", "10.89.60.11"), "node3": ("10.244.3.1", "10.89.61.11")}
    for host, peer in (("node1", "node3"), ("node3", "node1")):
        own_pod_ip, _ = ends[host]
        peer_pod_ip, peer_node_ip = ends[peer]
        lab.sh(host, "modprobe ipip && ip link set tunl0 up mtu 1480 "
                     f"&& ip addr replace {own_pod_ip}/32 dev tunl0 "
                     f"&& ip route replace {peer_pod_ip.rsplit('.', 1)[0]}.0/24 via {peer_node_ip} dev tunl0 onlink")
    assert "dev tunl0" in lab.sh("node1", "ip route get 10.244.3.1").stdout
    tx_before, _ = tunl0_counters(lab, "node1")
    _, rx_before = tunl0_counters(lab, "node3")
    # The inner packet keeps its TTL across the router (the outer header takes the hop).
    assert ping_ttl(lab, "node1", "10.244.3.1", source="10.244.1.1") == {64}
    tx_after, _ = tunl0_counters(lab, "node1")
    _, rx_after = tunl0_counters(lab, "node3")
    assert tx_after - tx_before >= 3 and rx_after - rx_before >= 3


@needs_vms
@pytest.mark.vmlab
def test_guests_read_packages_only_from_the_lab_source(lab):
    if not os.path.isfile(os.path.join(vmlab.podnet_lab.repo_dir(), "Packages")):
        pytest.skip("the container lab's package source is not built (lab/podnet_lab.py image)")
    out = lab.sh("node1", "apt-get -q update && apt-cache policy nftables").stdout
    assert re.search(r"Candidate: \S+", out) and "Candidate: (none)" not in out, out
    assert "file:/srv/podnet-lab-repo" in out
    assert lab.sh("node1", "dpkg -s nftables", check=False).returncode != 0  # bare: roles install it


@needs_vms
@pytest.mark.vmlab
def test_ipip_kernel_tests_of_ip_link_and_boot_files_all_pass_in_a_node_vm(lab):
    """tests/kernel's ipip tests skip on this machine's kernel: on node2's, which has ipip, every one must pass."""
    paths, guest_dir = ["tests/kernel/test_ip_link.py", "tests/kernel/test_boot_files.py"], guest_kernel_tests.GUEST_DIR
    wanted = guest_kernel_tests.selected_tests("ipip_kernel", paths)
    assert len(wanted) >= 11, wanted
    assert "test_tunl0_and_a_route_through_it_come_back_from_their_boot_files" in wanted
    node = lab.vms["node2"]
    loaded_before = lab.sh("node2", "test -d /sys/module/ipip", check=False).returncode == 0
    started = time.monotonic()
    subprocess.run(vmlab.ssh_command(lab.lab, node, f"rm -rf {guest_dir} && mkdir -p {guest_dir} "
                                                    f"&& tar -xzf - -C {guest_dir}"),
                   input=guest_kernel_tests.bundle(), capture_output=True, timeout=300, check=True)
    copied = time.monotonic()
    try:
        run = vmlab.ssh(lab.lab, node, guest_kernel_tests.guest_command("ipip_kernel", paths), timeout=900)
        # tunl0 as the module makes it (a new namespace gets a new one): what ip_link's check mode predicts.
        fresh = lab.sh("node2", "ip netns add pnt-fresh && ip -n pnt-fresh -d -j link show tunl0; "
                                "ip netns delete pnt-fresh", check=False).stdout
        lab.measurements["guest_fresh_tunl0"] = json.loads(fresh or "[null]")[0]
    finally:
        # node2 as it was: no test files, and ipip loaded only if it was (the tests load and unload it).
        restore = "modprobe ipip" if loaded_before else \
            "for i in $(seq 50); do modprobe -r ipip && break; sleep 0.2; done"
        lab.sh("node2", f"rm -rf {guest_dir}; {restore}", check=False)
    lab.measurements["kernel_tests_in_vm_s"] = {"copy": round(copied - started, 1),
                                                "pytest": round(time.monotonic() - copied, 1)}
    report, _, junit = run.stdout.partition("==junit==\n")
    lab.measurements["kernel_tests_in_vm_summary"] = report.strip().splitlines()[-1:]
    assert junit.strip(), report + run.stderr
    assert guest_kernel_tests.outcomes(junit) == {name: "passed" for name in wanted}, report + run.stderr
    assert run.returncode == 0, report + run.stderr


@needs_vms
@pytest.mark.vmlab
def test_down_leaves_no_qemu_process_of_the_lab(lab):
    lab.measurements["rss_mib_after_tests"] = {
        name: vmlab.rss_mib(pid) for pid, name in vmlab.lab_processes(lab.lab).items()}
    harness("down", "-i", INVENTORY)
    assert vmlab.lab_processes(lab.lab) == {}
    assert all(vmlab.port_free(vm.ssh_port) for vm in lab.lab.vms)
