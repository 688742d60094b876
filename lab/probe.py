#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One TCP exchange between lab hosts or pods, reported as JSON: who connected, from which address.

serve:   accept --count connections on ADDRESS:PORT, answer each, print {"peers": [<source address seen>, ...]}.
connect: connect to ADDRESS:PORT, print {"local": <own source address>, "reply": <answer>}.
Both give up after --timeout seconds; a failure exits 1 with {"error": ...}.
"""
import argparse
import json
import socket
import sys


def serve(address, port, timeout, count):
    peers = []
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.settimeout(timeout)
        listener.bind((address, port))
        listener.listen(count)
        while len(peers) < count:
            connection, peer = listener.accept()
            with connection:
                connection.settimeout(timeout)
                connection.recv(64)
                connection.sendall(b'podnet-pong')
            peers.append(peer[0])
    return {'peers': peers}


def connect(address, port, timeout, count=None):
    with socket.create_connection((address, port), timeout=timeout) as connection:
        connection.sendall(b'podnet-ping')
        reply = connection.recv(64).decode()
        return {'local': connection.getsockname()[0], 'reply': reply}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('action', choices=['serve', 'connect'])
    parser.add_argument('address')
    parser.add_argument('port', type=int)
    parser.add_argument('--timeout', type=float, default=20.0)
    parser.add_argument('--count', type=int, default=1, help='connections to accept (serve)')
    args = parser.parse_args()
    try:
        outcome = (serve if args.action == 'serve' else connect)(args.address, args.port, args.timeout, args.count)
    except OSError as error:
        print(json.dumps({'error': str(error)}))
        return 1
    print(json.dumps(outcome))
    return 0


if __name__ == '__main__':
    sys.exit(main())
