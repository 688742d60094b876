#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print, as JSON, the kernel state podnet owns on this host, in a form two boots can be compared in.

    podnet_state.py UPLINK

Only IPv4, as podnet (IPv6 link-local addresses follow the new MACs). Links: podnet's (alias podnet.netmodes) and
the uplink, with kind, MTU, alias and whether they are set up; not their MAC (a new network stack gives the uplink a
new one) nor their carrier (a bridge without ports has none). Addresses of those links. Routes: podnet's (proto 94,
every table) and every route of those links (the kernel's subnet and local routes included); not BIRD's (they come
back with its sessions, which are checked by themselves) and without the "linkdown" flag. nftables: podnet's tables
(named podnet*), without handles and counter values.
"netns": the inode of this host's network namespace, to tell a fresh network stack from the old one.
"""
import json
import os
import subprocess
import sys

OWNER_MARK = "podnet.netmodes"
PODNET_PROTO = ("94", "podnet")


def run_json(*argv):
    return json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout or "[]")


def strip(value):
    """The nft JSON without what differs between two tables of the same text: handles and counter values."""
    if isinstance(value, dict):
        if set(value) == {"counter"} and isinstance(value["counter"], dict):
            return {"counter": {}}
        return {key: strip(item) for key, item in value.items() if key != "handle"}
    if isinstance(value, list):
        return [strip(item) for item in value]
    return value


def podnet_nft():
    objects = []
    for item in run_json("nft", "-j", "list", "ruleset").get("nftables", []):
        kind, body = next(iter(item.items()))
        table = body.get("name") if kind == "table" else body.get("table")
        if kind != "metainfo" and str(table).startswith("podnet"):
            objects.append(strip(item))
    return sorted(objects, key=lambda obj: json.dumps(obj, sort_keys=True))


def main(uplink):
    links = [link for link in run_json("ip", "-d", "-json", "link", "show")
             if link.get("ifalias") == OWNER_MARK or link["ifname"] == uplink]
    names = {link["ifname"] for link in links}
    addresses = sorted(f"{link['ifname']} {addr['local']}/{addr['prefixlen']} {addr.get('scope')}"
                       for link in run_json("ip", "-4", "-json", "address", "show") if link["ifname"] in names
                       for addr in link.get("addr_info", []))
    routes = []
    for route in run_json("ip", "-4", "-json", "route", "show", "table", "all"):
        ours = str(route.get("protocol")) in PODNET_PROTO
        if not ours and (route.get("dev") not in names or route.get("protocol") == "bird"):
            continue
        route["flags"] = sorted(flag for flag in route.get("flags", []) if flag != "linkdown")
        routes.append(route)
    state = {
        "netns": os.stat("/proc/self/ns/net").st_ino,
        "links": sorted(({"ifname": link["ifname"], "kind": link.get("linkinfo", {}).get("info_kind"),
                          "mtu": link["mtu"], "alias": link.get("ifalias"), "up": "UP" in link.get("flags", [])}
                         for link in links), key=lambda link: link["ifname"]),
        "addresses": addresses,
        "routes": sorted(routes, key=lambda route: json.dumps(route, sort_keys=True)),
        "nftables": podnet_nft(),
    }
    print(json.dumps(state, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1])
