# -*- coding: utf-8 -*-
# Copyright (c) podnet.netmodes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The runtime side of the CNI protocol: load a network conflist, run its plugin chain
for ADD, CHECK and DEL, and turn plugin results and errors into Python values.

The plugins themselves do all the network work; this file only drives them the way
libcni (containerd, CRI-O) does.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import ipaddress
import json
import os
import re

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


class PluginChain(object):
    """One network's plugin chain for one container interface.

    run(argv, stdin_text, env) -> (rc, stdout, stderr) executes a plugin binary; the
    module passes a wrapper around AnsibleModule.run_command."""

    def __init__(self, conflist, bin_dir, container_id, netns_path, ifname, run):
        self.conflist = conflist
        self.bin_dir = bin_dir
        self.container_id = container_id
        self.netns_path = netns_path
        self.ifname = ifname
        self.run = run

    def plugin_path(self, plugin_type):
        for directory in self.bin_dir.split(os.pathsep):
            path = os.path.join(directory, plugin_type)
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return path
        raise CniError('CNI plugin binary %r not found in %s' % (plugin_type, self.bin_dir))

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
        rc, stdout, stderr = self.run([path], stdin, self.environment(command))
        if rc != 0:
            raise parse_plugin_error(plugin['type'], command, rc, stdout, stderr)
        return stdout

    def add(self):
        """ADD through the chain; each plugin sees the previous plugin's result."""
        result = None
        for plugin in self.conflist['plugins']:
            stdout = self.invoke('ADD', plugin, result)
            try:
                result = json.loads(stdout)
            except ValueError:
                raise CniError('CNI plugin %s ADD printed no JSON result: %r' % (plugin['type'], stdout[:200]))
        return result

    def check(self, cached_result):
        """CHECK every plugin in order against the cached ADD result; raises on failure."""
        if not supports_check(self.conflist):
            raise CniError('cniVersion %s does not support CHECK (needs 0.4.0 or later)'
                           % self.conflist['cniVersion'])
        for plugin in self.conflist['plugins']:
            self.invoke('CHECK', plugin, cached_result)

    def delete(self, cached_result):
        """DEL through the chain in reverse order; cached_result may be None."""
        for plugin in reversed(self.conflist['plugins']):
            self.invoke('DEL', plugin, cached_result)


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


class ResultCache(object):
    """The ADD result and the network config it was made with, one JSON file per pod
    (libcni keeps the same pair so that CHECK and DEL see what ADD saw)."""

    def __init__(self, cache_dir, name):
        self.path = os.path.join(cache_dir, name + '.json')

    def load(self):
        try:
            with open(self.path) as f:
                entry = json.load(f)
        except (OSError, IOError):
            return None
        except ValueError:
            raise CniError('CNI result cache %s is not valid JSON; remove it' % self.path)
        if not isinstance(entry, dict) or not isinstance(entry.get('config'), dict):
            raise CniError('CNI result cache %s has an unexpected layout; remove it' % self.path)
        return entry

    def save(self, config, ifname, result):
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        temp = self.path + '.tmp'
        with open(temp, 'w') as f:
            json.dump({'config': config, 'ifname': ifname, 'result': result}, f, indent=2, sort_keys=True)
        os.rename(temp, self.path)

    def remove(self):
        if os.path.exists(self.path):
            os.remove(self.path)
