# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""node_signals and its module_utils/_signals.py without root: parsing ping, birdc and nft output, picking pod veths, counting IPAM files, and
refusing arguments. The kernel test (tests/kernel/test_node_signals.py) runs it for real."""
import pytest

from ansible_collections.podnet.netmodes.plugins.module_utils import _signals as sig
from ansible_collections.podnet.netmodes.plugins.modules import node_signals as ns

PING_OK = """PING 10.244.1.5 (10.244.1.5) 56(84) bytes of data.
64 bytes from 10.244.1.5: icmp_seq=1 ttl=62 time=0.091 ms
64 bytes from 10.244.1.5: icmp_seq=2 ttl=62 time=0.058 ms
64 bytes from 10.244.1.5: icmp_seq=3 ttl=62 time=1.20 ms

--- 10.244.1.5 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 201ms
rtt min/avg/max/mdev = 0.058/0.449/1.200/0.530 ms
"""

PING_LOSS = """PING 10.244.2.5 (10.244.2.5) 56(84) bytes of data.
From 10.244.0.1 icmp_seq=1 Destination Host Unreachable
64 bytes from 10.244.2.5: icmp_seq=2 ttl=62 time=0.101 ms

--- 10.244.2.5 ping statistics ---
4 packets transmitted, 1 received, +1 errors, 75% packet loss, time 3004ms
rtt min/avg/max/mdev = 0.101/0.101/0.101/0.000 ms
"""

BIRDC = """BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     15:02:11.222
kernel1    Kernel     master4    up     15:02:11.222
peer_node2 BGP        ---        up     15:02:16.483  Established
peer_node3 BGP        ---        start  15:02:11.222  Active        Socket: Connection refused
peer_a_very_long_name BGP ---    up     2026-11-27 15:02:16  Established
"""


def test_ping_replies_and_summary():
    assert sig.parse_ping(PING_OK) == (3, 3, [0.091, 0.058, 1.2])


def test_ping_with_loss_and_icmp_errors_counts_only_echo_replies():
    assert sig.parse_ping(PING_LOSS) == (4, 1, [0.101])


def test_ping_without_summary_is_no_measurement():
    assert sig.parse_ping('ping: connect: Network is unreachable\n') == (None, None, [])


def test_birdc_protocols_split_on_words_not_columns():
    protocols = sig.parse_bird_protocols(BIRDC)
    assert [(p['name'], p['state'], p['info']) for p in protocols] == [
        ('device1', 'up', ''),
        ('kernel1', 'up', ''),
        ('peer_node2', 'up', 'Established'),
        ('peer_node3', 'start', 'Active Socket: Connection refused'),
        ('peer_a_very_long_name', 'up', 'Established'),
    ]
    assert protocols[1]['table'] == 'master4' and protocols[2]['proto'] == 'BGP'


def test_birdc_detail_lines_are_not_protocols():
    text = BIRDC + '  Description:    node2\n  BGP state:          Established\n'
    assert len(sig.parse_bird_protocols(text)) == 5


def test_guard_drops_sums_counters_of_dropping_rules_only():
    objects = [
        {'table': {'family': 'ip', 'name': 'podnet_ipip'}},
        {'chain': {'name': 'input'}},
        {'rule': {'chain': 'input', 'expr': [{'match': {}}, {'counter': {'packets': 3, 'bytes': 252}}, {'drop': None}]}},
        {'rule': {'chain': 'input', 'expr': [{'counter': {'packets': 99, 'bytes': 9999}}, {'accept': None}]}},
        {'rule': {'chain': 'podnet_owner', 'expr': [{'return': None}]}},
    ]
    assert sig.guard_drops(objects) == {'packets': 3, 'bytes': 252}
    assert sig.guard_drops([]) == {'packets': 0, 'bytes': 0}


def _veth(name, master=None):
    link = {'ifname': name, 'linkinfo': {'info_kind': 'veth'}}
    if master:
        link['master'] = master
    return link


def test_pod_veths_are_bridge_ports_or_carry_a_route_into_the_pod_subnet():
    links = [_veth('ens5'), _veth('veth1', 'cni0'), _veth('veth2'), _veth('veth3', 'docker0'),
             {'ifname': 'cni0', 'linkinfo': {'info_kind': 'bridge'}}]
    routes = [{'dst': '10.244.0.7', 'dev': 'veth2'}, {'dst': 'default', 'dev': 'ens5'},
              {'dst': '10.89.20.0/24', 'dev': 'ens5'}, {'dst': '172.17.0.2', 'dev': 'veth3'}]
    assert sig.pod_veth_names(links, routes, 'cni0', '10.244.0.0/24') == ['veth1', 'veth2']
    assert sig.pod_veth_names(links, routes, None, None) == []


def test_link_counters_read_stats64():
    link = {'ifname': 'ens5', 'operstate': 'UP', 'stats64': {
        'rx': {'bytes': 10, 'packets': 1, 'errors': 2, 'dropped': 3, 'over_errors': 0},
        'tx': {'bytes': 20, 'packets': 2, 'errors': 0, 'dropped': 4}}}
    entry = sig.link_counters(link, 'device')
    assert entry['rx_dropped'] == 3 and entry['tx_bytes'] == 20 and entry['present'] and entry['kind'] is None


def test_ipam_counts_address_files_only(tmp_path):
    directory = tmp_path / 'podnet'
    directory.mkdir()
    for name in ('lock', 'last_reserved_ip.0', '10.244.0.10', '10.244.0.9'):
        (directory / name).write_text('x')
    assert sig.ipam_addresses(str(tmp_path), 'podnet') == (str(directory), ['10.244.0.9', '10.244.0.10'])
    assert sig.ipam_addresses(str(tmp_path), 'other') == (str(tmp_path / 'other'), None)


def params(**overrides):
    base = {'targets': [], 'netns': None, 'count': 20, 'interval': 0.1, 'timeout': 1, 'parallel': 4,
            'devices': [], 'pod_veths': True, 'bridge': None, 'pod_cidr': None, 'route_proto': 94, 'bird': False,
            'bird_socket': '/run/bird/bird.ctl', 'bird_timeout': 10, 'cni_network': 'podnet',
            'ipam_dir': '/var/lib/cni/networks'}
    base.update(overrides)
    return base


@pytest.mark.parametrize('overrides, expected', [
    ({'targets': [{'name': 'x', 'address': 'example.org', 'source': 'node'}]}, "targets[0] (x): address 'example.org'"),
    ({'targets': [{'name': 'x', 'address': '10.0.0.0/8', 'source': 'node'}]}, 'has a prefix length'),
    ({'targets': [{'name': 'x', 'address': '::1', 'source': 'node'}]}, "address '::1'"),
    ({'targets': [{'name': 'x', 'address': '255.255.255.255', 'source': 'node'}]}, 'broadcast or multicast'),
    ({'targets': [{'name': 'x', 'address': '224.0.0.1', 'source': 'node'}]}, 'broadcast or multicast'),
    ({'targets': [{'name': 'x', 'address': '127.0.0.1', 'source': 'node'}]}, 'not a unicast address'),
    ({'targets': [{'name': 'x', 'address': '0.0.0.0', 'source': 'node'}]}, 'not a unicast address'),
    ({'targets': [{'name': 'x', 'address': '169.254.0.1', 'source': 'pod'}]}, 'not a unicast address'),
    ({'targets': [{'name': 'x', 'address': '240.0.0.1', 'source': 'pod'}]}, 'not a unicast address'),
    ({'netns': '../etc'}, "netns '../etc'"),
    ({'devices': ['ens5;reboot']}, "device 'ens5;reboot'"),
    ({'bridge': 'a' * 16}, 'device'),
    ({'count': 0}, 'count 0'),
    ({'interval': 0.0001}, 'interval'),
    ({'timeout': 0}, 'timeout 0'),
    ({'parallel': 0}, 'parallel 0'),
    ({'bird_timeout': 0}, 'bird_timeout 0'),
    ({'bird_timeout': 61}, 'bird_timeout 61'),
    ({'route_proto': 300}, 'route_proto 300'),
    ({'cni_network': '../x'}, "cni_network '../x'"),
    ({'pod_cidr': '10.244.0.1/24'}, 'has host bits set'),
])
def test_arguments_that_could_probe_or_read_anything_else_are_refused(overrides, expected):
    problems = ns.param_problems(params(**overrides))
    assert len(problems) == 1 and expected in problems[0], problems


def test_good_arguments_pass():
    assert ns.param_problems(params(targets=[{'name': 'n2', 'address': '10.89.20.12', 'source': 'pod'}],
                                    netns='podnet-verify', devices=['ens5', 'cni0'], bridge='cni0',
                                    pod_cidr='10.244.0.0/24')) == []


class FakeModule(object):
    """Enough of AnsibleModule for Signals: binaries found in /usr/bin, every command answered with (rc, out)."""

    def __init__(self, rc=0, out='', **overrides):
        self.params = params(**overrides)
        self.answer = (rc, out, '')
        self.commands = []

    def get_bin_path(self, name, required=False):
        return '/usr/bin/' + name

    def run_command(self, cmd, **kwargs):
        self.commands.append(cmd)
        return self.answer

    def fail_json(self, **result):
        raise AssertionError('module failed: %s' % result)


def test_birdc_runs_restricted_and_bounded_by_timeout():
    module = FakeModule(out=BIRDC, bird_timeout=7, bird_socket='/run/bird/other.ctl')
    bird = ns.Signals(module).bird()
    assert module.commands == [['/usr/bin/timeout', '--kill-after=1', '7', '/usr/bin/birdc', '-r',
                                '-s', '/run/bird/other.ctl', 'show', 'protocols']]
    assert bird['error'] is None and len(bird['protocols']) == 5


@pytest.mark.parametrize('rc, out, error', [
    (124, '', 'birdc did not answer within 10 seconds'),
    (137, '', 'birdc did not answer within 10 seconds'),
    (0, 'Unable to connect to server control socket (/run/bird/bird.ctl): No such file or directory\n',
     'birdc show protocols failed (rc=0): Unable to connect'),
    (1, 'Access denied\n', 'birdc show protocols failed (rc=1): Access denied'),
])
def test_birdc_that_cannot_answer_is_an_error_for_the_report_not_a_failure(rc, out, error):
    bird = ns.Signals(FakeModule(rc=rc, out=out)).bird()
    assert bird['protocols'] == [] and bird['error'].startswith(error), bird


def test_a_train_pings_the_canonical_address_and_stops_by_its_deadline():
    module = FakeModule(out=PING_OK, count=3, interval=0.25, timeout=2)
    signals = ns.Signals(module)
    probe = signals.probe({'name': 'node2', 'address': ' 10.244.1.5 ', 'source': 'node'},
                          sig.PingRunner(module, signals.ip.binary))
    # -w: ceil(3 x 0.25) + 2 = 3 seconds, whatever answers
    assert module.commands == [['/usr/bin/ping', '-n', '-c', '3', '-i', '0.25', '-W', '2', '-w', '3', '10.244.1.5']]
    assert (probe['transmitted'], probe['received'], probe['error']) == (3, 3, None)
