import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.podnet.netmodes.plugins.filter.pod_network import pod_network


def test_gateway_defaults_to_the_first_address_of_the_subnet():
    assert pod_network('10.244.3.0/24', None, 'node4') == {
        'cidr': '10.244.3.0/24', 'gateway': '10.244.3.1', 'prefix': 24, 'netmask': '255.255.255.0'}


def test_explicit_gateway_inside_the_subnet_is_kept():
    assert pod_network('10.244.3.0/24', '10.244.3.254', 'node4')['gateway'] == '10.244.3.254'


@pytest.mark.parametrize('gateway', ['10.99.0.1', '10.244.3.0', '10.244.3.255', 'not-an-ip'])
def test_unusable_gateway_names_host_variable_value_and_fix(gateway):
    with pytest.raises(AnsibleFilterError) as error:
        pod_network('10.244.3.0/24', gateway, 'node4')
    message = str(error.value)
    assert 'node4' in message and 'podnet_pod_gateway' in message and gateway in message
    assert 'Fix: ' in message and '10.244.3.1' in message


def test_subnet_with_host_bits_is_refused():
    with pytest.raises(AnsibleFilterError, match='node4: podnet_pod_cidr .10.244.3.7/24. has host bits set'):
        pod_network('10.244.3.7/24', None, 'node4')
