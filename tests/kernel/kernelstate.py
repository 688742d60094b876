# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run ip and read kernel state for test setup and assertions, independently of the modules under test."""
import json
import subprocess


def ip(*args, netns=None, check=True):
    """Run ip (optionally in a namespace); return stdout."""
    cmd = ['ip'] + (['-n', netns] if netns else []) + list(args)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError('%s failed: %s' % (' '.join(cmd), proc.stderr))
    return proc.stdout


def ip_json(*args, netns=None):
    out = ip('-json', *args, netns=netns).strip()
    return json.loads(out) if out else []


def link(name, netns):
    """Details of one link, or None when it does not exist."""
    for entry in ip_json('-details', 'link', 'show', netns=netns):
        if entry['ifname'] == name:
            return entry
    return None


def addresses(name, netns):
    """Sorted CIDR strings on a link, without kernel-made IPv6 link-local ones."""
    entries = ip_json('address', 'show', 'dev', name, netns=netns)
    return sorted('%s/%d' % (a['local'], a['prefixlen']) for a in entries[0]['addr_info']
                  if not (a['family'] == 'inet6' and a['scope'] == 'link'))


def routes(netns, table='main', proto=None):
    """{dst: entry} of the IPv4 routes in a table (numeric protocol), optionally of one protocol only."""
    entries = ip_json('-N', '-details', 'route', 'show', 'table', str(table), netns=netns)
    return dict((e['dst'], e) for e in entries if proto is None or int(e['protocol']) == proto)


def ipip_answer(netns):
    """stderr of creating (and at once deleting) a throwaway tunnel: '' when the kernel has ipip."""
    proc = subprocess.run(['ip', '-n', netns, 'link', 'add', 'pnt-probe', 'type', 'ipip', 'remote', '10.100.0.99'],
                          capture_output=True, text=True, check=False)
    if proc.returncode == 0:
        ip('link', 'delete', 'pnt-probe', netns=netns)
        return ''
    return proc.stderr
