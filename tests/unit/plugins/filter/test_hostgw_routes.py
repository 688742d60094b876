from ansible_collections.podnet.netmodes.plugins.filter.hostgw_routes import hostgw_routes

NODES = [{'name': 'node3', 'node_ip': '10.89.20.13'}, {'name': 'node1', 'node_ip': '10.89.20.11'},
         {'name': 'node2', 'node_ip': '10.89.20.12'}]
POD_CIDRS = {'node1': '10.244.0.0/24', 'node2': '10.244.1.0/24', 'node3': '10.244.2.0/24'}


def test_one_route_per_peer_via_its_node_ip_on_the_own_uplink_sorted_by_destination():
    assert hostgw_routes(NODES, POD_CIDRS, 'node2', 'ens5') == [
        {'dest': '10.244.0.0/24', 'via': '10.89.20.11', 'dev': 'ens5'},
        {'dest': '10.244.2.0/24', 'via': '10.89.20.13', 'dev': 'ens5'},
    ]


def test_a_single_node_needs_no_routes():
    assert hostgw_routes(NODES[:1], POD_CIDRS, 'node3', 'ens5') == []
