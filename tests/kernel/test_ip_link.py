"""podnet.netmodes.ip_link against real network namespaces."""
from kernelstate import addresses, ip, link
from moduleexec import run_module

MARK = 'podnet.netmodes'


def bridge_args(netns, **extra):
    args = dict(name='cni0', kind='bridge', mtu=1450, addresses=['10.244.1.1/24'], netns=netns)
    args.update(extra)
    return args


def test_create_bridge_with_mtu_and_addresses_exists_in_kernel(netns):
    result = run_module('ip_link', bridge_args(netns))

    assert result.get('changed') is True, result
    kernel = link('cni0', netns)
    assert kernel['linkinfo']['info_kind'] == 'bridge'
    assert kernel['mtu'] == 1450
    assert 'UP' in kernel['flags']
    assert kernel['ifalias'] == MARK
    assert addresses('cni0', netns) == ['10.244.1.1/24']


def test_rerun_with_same_declaration_reports_unchanged_and_runs_nothing(netns):
    run_module('ip_link', bridge_args(netns))
    result = run_module('ip_link', bridge_args(netns))

    assert result['changed'] is False, result
    assert result['commands'] == []


def test_modified_mtu_is_changed_and_applied(netns):
    run_module('ip_link', bridge_args(netns))
    result = run_module('ip_link', bridge_args(netns, mtu=1400))

    assert result['changed'] is True
    assert result['commands'] == ['link set dev cni0 mtu 1400']
    assert link('cni0', netns)['mtu'] == 1400


def test_addresses_are_made_exact_extra_ones_removed(netns):
    run_module('ip_link', bridge_args(netns, addresses=['10.244.1.1/24', '10.244.9.1/24']))
    result = run_module('ip_link', bridge_args(netns, addresses=['10.244.1.1/24', 'fd00::1/64']))

    assert result['changed'] is True
    assert addresses('cni0', netns) == ['10.244.1.1/24', 'fd00::1/64']


def test_check_mode_predicts_change_and_leaves_kernel_untouched(netns):
    run_module('ip_link', bridge_args(netns))
    result = run_module('ip_link', bridge_args(netns, mtu=1300, addresses=['10.244.2.1/24']), check=True)

    assert result['changed'] is True
    assert 'link set dev cni0 mtu 1300' in result['commands']
    kernel = link('cni0', netns)
    assert kernel['mtu'] == 1450
    assert addresses('cni0', netns) == ['10.244.1.1/24']


def test_check_mode_on_missing_link_creates_nothing(netns):
    result = run_module('ip_link', bridge_args(netns), check=True)

    assert result['changed'] is True
    assert result['commands'][0] == 'link add name cni0 type bridge'
    assert link('cni0', netns) is None


def test_check_mode_on_satisfied_declaration_reports_unchanged(netns):
    run_module('ip_link', bridge_args(netns))
    result = run_module('ip_link', bridge_args(netns), check=True)

    assert result['changed'] is False
    assert result['commands'] == []


def observed(name, netns, peer=None, peer_netns=None):
    """The module's state keys, read straight from the kernel."""
    kernel = link(name, netns)
    if kernel is None:
        return None
    return dict(name=name, state='present', kind=kernel['linkinfo']['info_kind'],
                owned=kernel.get('ifalias') == MARK, up='UP' in kernel['flags'], mtu=kernel['mtu'],
                master=kernel.get('master'), addresses=addresses(name, netns), peer=peer, peer_netns=peer_netns)


def test_diff_before_and_after_match_the_kernel_before_and_after_the_run(netns):
    run_module('ip_link', bridge_args(netns))
    before = observed('cni0', netns)

    predicted = run_module('ip_link', bridge_args(netns, mtu=1380, addresses=['10.244.3.1/24'], up=False),
                           check=True, diff=True)
    real = run_module('ip_link', bridge_args(netns, mtu=1380, addresses=['10.244.3.1/24'], up=False), diff=True)

    assert predicted['diff'] == real['diff']
    assert real['diff']['before'] == before
    assert real['diff']['after'] == observed('cni0', netns)
    assert real['diff']['after'] != before
    assert real['link'] == real['diff']['after']


def test_diff_of_a_created_link_matches_the_kernel(netns):
    result = run_module('ip_link', dict(name='br-new', kind='bridge', netns=netns), diff=True)

    assert result['diff']['before']['state'] == 'absent'
    assert result['diff']['after'] == observed('br-new', netns)


def test_veth_pair_with_peer_in_other_netns_enslaved_to_bridge(netns, other_netns):
    run_module('ip_link', bridge_args(netns))
    args = dict(name='veth1', kind='veth', peer='eth0', peer_netns=other_netns, master='cni0', mtu=1450,
                netns=netns)
    result = run_module('ip_link', args)

    assert result['changed'] is True, result
    host_end = link('veth1', netns)
    pod_end = link('eth0', other_netns)
    assert host_end['linkinfo']['info_kind'] == 'veth'
    assert host_end['master'] == 'cni0'
    assert host_end['mtu'] == 1450
    assert pod_end['linkinfo']['info_kind'] == 'veth'
    assert host_end['link_index'] == pod_end['ifindex'] and pod_end['link_index'] == host_end['ifindex']
    assert pod_end['ifalias'] == MARK
    assert run_module('ip_link', args)['changed'] is False

    pod_side = run_module('ip_link', dict(name='eth0', kind='veth', netns=other_netns, mtu=1450,
                                          addresses=['10.244.1.5/24']))
    assert pod_side['changed'] is True
    assert addresses('eth0', other_netns) == ['10.244.1.5/24']
    assert 'UP' in link('eth0', other_netns)['flags']


def test_existing_veth_with_another_peer_fails(netns, other_netns):
    run_module('ip_link', dict(name='veth1', kind='veth', peer='eth0', peer_netns=other_netns, netns=netns))
    result = run_module('ip_link', dict(name='veth1', kind='veth', peer='eth9', peer_netns=other_netns,
                                        netns=netns))

    assert result.failed
    assert 'peer is not eth9' in result['msg']


def test_master_empty_string_releases_the_port(netns):
    run_module('ip_link', bridge_args(netns))
    run_module('ip_link', dict(name='v0', kind='veth', peer='v0p', master='cni0', netns=netns))
    result = run_module('ip_link', dict(name='v0', kind='veth', master='', netns=netns))

    assert result['commands'] == ['link set dev v0 nomaster']
    assert 'master' not in link('v0', netns)


def test_absent_removes_our_link(netns):
    run_module('ip_link', bridge_args(netns))
    result = run_module('ip_link', dict(name='cni0', state='absent', netns=netns))

    assert result['changed'] is True
    assert link('cni0', netns) is None
    assert run_module('ip_link', dict(name='cni0', state='absent', netns=netns))['changed'] is False


def test_absent_refuses_a_foreign_link_and_leaves_it(netns):
    ip('link', 'add', 'cni0', 'type', 'bridge', netns=netns)
    result = run_module('ip_link', dict(name='cni0', state='absent', netns=netns))

    assert result.failed
    assert 'not created by podnet.netmodes' in result['msg']
    assert link('cni0', netns) is not None


def test_present_adopts_a_foreign_link_of_the_same_kind(netns):
    ip('link', 'add', 'cni0', 'type', 'bridge', netns=netns)
    result = run_module('ip_link', dict(name='cni0', kind='bridge', netns=netns), diff=True)

    assert result['changed'] is True
    assert result['diff']['before']['owned'] is False and result['diff']['after']['owned'] is True
    assert link('cni0', netns)['ifalias'] == MARK


def test_existing_link_of_other_kind_fails_naming_both_kinds(netns):
    ip('link', 'add', 'cni0', 'type', 'veth', 'peer', 'name', 'cni0p', netns=netns)
    result = run_module('ip_link', dict(name='cni0', kind='bridge', netns=netns))

    assert result.failed
    assert 'veth' in result['msg'] and 'bridge' in result['msg']
    assert link('cni0', netns)['linkinfo']['info_kind'] == 'veth'


def test_name_of_16_characters_fails_with_message(netns):
    result = run_module('ip_link', dict(name='a' * 16, kind='bridge', netns=netns))

    assert result.failed
    assert 'not a valid interface name' in result['msg'] and '15' in result['msg']


def test_missing_netns_fails_with_message():
    result = run_module('ip_link', dict(name='cni0', kind='bridge', netns='pnt-does-not-exist'))

    assert result.failed
    assert "'pnt-does-not-exist' does not exist" in result['msg']


def test_master_that_is_not_a_bridge_fails_in_check_mode_too(netns):
    result = run_module('ip_link', dict(name='v0', kind='veth', peer='v0p', master='nobr', netns=netns), check=True)

    assert result.failed
    assert 'must be an existing bridge' in result['msg']
