#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
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
  - The result of C(ADD) is cached in O(cache_dir) per attachment, that is per pod, network and
    O(ifname) (as libcni keeps one per network, container and interface); it is the C(prevResult) that
    later C(CHECK) and C(DEL) calls need. So one pod can have several attachments (two tasks with
    different O(network) or O(ifname)), and each task manages only its own.
  - An attachment whose cached result passes C(CHECK) and whose network configuration is unchanged is
    left alone. One that fails C(CHECK), or whose configuration changed, is detached with C(DEL) (with
    the configuration and result it was made with) and attached again with C(ADD).
  - "Ownership: cni_pod marks in O(cache_dir) a network namespace it created, before creating it. It
    deletes only a namespace with that mark, and only when no attachment of the pod remains. A namespace
    that existed before (created by an admin or another runtime) can be attached to, and is left in
    place by O(state=absent); O(state=absent) without O(network) fails for a namespace that cni_pod
    neither created nor holds an attachment in. Cache entries of podnet 0.1 (C(<cache_dir>/<name>.json))
    are read as attachments, and as the mark of their namespace."
  - "Before the first C(ADD) every plugin binary of the chain must exist. When a plugin fails during
    C(ADD), every plugin that ran gets C(DEL) in reverse order with the result reached so far, so IPAM
    releases the address; a namespace the run created is deleted again."
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
      - V(absent) detaches the pod with C(DEL) and removes the cached results of every attachment of the pod
        when O(network) is not given, else only of the attachment to O(network) with O(ifname). The network
        namespace is deleted when cni_pod created it and no attachment of the pod remains.
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
      - "One line per object, sorted: C(netns NAME: created by cni_pod|not created by cni_pod, lo up|down)
        and C(attachment NETWORK IFNAME: config sha256 DIGEST[, fails CHECK]). Check mode shows exactly the
        diff of the real run. Addresses are not part of the diff (IPAM picks them during C(ADD)); the
        RV(ip) return value has them."
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
applied:
  description: What the run changed, in order (C(ip netns add NAME), C(ADD NETWORK IFNAME PLUGIN), C(DEL ...)),
    also when it failed part way; the module reports C(changed) when this is not empty.
  returned: always
  type: list
  elements: str
  sample: ["ip netns add web-1", "ADD podnet eth0 bridge", "ip -n web-1 link set dev lo up"]
netns:
  description: Path of the pod's network namespace.
  returned: always
  type: str
  sample: /run/netns/web-1
'''

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.podnet.netmodes.plugins.module_utils._cni import (
    VALID_ID,
    CniError,
    PluginChain,
    PluginError,
    PluginRunner,
    PodCache,
    config_digest,
    find_conflist,
    pod_ipv4,
    supports_check,
)
from ansible_collections.podnet.netmodes.plugins.module_utils._diff import object_diff
from ansible_collections.podnet.netmodes.plugins.module_utils._netns import NetnsRunner, netns_path
from ansible_collections.podnet.netmodes.plugins.module_utils._rules import ifname_problem, netns_name_problem


class Pod(object):
    """One run of the module: its runners, its cache and what it changed so far."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.name = module.params['name']
        self.ip = NetnsRunner(module)
        self.plugins = PluginRunner(module)
        self.cache = PodCache(module.params['cache_dir'], self.name)
        self.applied = []

    def chain(self, conflist, ifname):
        return PluginChain(conflist, self.params['bin_dir'], self.name, netns_path(self.name), ifname, self.plugins)

    def passes_check(self, entry):
        try:
            self.chain(entry['config'], entry['ifname']).check(entry['result'])
        except CniError:
            return False
        return True

    def attach(self, conflist, ifname):
        chain = self.chain(conflist, ifname)
        try:
            return chain.add()
        finally:
            self.applied.extend(chain.applied)

    def detach(self, entry):
        chain = self.chain(entry['config'], entry['ifname'])
        try:
            chain.delete(entry['result'])
        finally:
            self.applied.extend(chain.applied)
        self.cache.remove(entry)

    def create_netns(self, netns_ours):
        if self.ip.file_exists(self.name):
            if not netns_ours:
                raise CniError('%s exists but is no usable network namespace, and cni_pod did not create it: '
                               'refusing to replace it' % netns_path(self.name))
            # Our leftover that is no longer a namespace mount: `ip netns add` refuses to reuse the file.
            self.ip.delete(self.name)
            self.applied.append('ip netns delete %s' % self.name)
        # The mark goes first: a run that dies right after `ip netns add` must still own what it made.
        self.cache.mark_netns_created()
        rc, err = self.ip.add(self.name)
        if rc != 0:
            self.cache.clear_netns_created()
            raise CniError('%s netns add %s failed (rc=%d): %s' % (self.ip.binary, self.name, rc, err.strip()))
        self.applied.append('ip netns add %s' % self.name)

    def delete_netns(self):
        self.ip.delete(self.name)
        self.applied.append('ip netns delete %s' % self.name)
        self.cache.clear_netns_created()


def param_problems(params):
    problems = []
    if not VALID_ID.match(params['name']):
        problems.append('name %r is not a valid pod/container id: use letters, digits, "_", "." and "-", '
                        'starting with a letter or digit' % params['name'])
    else:
        reason = netns_name_problem(params['name'])
        if reason:
            problems.append('name %r %s' % (params['name'], reason))
    reason = ifname_problem(params['ifname'])
    if reason:
        problems.append('ifname %r %s' % (params['ifname'], reason))
    if params['network'] is not None and not VALID_ID.match(params['network']):
        problems.append('network %r is not a valid CNI network name' % params['network'])
    return problems


def netns_line(name, ours, lo_up):
    return 'netns %s: %s, lo %s' % (name, 'created by cni_pod' if ours else 'not created by cni_pod',
                                    'up' if lo_up else 'down')


def attachment_line(entry_or_conflist, ifname, passes_check=True):
    config = entry_or_conflist.get('config', entry_or_conflist)
    return 'attachment %s %s: config %s%s' % (config['name'], ifname, config_digest(config),
                                              '' if passes_check else ', fails CHECK')


def ensure_present(pod):
    params, name, ifname = pod.params, pod.name, pod.params['ifname']
    dummy, conflist = find_conflist(params['conf_dir'], params['network'])
    if not supports_check(conflist):
        raise CniError('CNI network %s uses cniVersion %s; cni_pod needs 0.4.0 or later (CHECK)'
                       % (conflist['name'], conflist['cniVersion']))
    # A missing plugin binary fails here, in check mode too, before anything is created that would need undoing.
    pod.chain(conflist, ifname).require_binaries()
    entry = pod.cache.load(conflist['name'], ifname)
    lo_up = pod.ip.loopback_up(name)
    netns_ours = pod.cache.netns_created()
    entry_ok = entry is not None and lo_up is not None and pod.passes_check(entry)
    attached = entry_ok and entry['config'] == conflist

    before = [] if lo_up is None else [netns_line(name, netns_ours, lo_up)]
    if entry is not None:
        before.append(attachment_line(entry, ifname, entry_ok))
    after = [netns_line(name, netns_ours or lo_up is None, True), attachment_line(conflist, ifname)]
    if before == after or pod.module.check_mode:
        return entry['result'] if attached else {}, before, after

    created_netns = lo_up is None
    if created_netns:
        pod.create_netns(netns_ours)
    try:
        if attached:
            result = entry['result']
        else:
            if entry is not None:
                pod.detach(entry)
            result = pod.attach(conflist, ifname)
            pod.cache.save(conflist, ifname, result)
    except CniError:
        if created_netns:
            pod.delete_netns()
        raise
    if not lo_up:
        pod.ip.set_loopback_up(name)
        pod.applied.append('ip -n %s link set dev lo up' % name)
    return result, before, after


def ensure_absent(pod):
    params, name = pod.params, pod.name
    entries = [entry for entry in pod.cache.attachments()
               if params['network'] is None or (entry['network'] == params['network']
                                                and entry['ifname'] == params['ifname'])]
    remaining = [entry for entry in pod.cache.attachments() if entry not in entries]
    netns_ours = pod.cache.netns_created()
    lo_up = pod.ip.loopback_up(name)
    netns_file = pod.ip.file_exists(name)
    if netns_file and not netns_ours and not entries and params['network'] is None:
        raise CniError('network namespace %s was not created by cni_pod and cni_pod holds no attachment in it '
                       '(no cache entry under %s): refusing to delete it' % (name, pod.cache.pod_dir))

    netns_before = [] if lo_up is None else [netns_line(name, netns_ours, lo_up)]
    before = netns_before + [attachment_line(entry, entry['ifname']) for entry in entries]
    delete_netns = netns_file and netns_ours and not remaining
    after = [] if delete_netns else list(netns_before)
    stale_mark = netns_ours and not netns_file and not remaining
    if pod.module.check_mode or not (entries or delete_netns or stale_mark):
        return {}, before, after

    for entry in entries:
        pod.detach(entry)
    if delete_netns:
        pod.delete_netns()
    elif netns_ours and not remaining:
        pod.cache.clear_netns_created()
    return {}, before, after


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
    problems = param_problems(module.params)
    if problems:
        module.fail_json(msg='; '.join(problems))
    pod = Pod(module)
    netns = netns_path(pod.name)
    try:
        if module.params['state'] == 'present':
            result, before, after = ensure_present(pod)
        else:
            result, before, after = ensure_absent(pod)
    except CniError as error:
        failure = dict(msg=to_native(error), netns=netns, changed=bool(pod.applied), applied=pod.applied,
                       rollback_errors=getattr(error, 'rollback_errors', []))
        if isinstance(error, PluginError):
            failure.update(plugin=error.plugin, command=error.command, code=error.code, details=error.details)
        module.fail_json(**failure)
    except (OSError, IOError) as error:
        module.fail_json(msg=to_native(error), netns=netns, changed=bool(pod.applied), applied=pod.applied)

    response = dict(changed=before != after or bool(pod.applied), netns=netns, result=result,
                    interfaces=result.get('interfaces', []), ip=pod_ipv4(result), applied=pod.applied)
    if module._diff:
        response['diff'] = object_diff('pod %s' % pod.name, before, after)
    module.exit_json(**response)


if __name__ == '__main__':
    main()
