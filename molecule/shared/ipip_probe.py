#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the IPIP scenarios measure on a lab host, reported as JSON for the verify playbooks to judge.

paths:  for each peer pod IP, the kernel's path (`ip route get`) and how tunl0's packet counters moved while a
        pod of this node pinged it (the least growth over up to --attempts rounds, so one unrelated packet
        cannot fake a tunnelled path, and a path that tunnels shows growth in every round); with --df, a
        don't-fragment ping at the pod MTU payload (MTU - 28) and at one byte more. Prints
        {"uplink_mtu", "tunnel_mtu", "pod_mtu", "peers": {ip: {"dev", "gateway", "ping_rc", "tx", "rx"}},
         "df": {"fits": {"rc", "output"}, "too_big": {"rc", "output"}}}.
send:   send --count IP-protocol-4 packets to --outer-dst from a raw socket (the kernel writes the outer header
        from this host's own address), each carrying an IPv4/UDP packet --inner-src -> --inner-dst:--port with
        --payload. Prints {"sent": n}.
listen: receive UDP on --address:--port until a datagram equal to --until arrives or --timeout passes.
        Prints {"received": [payload, ...]}.
"""
import argparse
import json
import socket
import struct
import subprocess
import sys
import time


def run(*argv):
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def ip_json(*argv):
    result = run("ip", "-json", *argv)
    return json.loads(result.stdout) if result.returncode == 0 and result.stdout.strip() else []


def link(name, netns=None):
    found = ip_json(*(["-n", netns] if netns else []), "-s", "link", "show", "dev", name)
    return found[0] if found else None


def tunnel_counters():
    tunl0 = link("tunl0")
    if tunl0 is None:
        return 0, 0
    stats = tunl0.get("stats64", {})
    return stats.get("tx", {}).get("packets", 0), stats.get("rx", {}).get("packets", 0)


def ping(netns, address, count, size=None, dont_fragment=False):
    argv = ["ip", "netns", "exec", netns, "ping", "-n", "-c", str(count), "-i", "0.2", "-W", "2"]
    if dont_fragment:
        argv += ["-M", "do"]
    if size is not None:
        argv += ["-s", str(size)]
    result = run(*argv, address)
    return {"rc": result.returncode, "output": (result.stdout + result.stderr).strip()}


def cmd_paths(args):
    uplink = link(args.uplink)
    tunl0 = link("tunl0")
    pod = link("eth0", args.netns)
    report = {"uplink_mtu": uplink and uplink["mtu"], "tunnel_mtu": tunl0 and tunl0["mtu"],
              "pod_mtu": pod and pod["mtu"], "peers": {}}
    for peer in args.peers:
        route = (ip_json("route", "get", peer) or [{}])[0]
        entry = {"dev": route.get("dev"), "gateway": route.get("gateway"), "ping_rc": None, "tx": None, "rx": None}
        for _ in range(args.attempts):
            tx_before, rx_before = tunnel_counters()
            entry["ping_rc"] = ping(args.netns, peer, args.count)["rc"]
            tx_after, rx_after = tunnel_counters()
            tx, rx = tx_after - tx_before, rx_after - rx_before
            entry["tx"] = tx if entry["tx"] is None else min(entry["tx"], tx)
            entry["rx"] = rx if entry["rx"] is None else min(entry["rx"], rx)
            if entry["ping_rc"] != 0 or (entry["tx"] == 0 and entry["rx"] == 0):
                break
        report["peers"][peer] = entry
    if args.df and report["pod_mtu"]:
        payload = report["pod_mtu"] - 28  # 20 bytes of IPv4 header, 8 of ICMP echo
        report["df"] = {"fits": ping(args.netns, args.df, 1, payload, True),
                        "too_big": ping(args.netns, args.df, 1, payload + 1, True)}
    print(json.dumps(report))
    return 0


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def inner_packet(source, destination, port, payload):
    udp = struct.pack("!HHHH", 40000, port, 8 + len(payload), 0) + payload
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, socket.IPPROTO_UDP, 0,
                         socket.inet_aton(source), socket.inet_aton(destination))
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    # UDP checksum 0: "none computed", valid for IPv4 (RFC 768).
    return header + udp


def cmd_send(args):
    packet = inner_packet(args.inner_src, args.inner_dst, args.port, args.payload.encode())
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IPIP) as sock:
        for _ in range(args.count):
            sock.sendto(packet, (args.outer_dst, 0))
            time.sleep(0.05)
    print(json.dumps({"sent": args.count}))
    return 0


def cmd_listen(args):
    received = []
    deadline = time.monotonic() + args.timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((args.address, args.port))
        while time.monotonic() < deadline:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                data = sock.recv(2048).decode(errors="replace")
            except socket.timeout:
                break
            received.append(data)
            if data == args.until:
                break
    print(json.dumps({"received": received}))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    paths = sub.add_parser("paths")
    paths.add_argument("--netns", required=True, help="the pod that pings")
    paths.add_argument("--uplink", required=True)
    paths.add_argument("--count", type=int, default=3)
    paths.add_argument("--attempts", type=int, default=3)
    paths.add_argument("--df", help="pod IP for the don't-fragment pings")
    paths.add_argument("peers", nargs="*")
    send = sub.add_parser("send")
    for name in ("--outer-dst", "--inner-src", "--inner-dst", "--payload"):
        send.add_argument(name, required=True)
    send.add_argument("--port", type=int, required=True)
    send.add_argument("--count", type=int, default=3)
    listen = sub.add_parser("listen")
    listen.add_argument("--address", required=True)
    listen.add_argument("--port", type=int, required=True)
    listen.add_argument("--until", required=True)
    listen.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args(argv)
    return {"paths": cmd_paths, "send": cmd_send, "listen": cmd_listen}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
