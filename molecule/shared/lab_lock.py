#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hold the machine's lab lock (flock on /tmp/podnet-lab.lock) for as long as a molecule scenario's VM lab is up.

A VM lab is CPU-heavy and every VM lab of one name shares its SSH ports, so one lab at a time may run on a
machine; whoever boots or stops a lab holds the lock. A scenario spans several ansible-playbook runs (create,
converge, verify, destroy), so no single task can hold it: `take` starts a small holder process that keeps the
lock until `release`, or until the program that runs the playbooks (molecule) exits, whichever comes first.

When the lock is already held by a process this one descends from (`flock /tmp/podnet-lab.lock molecule test
...`), taking it again would wait for ourselves forever: `take` then does nothing, and so does `release`.

    lab_lock.py take STATE_FILE      (blocks until the lock is ours; prints who held it meanwhile)
    lab_lock.py release STATE_FILE
"""
import argparse
import os
import signal
import sys
import time

LOCK_PATH = os.environ.get("PODNET_LAB_LOCK", "/tmp/podnet-lab.lock")
HOLDER_TAG = "podnet-lab-lock-holder"


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return [arg.decode(errors="replace") for arg in handle.read().split(b"\0") if arg]
    except OSError:
        return []


def parent(pid):
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def ancestors(pid):
    chain = []
    pid = parent(pid)
    while pid > 1:
        chain.append(pid)
        pid = parent(pid)
    return chain


def lock_holders(path=LOCK_PATH):
    """Pids that hold a flock on path, from /proc/locks (waiters, shown as '->', excluded)."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return set()
    wanted = (os.major(stat.st_dev), os.minor(stat.st_dev), stat.st_ino)
    holders = set()
    with open("/proc/locks", encoding="ascii") as handle:
        for line in handle:
            fields = line.split()
            if len(fields) < 6 or fields[1] != "FLOCK":
                continue
            major, minor, inode = fields[5].split(":")
            if (int(major, 16), int(minor, 16), int(inode)) == wanted:
                holders.add(int(fields[4]))
    return holders


def playbook_runner(pid):
    """The process that started the ansible-playbook run this process belongs to (molecule), else our parent."""
    chain = ancestors(pid)
    seen_playbook = False
    for ancestor in chain:
        is_playbook = any(os.path.basename(arg) == "ansible-playbook" for arg in cmdline(ancestor)[:2])
        if seen_playbook and not is_playbook:
            return ancestor
        seen_playbook = seen_playbook or is_playbook
    return chain[0] if chain else os.getppid()


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def read_state(path):
    try:
        with open(path, encoding="ascii") as handle:
            return int(handle.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def our_holder(state_file):
    pid = read_state(state_file)
    return pid if pid and alive(pid) and HOLDER_TAG in cmdline(pid) and pid in lock_holders() else 0


def hold(watch, ready_fd):
    """Holder process: take the lock, say so on ready_fd, keep it while `watch` lives."""
    import fcntl  # pylint: disable=import-outside-toplevel
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    lock = open(LOCK_PATH, "a", encoding="ascii")  # noqa: SIM115  (held for the process's life)
    fcntl.flock(lock, fcntl.LOCK_EX)
    os.write(ready_fd, f"locked {os.getpid()}\n".encode())
    os.close(ready_fd)
    while alive(watch):
        time.sleep(1)
    return 0


def take(state_file):
    me = os.getpid()
    held = lock_holders()
    by_caller = held & set(ancestors(me))
    if by_caller:
        print(f"lab lock {LOCK_PATH}: held by the caller (pid {min(by_caller)}), nothing to take")
        return 0
    existing = our_holder(state_file)
    if existing:
        print(f"lab lock {LOCK_PATH}: already held for this scenario by pid {existing}")
        return 0
    watch = playbook_runner(me)
    if held:
        print(f"lab lock {LOCK_PATH}: waiting for pid(s) {sorted(held)}: "
              + "; ".join(" ".join(cmdline(pid))[:120] for pid in sorted(held)), flush=True)
    read_fd, write_fd = os.pipe()
    started = time.monotonic()
    child = os.fork()
    if child == 0:
        # Detach: a session of its own, and no pipe of the caller's left open (Ansible waits for their EOF).
        os.close(read_fd)
        os.setsid()
        if os.fork():
            os._exit(0)  # pylint: disable=protected-access
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.closerange(3, write_fd)
        os.closerange(write_fd + 1, 1024)
        os.set_inheritable(write_fd, True)
        os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), "hold", str(watch), str(write_fd),
                                  HOLDER_TAG])
    os.close(write_fd)
    os.waitpid(child, 0)
    with os.fdopen(read_fd, "rb") as ready:
        answer = ready.readline().split()
    if len(answer) != 2 or answer[0] != b"locked":
        print(f"lab lock {LOCK_PATH}: the holder process failed", file=sys.stderr)
        return 1
    holder = int(answer[1])
    with open(state_file, "w", encoding="ascii") as handle:
        handle.write(f"{holder}\n")
    print(f"lab lock {LOCK_PATH}: taken after {time.monotonic() - started:.0f}s, held by pid {holder} "
          f"until release or until pid {watch} ({' '.join(cmdline(watch))[:80]}) exits")
    return 0


def release(state_file):
    holder = our_holder(state_file)
    if holder:
        os.kill(holder, signal.SIGTERM)
        for _ in range(50):
            if not alive(holder):
                break
            time.sleep(0.1)
        print(f"lab lock {LOCK_PATH}: released (pid {holder})")
    else:
        print(f"lab lock {LOCK_PATH}: not held for this scenario, nothing to release")
    if os.path.exists(state_file):
        os.remove(state_file)
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "hold":
        return hold(int(argv[1]), int(argv[2]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("action", choices=["take", "release"])
    parser.add_argument("state_file", help="where the holder's pid is kept (the scenario's ephemeral directory)")
    args = parser.parse_args(argv)
    return take(args.state_file) if args.action == "take" else release(args.state_file)


if __name__ == "__main__":
    sys.exit(main())
