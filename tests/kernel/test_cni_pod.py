# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kernel tests for podnet.netmodes.cni_pod: real namespaces, real CNI plugins, real packets.

Every test gets its own "host" network namespace; the module runs inside it, so the bridge
and the host ends of the veths are created there and vanish with it. The module runs under
`nsenter --net` rather than `ip netns exec`: the latter gives the process a private mount
namespace, and a pod namespace that `ip netns add` mounts from inside it disappears when the
module exits.
"""

import json
import os
import random
import subprocess
import sys
import textwrap

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULE = os.path.join(REPO, 'plugins', 'modules', 'cni_pod.py')
COLLECTIONS = os.path.join(REPO, '.collections')
CNI_BIN = '/usr/lib/cni'

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason='needs root for network namespaces'),
    pytest.mark.skipif(not os.path.exists(os.path.join(CNI_BIN, 'bridge')),
                       reason='needs containernetworking-plugins in /usr/lib/cni'),
]


def run(argv, check=True, timeout=30):
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError('%s failed (%s): %s' % (' '.join(argv), proc.returncode, proc.stderr))
    return proc


def netns_names():
    proc = run(['ip', '-json', 'netns', 'list'])
    return {entry['name'] for entry in json.loads(proc.stdout or '[]')}


def links(netns):
    return {link['ifname']: link for link in json.loads(run(['ip', '-n', netns, '-json', 'link', 'show']).stdout)}


def ipv4_addresses(netns, dev):
    data = json.loads(run(['ip', '-n', netns, '-json', 'addr', 'show', 'dev', dev]).stdout)
    return [a['local'] for a in data[0]['addr_info'] if a['family'] == 'inet']


def ping(netns, address):
    return run(['ip', 'netns', 'exec', netns, 'ping', '-c1', '-W1', address], check=False).returncode == 0


def diff_lines(text):
    """The diff's lines, each cut before its config digest (which the tests do not recompute)."""
    return [line.split(' sha256 ')[0] for line in text.splitlines()]


def reserved_ips(data_dir, network):
    directory = os.path.join(data_dir, network)
    if not os.path.isdir(directory):
        return set()
    return {n for n in os.listdir(directory) if n[0].isdigit() and not n.startswith('last_reserved_ip')}


class Lab(object):
    """A host netns, a conf_dir with one bridge+host-local conflist, and the pods made in it."""

    def __init__(self, tmp_path, tag, third_octet):
        self.tag = tag
        self.host = 'pnth%s' % tag
        self.bridge = 'pnt%s' % tag
        self.network = 'pnt%s' % tag
        self.subnet_prefix = '10.250.%d.' % third_octet
        self.subnet = '10.250.%d.0/24' % third_octet
        self.gateway = self.subnet_prefix + '1'
        self.conf_dir = str(tmp_path / 'net.d')
        self.cache_dir = str(tmp_path / 'cache')
        self.data_dir = str(tmp_path / 'ipam')
        self.tmp_path = tmp_path
        self.pods = []
        os.makedirs(self.conf_dir)
        self.write_conflist()

    def write_conflist(self, subnet=None, plugin_type='bridge', filename='10-podnet.conflist', extra_plugins=(),
                       network=None, bridge=None):
        conflist = {
            'cniVersion': '1.0.0',
            'name': network or self.network,
            'plugins': [{
                'type': plugin_type,
                'bridge': bridge or self.bridge,
                'isGateway': True,
                'ipMasq': False,
                'ipam': {
                    'type': 'host-local',
                    'ranges': [[{'subnet': subnet or self.subnet}]],
                    'dataDir': self.data_dir,
                },
            }] + list(extra_plugins),
        }
        with open(os.path.join(self.conf_dir, filename), 'w') as f:
            json.dump(conflist, f)

    def pod(self, suffix):
        name = 'pntp%s-%s' % (self.tag, suffix)
        self.pods.append(name)
        return name

    def module(self, name, check_mode=False, **params):
        args = dict(name=name, conf_dir=self.conf_dir, cache_dir=self.cache_dir, bin_dir=CNI_BIN)
        args.update(params)
        args['_ansible_check_mode'] = check_mode
        args['_ansible_diff'] = True
        path = self.tmp_path / ('args-%d.json' % random.randrange(1 << 30))
        path.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
        env = dict(os.environ, PYTHONPATH=COLLECTIONS)
        proc = subprocess.run(['nsenter', '--net=/run/netns/%s' % self.host, sys.executable, MODULE, str(path)],
                              capture_output=True, text=True, timeout=120, env=env)
        try:
            return json.loads(proc.stdout)
        except ValueError:
            raise AssertionError('module printed no JSON (rc %s): %s %s' % (proc.returncode, proc.stdout, proc.stderr))

    def attach(self, suffix):
        name = self.pod(suffix)
        res = self.module(name)
        assert res.get('failed') is not True, res
        return name, res

    def host_veths(self):
        return {n for n, link in links(self.host).items() if link.get('link_type') == 'ether' and n.startswith('veth')}

    def cleanup(self):
        existing = netns_names()
        for name in self.pods + [self.host]:
            if name in existing:
                run(['ip', 'netns', 'delete', name], check=False)


@pytest.fixture
def lab(tmp_path):
    tag = '%06x' % random.randrange(1 << 24)
    lab = Lab(tmp_path, tag, random.randrange(100, 250))
    run(['ip', 'netns', 'add', lab.host])
    try:
        yield lab
    finally:
        lab.cleanup()


def test_pod_gets_address_from_subnet_and_pings_gateway(lab):
    name, res = lab.attach('a')

    assert res['changed'] is True
    assert res['netns'] == '/run/netns/%s' % name
    assert res['ip'].startswith(lab.subnet_prefix) and res['ip'] != lab.gateway
    assert ipv4_addresses(name, 'eth0') == [res['ip']]
    assert 'UP' in links(name)['lo']['flags']
    assert ipv4_addresses(lab.host, lab.bridge) == [lab.gateway]
    assert res['diff']['before'] == ''
    assert diff_lines(res['diff']['after']) == ['attachment %s eth0: config' % lab.network,
                                                'netns %s: created by cni_pod, lo up' % name]
    assert ping(name, lab.gateway)


def test_two_pods_on_one_bridge_ping_each_other_and_connect_over_tcp(lab):
    server, server_res = lab.attach('srv')
    client, client_res = lab.attach('cli')
    assert server_res['ip'] != client_res['ip']

    assert ping(client, server_res['ip'])
    assert ping(server, client_res['ip'])

    server_code = textwrap.dedent('''
        import socket, sys
        s = socket.socket()
        s.settimeout(10)
        s.bind((sys.argv[1], 18080))
        s.listen(1)
        print("ready", flush=True)
        conn, peer = s.accept()
        conn.settimeout(5)
        conn.sendall(b"hello " + peer[0].encode() + b" " + conn.recv(64))
        conn.close()
    ''')
    client_code = textwrap.dedent('''
        import socket, sys
        c = socket.create_connection((sys.argv[1], 18080), timeout=5)
        c.sendall(b"from-client")
        print(c.recv(128).decode())
    ''')
    proc = subprocess.Popen(['ip', 'netns', 'exec', server, sys.executable, '-c', server_code, server_res['ip']],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == 'ready'
        reply = run(['ip', 'netns', 'exec', client, sys.executable, '-c', client_code, server_res['ip']]).stdout
        assert reply.strip() == 'hello %s from-client' % client_res['ip']
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_rerun_of_attached_pod_reports_unchanged(lab):
    name, first = lab.attach('a')
    veths = lab.host_veths()

    again = lab.module(name)
    checked = lab.module(name, check_mode=True)

    assert again['changed'] is False
    assert again['ip'] == first['ip']
    assert again['diff']['before'] == again['diff']['after']
    assert checked['changed'] is False
    assert lab.host_veths() == veths
    assert ping(name, lab.gateway)


def test_check_mode_on_new_pod_reports_changed_and_creates_nothing(lab):
    name = lab.pod('a')

    res = lab.module(name, check_mode=True)

    assert res['changed'] is True
    assert 'attachment %s eth0: config' % lab.network in res['diff']['after']
    assert name not in netns_names()
    assert lab.bridge not in links(lab.host)
    assert not os.path.exists(lab.cache_dir) or not os.listdir(lab.cache_dir)
    assert reserved_ips(lab.data_dir, lab.network) == set()


def test_pod_whose_veth_was_deleted_fails_check_and_is_reattached(lab):
    name, first = lab.attach('a')
    run(['ip', '-n', name, 'link', 'delete', 'eth0'])
    assert not ping(name, lab.gateway)

    predicted = lab.module(name, check_mode=True)
    assert predicted['changed'] is True
    assert 'fails CHECK' in predicted['diff']['before']
    assert 'eth0' not in links(name)

    res = lab.module(name)

    assert res['changed'] is True
    assert ipv4_addresses(name, 'eth0') == [res['ip']]
    assert len(reserved_ips(lab.data_dir, lab.network)) == 1
    assert ping(name, lab.gateway)
    assert lab.module(name)['changed'] is False


def test_pod_whose_netns_was_deleted_is_recreated_and_reattached(lab):
    name, first = lab.attach('a')
    run(['ip', 'netns', 'delete', name])

    res = lab.module(name)

    assert res['changed'] is True
    assert diff_lines(res['diff']['before']) == ['attachment %s eth0: config' % lab.network]
    assert 'fails CHECK' in res['diff']['before']
    assert ipv4_addresses(name, 'eth0') == [res['ip']]
    assert reserved_ips(lab.data_dir, lab.network) == {res['ip']}
    assert len(lab.host_veths()) == 1
    assert ping(name, lab.gateway)


def test_plugin_chain_passes_prev_result_to_next_plugin(lab):
    # tuning refuses to run without a prevResult naming the pod interface.
    lab.write_conflist(extra_plugins=[{'type': 'tuning', 'mtu': 1400}])

    name, res = lab.attach('a')

    assert links(name)['eth0']['mtu'] == 1400
    assert ipv4_addresses(name, 'eth0') == [res['ip']]
    assert lab.module(name)['changed'] is False
    assert ping(name, lab.gateway)


def test_changed_network_config_reattaches_pod(lab):
    name, first = lab.attach('a')
    lab.write_conflist(extra_plugins=[{'type': 'tuning', 'mtu': 1300}])

    res = lab.module(name)

    assert res['changed'] is True
    assert links(name)['eth0']['mtu'] == 1300
    assert reserved_ips(lab.data_dir, lab.network) == {res['ip']}
    assert len(lab.host_veths()) == 1
    assert ping(name, lab.gateway)


def test_absent_removes_netns_host_veth_and_releases_ip(lab):
    keep, keep_res = lab.attach('keep')
    veths_before = lab.host_veths()
    name, res = lab.attach('gone')
    pod_veths = lab.host_veths() - veths_before
    assert len(pod_veths) == 1
    assert reserved_ips(lab.data_dir, lab.network) == {keep_res['ip'], res['ip']}

    predicted = lab.module(name, state='absent', check_mode=True)
    assert predicted['changed'] is True
    assert name in netns_names()

    gone = lab.module(name, state='absent')

    assert gone['changed'] is True
    assert predicted['diff'] == gone['diff']
    assert diff_lines(gone['diff']['before']) == ['attachment %s eth0: config' % lab.network,
                                                  'netns %s: created by cni_pod, lo up' % name]
    assert gone['diff']['after'] == ''
    assert name not in netns_names()
    assert lab.host_veths() == veths_before
    assert reserved_ips(lab.data_dir, lab.network) == {keep_res['ip']}
    assert os.listdir(os.path.join(lab.cache_dir, 'pods')) == [keep]
    assert lab.module(name, state='absent')['changed'] is False
    assert ping(keep, lab.gateway)


def test_exhausted_subnet_surfaces_plugin_error_and_leaves_no_pod(lab):
    # A /30 has two host addresses; the bridge takes .1, so only one pod fits.
    lab.write_conflist(subnet=lab.subnet_prefix + '0/30')
    first, first_res = lab.attach('a')
    assert first_res['ip'] == lab.subnet_prefix + '2'
    name = lab.pod('b')

    res = lab.module(name)

    assert res['failed'] is True
    assert res['plugin'] == 'bridge' and res['command'] == 'ADD'
    assert res['changed'] is True and res['applied'][0] == 'ip netns add %s' % name
    assert 'no IP addresses available' in res['msg']
    assert 'CNI plugin bridge ADD failed' in res['msg']
    assert name not in netns_names()
    assert reserved_ips(lab.data_dir, lab.network) == {first_res['ip']}


def test_failed_add_in_existing_netns_is_rolled_back(lab):
    lab.write_conflist(subnet=lab.subnet_prefix + '0/30')
    lab.attach('a')
    veths = lab.host_veths()
    name = lab.pod('b')
    run(['ip', 'netns', 'add', name])

    res = lab.module(name)

    assert res['failed'] is True
    assert set(links(name)) == {'lo'}
    assert lab.host_veths() == veths


def test_bad_plugin_config_surfaces_plugin_code_and_message(lab):
    lab.write_conflist(subnet='10.250.999.0/24')
    name = lab.pod('a')

    res = lab.module(name)

    assert res['failed'] is True
    assert res['plugin'] == 'bridge'
    assert isinstance(res['code'], int)
    assert '10.250.999.0/24' in res['msg']
    assert name not in netns_names()


def test_missing_plugin_binary_is_named(lab):
    lab.write_conflist(plugin_type='nosuchplugin')

    res = lab.module(lab.pod('a'))

    assert res['failed'] is True
    assert "'nosuchplugin' not found in %s" % CNI_BIN in res['msg']


def test_missing_conflist_is_reported(lab):
    os.remove(os.path.join(lab.conf_dir, '10-podnet.conflist'))

    res = lab.module(lab.pod('a'))

    assert res['failed'] is True
    assert 'no *.conflist file in %s' % lab.conf_dir in res['msg']


def test_network_option_selects_conflist_by_name(lab):
    # The lexically first file is the default; `network` picks another one by its name.
    other = lab.network
    lab.network = 'pnt%sa' % lab.tag
    lab.bridge = 'pnt%sb' % lab.tag
    lab.write_conflist(subnet='10.251.%s.0/24' % lab.subnet_prefix.split('.')[2], filename='00-first.conflist')

    default_name, default_res = lab.attach('default')
    chosen = lab.pod('chosen')
    chosen_res = lab.module(chosen, network=other)

    assert default_res['ip'].startswith('10.251.')
    assert chosen_res['ip'].startswith(lab.subnet_prefix)
    assert lab.module(lab.pod('x'), network='nosuchnet')['msg'].startswith("no CNI network named 'nosuchnet'")


def test_absent_refuses_a_namespace_cni_pod_did_not_create(lab):
    name = lab.pod('theirs')
    run(['ip', 'netns', 'add', name])

    for check_mode in (True, False):
        res = lab.module(name, state='absent', check_mode=check_mode)
        assert res['failed'] is True and 'not created by cni_pod' in res['msg']
    assert name in netns_names()


def test_absent_detaches_from_a_namespace_it_did_not_create_and_keeps_the_namespace(lab):
    name = lab.pod('theirs')
    run(['ip', 'netns', 'add', name])
    veths = lab.host_veths()
    res = lab.module(name)
    assert diff_lines(res['diff']['after']) == ['attachment %s eth0: config' % lab.network,
                                                'netns %s: not created by cni_pod, lo up' % name]

    gone = lab.module(name, state='absent')

    assert gone['changed'] is True
    assert name in netns_names() and set(links(name)) == {'lo'}
    assert lab.host_veths() == veths
    assert reserved_ips(lab.data_dir, lab.network) == set()
    assert lab.module(name, state='absent')['changed'] is False


def test_two_attachments_of_one_pod_keep_each_other_and_rerun_unchanged(lab):
    second_net, second_bridge = 'pnt%sb' % lab.tag, 'pnt%sb' % lab.tag
    lab.write_conflist(filename='20-second.conflist', network=second_net, bridge=second_bridge,
                       subnet='10.251.%s.0/24' % lab.subnet_prefix.split('.')[2])
    name = lab.pod('multi')
    first = lab.module(name)
    second = lab.module(name, network=second_net, ifname='eth1')
    assert not first.get('failed') and not second.get('failed'), (first, second)

    again = [lab.module(name), lab.module(name, network=second_net, ifname='eth1')]

    assert [res['changed'] for res in again] == [False, False]
    assert ipv4_addresses(name, 'eth0') == [first['ip']]
    assert ipv4_addresses(name, 'eth1') == [second['ip']]
    assert second['ip'].startswith('10.251.')

    one_gone = lab.module(name, network=second_net, ifname='eth1', state='absent')
    assert one_gone['changed'] is True and 'eth1' not in links(name)
    assert lab.module(name)['changed'] is False and ping(name, lab.gateway)
    assert lab.module(name, state='absent')['changed'] is True
    assert name not in netns_names()


def test_missing_later_plugin_binary_fails_before_any_add_and_leaks_no_address(lab):
    lab.write_conflist(extra_plugins=[{'type': 'nosuchplugin'}])
    name = lab.pod('a')
    veths = lab.host_veths()

    res = lab.module(name)

    assert res['failed'] is True and "'nosuchplugin' not found" in res['msg']
    assert reserved_ips(lab.data_dir, lab.network) == set()
    assert name not in netns_names()
    assert lab.host_veths() == veths


def test_failing_later_plugin_is_rolled_back_releasing_the_address(lab):
    lab.write_conflist(extra_plugins=[{'type': 'tuning', 'sysctl': {'net.ipv4.conf.eth0.no_such_sysctl': '1'}}])
    name = lab.pod('a')

    res = lab.module(name)

    assert res['failed'] is True and res['plugin'] == 'tuning' and res['command'] == 'ADD'
    assert res['changed'] is True
    assert res['applied'][:2] == ['ip netns add %s' % name, 'ADD %s eth0 bridge' % lab.network]
    assert 'DEL %s eth0 bridge' % lab.network in res['applied']
    assert reserved_ips(lab.data_dir, lab.network) == set()
    assert name not in netns_names()
    assert lab.host_veths() == set()


def test_conflist_change_diff_shows_the_attachment_moving_from_old_to_new_config(lab):
    name, first = lab.attach('a')
    lab.write_conflist(extra_plugins=[{'type': 'tuning', 'mtu': 1300}])

    predicted = lab.module(name, check_mode=True)
    res = lab.module(name)

    assert predicted['diff'] == res['diff']
    before, after = res['diff']['before'], res['diff']['after']
    assert 'fails CHECK' not in before
    assert diff_lines(before) == diff_lines(after) == ['attachment %s eth0: config' % lab.network,
                                                       'netns %s: created by cni_pod, lo up' % name]
    assert before != after
