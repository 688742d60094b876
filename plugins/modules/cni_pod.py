#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) podnet.netmodes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: cni_pod
short_description: Attach a pod network namespace through the node's CNI configuration
description:
  - Plays the container runtime (the part of containerd or CRI-O that calls CNI) for one pod.
  - Creates the network namespace C(/run/netns/<name>) and runs the plugin chain of a CNI
    network configuration list (conflist) with C(ADD), C(CHECK) or C(DEL), exactly as the
    CNI specification describes, so the pod gets the same interfaces and addresses that a
    kubelet-started pod would get from the same conflist.
  - The result of C(ADD) is cached per pod in O(cache_dir); it is the C(prevResult) that later
    C(CHECK) and C(DEL) calls need.
  - An existing pod whose cached attachment passes C(CHECK) is left alone. A pod that fails
    C(CHECK), or whose network configuration changed since it was attached, is detached
    with C(DEL) and attached again with C(ADD).
  - The conflist must use cniVersion 0.4.0 or later, because C(CHECK) is needed for idempotence.
version_added: 0.1.0
author:
  - podnet.netmodes maintainers (@podnet)
options:
  name:
    description:
      - Name of the pod. Also the CNI container ID and the network namespace name
        (C(/run/netns/<name>)).
    type: str
    required: true
  state:
    description:
      - V(present) attaches the pod (creating its network namespace if needed).
      - V(absent) detaches it with C(DEL), deletes the network namespace and the cached result.
    type: str
    choices: [present, absent]
    default: present
  conf_dir:
    description:
      - Directory that holds the CNI network configuration lists (C(*.conflist)).
    type: path
    default: /etc/cni/net.d
  network:
    description:
      - Name of the CNI network (the conflist's C(name)) to attach the pod to.
      - By default the lexically first C(*.conflist) file in O(conf_dir) is used, as libcni does.
    type: str
  bin_dir:
    description:
      - Directory (or C(:)-separated directories) with the CNI plugin binaries; passed to the
        plugins as C(CNI_PATH).
    type: str
    default: /usr/lib/cni
  ifname:
    description:
      - Name of the interface inside the pod (C(CNI_IFNAME)).
    type: str
    default: eth0
  cache_dir:
    description:
      - Directory where the C(ADD) result and the configuration it was made with are kept,
        one file per pod.
    type: path
    default: /var/lib/podnet/cni
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - C(CHECK) is read-only, so check mode runs it to tell an attached pod from one that
        needs attaching; C(ADD) and C(DEL) are never run and no namespace is created.
  diff_mode:
    support: full
    details:
      - Shows C(name), C(attached) and C(ip) before and after. In check mode the address a
        new attachment will get is not known yet and is shown as V(null).
  platform:
    support: full
    platforms: posix
notes:
  - Needs root, C(ip) from iproute2 and the CNI plugin binaries on the target.
  - The plugins do all network work (veth, bridge, routes, IPAM); this module only drives them.
seealso:
  - name: CNI specification
    description: The protocol between runtimes and plugins that this module implements.
    link: https://www.cni.dev/docs/spec/
'''

EXAMPLES = r'''
- name: Attach pod web-1 to the node's default pod network
  podnet.netmodes.cni_pod:
    name: web-1
  register: web1

- name: Show its address
  ansible.builtin.debug:
    msg: "web-1 has {{ web1.ip }}"

- name: Attach a pod to a named network with a custom plugin directory
  podnet.netmodes.cni_pod:
    name: probe
    network: podnet
    bin_dir: /opt/cni/bin
    ifname: eth0

- name: Detach and remove the pod
  podnet.netmodes.cni_pod:
    name: web-1
    state: absent
'''

RETURN = r'''
ip:
  description: The pod's IPv4 address, without prefix length; V(null) when the pod is not attached
    (or, in check mode, not attached yet).
  returned: always
  type: str
  sample: 10.244.1.5
interfaces:
  description: The interfaces of the CNI result (host side and pod side).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "cni0", "mac": "9e:17:bb:a6:48:b1"}, {"name": "eth0", "mac": "0e:2b:23:35:0f:02", "sandbox": "/run/netns/web-1"}]
result:
  description: The CNI result of the plugin chain (the cached one when nothing changed); empty when detached
    or when check mode could not know it yet.
  returned: always
  type: dict
  sample: {"cniVersion": "1.0.0", "interfaces": [], "ips": [{"address": "10.244.1.5/24", "gateway": "10.244.1.1", "interface": 2}]}
netns:
  description: Path of the pod's network namespace.
  returned: always
  type: str
  sample: /run/netns/web-1
'''

import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.podnet.netmodes.plugins.module_utils._cni import (
    VALID_ID,
    CniError,
    PluginChain,
    PluginError,
    ResultCache,
    find_conflist,
    pod_ipv4,
    supports_check,
)

NETNS_DIR = '/run/netns'


def validate_params(module):
    params = module.params
    if not VALID_ID.match(params['name']):
        module.fail_json(msg='name %r is not a valid pod/container id: use letters, digits, "_", "." and "-", '
                             'starting with a letter or digit' % params['name'])
    ifname = params['ifname']
    if not ifname or len(ifname) > 15 or ifname in ('.', '..') or any(c in ifname for c in '/: \t\n'):
        module.fail_json(msg='ifname %r is not a valid interface name (1-15 characters, no "/", ":" or spaces)' % ifname)
    if params['network'] is not None and not VALID_ID.match(params['network']):
        module.fail_json(msg='network %r is not a valid CNI network name' % params['network'])


def plugin_runner(module):
    def run(argv, stdin, env):
        return module.run_command(argv, data=stdin, environ_update=env, check_rc=False)
    return run


def run_ip(module, args):
    rc, out, err = module.run_command(['ip'] + args, check_rc=False)
    if rc != 0:
        module.fail_json(msg='ip %s failed: %s' % (' '.join(args), err.strip()), rc=rc)
    return out


def netns_loopback_up(module, name):
    """True/False for the state of lo inside the pod netns, None if the netns is not usable."""
    rc, out, dummy = module.run_command(['ip', '-n', name, '-json', 'link', 'show', 'dev', 'lo'], check_rc=False)
    if rc != 0:
        return None
    links = json.loads(out or '[]')
    return bool(links) and 'UP' in links[0].get('flags', [])


def create_netns(module, name):
    if os.path.lexists(os.path.join(NETNS_DIR, name)):
        # A leftover file that is no longer a namespace mount: `ip netns add` refuses it.
        run_ip(module, ['netns', 'delete', name])
    run_ip(module, ['netns', 'add', name])


def delete_netns(module, name):
    if os.path.lexists(os.path.join(NETNS_DIR, name)):
        run_ip(module, ['netns', 'delete', name])


def make_chain(module, conflist, ifname):
    name = module.params['name']
    return PluginChain(conflist, module.params['bin_dir'], name, os.path.join(NETNS_DIR, name),
                       ifname, plugin_runner(module))


def passes_check(module, cached):
    try:
        make_chain(module, cached['config'], cached['ifname']).check(cached['result'])
    except PluginError:
        return False
    return True


def attachment_view(name, attached_result):
    return {'name': name, 'attached': attached_result is not None, 'ip': pod_ipv4(attached_result)}


def detach_cached(module, cached):
    make_chain(module, cached['config'], cached['ifname']).delete(cached['result'])


def add_or_roll_back(module, chain, created_netns):
    """ADD through the chain; on failure undo the partial attachment as runtimes do."""
    try:
        return chain.add()
    except CniError:
        try:
            chain.delete(None)
        except CniError:
            pass
        if created_netns:
            delete_netns(module, module.params['name'])
        raise


def ensure_present(module):
    params = module.params
    name, ifname = params['name'], params['ifname']
    dummy, conflist = find_conflist(params['conf_dir'], params['network'])
    if not supports_check(conflist):
        raise CniError('CNI network %s uses cniVersion %s; cni_pod needs 0.4.0 or later (CHECK)'
                       % (conflist['name'], conflist['cniVersion']))
    cache = ResultCache(params['cache_dir'], name)
    cached = cache.load()
    lo_up = netns_loopback_up(module, name)
    netns_usable = lo_up is not None

    attached = None
    if cached and netns_usable and cached['config'] == conflist and cached['ifname'] == ifname \
            and passes_check(module, cached):
        attached = cached['result']

    before = attachment_view(name, attached)
    if attached is not None and lo_up:
        return False, attached, before, before
    if module.check_mode:
        after = {'name': name, 'attached': True, 'ip': before['ip']}
        return True, attached or {}, before, after

    if not netns_usable:
        create_netns(module, name)
    if attached is None:
        if cached:
            detach_cached(module, cached)
            cache.remove()
        result = add_or_roll_back(module, make_chain(module, conflist, ifname), not netns_usable)
        cache.save(conflist, ifname, result)
    else:
        result = attached
    run_ip(module, ['-n', name, 'link', 'set', 'dev', 'lo', 'up'])
    return True, result, before, attachment_view(name, result)


def detach_uncached(module, ifname):
    """DEL without a prevResult for a namespace we hold no result for (e.g. an ADD that
    died half way); skipped when there is no network config to run it with."""
    try:
        dummy, conflist = find_conflist(module.params['conf_dir'], module.params['network'])
    except CniError:
        return
    make_chain(module, conflist, ifname).delete(None)


def ensure_absent(module):
    params = module.params
    name = params['name']
    cache = ResultCache(params['cache_dir'], name)
    cached = cache.load()
    netns_exists = os.path.lexists(os.path.join(NETNS_DIR, name))
    netns_usable = netns_loopback_up(module, name) is not None

    attached = cached['result'] if cached and netns_usable and passes_check(module, cached) else None
    before = attachment_view(name, attached)
    after = attachment_view(name, None)
    if not cached and not netns_exists:
        return False, {}, before, after
    if module.check_mode:
        return True, {}, before, after

    if cached:
        detach_cached(module, cached)
    elif netns_usable:
        detach_uncached(module, params['ifname'])
    delete_netns(module, name)
    cache.remove()
    return True, {}, before, after


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            conf_dir=dict(type='path', default='/etc/cni/net.d'),
            network=dict(type='str'),
            bin_dir=dict(type='str', default='/usr/lib/cni'),
            ifname=dict(type='str', default='eth0'),
            cache_dir=dict(type='path', default='/var/lib/podnet/cni'),
        ),
        supports_check_mode=True,
    )
    validate_params(module)
    netns = os.path.join(NETNS_DIR, module.params['name'])
    try:
        if module.params['state'] == 'present':
            changed, result, before, after = ensure_present(module)
        else:
            changed, result, before, after = ensure_absent(module)
    except PluginError as e:
        module.fail_json(msg=to_native(e), plugin=e.plugin, command=e.command, code=e.code,
                         details=e.details, netns=netns)
    except (CniError, OSError, IOError) as e:
        module.fail_json(msg=to_native(e), netns=netns)

    response = dict(changed=changed, netns=netns, result=result,
                    interfaces=result.get('interfaces', []), ip=pod_ipv4(result))
    if module._diff:
        response['diff'] = dict(before=before, after=after)
    module.exit_json(**response)


if __name__ == '__main__':
    main()
