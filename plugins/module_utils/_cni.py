# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The runtime side of the CNI protocol: load a network conflist, run its plugin chain
for ADD, CHECK and DEL, and turn plugin results and errors into Python values.

The plugins themselves do all the network work; this file only drives them the way
libcni (containerd, CRI-O) does. Plugins run through ``PluginRunner``; a plugin's non-zero exit is the
protocol's named error case (a JSON error on stdout), turned into ``PluginError``.

What cni_pod owns is written down in its cache (``PodCache``): one entry per attachment (network, ifname)
of a pod, as libcni keeps one per (network, container, ifname), and a mark for a namespace it created.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib
import ipaddress
import json
import os
import re

from ansible_collections.podnet.netmodes.plugins.module_utils._runner import CommandRunner

VALID_ID = re.compile(r'^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$')
CHECK_MIN_VERSION = (0, 4, 0)


class CniError(Exception):
    """A problem with the CNI configuration, a plugin binary or a plugin's answer."""


class PluginError(CniError):
    """A plugin ran and reported failure."""

    def __init__(self, plugin, command, code, msg, details=''):
        self.plugin = plugin
        self.command = command
        self.code = code
        self.msg = msg
        self.details = details
        text = 'CNI plugin %s %s failed (code %s): %s' % (plugin, command, code, msg)
        if details:
            text += ' (%s)' % details
        super(PluginError, self).__init__(text)


def version_tuple(version):
    try:
        return tuple(int(part) for part in str(version).split('.'))
    except ValueError:
        raise CniError('invalid cniVersion %r' % (version,))


def supports_check(conflist):
    return version_tuple(conflist['cniVersion']) >= CHECK_MIN_VERSION


def conflist_files(conf_dir):
    """*.conflist files of conf_dir in lexical order, the order libcni uses."""
    try:
        names = sorted(os.listdir(conf_dir))
    except OSError as e:
        raise CniError('cannot read CNI config directory %s: %s' % (conf_dir, e.strerror))
    return [os.path.join(conf_dir, n) for n in names
            if n.endswith('.conflist') and os.path.isfile(os.path.join(conf_dir, n))]


def load_conflist(path):
    try:
        with open(path) as f:
            conflist = json.load(f)
    except (OSError, IOError) as e:
        raise CniError('cannot read CNI config %s: %s' % (path, e.strerror))
    except ValueError as e:
        raise CniError('CNI config %s is not valid JSON: %s' % (path, e))
    validate_conflist(conflist, path)
    return conflist


def validate_conflist(conflist, path):
    if not isinstance(conflist, dict):
        raise CniError('CNI config %s must be a JSON object' % path)
    for key in ('name', 'cniVersion'):
        if not isinstance(conflist.get(key), str) or not conflist.get(key):
            raise CniError('CNI config %s has no %s' % (path, key))
    if not VALID_ID.match(conflist['name']):
        raise CniError('CNI config %s: network name %r is not letters, digits, "_", "." and "-"'
                       % (path, conflist['name']))
    version_tuple(conflist['cniVersion'])
    plugins = conflist.get('plugins')
    if not isinstance(plugins, list) or not plugins:
        raise CniError('CNI config %s has no plugins list' % path)
    for index, plugin in enumerate(plugins):
        if not isinstance(plugin, dict) or not isinstance(plugin.get('type'), str) \
                or not VALID_ID.match(plugin['type']):
            raise CniError('CNI config %s: plugin #%d has no valid type' % (path, index))


def find_conflist(conf_dir, network=None):
    """The conflist for `network`, or the lexically first one when network is None.

    Returns (path, conflist)."""
    paths = conflist_files(conf_dir)
    if not paths:
        raise CniError('no *.conflist file in %s' % conf_dir)
    if network is None:
        return paths[0], load_conflist(paths[0])
    for path in paths:
        conflist = load_conflist(path)
        if conflist['name'] == network:
            return path, conflist
    raise CniError('no CNI network named %r in %s' % (network, conf_dir))


def plugin_config(conflist, plugin, prev_result):
    """What one plugin gets on stdin: its own conf plus the network name, version
    and the result so far."""
    config = dict(plugin)
    config['name'] = conflist['name']
    config['cniVersion'] = conflist['cniVersion']
    if prev_result is not None:
        config['prevResult'] = prev_result
    else:
        config.pop('prevResult', None)
    return config


def parse_plugin_error(plugin, command, rc, stdout, stderr):
    try:
        error = json.loads(stdout)
    except ValueError:
        error = None
    if isinstance(error, dict) and 'msg' in error:
        return PluginError(plugin, command, error.get('code'), error.get('msg'), error.get('details', ''))
    text = (stderr or stdout or '').strip() or 'no output'
    return PluginError(plugin, command, 'exit %s' % rc, text)


class PluginRunner(object):
    """Runs CNI plugin binaries: each by its full path, with the CNI_* variables, config on stdin."""

    def __init__(self, module):
        self.module = module

    def invoke(self, path, stdin, env):
        """(rc, stdout, stderr); any exit code is returned, as a plugin reports failure as JSON on stdout."""
        runner = CommandRunner(self.module, binary=path)
        return runner.run([], data=stdin, expected_rcs=range(0, 256), environ=env)


class PluginChain(object):
    """One network's plugin chain for one container interface; ``runner`` is a ``PluginRunner``.

    ``applied`` lists every plugin command that succeeded, so a failure can tell what it left changed.
    """

    def __init__(self, conflist, bin_dir, container_id, netns_path, ifname, runner):
        self.conflist = conflist
        self.bin_dir = bin_dir
        self.container_id = container_id
        self.netns_path = netns_path
        self.ifname = ifname
        self.runner = runner
        self.applied = []

    def plugin_path(self, plugin_type):
        for directory in self.bin_dir.split(os.pathsep):
            path = os.path.join(directory, plugin_type)
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return path
        raise CniError('CNI plugin binary %r not found in %s' % (plugin_type, self.bin_dir))

    def require_binaries(self):
        """Fail before the first ADD when any plugin of the chain is missing: nothing to roll back then."""
        for plugin in self.conflist['plugins']:
            self.plugin_path(plugin['type'])

    def environment(self, command):
        return {
            'CNI_COMMAND': command,
            'CNI_CONTAINERID': self.container_id,
            'CNI_NETNS': self.netns_path,
            'CNI_IFNAME': self.ifname,
            'CNI_PATH': self.bin_dir,
            'CNI_ARGS': '',
        }

    def invoke(self, command, plugin, prev_result):
        path = self.plugin_path(plugin['type'])
        stdin = json.dumps(plugin_config(self.conflist, plugin, prev_result))
        rc, stdout, stderr = self.runner.invoke(path, stdin, self.environment(command))
        if rc != 0:
            raise parse_plugin_error(plugin['type'], command, rc, stdout, stderr)
        if command != 'CHECK':
            self.applied.append('%s %s %s %s' % (command, self.conflist['name'], self.ifname, plugin['type']))
        return stdout

    def add(self):
        """ADD through the chain; each plugin sees the previous plugin's result.

        When a plugin fails, the plugins that ran (the failing one included: it may have half-done its work)
        get DEL in reverse order with the result reached so far, so the IPAM plugin that the first plugin
        called releases its address. The error raised carries ``rollback_errors``.
        """
        self.require_binaries()
        result = None
        ran = []
        for plugin in self.conflist['plugins']:
            ran.append(plugin)
            try:
                stdout = self.invoke('ADD', plugin, result)
                try:
                    result = json.loads(stdout)
                except ValueError:
                    raise CniError('CNI plugin %s ADD printed no JSON result: %r' % (plugin['type'], stdout[:200]))
            except CniError as error:
                error.rollback_errors = self.delete_plugins(reversed(ran), result)
                raise
        return result

    def check(self, cached_result):
        """CHECK every plugin in order against the cached ADD result; raises on failure."""
        if not supports_check(self.conflist):
            raise CniError('cniVersion %s does not support CHECK (needs 0.4.0 or later)'
                           % self.conflist['cniVersion'])
        for plugin in self.conflist['plugins']:
            self.invoke('CHECK', plugin, cached_result)

    def delete(self, cached_result):
        """DEL through the chain in reverse order; every plugin gets its DEL even when an earlier one failed."""
        errors = self.delete_plugins(reversed(self.conflist['plugins']), cached_result)
        if errors:
            raise CniError('DEL of %s %s did not complete: %s' % (self.conflist['name'], self.ifname,
                                                                  '; '.join(errors)))

    def delete_plugins(self, plugins, prev_result):
        errors = []
        for plugin in plugins:
            try:
                self.invoke('DEL', plugin, prev_result)
            except CniError as error:
                errors.append(str(error))
        return errors


def config_digest(conflist):
    """A short digest of a network config, to show in diffs which config an attachment was made with."""
    text = json.dumps(conflist, sort_keys=True, separators=(',', ':'))
    return 'sha256 ' + hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]


def sandbox_interface_indexes(result):
    return set(index for index, interface in enumerate(result.get('interfaces') or [])
               if isinstance(interface, dict) and interface.get('sandbox'))


def pod_ipv4(result):
    """The pod's IPv4 address (no prefix) from a CNI result, or None.

    Prefers an address on an interface inside the sandbox, as a result also lists
    host-side interfaces."""
    if not result:
        return None
    in_sandbox = sandbox_interface_indexes(result)
    candidates = []
    for entry in result.get('ips') or []:
        try:
            interface = ipaddress.ip_interface(entry['address'])
        except (KeyError, TypeError, ValueError):
            continue
        if interface.version == 4:
            candidates.append((entry.get('interface') not in in_sandbox, str(interface.ip)))
    if not candidates:
        return None
    return sorted(candidates, key=lambda c: c[0])[0][1]


class PodCache(object):
    """What cni_pod made for one pod: ``<cache_dir>/pods/<pod>/<network>/<ifname>.json`` per attachment (the ADD
    result and the config it was made with, which CHECK and DEL need), and ``<cache_dir>/pods/<pod>/netns-created``
    when cni_pod created the pod's network namespace. podnet 0.1 kept one ``<cache_dir>/<pod>.json`` per pod and
    always managed the namespace; such an entry is read as an attachment and as the namespace mark.
    """

    NETNS_MARK = 'netns-created'

    def __init__(self, cache_dir, pod):
        self.pod_dir = os.path.join(cache_dir, 'pods', pod)
        self.legacy_path = os.path.join(cache_dir, pod + '.json')

    def entry_path(self, network, ifname):
        return os.path.join(self.pod_dir, network, ifname + '.json')

    def load(self, network, ifname):
        for entry in self.attachments():
            if entry['network'] == network and entry['ifname'] == ifname:
                return entry
        return None

    def attachments(self):
        """Every cached attachment of the pod: dicts with network, ifname, config, result and path."""
        entries = []
        if os.path.isdir(self.pod_dir):
            for network in sorted(os.listdir(self.pod_dir)):
                directory = os.path.join(self.pod_dir, network)
                if not os.path.isdir(directory):
                    continue
                for name in sorted(os.listdir(directory)):
                    if name.endswith('.json'):
                        entries.append(self._read(os.path.join(directory, name)))
        if os.path.exists(self.legacy_path):
            entries.append(self._read(self.legacy_path))
        return entries

    def _read(self, path):
        try:
            with open(path) as handle:
                entry = json.load(handle)
        except ValueError:
            raise CniError('CNI result cache %s is not valid JSON; remove it' % path)
        if not isinstance(entry, dict) or not isinstance(entry.get('config'), dict) \
                or not isinstance(entry['config'].get('name'), str) or not isinstance(entry.get('ifname'), str):
            raise CniError('CNI result cache %s has an unexpected layout; remove it' % path)
        entry['network'] = entry['config']['name']
        entry['path'] = path
        return entry

    def save(self, config, ifname, result):
        path = self.entry_path(config['name'], ifname)
        _write_json(path, {'config': config, 'ifname': ifname, 'result': result})

    def remove(self, entry):
        if entry['path'] == self.legacy_path:
            # podnet 0.1 managed the namespace of every pod it cached; keep that claim when its entry goes.
            self.mark_netns_created()
        os.remove(entry['path'])
        directory = os.path.dirname(entry['path'])
        if directory != os.path.dirname(self.legacy_path):
            _remove_if_empty(directory)
            _remove_if_empty(self.pod_dir)

    def netns_created(self):
        return os.path.exists(os.path.join(self.pod_dir, self.NETNS_MARK)) or os.path.exists(self.legacy_path)

    def mark_netns_created(self):
        _write_json(os.path.join(self.pod_dir, self.NETNS_MARK), {'created_by': 'podnet.netmodes cni_pod'})

    def clear_netns_created(self):
        path = os.path.join(self.pod_dir, self.NETNS_MARK)
        if os.path.exists(path):
            os.remove(path)
        _remove_if_empty(self.pod_dir)


def _remove_if_empty(directory):
    if os.path.isdir(directory) and not os.listdir(directory):
        os.rmdir(directory)


def _write_json(path, data):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    temp = path + '.tmp'
    with open(temp, 'w') as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
    os.rename(temp, path)
