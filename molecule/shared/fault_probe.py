#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Packets across a fault, reported as JSON. Lab only: every address it is given is a lab pod's.

train NETNS ADDRESS STOP_FILE: ping ADDRESS from pod NETNS every --interval seconds until STOP_FILE exists (or
    --max seconds passed), through errors; print what was sent and received and the longest run of lost echoes, in seconds, which
    is the outage the pair saw.
reach PODS_JSON: from every local pod (PODS_JSON "local": the pods' names, which are their netns) ping every
    other pod of the cluster ("all": name -> address) once, again and again until all answer or --max seconds
    passed; print the pairs that never answered and how long it took. With --up DEVICE, set DEVICE up first and
    count from then.
interrupt LOG PATTERN COMMAND...: run COMMAND (on the controller: ansible-playbook) in a session of its own, its
    output to LOG, and kill its whole process group with SIGKILL as soon as a line of output matches PATTERN (as a
    terminal that dies or a CI job that is cancelled would); print when, and the line.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

REPLY = re.compile(r'^\[(\d+\.\d+)\] .*bytes from .*icmp_seq=(\d+) ', re.M)


def train(netns, address, stop_file, interval, longest):
    # No -w: with a deadline, ping exits at its first error (an unreachable network, an ICMP error), which is
    # exactly when the train must go on; the train's own limit is `longest`.
    # -D: each reply with its time, as ping sends more slowly while echoes go unanswered.
    command = ['ip', 'netns', 'exec', netns, 'ping', '-n', '-D', '-i', str(interval), '-W', '1', address]
    started = time.time()
    ping = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    while ping.poll() is None and not os.path.exists(stop_file) and time.time() - started < longest:
        time.sleep(0.2)
    if ping.poll() is None:
        ping.send_signal(2)  # SIGINT: ping prints its summary and exits
    out = ping.communicate()[0]
    stopped = time.time()
    replies = sorted(set((int(seq), float(at)) for at, seq in REPLY.findall(out)))
    received = [seq for seq, at in replies]
    sent = re.search(r'(\d+) packets transmitted', out)
    sent = int(sent.group(1)) if sent else 0
    # The longest time without a reply, in seconds, the tail included (a pair that never came back): the outage.
    times = [started] + [at for seq, at in replies] + [stopped]
    longest_gap = max(later - earlier for earlier, later in zip(times, times[1:]))
    return {'netns': netns, 'address': address, 'sent': sent, 'received': len(received),
            'lost': sent - len(received), 'outage_s': round(max(longest_gap - interval, 0), 1),
            'back_at_end': bool(received) and received[-1] >= sent - 2, 'seconds': round(time.time() - started, 1)}


def ping_once(netns, address):
    return subprocess.run(['ip', 'netns', 'exec', netns, 'ping', '-n', '-c', '1', '-W', '1', address],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def reach(pods, longest, up=None):
    if up:
        subprocess.run(['ip', 'link', 'set', 'dev', up, 'up'], check=True)
    started = time.time()
    pending = [(source, name, address) for source in sorted(pods['local'])
               for name, address in sorted(pods['all'].items()) if name != source]
    while True:
        answered = set()
        lock = threading.Lock()

        def probe(pair):
            if ping_once(pair[0], pair[2]):
                with lock:
                    answered.add(pair)

        threads = [threading.Thread(target=probe, args=(pair,)) for pair in pending]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        pending = [pair for pair in pending if pair not in answered]
        if not pending or time.time() - started > longest:
            break
        time.sleep(0.5)
    return {'failed': ['%s -> %s' % (source, name) for source, name, dummy in pending],
            'seconds': round(time.time() - started, 1)}


def interrupt(log, pattern, command, longest):
    started = time.time()
    matched = None
    with open(log, 'w') as out:
        run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
        for line in run.stdout:
            out.write(line)
            if re.search(pattern, line):
                matched = line.strip()
                os.killpg(run.pid, signal.SIGKILL)
                break
            if time.time() - started > longest:
                break
        if matched is None and run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    return {'matched': matched, 'rc': run.returncode, 'killed_after_s': round(time.time() - started, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='action', required=True)
    one = sub.add_parser('train')
    one.add_argument('netns')
    one.add_argument('address')
    one.add_argument('stop_file')
    one.add_argument('--interval', type=float, default=0.1)
    one.add_argument('--max', type=int, default=240)
    every = sub.add_parser('reach')
    every.add_argument('pods')
    every.add_argument('--max', type=int, default=20)
    every.add_argument('--up')
    cut = sub.add_parser('interrupt')
    cut.add_argument('log')
    cut.add_argument('pattern')
    cut.add_argument('command', nargs=argparse.REMAINDER)
    cut.add_argument('--max', type=int, default=300)
    args = parser.parse_args()
    if args.action == 'interrupt':
        result = interrupt(args.log, args.pattern, args.command, args.max)
    elif args.action == 'train':
        result = train(args.netns, args.address, args.stop_file, args.interval, args.max)
    else:
        result = reach(json.loads(args.pods), args.max, args.up)
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
