#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""VM lab harness: the same lab inventories as lab/podnet_lab.py, with QEMU VMs as hosts.

Containers share this machine's kernel, which has no IPIP (docs: ../shared/platform.md), so what
needs a kernel of its own runs here: each host is a QEMU VM under software emulation (TCG) booting
the Debian cloud kernel from one base disk that this script builds with debootstrap and caches in
``.lab/vm-image`` (rebuilt only when its recipe changes). Every VM writes to its own qcow2 overlay of
that disk, so the base stays untouched and is shared.

Topology (``all.vars.podnet_lab``, parsed by lab/podnet_lab.py so both backends read one format):

- a rack is an L2 segment carried over loopback by QEMU's socket networking: one multicast group
  per rack (``-netdev socket,mcast=...,localaddr=127.0.0.1``), so no host bridge, tap or firewall
  rule of this machine is involved and no frame can leave it;
- the router is a small VM with one NIC per rack (``.254``) and IPv4 forwarding on; nodes route
  the other racks through it, exactly as in the container lab;
- management is QEMU user networking with ``restrict=on`` (the guest reaches nothing outside; only
  the explicit ``hostfwd`` of SSH to ``127.0.0.1:<ansible_port>`` exists). The guest gets a
  connected route for the SSH return path and no default route at all.

Per-VM settings (hostname, NIC names by MAC, addresses, routes, SSH key) travel on the kernel
command line and are applied at boot by ``podnet-lab-net.service`` in the image, so one image
serves every VM and a guest reboot re-applies them like a real host's network configuration.

Package source hook: guests keep the container lab's apt source line (``file:`` REPO_MOUNT). When
the container lab's repository (``.cache/lab-repo``, built by ``podnet_lab.py image``) exists, ``up``
packs it into a read-only disk that every VM mounts there; without it apt in a guest has no source.
``image --vm`` fills the image's package lists from that repository, as the container lab's image
has them, so it needs ``podnet_lab.py image`` first and is rebuilt when the repository changes.

    podnet_lab.py image --vm [--rebuild]
    podnet_lab.py up -i INVENTORY        (inventory with podnet_lab.backend: vm)
    podnet_lab.py down -i INVENTORY
    podnet_lab.py status -i INVENTORY

Run ``up`` under the machine's lab lock (``flock /tmp/podnet-lab.lock ...``): VMs are CPU-heavy.
"""
import dataclasses
import fcntl
import hashlib
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import podnet_lab  # noqa: E402  (the one parser of the lab topology format)
from podnet_lab import LabError  # noqa: E402

ROOT = podnet_lab.ROOT
LAB_DIR = os.environ.get("PODNET_VMLAB_DIR", os.path.join(ROOT, ".lab"))
IMAGE_DIR = os.path.join(LAB_DIR, "vm-image")
IMAGE_LOCK = "/var/tmp/podnet-vmlab-image.lock"
SUITE = podnet_lab.SUITE
DEBIAN_MIRROR = podnet_lab.DEBIAN_MIRROR
# A fresh Debian server as the container lab's image has it (podnet_lab.IMAGE_PACKAGES), plus what
# only a machine with its own kernel needs: the cloud kernel (ipip, vxlan, bridge, veth as modules),
# kmod for modprobe, udev for its NICs, and sshd for Ansible. Nothing a role installs.
IMAGE_PACKAGES = sorted(set(podnet_lab.IMAGE_PACKAGES) | {
    "linux-image-cloud-amd64", "initramfs-tools", "kmod", "udev", "openssh-server", "ifupdown",
})
DISK_SIZE = "2G"
REPO_MOUNT = podnet_lab.REPO_MOUNT
REPO_LABEL = "podnet-repo"
# Timers that would start apt or dpkg in the middle of a converge: on a 2-core machine emulating
# several guests they cost minutes and take the dpkg lock the roles need.
MASKED_UNITS = [
    "apt-daily.timer", "apt-daily-upgrade.timer", "dpkg-db-backup.timer", "e2scrub_all.timer",
    "fstrim.timer", "systemd-networkd-wait-online.service", "getty@tty1.service",
]
GUEST_SCRIPT = r"""#!/bin/sh
# podnet VM lab: apply this VM's settings from the kernel command line (written by lab/vmlab.py).
#   podnet.nic=MAC,NAME,ADDR/PREFIX[,MTU]  podnet.route=DEST,VIA  podnet.forward=1  podnet.key=BASE64
#   podnet.repo=LABEL:DIR (mount the lab's package source read-only)
set -eu
# Coldplug under emulation takes longer than a device timeout in fstab would wait: settle instead.
udevadm settle --timeout=60 || true
nics=""; routes=""
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    podnet.repo=*)
      repo=${arg#podnet.repo=}
      mkdir -p "${repo#*:}"
      mount -o ro "/dev/disk/by-label/${repo%%:*}" "${repo#*:}" ;;
    podnet.nic=*) nics="$nics ${arg#podnet.nic=}" ;;
    podnet.route=*) routes="$routes ${arg#podnet.route=}" ;;
    podnet.forward=1) echo 1 > /proc/sys/net/ipv4/ip_forward ;;
    podnet.key=*)
      install -d -m 0700 /root/.ssh
      echo "ssh-ed25519 ${arg#podnet.key=} podnet-vmlab" > /root/.ssh/authorized_keys
      chmod 0600 /root/.ssh/authorized_keys ;;
  esac
done
by_mac() {
  for dev in /sys/class/net/*; do
    [ "$(cat "$dev/address")" = "$1" ] && { basename "$dev"; return 0; }
  done
  echo "podnet-lab-net: no NIC with MAC $1" >&2; return 1
}
# Two passes: a final name may still belong to another NIC that udev named first.
i=0
for nic in $nics; do
  mac=${nic%%,*}; dev=$(by_mac "$mac")
  ip link set dev "$dev" down
  ip link set dev "$dev" name "podnettmp$i"
  i=$((i + 1))
done
i=0
for nic in $nics; do
  rest=${nic#*,}; name=${rest%%,*}; rest=${rest#*,}; addr=${rest%%,*}; mtu=""
  [ "$rest" != "$addr" ] && mtu=${rest#*,}
  # udev gives every NIC its predictable names as altnames too, and a name can only be taken
  # when no link (this one included) holds it as an altname.
  ip link property del dev "$name" altname "$name" 2>/dev/null || true
  ip link set dev "podnettmp$i" name "$name"
  [ -n "$mtu" ] && ip link set dev "$name" mtu "$mtu"
  ip link set dev "$name" up
  ip addr replace "$addr" dev "$name"
  i=$((i + 1))
done
for route in $routes; do
  ip route replace "${route%%,*}" via "${route#*,}"
done
"""
GUEST_UNIT = """[Unit]
Description=podnet VM lab: NIC names, addresses, routes and SSH key from the kernel command line
DefaultDependencies=no
After=systemd-udev-trigger.service local-fs.target
Wants=network-pre.target
Before=network-pre.target ssh.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/podnet-lab-net

[Install]
WantedBy=sysinit.target
"""
FSTAB = "/dev/vda / ext4 rw,errors=remount-ro 0 1\n"

QEMU = "qemu-system-x86_64"
NODE_MEMORY_MIB = 768
ROUTER_MEMORY_MIB = 384
# tb-size caps TCG's translation cache: without it a guest's RSS grows past 1.8 GB (platform.md).
ACCEL = "tcg,tb-size=128"
MGMT_NET = ipaddress.IPv4Network("10.0.2.0/24")  # QEMU user networking's default; host side is .2
MGMT_ADDR = "10.0.2.15/24"
MGMT_IFNAME = "mgmt0"
MCAST_PORT_BASE = 20000
SSH_TIMEOUT_S = 300
STOP_TIMEOUT_S = 10
SSH_OPTIONS = [
    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=15",
]


# ---------------------------------------------------------------- lab description (pure)

@dataclasses.dataclass(frozen=True)
class Nic:
    mac: str
    name: str
    address: str            # CIDR, e.g. 10.89.60.11/24
    mtu: int | None = None
    rack: str | None = None  # None for the management NIC


@dataclasses.dataclass(frozen=True)
class Vm:
    name: str               # inventory host name (router: podnet_lab.ROUTER_HOST)
    ssh_port: int
    memory_mib: int
    nics: tuple
    routes: tuple = ()      # (destination, via) strings
    forward: bool = False


@dataclasses.dataclass(frozen=True)
class VmLab:
    lab: podnet_lab.Lab
    vms: tuple

    @property
    def name(self):
        return self.lab.name

    def qemu_name(self, vm_name):
        """The -name QEMU runs under: how leftovers of this lab are found again."""
        return f"podnet-vmlab-{self.name}-{vm_name}"

    def state_dir(self):
        return os.path.join(LAB_DIR, f"vm-{self.name}")

    def key_file(self):
        return os.path.join(self.state_dir(), "id_ed25519")


def mcast_endpoint(lab, rack_name):
    """One multicast group per rack, derived from the rack's subnet (unique across lab inventories).

    239/8 is administratively scoped (RFC 2365); with localaddr=127.0.0.1 the group lives on
    loopback only. A distinct port per rack as well, so no socket can see another rack's frames.
    """
    net = lab.racks[rack_name].subnet.network_address.packed
    group = f"239.{net[1]}.{net[2]}.{net[3]}"
    port = MCAST_PORT_BASE + (net[1] * 256 + net[2]) % 40000
    return group, port


def mac_for(lab_name, vm_index, nic_index):
    digest = hashlib.sha256(lab_name.encode()).digest()
    return f"52:54:00:{digest[0]:02x}:{vm_index:02x}:{nic_index:02x}"


def _port(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or not 1024 <= value <= 65535:
        raise LabError(f"{what}: needs an integer port in 1024..65535, got {value!r}")
    return value


def parse_vm_lab(inventory):
    """Build a VmLab from a loaded inventory dict; raise LabError on anything unusable."""
    lab = podnet_lab.parse_lab(inventory)
    spec = inventory["all"]["vars"]["podnet_lab"]
    if lab.backend != "vm":
        raise LabError(f"lab {lab.name}: podnet_lab.backend is {lab.backend!r}; "
                       "the VM backend runs labs with backend: vm only")
    vm_spec = spec.get("vm") or {}
    memory = {key: vm_spec.get(key, default) for key, default in
              (("memory_mib", NODE_MEMORY_MIB), ("router_memory_mib", ROUTER_MEMORY_MIB))}
    for key, value in memory.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 128 <= value <= 768:
            raise LabError(f"podnet_lab.vm.{key}: needs an integer in 128..768 (MiB), got {value!r}")
    host_vars = podnet_lab.collect_hosts(inventory)
    vms = []
    for index, host in enumerate(lab.hosts, start=1):
        rack = lab.racks[host.rack]
        port = _port(host_vars[host.name].get("ansible_port"), f"host {host.name}: ansible_port")
        nics = (
            Nic(mac_for(lab.name, index, 0), MGMT_IFNAME, MGMT_ADDR),
            Nic(mac_for(lab.name, index, 1), host.uplink, f"{host.ip}/{rack.subnet.prefixlen}", rack.mtu,
                host.rack),
        )
        routes = tuple((str(dest), str(via)) for dest, via in podnet_lab.host_routes(lab, host))
        vms.append(Vm(host.name, port, memory["memory_mib"], nics, routes))
    if lab.router_racks:
        ports = [vm.ssh_port for vm in vms]
        port = _port((spec.get("router") or {}).get("ssh_port", max(ports) + 1), "podnet_lab.router.ssh_port")
        index = len(vms) + 1
        nics = [Nic(mac_for(lab.name, index, 0), MGMT_IFNAME, MGMT_ADDR)]
        for nic_index, (rack_name, ifname, address) in enumerate(podnet_lab.router_interfaces(lab), start=1):
            rack = lab.racks[rack_name]
            nics.append(Nic(mac_for(lab.name, index, nic_index), ifname, f"{address}/{rack.subnet.prefixlen}",
                            rack.mtu, rack_name))
        vms.append(Vm(podnet_lab.ROUTER_HOST, port, memory["router_memory_mib"], tuple(nics), forward=True))
    seen = {}
    for vm in vms:
        if vm.ssh_port in seen:
            raise LabError(f"{seen[vm.ssh_port]} and {vm.name} both use SSH port {vm.ssh_port}")
        seen[vm.ssh_port] = vm.name
    return VmLab(lab, tuple(vms))


def load_vm_lab(path):
    return parse_vm_lab(podnet_lab.read_inventory(path))


def kernel_cmdline(vm, public_key_blob, repo=False):
    args = ["root=/dev/vda", "rw", "console=ttyS0", "quiet", f"systemd.hostname={vm.name}"]
    for nic in vm.nics:
        args.append(f"podnet.nic={nic.mac},{nic.name},{nic.address}" + (f",{nic.mtu}" if nic.mtu else ""))
    args += [f"podnet.route={dest},{via}" for dest, via in vm.routes]
    if vm.forward:
        args.append("podnet.forward=1")
    if repo:
        args.append(f"podnet.repo={REPO_LABEL}:{REPO_MOUNT}")
    args.append(f"podnet.key={public_key_blob}")
    return " ".join(args)


def qemu_command(vmlab, vm, image, overlay, public_key_blob, repo_disk=None):
    """The full QEMU command line of one VM (pure: paths in, argv out)."""
    state = vmlab.state_dir()
    argv = [
        QEMU, "-name", f"{vmlab.qemu_name(vm.name)},process={vmlab.qemu_name(vm.name)}",
        "-nodefaults", "-no-user-config", "-machine", "pc", "-accel", ACCEL, "-smp", "1",
        "-m", str(vm.memory_mib), "-display", "none", "-vga", "none",
        "-serial", f"file:{os.path.join(state, vm.name + '.console.log')}",
        "-monitor", "none", "-pidfile", os.path.join(state, vm.name + ".pid"),
        "-kernel", image["kernel"], "-initrd", image["initrd"],
        "-append", kernel_cmdline(vm, public_key_blob, repo=bool(repo_disk)),
        "-drive", f"file={overlay},if=virtio,format=qcow2,discard=unmap",
        "-device", "virtio-rng-pci",
    ]
    if repo_disk:
        argv += ["-drive", f"file={repo_disk},if=virtio,format=raw,readonly=on"]
    for index, nic in enumerate(vm.nics):
        netdev = f"n{index}"
        if nic.rack is None:
            # restrict=on: the guest can reach neither this machine nor anything beyond it; only
            # the explicit hostfwd below exists. romfile= : no PXE option ROM, we boot -kernel.
            argv += ["-netdev", f"user,id={netdev},restrict=on,ipv6=off,net={MGMT_NET},"
                                f"hostfwd=tcp:127.0.0.1:{vm.ssh_port}-:22"]
        else:
            group, port = mcast_endpoint(vmlab.lab, nic.rack)
            argv += ["-netdev", f"socket,id={netdev},mcast={group}:{port},localaddr=127.0.0.1"]
        argv += ["-device", f"virtio-net-pci,netdev={netdev},mac={nic.mac},romfile="]
    return argv


def inventory_view(vmlab):
    """Everything Ansible needs to reach the lab's VMs, router included, as an inventory dict."""
    def host(vm):
        return {"ansible_host": "127.0.0.1", "ansible_port": vm.ssh_port}
    nodes = {vm.name: host(vm) for vm in vmlab.vms if vm.name != podnet_lab.ROUTER_HOST or not vmlab.lab.router_racks}
    groups = {"podnet_lab_vms": {"hosts": nodes}}
    if vmlab.lab.router_racks:
        router = next(vm for vm in vmlab.vms if vm.name == podnet_lab.ROUTER_HOST)
        groups["podnet_lab_routers"] = {"hosts": {router.name: host(router)}}
    return {"all": {"vars": connection_vars(vmlab.key_file()), "children": groups}}


def connection_vars(key_file):
    return {
        "ansible_connection": "ssh",
        "ansible_user": "root",
        "ansible_ssh_private_key_file": key_file,
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                                   "-o ControlMaster=auto -o ControlPersist=10m",
        "ansible_python_interpreter": "/usr/bin/python3",
    }


# ---------------------------------------------------------------- base image

def image_recipe():
    """Everything the base image is made of; its hash names the cached build."""
    # The package lists are filled from the lab's package source, so the image follows that source too.
    return {"suite": SUITE, "mirror": DEBIAN_MIRROR, "packages": IMAGE_PACKAGES, "masked": sorted(MASKED_UNITS),
            "script": GUEST_SCRIPT, "unit": GUEST_UNIT, "fstab": FSTAB, "size": DISK_SIZE,
            "sources": podnet_lab.REPO_SOURCE, "repo": podnet_lab.lab_key(), "layout": 2}


def image_key():
    return hashlib.sha256(json.dumps(image_recipe(), sort_keys=True).encode()).hexdigest()[:16]


def image_paths(directory=IMAGE_DIR):
    return {"kernel": os.path.join(directory, "vmlinuz"), "initrd": os.path.join(directory, "initrd.img"),
            "disk": os.path.join(directory, "root.img"), "key": os.path.join(directory, "recipe.key")}


def image_current(key):
    paths = image_paths()
    try:
        with open(paths["key"], encoding="ascii") as handle:
            recorded = handle.read().strip()
    except OSError:
        return False
    return recorded == key and all(os.path.isfile(paths[k]) for k in ("kernel", "initrd", "disk"))


def run(cmd, what, **kwargs):
    result = subprocess.run(cmd, check=False, **kwargs)
    if result.returncode != 0:
        detail = (result.stderr or "").strip() if isinstance(result.stderr, str) else "(see output above)"
        raise LabError(f"{what} failed ({result.returncode}): {detail}")
    return result


def prepare_guest_root(root):
    """Turn a debootstrapped tree into a disk that boots as a fresh, bare server under QEMU."""
    with open(os.path.join(root, "etc/machine-id"), "w", encoding="ascii"):
        pass
    for path in ("etc/hostname", "var/lib/dbus/machine-id"):
        if os.path.lexists(os.path.join(root, path)):
            os.remove(os.path.join(root, path))
    with open(os.path.join(root, "etc/fstab"), "w", encoding="ascii") as handle:
        handle.write(FSTAB)
    os.makedirs(os.path.join(root, REPO_MOUNT.lstrip("/")), exist_ok=True)
    with open(os.path.join(root, "etc/apt/sources.list"), "w", encoding="ascii") as handle:
        handle.write(podnet_lab.REPO_SOURCE)
    script = os.path.join(root, "usr/local/sbin/podnet-lab-net")
    with open(script, "w", encoding="ascii") as handle:
        handle.write(GUEST_SCRIPT)
    os.chmod(script, 0o755)
    unit_dir = os.path.join(root, "etc/systemd/system")
    with open(os.path.join(unit_dir, "podnet-lab-net.service"), "w", encoding="ascii") as handle:
        handle.write(GUEST_UNIT)
    os.makedirs(os.path.join(unit_dir, "sysinit.target.wants"), exist_ok=True)
    wants = os.path.join(unit_dir, "sysinit.target.wants", "podnet-lab-net.service")
    if not os.path.lexists(wants):
        os.symlink("/etc/systemd/system/podnet-lab-net.service", wants)
    for unit in MASKED_UNITS:
        link = os.path.join(unit_dir, unit)
        if os.path.lexists(link):
            os.remove(link)
        os.symlink("/dev/null", link)
    for sub in ("var/lib/apt/lists", "var/cache/apt/archives"):
        for entry in os.listdir(os.path.join(root, sub)):
            path = os.path.join(root, sub, entry)
            if os.path.isfile(path) and entry not in ("lock",):
                os.remove(path)


def boot_files(root):
    boot = os.path.join(root, "boot")
    kernels = sorted(f for f in os.listdir(boot) if f.startswith("vmlinuz-"))
    if len(kernels) != 1:
        raise LabError(f"expected one kernel in the image's /boot, found {kernels}")
    version = kernels[0][len("vmlinuz-"):]
    initrd = os.path.join(boot, f"initrd.img-{version}")
    if not os.path.isfile(initrd):
        raise LabError(f"the image has no initrd for kernel {version}")
    return os.path.join(boot, kernels[0]), initrd


def cmd_image(rebuild=False):
    # Several helpers or CI jobs may ask for the image at once; build it only once.
    os.makedirs(LAB_DIR, exist_ok=True)
    with open(IMAGE_LOCK, "w", encoding="ascii") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        key = image_key()
        if image_current(key) and not rebuild:
            print(f"{IMAGE_DIR}: present (recipe {key})")
            return
        if not podnet_lab.repo_ready(podnet_lab.lab_key()):
            raise LabError("the lab's package source is missing or stale: run 'lab/podnet_lab.py image' first")
        started = time.monotonic()
        cache = os.path.join(LAB_DIR, "debootstrap-cache")
        os.makedirs(cache, exist_ok=True)
        root = tempfile.mkdtemp(prefix="podnet-vmlab-root-", dir="/var/tmp")
        staging = IMAGE_DIR + ".new"
        try:
            run(["debootstrap", "--variant=minbase", "--include=" + ",".join(IMAGE_PACKAGES),
                 "--cache-dir=" + cache, SUITE, root, DEBIAN_MIRROR], "debootstrap")
            print(f"{IMAGE_DIR}: debootstrap done in {time.monotonic() - started:.0f}s")
            prepare_guest_root(root)
            # As the container lab's image has them, and a freshly installed server: empty lists younger than
            # an hour would make apt's cache_valid_time skip the update a role relies on.
            podnet_lab.fill_package_lists(root)
            shutil.rmtree(staging, ignore_errors=True)
            os.makedirs(staging)
            paths = image_paths(staging)
            kernel, initrd = boot_files(root)
            shutil.copy(kernel, paths["kernel"])
            shutil.copy(initrd, paths["initrd"])
            run(["mkfs.ext4", "-q", "-F", "-L", "podnet-root", "-d", root, paths["disk"], DISK_SIZE],
                "mkfs.ext4 -d", capture_output=True, text=True)
            with open(paths["key"], "w", encoding="ascii") as handle:
                handle.write(key + "\n")
            # Running VMs keep their open base disk even when the directory is replaced.
            shutil.rmtree(IMAGE_DIR, ignore_errors=True)
            os.rename(staging, IMAGE_DIR)
        finally:
            shutil.rmtree(root, ignore_errors=True)
            shutil.rmtree(staging, ignore_errors=True)
        print(f"{IMAGE_DIR}: built in {time.monotonic() - started:.0f}s (recipe {key})")


# ---------------------------------------------------------------- processes

def lab_processes(vmlab):
    """{pid: vm name} of every QEMU process of this lab, found by its -name (pidfiles can be lost)."""
    prefix = vmlab.qemu_name("")
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        if not argv or not os.path.basename(argv[0].decode(errors="replace")).startswith("qemu-system"):
            continue
        for i, arg in enumerate(argv[:-1]):
            if arg == b"-name":
                name = argv[i + 1].decode(errors="replace").split(",")[0]
                if name.startswith(prefix):
                    found[int(entry)] = name[len(prefix):]
    return found


def alive(pid):
    """True while pid runs; reaps it when it is our own exited child (a failed `up` starts them)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def stop_vms(vmlab, timeout=STOP_TIMEOUT_S):
    """Stop every QEMU process of the lab; return how many there were."""
    procs = lab_processes(vmlab)
    count = len(procs)
    for pid in procs:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while procs and time.monotonic() < deadline:
        procs = {p: n for p, n in procs.items() if alive(p)}
        time.sleep(0.2)
    for pid in lab_processes(vmlab):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for _ in range(50):
        if not any(alive(pid) for pid in lab_processes(vmlab)):
            break
        time.sleep(0.1)
    return count


def remove_state(vmlab, keep_logs=False):
    """Remove overlays, pidfiles and (unless keep_logs) logs; the SSH key survives (ControlMaster reuse)."""
    state = vmlab.state_dir()
    if not os.path.isdir(state):
        return
    for entry in os.listdir(state):
        if entry.startswith("id_ed25519") or (keep_logs and entry.endswith(".log")):
            continue
        path = os.path.join(state, entry)
        if os.path.isdir(path):
            shutil.rmtree(path)
        else:
            os.remove(path)


def ensure_key(vmlab):
    key = vmlab.key_file()
    if not os.path.isfile(key) or not os.path.isfile(key + ".pub"):
        for path in (key, key + ".pub"):
            if os.path.exists(path):
                os.remove(path)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"podnet-vmlab-{vmlab.name}", "-f", key],
            "ssh-keygen", capture_output=True, text=True)
    with open(key + ".pub", encoding="ascii") as handle:
        kind, blob = handle.read().split()[:2]
    if kind != "ssh-ed25519":
        raise LabError(f"{key}.pub is not an ed25519 key")
    return blob


def repo_disk(vmlab):
    """Pack the container lab's package source into a read-only disk, if it has been built."""
    source = podnet_lab.repo_dir()
    if not os.path.isfile(os.path.join(source, "Packages")):
        return None
    disk = os.path.join(vmlab.state_dir(), "repo.img")
    size_mb = 64 + sum(os.path.getsize(os.path.join(source, f)) for f in os.listdir(source)) * 12 // 10 // 2**20
    run(["mkfs.ext4", "-q", "-F", "-L", REPO_LABEL, "-d", source, disk, f"{size_mb}M"], "mkfs.ext4 (package source)",
        capture_output=True, text=True)
    return disk


def port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def ssh_command(vmlab, vm, *command):
    state = vmlab.state_dir()
    return ["ssh", *SSH_OPTIONS, "-i", vmlab.key_file(), "-p", str(vm.ssh_port),
            "-o", "ControlMaster=auto", "-o", "ControlPersist=60",
            "-o", f"ControlPath={os.path.join(state, 'ssh-%C')}", "root@127.0.0.1", *command]


def ssh(vmlab, vm, *command, timeout=60):
    return subprocess.run(ssh_command(vmlab, vm, *command), capture_output=True, text=True, timeout=timeout,
                          check=False)


def boot_vm(vmlab, vm, image, blob, repo):
    state = vmlab.state_dir()
    overlay = os.path.join(state, f"{vm.name}.qcow2")
    run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", image["disk"], overlay], "qemu-img create",
        capture_output=True, text=True)
    log = open(os.path.join(state, f"{vm.name}.qemu.log"), "w", encoding="utf-8")  # noqa: SIM115
    with log:
        # A session of its own: a Ctrl-C meant for the harness (or for `make`) after a
        # successful `up` must not kill the lab; `down` and failures stop VMs explicitly.
        proc = subprocess.Popen(qemu_command(vmlab, vm, image, overlay, blob, repo), stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return proc


def wait_ssh(vmlab, procs, timeout=SSH_TIMEOUT_S):
    """Wait until every VM answers over SSH; return {vm name: seconds from start}."""
    started = time.monotonic()
    pending = {vm.name: vm for vm in vmlab.vms}
    ready = {}
    while pending:
        for name, vm in list(pending.items()):
            code = procs[name].poll()
            if code is not None:
                raise LabError(f"{vmlab.qemu_name(name)} exited with {code}: "
                               f"{tail(os.path.join(vmlab.state_dir(), name + '.qemu.log'))}")
            try:
                result = ssh(vmlab, vm, "true", timeout=20)
            except subprocess.TimeoutExpired:
                continue
            if result.returncode == 0:
                ready[name] = time.monotonic() - started
                del pending[name]
        if pending and time.monotonic() - started > timeout:
            raise LabError(f"no SSH from {sorted(pending)} after {timeout}s; console logs in {vmlab.state_dir()}")
        if pending:
            time.sleep(2)
    return ready


def tail(path, lines=5):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return " | ".join(handle.read().strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


# ---------------------------------------------------------------- commands

def _raise_terminated(signum, _frame):
    raise podnet_lab.Interrupted(f"signal {signum}")


def cmd_up(vmlab):
    if shutil.which(QEMU) is None:
        raise LabError(f"{QEMU} is missing: apt-get install qemu-system-x86 qemu-utils")
    key = image_key()
    if not image_current(key):
        raise LabError(f"the VM base image is missing or stale in {IMAGE_DIR}: run 'lab/podnet_lab.py image --vm' first")
    stopped = stop_vms(vmlab)
    if stopped:
        print(f"lab {vmlab.name}: stopped {stopped} leftover VMs")
    remove_state(vmlab)
    busy = [f"{vm.name}:{vm.ssh_port}" for vm in vmlab.vms if not port_free(vm.ssh_port)]
    if busy:
        raise LabError(f"SSH ports already in use on 127.0.0.1: {', '.join(busy)}")
    os.makedirs(vmlab.state_dir(), exist_ok=True)
    blob = ensure_key(vmlab)
    image = image_paths()
    previous = {sig: signal.signal(sig, _raise_terminated) for sig in (signal.SIGTERM, signal.SIGHUP)}
    started = time.monotonic()
    procs = {}
    try:
        repo = repo_disk(vmlab)
        for vm in vmlab.vms:
            procs[vm.name] = boot_vm(vmlab, vm, image, blob, repo)
        ready = wait_ssh(vmlab, procs)
        write_inventory_view(vmlab)
    except BaseException:
        # By pid first: a QEMU started a moment ago may not show its command line in /proc yet.
        for proc in procs.values():
            proc.terminate()
        stop_vms(vmlab)
        for proc in procs.values():
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for vm in vmlab.vms:
        pid = procs[vm.name].pid
        print(f"{vmlab.qemu_name(vm.name)}: ssh 127.0.0.1:{vm.ssh_port} after {ready[vm.name]:.0f}s, "
              f"pid {pid}, rss {rss_mib(pid)} MiB, {describe_nics(vm)}")
    print(f"lab {vmlab.name}: {len(vmlab.vms)} VMs up in {time.monotonic() - started:.0f}s; "
          f"package source: {'attached' if repo else 'none (run lab/podnet_lab.py image)'}; "
          f"inventory view {view_path(vmlab)}")


def describe_nics(vm):
    return " ".join(f"{nic.name}={nic.address}" for nic in vm.nics if nic.rack)


def view_path(vmlab):
    return os.path.join(vmlab.state_dir(), "inventory.yml")


def write_inventory_view(vmlab):
    with open(view_path(vmlab), "w", encoding="utf-8") as handle:
        handle.write(f"# Written by lab/vmlab.py up: how to reach lab {vmlab.name}'s VMs (router included).\n")
        yaml.safe_dump(inventory_view(vmlab), handle, sort_keys=False)


def cmd_down(vmlab):
    stopped = stop_vms(vmlab)
    # Console and QEMU logs stay for a post-mortem until the next `up`.
    remove_state(vmlab, keep_logs=True)
    print(f"lab {vmlab.name}: stopped {stopped} VMs")


def cmd_status(vmlab):
    procs = {name: pid for pid, name in lab_processes(vmlab).items()}
    for vm in vmlab.vms:
        label = vmlab.qemu_name(vm.name)
        if vm.name not in procs:
            print(f"{label}: absent")
            continue
        try:
            result = ssh(vmlab, vm, "systemctl", "is-system-running", timeout=30)
            state = result.stdout.strip() or f"no answer ({result.stderr.strip()[:80]})"
        except subprocess.TimeoutExpired:
            state = "no answer (timeout)"
        print(f"{label}: pid {procs[vm.name]}, rss {rss_mib(procs[vm.name])} MiB, {state}, "
              f"ssh 127.0.0.1:{vm.ssh_port}, {describe_nics(vm)}")
