#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pod matrix of molecule/shared/pod_matrix.yml on one node, in two commands instead of one task per packet
(each task is a round trip: a podman exec on the container labs, seconds on the emulated VMs), with lab/probe.py
(installed as /usr/local/lib/podnet-probe.py) as the TCP end points. Reported as JSON for the playbook to judge.

serve-pods: one server per pod of --pods ({name: ip}) expecting --count connections; prints {pod: <serve's report>}.
matrix:     connects (TCP, up to 5 tries a second apart) and pings once from every pod of --pods to every other pod
            of --targets, pings --remote pods from the node and reads the node's path to them; prints
            {"tcp": {"src>dst": report}, "icmp": {"src>dst": {"rc", "ttl"}}, "node_icmp": {dst: rc},
             "paths": {dst: {"dev", "gateway"}}}.
"""
import argparse
import json
import re
import subprocess
import sys
import time


def run(*argv):
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def ip_json(*argv):
    result = run("ip", "-json", *argv)
    return json.loads(result.stdout) if result.returncode == 0 and result.stdout.strip() else []


TCP_PROBE = "/usr/local/lib/podnet-probe.py"


def cmd_serve_pods(args):
    servers = {pod: subprocess.Popen(["ip", "netns", "exec", pod, "python3", TCP_PROBE, "serve", ip, str(args.port),
                                      "--count", str(args.count), "--timeout", str(args.timeout)],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for pod, ip in json.loads(args.pods).items()}
    report = {}
    for pod, server in servers.items():
        output = server.communicate()[0]
        try:
            report[pod] = json.loads(output)
        except ValueError:
            report[pod] = {"error": output.strip()}
    print(json.dumps(report))
    return 0


def cmd_matrix(args):
    pods, targets = json.loads(args.pods), json.loads(args.targets)
    report = {"tcp": {}, "icmp": {}, "node_icmp": {}, "paths": {}}
    for source, source_ip in pods.items():
        for target, target_ip in targets.items():
            if target == source:
                continue
            for _ in range(5):
                result = run("ip", "netns", "exec", source, "python3", TCP_PROBE, "connect", target_ip, str(args.port),
                             "--timeout", "5")
                if result.returncode == 0:
                    break
                time.sleep(1)
            try:
                report["tcp"][f"{source}>{target}"] = json.loads(result.stdout)
            except ValueError:
                report["tcp"][f"{source}>{target}"] = {"error": (result.stdout + result.stderr).strip()}
            echo = run("ip", "netns", "exec", source, "ping", "-n", "-c", "1", "-W", "2", target_ip)
            ttl = re.search(r"ttl=(\d+)", echo.stdout)
            report["icmp"][f"{source}>{target}"] = {"rc": echo.returncode, "ttl": int(ttl.group(1)) if ttl else None}
    for target, target_ip in json.loads(args.remote).items():
        report["node_icmp"][target] = run("ping", "-n", "-c", "1", "-W", "2", target_ip).returncode
        route = (ip_json("route", "get", target_ip) or [{}])[0]
        report["paths"][target] = {"dev": route.get("dev"), "gateway": route.get("gateway")}
    print(json.dumps(report))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve_pods = sub.add_parser("serve-pods")
    serve_pods.add_argument("--pods", required=True, help="JSON {pod: ip}")
    serve_pods.add_argument("--port", type=int, required=True)
    serve_pods.add_argument("--count", type=int, required=True)
    serve_pods.add_argument("--timeout", type=float, default=90)
    matrix = sub.add_parser("matrix")
    for name in ("--pods", "--targets", "--remote"):
        matrix.add_argument(name, required=True, help="JSON {pod: ip}")
    matrix.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    return {"serve-pods": cmd_serve_pods, "matrix": cmd_matrix}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
