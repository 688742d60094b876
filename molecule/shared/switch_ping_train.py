#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A ping train across a mode switch that follows its target pod when the runtime attaches it again.

Sends one ICMP echo request every --interval seconds to the address in --target-file, read again before every
packet (a re-attached pod gets a new address from host-local; the scenario writes it there). Stops after --count
packets or once --stop-file exists, waits --timeout for the last replies, and prints JSON: sent, received, lost,
and every outage (a run of unanswered requests) with its first send time (epoch seconds) and length.
Only addresses inside --allowed are ever sent to. Needs a raw socket (root); run it in the pod's netns.
"""
import argparse
import ipaddress
import json
import os
import select
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b'\0'
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_request(ident, seq):
    header = struct.pack('!BBHHH', 8, 0, 0, ident, seq)
    payload = b'podnet-switch-train'
    return struct.pack('!BBHHH', 8, 0, checksum(header + payload), ident, seq) + payload


def read_target(path, allowed):
    try:
        with open(path) as handle:
            address = ipaddress.IPv4Address(handle.read().strip())
    except (OSError, ValueError):
        return None
    return str(address) if address in allowed else None


def outages(sent, received):
    """Runs of consecutive unanswered requests: [{'start': epoch of the first, 'packets': n}], in order."""
    runs = []
    for seq in sorted(sent):
        if seq in received:
            continue
        if runs and runs[-1]['last'] == seq - 1:
            runs[-1]['last'] = seq
            runs[-1]['packets'] += 1
        else:
            runs.append({'first': seq, 'last': seq, 'start': sent[seq][0], 'packets': 1})
    return runs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--target-file', required=True)
    parser.add_argument('--allowed', required=True, type=ipaddress.IPv4Network)
    parser.add_argument('--count', type=int, required=True)
    parser.add_argument('--interval', type=float, default=0.05)
    parser.add_argument('--timeout', type=float, default=1.0)
    parser.add_argument('--stop-file')
    args = parser.parse_args()
    if not 0 < args.count <= 60000 or args.interval < 0.01:
        sys.exit('count must be 1..60000 and interval at least 0.01 s')

    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident = os.getpid() & 0xFFFF
    sent = {}       # seq -> (epoch sent, target)
    received = {}   # seq -> rtt in ms
    errors = 0
    seq = 0
    next_send = time.monotonic()
    drain_until = None
    while True:
        now = time.monotonic()
        if drain_until is None:
            stopped = args.stop_file and os.path.exists(args.stop_file)
            if seq >= args.count or stopped:
                drain_until = now + args.timeout
            elif now >= next_send:
                target = read_target(args.target_file, args.allowed)
                sent[seq] = (time.time(), target, now)
                if target is not None:
                    try:
                        sock.sendto(echo_request(ident, seq), (target, 0))
                    except OSError:
                        # No route or no address while the pod is re-attached: a lost packet like any other.
                        errors += 1
                seq += 1
                next_send += args.interval
        elif now >= drain_until:
            break
        wait = max(0.0, (drain_until if drain_until is not None else next_send) - time.monotonic())
        ready, _, _ = select.select([sock], [], [], wait)
        if not ready:
            continue
        packet, source = sock.recvfrom(2048)
        header_length = (packet[0] & 0x0F) * 4
        kind, _code, _sum, reply_ident, reply_seq = struct.unpack('!BBHHH', packet[header_length:header_length + 8])
        entry = sent.get(reply_seq)
        if kind == 0 and reply_ident == ident and entry is not None and source[0] == entry[1]:
            received.setdefault(reply_seq, round((time.monotonic() - entry[2]) * 1000, 2))

    runs = outages(sent, received)
    print(json.dumps({
        'sent': len(sent), 'received': len(received), 'lost': len(sent) - len(received), 'send_errors': errors,
        'interval_ms': args.interval * 1000, 'first_sent': sent[0][0] if sent else None,
        'last_sent': sent[seq - 1][0] if sent else None,
        'targets': sorted(set(entry[1] for entry in sent.values() if entry[1])),
        'outages': [{'start': run['start'], 'packets': run['packets'], 'first_seq': run['first'],
                     'ms': round(run['packets'] * args.interval * 1000)} for run in runs],
        'last_lost_seq': runs[-1]['last'] if runs else None,
        'rtt_max_ms': max(received.values()) if received else None,
    }))


if __name__ == '__main__':
    main()
