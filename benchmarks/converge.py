#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Converge time of site.yml over SSH: first converge and no-op rerun, next to a trivial play on the same hosts.

For each mode, size and checkout of the collection, one phase under the lab lock (/tmp/podnet-lab.lock, released
between phases): a container lab (lab/podnet_lab.py) of that many fresh hosts on one rack is built; each host gets
sshd as a lab tool from the lab's own package source, and the controller joins the rack bridge with one address
(.250), so Ansible reaches every host over SSH on its rack address, the way racks are reached (no podman
connection, nothing outside the lab). Then one warm-up of the trivial play (gather network facts + one ping), the
first converge of site.yml, REPEATS pairs of (trivial play, no-op rerun) alternately, so each ratio compares two
runs of the same moment, and the lab goes down. (One lab per phase: about 23 systemd containers exhaust this
machine's fs.inotify.max_user_instances of 128, so all sizes cannot be up at once.) Every podnet run uses the json callback: its task
durations are the per-task profile and its stats prove the rerun changed nothing (a rerun that reports a change
makes the script exit 1).

With --baseline DIR (another checkout of the collection, e.g. the commit before a change) the sizes in
--baseline-sizes of the modes in --baseline-modes are measured once more, on fresh hosts, with that checkout's
site.yml, right after the same size with the measured checkout.

    PODNET_LAB_IMAGE=... PODNET_LAB_CACHE=... .venv/bin/python benchmarks/converge.py --modes hostgw --sizes 2 4 8 16 \
        --baseline /tmp/podnet-base

Generated inventories and keys live in .lab/converge/ (or --work).
"""

import argparse
import contextlib
import fcntl
import json
import os
import statistics
import subprocess
import sys
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.join(ROOT, 'lab', 'podnet_lab.py')
LOCK = '/tmp/podnet-lab.lock'
SUBNET = '10.89.250'
CONTROLLER_OCTET = 250
FIRST_OCTET = 11
PODMAN = ['podman', '--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file']
MODE_VARS = {
    'bridge': {},
    'hostgw': {},
    'bgp': {'podnet_bgp_as': 64512, 'podnet_bgp_password': 'lab-only-md5-secret'},
}
TRIVIAL = """\
- name: Trivial play - gather network facts and one no-op task
  hosts: podnet_nodes
  gather_facts: true
  gather_subset:
    - "!all"
    - network
  tasks:
    - name: No-op
      ansible.builtin.ping:
"""


def log(text):
    print('[%s] %s' % (time.strftime('%H:%M:%S'), text), file=sys.stderr, flush=True)


def load():
    return ' '.join('%.2f' % value for value in os.getloadavg())


GIVE_UP_AT = None   # epoch seconds: stop waiting for the lab lock then (--give-up-at)


@contextlib.contextmanager
def lab_lock(what):
    started = time.monotonic()
    with open(LOCK, 'a') as handle:
        if GIVE_UP_AT is None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        else:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.time() > GIVE_UP_AT:
                        raise SystemExit('%s: the lab lock was not free before %s; stopping'
                                         % (what, time.strftime('%H:%M', time.localtime(GIVE_UP_AT))))
                    time.sleep(2)
        log('lock taken for %s after %.0f s' % (what, time.monotonic() - started))
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run(argv, **kwargs):
    return subprocess.run(argv, check=True, text=True, **kwargs)


def host_names(size, prefix='c'):
    return ['%s%d-n%d' % (prefix, size, index + 1) for index in range(size)]


def lab_inventory(mode, sizes, baseline_sizes=()):
    hosts, octet = {}, FIRST_OCTET
    for size, prefix in [(size, 'c') for size in sizes] + [(size, 'b') for size in baseline_sizes]:
        for name in host_names(size, prefix):
            hosts[name] = {'podnet_node_ip': '%s.%d' % (SUBNET, octet), 'podnet_uplink': 'ens5', 'podnet_rack': 'r1'}
            octet += 1
    return {'all': {'vars': {'podnet_lab': {'name': 'cv-' + mode, 'racks': {'r1': {'subnet': SUBNET + '.0/24'}}}},
                    'children': {'podnet_nodes': {'hosts': hosts}}}}


def ssh_inventory(mode, size, lab, key, prefix='c'):
    hosts = dict((name, dict(lab['all']['children']['podnet_nodes']['hosts'][name]))
                 for name in host_names(size, prefix))
    for spec in hosts.values():
        spec['ansible_host'] = spec['podnet_node_ip']
    variables = {'ansible_user': 'root', 'ansible_ssh_private_key_file': key,
                 'ansible_ssh_common_args': '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null',
                 'ansible_python_interpreter': '/usr/bin/python3',
                 'podnet_mode': mode, 'podnet_cluster_cidr': '10.244.0.0/16'}
    variables.update(MODE_VARS[mode])
    return {'all': {'vars': variables, 'children': {'podnet_nodes': {'hosts': hosts}}}}


def write_yaml(path, data):
    with open(path, 'w') as handle:
        yaml.safe_dump(data, handle, default_flow_style=False, sort_keys=False)


def lab_up(lab_path, lab, key):
    run([sys.executable, LAB, 'up', '-i', lab_path], stdout=subprocess.DEVNULL)
    name = lab['all']['vars']['podnet_lab']['name']
    containers = ['podnet-%s-%s' % (name, host) for host in lab['all']['children']['podnet_nodes']['hosts']]
    with open(key + '.pub') as handle:
        public = handle.read()
    # sshd is a lab tool (LAB_TOOL_PACKAGES in lab/podnet_lab.py), served by the lab's package source.
    script = ('apt-get install -y -qq --no-install-recommends openssh-server >/dev/null && '
              'mkdir -p -m 0700 /root/.ssh && cat > /root/.ssh/authorized_keys && systemctl start ssh')
    for start in range(0, len(containers), 8):
        procs = [subprocess.Popen([*PODMAN, 'exec', '-i', '-e', 'DEBIAN_FRONTEND=noninteractive', container,
                                   'sh', '-c', script], stdin=subprocess.PIPE, text=True)
                 for container in containers[start:start + 8]]
        for proc in procs:
            proc.communicate(public)
            if proc.returncode:
                raise SystemExit('installing sshd in a lab host failed')
    bridge = run([*PODMAN, 'network', 'inspect', '-f', '{{.NetworkInterface}}', 'podnet-%s-r1' % name],
                 capture_output=True).stdout.strip()
    # The controller joins the rack (like a management station on the racks' network) to reach hosts over SSH.
    run(['ip', 'addr', 'replace', '%s.%d/24' % (SUBNET, CONTROLLER_OCTET), 'dev', bridge])
    return containers


def lab_down(lab_path):
    run([sys.executable, LAB, 'down', '-i', lab_path], stdout=subprocess.DEVNULL)


def playbook(project, inventory, play, check_changed=None):
    """Wall seconds of one ansible-playbook run and its json callback report."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(project, 'ansible.cfg'),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(project, '.collections'),
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', ANSIBLE_HOST_KEY_CHECKING='False',
               ANSIBLE_SSH_CONTROL_PATH_DIR=os.path.join(os.path.dirname(inventory), 'cp'))
    started = time.perf_counter()
    done = subprocess.run([os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook'), '-i', inventory, play],
                          cwd=project, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    try:
        report = json.loads(done.stdout)
    except ValueError:
        raise SystemExit('ansible-playbook %s gave no json report (rc %d):\n%s\n%s'
                         % (play, done.returncode, done.stdout[-3000:], done.stderr[-3000:]))
    stats = report.get('stats', {})
    if done.returncode or any(s.get('failures') or s.get('unreachable') for s in stats.values()):
        raise SystemExit('ansible-playbook %s failed (rc %d): %s' % (play, done.returncode,
                                                                      json.dumps(failures(report))[-3000:]))
    changed = sum(s.get('changed', 0) for s in stats.values())
    if check_changed is not None and changed != check_changed:
        raise SystemExit('%s: %d changed results, expected %d: %s' % (play, changed, check_changed,
                                                                       json.dumps(changed_tasks(report))))
    return wall, report


def failures(report):
    return [(t['task']['name'], h, r.get('msg')) for p in report.get('plays', []) for t in p['tasks']
            for h, r in t['hosts'].items() if r.get('failed') or r.get('unreachable')]


def changed_tasks(report):
    return [(t['task']['name'], h) for p in report.get('plays', []) for t in p['tasks']
            for h, r in t['hosts'].items() if r.get('changed')]


def seconds(stamp):
    from datetime import datetime
    return datetime.fromisoformat(stamp.replace('Z', '+00:00')).timestamp()


def task_profile(report):
    """[(task name, seconds, hosts that ran it, hosts skipped)] from the json callback, in play order."""
    rows = []
    for play in report.get('plays', []):
        for task in play['tasks']:
            duration = task['task'].get('duration') or {}
            if 'start' not in duration or 'end' not in duration:
                continue
            results = task['hosts'].values()
            ran = sum(1 for r in results if not r.get('skipped'))
            rows.append((task['task']['name'], seconds(duration['end']) - seconds(duration['start']), ran,
                         len(task['hosts']) - ran))
    return rows


class Cluster(object):
    """One set of fresh hosts of one size, converged by one checkout of the collection."""

    def __init__(self, project, work, mode, size, lab, key, prefix):
        self.project, self.mode, self.size = project, mode, size
        directory = os.path.join(work, '%s-%s%d' % (mode, prefix, size))
        os.makedirs(os.path.join(directory, 'cp'), exist_ok=True)
        self.inventory = os.path.join(directory, 'inventory.yml')
        write_yaml(self.inventory, ssh_inventory(mode, size, lab, key, prefix))
        self.trivial = os.path.join(directory, 'trivial.yml')
        with open(self.trivial, 'w') as handle:
            handle.write(TRIVIAL)
        self.site = os.path.join(project, 'site.yml')
        self.trivials, self.reruns, self.profiles = [], [], []

    def first(self):
        playbook(self.project, self.inventory, self.trivial)   # warm-up: SSH masters, page cache
        self.first_converge, _ = playbook(self.project, self.inventory, self.site)

    def pair(self):
        self.trivials.append(playbook(self.project, self.inventory, self.trivial, check_changed=0)[0])
        wall, report = playbook(self.project, self.inventory, self.site, check_changed=0)
        self.reruns.append(wall)
        self.profiles.append(task_profile(report))

    def result(self, label, load_before):
        ratios = [rerun / base for rerun, base in zip(self.reruns, self.trivials)]
        trivial = statistics.median(self.trivials)
        return {'label': label, 'mode': self.mode, 'size': self.size, 'first': self.first_converge,
                'trivial': trivial, 'rerun': statistics.median(self.reruns), 'ratio': statistics.median(ratios),
                'first_ratio': self.first_converge / trivial, 'load_before': load_before, 'load_after': load(),
                'profile': median_profile(self.profiles)}


def measure(clusters, repeats):
    """Results of every cluster (label -> Cluster) of one size, their runs interleaved."""
    load_before = load()
    for cluster in clusters.values():
        cluster.first()
    for _ in range(repeats):
        for cluster in clusters.values():
            cluster.pair()
    return [cluster.result(label, load_before) for label, cluster in clusters.items()]


def median_profile(profiles):
    names = [row[0] for row in profiles[0]]
    rows = []
    for index, name in enumerate(names):
        values = [profile[index][1] for profile in profiles if len(profile) > index and profile[index][0] == name]
        rows.append((name, statistics.median(values), profiles[0][index][2], profiles[0][index][3]))
    return rows


def table(results):
    lines = ['| mode | hosts | site.yml of | trivial play (s) | first converge (s) | no-op rerun (s) | first / trivial '
             '| **rerun / trivial** | load before -> after |',
             '|---|---:|---|---:|---:|---:|---:|---:|---|']
    for r in results:
        lines.append('| %s | %d | %s | %.1f | %.1f | %.1f | %.1fx | **%.2fx** | %s -> %s |' % (
            r['mode'], r['size'], r['label'], r['trivial'], r['first'], r['rerun'], r['first_ratio'], r['ratio'],
            r['load_before'], r['load_after']))
    return '\n'.join(lines)


def profile_table(result, top):
    rows = sorted(result['profile'], key=lambda row: -row[1])
    total = sum(row[1] for row in result['profile'])
    lines = ['%s, %d hosts, site.yml of %s, no-op rerun: %d tasks, %.1f s in tasks (median of the reruns)' % (
        result['mode'], result['size'], result['label'], len(result['profile']), total),
        '', '| task | s | share | hosts ran / skipped |', '|---|---:|---:|---|']
    for name, value, ran, skipped in rows[:top]:
        lines.append('| %s | %.2f | %.0f%% | %d / %d |' % (name, value, 100 * value / total if total else 0, ran,
                                                        skipped))
    return '\n'.join(lines)


def phases(args, project, baseline):
    """(mode, size, checkout, host prefix) per lab phase: --phases in its order, else every mode and size."""
    if args.phases:
        for spec in args.phases:
            parts = spec.split(':')
            if len(parts) not in (2, 3) or parts[0] not in MODE_VARS or (parts[2:] and parts[2] != 'base'):
                raise SystemExit('--phases %s: use MODE:SIZE or MODE:SIZE:base' % spec)
            if parts[2:] and not baseline:
                raise SystemExit('--phases %s needs --baseline' % spec)
            yield (parts[0], int(parts[1])) + ((baseline, 'b') if parts[2:] else (project, 'c'))
        return
    for mode in args.modes:
        base_sizes = (args.baseline_sizes or args.sizes) if baseline and mode in args.baseline_modes else []
        for size in args.sizes:
            yield mode, size, project, 'c'
            if size in base_sizes:
                yield mode, size, baseline, 'b'


def describe(path):
    done = subprocess.run(['git', '-C', path, 'log', '-1', '--format=%h'], capture_output=True, text=True, check=False)
    stamp = os.path.join(path, '.commit')
    if done.returncode == 0 and done.stdout.strip():
        return done.stdout.strip()
    if os.path.exists(stamp):
        with open(stamp) as handle:
            return handle.read().strip()
    return os.path.basename(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--modes', nargs='+', default=['bridge', 'hostgw', 'bgp'], choices=sorted(MODE_VARS))
    parser.add_argument('--sizes', nargs='+', type=int, default=[2, 4, 8, 16])
    parser.add_argument('--repeats', type=int, default=3, help='(trivial, rerun) pairs per size')
    parser.add_argument('--project', default=ROOT, help='checkout of the collection whose site.yml is measured')
    parser.add_argument('--baseline', help='another checkout, measured on its own fresh hosts in the same phases')
    parser.add_argument('--baseline-modes', nargs='+', default=['hostgw'], choices=sorted(MODE_VARS))
    parser.add_argument('--baseline-sizes', nargs='+', type=int, help='sizes with a baseline (default: --sizes)')
    parser.add_argument('--work', default=os.path.join(ROOT, '.lab', 'converge'))
    parser.add_argument('--phases', nargs='+', metavar='MODE:SIZE[:base]',
                        help='lab phases in this order instead of every mode and size (":base": the baseline)')
    parser.add_argument('--give-up-at', metavar='HH:MM', help='stop waiting for the lab lock at this time today')
    parser.add_argument('--profile-top', type=int, default=12)
    parser.add_argument('--output', help='also write the tables (markdown) here')
    args = parser.parse_args()
    project = os.path.abspath(args.project)
    if args.give_up_at:
        global GIVE_UP_AT
        hour, minute = (int(part) for part in args.give_up_at.split(':'))
        now = time.localtime()
        GIVE_UP_AT = time.mktime((now.tm_year, now.tm_mon, now.tm_mday, hour, minute, 0, 0, 0, -1))
    baseline = os.path.abspath(args.baseline) if args.baseline else None
    labels = {project: describe(project)}
    if baseline:
        labels[baseline] = describe(baseline)
    os.makedirs(args.work, exist_ok=True)
    key = os.path.join(args.work, 'id_ed25519')
    if not os.path.exists(key):
        run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', key])
    results = []
    head = 'site.yml of %s; load average before: %s; %d CPUs' % (
        ', '.join('%s (%s)' % (label, path) for path, label in labels.items()), load(), os.cpu_count())
    log(head)
    for mode, size, path, prefix in phases(args, project, baseline):
        lab = lab_inventory(mode, [size] if prefix == 'c' else [], [size] if prefix == 'b' else [])
        lab_path = os.path.join(args.work, 'lab-%s.yml' % mode)
        write_yaml(lab_path, lab)
        cluster = Cluster(path, args.work, mode, size, lab, key, prefix)
        with lab_lock('%s, %d hosts, %s' % (mode, size, labels[path])):
            try:
                lab_up(lab_path, lab, key)
                measured = measure({labels[path]: cluster}, args.repeats)
            finally:
                lab_down(lab_path)
        results += measured
        for line in table(measured).splitlines()[2:]:
            log(line)
        # Kept current after every phase, so an interrupted run still leaves its tables.
        write_report(args.output, report_text(head, results, sorted(set(r['mode'] for r in results)),
                                              args.profile_top))
    output = report_text(head, results, sorted(set(r['mode'] for r in results)), args.profile_top)
    print(output)
    write_report(args.output, output)
    return 0


def report_text(head, results, modes, top):
    text = [head, '', table(results), '']
    for mode in modes:
        sizes = [r['size'] for r in results if r['mode'] == mode]
        if not sizes:
            continue
        for result in [r for r in results if r['mode'] == mode and r['size'] == max(sizes)]:
            text += [profile_table(result, top), '']
    text.append('Load average after: %s' % load())
    return '\n'.join(text)


def write_report(path, text):
    if path:
        with open(path, 'w') as handle:
            handle.write(text + '\n')


if __name__ == '__main__':
    sys.exit(main())
