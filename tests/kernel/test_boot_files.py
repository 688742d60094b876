# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Boot files of ip_link and ip_routes against real network namespaces: apply, "reboot", restore, compare.

A reboot of a node's network state is played by deleting its namespace and adding a new one of the same name; the
uplink is then configured again as the OS would, and podnet-network.service's own ExecStart runs inside the
namespace on the test's boot directory (the podnet-replay it names is this repository's). A link set down and up
again is answered by what podnet-linkwatch.service runs for each link change. The modules run inside the namespace (nsenter), as on a host: boot files
are only for the host's namespace.
"""
import json
import os
import shlex
import signal
import subprocess
import time

import pytest

from kernelstate import ip, ip_json
from moduleexec import REPO_ROOT, run_module

UNIT = os.path.join(REPO_ROOT, 'roles', 'common', 'files', 'podnet-network.service')
WATCH_UNIT = os.path.join(REPO_ROOT, 'roles', 'common', 'files', 'podnet-linkwatch.service')
REPLAY = '/usr/local/sbin/podnet-replay'
REPLAY_SOURCE = os.path.join(REPO_ROOT, 'roles', 'common', 'files', 'podnet-replay')
UNIT_BOOT_DIR = '/etc/podnet/iproute2'
HEADER = '# Written by podnet.netmodes %s; applied at boot by podnet-network.service.\n'


def exec_start(unit):
    """The unit's ExecStart as argv."""
    with open(unit) as handle:
        lines = [line for line in handle.read().splitlines() if line.startswith('ExecStart=')]
    assert len(lines) == 1, lines
    # systemd unquotes like a shell here and turns "$$" into "$".
    return shlex.split(lines[0][len('ExecStart='):].replace('$$', '$'))


def unit_command(boot_dir):
    """podnet-network.service's ExecStart as argv, reading ``boot_dir`` instead of /etc/podnet/iproute2."""
    argv = exec_start(UNIT)
    assert argv[0] == REPLAY, argv
    return ['/bin/sh', REPLAY_SOURCE] + [arg.replace(UNIT_BOOT_DIR, str(boot_dir)) for arg in argv[1:]]


def watch_command(links_file, boot_dir):
    """podnet-linkwatch.service's ExecStart as argv, reading ``links_file`` and ``boot_dir``."""
    argv = exec_start(WATCH_UNIT)
    assert argv[:3] == [REPLAY, 'watch', '/etc/podnet/linkwatch.links'] and argv[3:] == [UNIT_BOOT_DIR], argv
    return ['/bin/sh', REPLAY_SOURCE, 'watch', str(links_file), str(boot_dir)]


def run_unit(netns, boot_dir):
    """Run the unit's command in the namespace, as systemd would at boot; the CompletedProcess."""
    return subprocess.run(['nsenter', '--net=/run/netns/%s' % netns] + unit_command(boot_dir),
                          capture_output=True, text=True, check=False, timeout=60)


def reboot(netns, uplink=True):
    """A fresh network stack under the same name; with ``uplink``, configured as the OS would before the unit."""
    ip('netns', 'delete', netns)
    ip('netns', 'add', netns)
    ip('link', 'set', 'lo', 'up', netns=netns)
    if uplink:
        add_uplink(netns)


def add_uplink(netns):
    """ens5 with the node's address (a veth whose other end stays in the namespace: no dummy on this kernel)."""
    ip('link', 'add', 'ens5', 'type', 'veth', 'peer', 'name', 'ens5-wire', netns=netns)
    ip('address', 'add', '10.89.20.11/24', 'dev', 'ens5', netns=netns)
    ip('link', 'set', 'ens5-wire', 'up', netns=netns)
    ip('link', 'set', 'ens5', 'up', netns=netns)


@pytest.fixture
def node(netns):
    ip('link', 'set', 'lo', 'up', netns=netns)
    add_uplink(netns)
    return netns


@pytest.fixture
def boot_dir(tmp_path):
    return tmp_path / 'iproute2'


def network_state(netns):
    """Links, addresses and routes of the namespace as ip -json shows them, without what a new boot renumbers
    (ifindex, counters, the kernel's link-local addresses and its address lifetimes)."""
    links = {}
    for entry in ip_json('-details', 'link', 'show', netns=netns):
        kind = entry.get('linkinfo', {}).get('info_kind')
        links[entry['ifname']] = dict(kind=kind, mtu=entry['mtu'], up='UP' in entry['flags'],
                                      alias=entry.get('ifalias'), master=entry.get('master'),
                                      peer=entry.get('link'), tunnel=entry.get('linkinfo', {}).get('info_data')
                                      if kind == 'ipip' else None)
    addresses = {}
    for entry in ip_json('address', 'show', netns=netns):
        addresses[entry['ifname']] = sorted(
            (a['family'], a['local'], a['prefixlen'], a.get('broadcast'), a.get('scope'))
            for a in entry.get('addr_info', []) if not (a['family'] == 'inet6' and a.get('scope') == 'link'))
    routes = [route_state(entry) for entry in ip_json('-details', '-N', 'route', 'show', 'table', 'all', netns=netns)
              if entry.get('dst') != 'ff00::/8' and not str(entry.get('dst', '')).startswith('fe80')]
    routes.sort(key=lambda route: json.dumps(route, sort_keys=True))
    return dict(links=links, addresses=addresses, routes=routes)


def route_state(entry):
    """A route without "linkdown": the kernel marks it when a device loses carrier, through linkwatch, up to a
    second later, so it tells when the snapshot was taken, not what was restored."""
    route = dict(entry)
    route['flags'] = [flag for flag in entry.get('flags', []) if flag != 'linkdown']
    return route


def bridge_args(boot_dir, **extra):
    args = dict(name='cni0', kind='bridge', mtu=1450, addresses=['10.244.0.1/24'], boot=True,
                boot_file=str(boot_dir / '10-bridge-cni0.batch'))
    args.update(extra)
    return args


def routes_args(boot_dir, **extra):
    args = dict(route_lines=['10.244.0.0/24 via 10.89.20.11 dev ens5', '10.244.1.0/24 via 10.89.20.12 dev ens5',
                             '10.244.2.0/24 via 10.89.20.13 dev ens5', 'blackhole 10.244.0.0/16 metric 4000'],
                exclude=['10.244.0.0/24'], purge=True, boot=True,
                boot_file=str(boot_dir / '50-routes-proto94-table254.batch'))
    args.update(extra)
    return args


def converge(netns, *declarations):
    """Run each (module, args) in the namespace; the results."""
    results = [run_module(name, args, diff=True, netns=netns) for name, args in declarations]
    for result in results:
        assert not result.failed, result
    return results


def test_hostgw_node_comes_back_from_its_boot_files_exactly_and_a_rerun_changes_nothing(node, boot_dir):
    declarations = [('ip_link', bridge_args(boot_dir)), ('ip_routes', routes_args(boot_dir))]
    first = converge(node, *declarations)
    assert all(result['changed'] for result in first)
    built = network_state(node)

    reboot(node)
    assert 'cni0' not in network_state(node)['links']
    unit = run_unit(node, boot_dir)

    assert unit.returncode == 0, unit.stderr
    assert network_state(node) == built
    again = converge(node, *declarations)
    assert [result['changed'] for result in again] == [False, False], again
    assert [result['commands'] for result in again] == [[], []]
    assert [result['boot_file']['changed'] for result in again] == [False, False]


def wait_for(predicate, seconds=5.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_link_watch_puts_back_the_routes_a_link_set_down_lost_and_reacts_to_its_links_only(node, boot_dir, tmp_path):
    converge(node, ('ip_link', bridge_args(boot_dir)), ('ip_routes', routes_args(boot_dir)))
    links_file = tmp_path / 'linkwatch.links'
    links_file.write_text('# Written by podnet.netmodes; playbooks/remove.yml deletes it.\nens5\n')
    ip('link', 'set', 'cni0', 'down', netns=node)
    bridge_down = network_state(node)

    def gateway_routes():
        return [r['dst'] for r in ip_json('route', 'show', 'proto', '94', netns=node) if r.get('gateway')]

    watch = subprocess.Popen(['nsenter', '--net=/run/netns/%s' % node] + watch_command(links_file, boot_dir),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        time.sleep(0.5)
        ip('link', 'set', 'ens5', 'down', netns=node)
        assert wait_for(lambda: not gateway_routes())
        ip('link', 'set', 'ens5', 'up', netns=node)
        # Back by itself, exactly; the bridge the operator set down stays down (links are not replayed).
        assert wait_for(lambda: network_state(node) == bridge_down), network_state(node)['routes']
        assert not network_state(node)['links']['cni0']['up']

        # A link it does not watch (a pod's veth) changes: a route deleted by hand stays deleted.
        ip('route', 'del', '10.244.1.0/24', 'proto', '94', netns=node)
        ip('link', 'add', 'pod-veth', 'type', 'veth', 'peer', 'name', 'pod-peer', netns=node)
        ip('link', 'set', 'pod-veth', 'up', netns=node)
        time.sleep(1)
        assert '10.244.1.0/24' not in gateway_routes()
    finally:
        os.killpg(watch.pid, signal.SIGTERM)
        watch.wait(timeout=10)


def test_boot_file_of_a_first_run_holds_exactly_the_lines_the_run_applied(node, boot_dir):
    link, routes = converge(node, ('ip_link', bridge_args(boot_dir)), ('ip_routes', routes_args(boot_dir)))

    assert (boot_dir / '10-bridge-cni0.batch').read_text() == HEADER % 'ip_link' + ''.join(
        line + '\n' for line in link['commands'])
    assert (boot_dir / '50-routes-proto94-table254.batch').read_text() == HEADER % 'ip_routes' + ''.join(
        line + '\n' for line in routes['commands'])


def test_check_mode_predicts_the_boot_file_change_and_diff_of_the_real_run(node, boot_dir):
    for name, args in (('ip_link', bridge_args(boot_dir)), ('ip_routes', routes_args(boot_dir))):
        predicted = run_module(name, args, check=True, diff=True, netns=node)
        real = run_module(name, args, diff=True, netns=node)
        assert predicted['boot_file'] == real['boot_file'] and predicted['diff'] == real['diff'], (predicted, real)
        assert real['boot_file']['changed'] is True


# A runtime's pod veth is never persisted; a veth of the host's own that is a port of the bridge is, after it.
def test_bridge_port_comes_back_after_its_bridge_with_the_master_set(node, boot_dir):
    port = dict(name='vh1', kind='veth', peer='vh1p', master='cni0', mtu=1450, boot=True,
                boot_file=str(boot_dir / '30-veth-vh1.batch'))
    converge(node, ('ip_link', bridge_args(boot_dir)), ('ip_link', port))
    built = network_state(node)

    reboot(node)
    unit = run_unit(node, boot_dir)

    assert unit.returncode == 0, unit.stderr
    assert network_state(node) == built
    assert network_state(node)['links']['vh1']['master'] == 'cni0'
    assert not converge(node, ('ip_link', port))[0]['changed']


def test_unit_restores_what_it_can_when_the_uplink_is_missing_and_fails(node, boot_dir):
    converge(node, ('ip_link', bridge_args(boot_dir)), ('ip_routes', routes_args(boot_dir)))

    reboot(node, uplink=False)
    unit = run_unit(node, boot_dir)

    assert unit.returncode != 0
    assert '50-routes-proto94-table254.batch' in unit.stderr
    state = network_state(node)
    assert state['links']['cni0']['alias'] == 'podnet.netmodes'
    # -force: the blackhole needs no gateway and is restored although the lines before it were refused.
    assert any(route.get('dst') == '10.244.0.0/16' for route in state['routes'])


def test_unit_with_no_boot_file_does_nothing_and_succeeds(node, boot_dir):
    before = network_state(node)
    boot_dir.mkdir()

    unit = run_unit(node, boot_dir)

    assert unit.returncode == 0, unit.stderr
    assert network_state(node) == before


def test_absent_declarations_remove_their_boot_files_and_nothing_comes_back(node, boot_dir):
    converge(node, ('ip_link', bridge_args(boot_dir)), ('ip_routes', routes_args(boot_dir)))
    gone = converge(node, ('ip_link', bridge_args(boot_dir, state='absent')),
                    ('ip_routes', routes_args(boot_dir, route_lines=[])))
    assert all(result['changed'] and result['boot_file']['changed'] for result in gone)
    assert sorted(os.listdir(boot_dir)) == []

    reboot(node)
    before = network_state(node)
    assert run_unit(node, boot_dir).returncode == 0
    assert network_state(node) == before


@pytest.mark.parametrize('state', ['present', 'absent'])
def test_boot_file_without_podnets_header_is_refused_and_left_with_the_kernel_untouched(node, boot_dir, state):
    boot_dir.mkdir()
    theirs = boot_dir / '10-bridge-cni0.batch'
    theirs.write_text('link add name cni0 type bridge\n')
    before = network_state(node)

    for check in (True, False):
        result = run_module('ip_link', bridge_args(boot_dir, state=state), check=check, netns=node)
        assert result.failed and 'was not written by podnet' in result['msg'], result

    assert theirs.read_text() == 'link add name cni0 type bridge\n'
    assert network_state(node) == before


def test_hostile_values_never_reach_a_boot_file_or_the_kernel(node, boot_dir):
    before = network_state(node)
    hostile = [
        ('ip_link', bridge_args(boot_dir, name='c0\nlink x')),
        ('ip_link', bridge_args(boot_dir, addresses=['10.244.0.1/24 dev ens5'])),
        ('ip_routes', routes_args(boot_dir, route_lines=['10.244.1.0/24 via 10.89.20.12 dev ens5\nroute flush'])),
        ('ip_routes', routes_args(boot_dir, route_lines=['10.244.1.0/24 via 10.89.20.12 dev ens5#'])),
        ('ip_routes', routes_args(boot_dir, route_lines=[], routes=[dict(dest='10.244.1.0/24', dev='ens5 up')])),
    ]
    for name, args in hostile:
        result = run_module(name, args, netns=node)
        assert result.failed, (args, result)

    assert not boot_dir.exists()
    assert network_state(node) == before


# tunl0 (needs a kernel with ipip: skipped on this machine, see ipip_netns). At boot the unit finds tunl0 as the
# loaded ipip module makes it in a new namespace; the route through it follows from the later file.
def test_tunl0_and_a_route_through_it_come_back_from_their_boot_files(ipip_netns, boot_dir):
    netns = ipip_netns
    # A booted host has lo up, and reboot() sets it up: so must the node before, or lo's routes differ.
    ip('link', 'set', 'lo', 'up', netns=netns)
    tunl0 = dict(name='tunl0', kind='ipip', mtu=1480, addresses=['10.244.0.1/32'], boot=True,
                 boot_file=str(boot_dir / '20-ipip-tunl0.batch'))
    routes = dict(route_lines=['10.244.3.0/24 via 10.100.1.21 dev tunl0 onlink'], purge=True, boot=True,
                  boot_file=str(boot_dir / '50-routes-proto94-table254.batch'))
    converge(netns, ('ip_link', tunl0), ('ip_routes', routes))
    built = network_state(netns)

    reboot(netns, uplink=False)
    ip('link', 'add', 'up0', 'type', 'bridge', netns=netns)
    ip('address', 'add', '10.100.0.11/24', 'dev', 'up0', netns=netns)
    ip('link', 'set', 'up0', 'up', netns=netns)
    unit = run_unit(netns, boot_dir)

    assert unit.returncode == 0, unit.stderr
    assert network_state(netns) == built
    assert [result['changed'] for result in converge(netns, ('ip_link', tunl0), ('ip_routes', routes))] == [False,
                                                                                                           False]
