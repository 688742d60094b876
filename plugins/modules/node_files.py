#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: node_files
short_description: Write podnet's small files and directories on a node, and hold kernel parameters, in one call
description:
  - Declares directories, whole files (content given inline) and kernel parameters (C(/proc/sys)) of one node,
    and brings all of them to the declared state in one module run.
  - It exists for speed. Each C(ansible.builtin.copy) or C(template) of an unchanged file costs two module runs
    on the node (C(stat), then C(file) for the attributes), each loop item of C(ansible.builtin.file) or
    C(ansible.posix.sysctl) one more; over SSH every module run is a round trip of its own. podnet's node
    preparation was about ten of them on every run; this module makes it one.
  - A file is replaced atomically (a temporary file in the same directory, renamed over it) only when its
    content differs; owner, group and mode are then set as for C(ansible.builtin.file). A directory is
    created with its parents when missing. A kernel parameter is written to C(/proc/sys) only when the value
    the kernel holds differs (whitespace between the fields of a multi-field value is not significant, as for
    C(ansible.posix.sysctl)). Persist parameters with a file under C(/etc/sysctl.d) in O(files).
  - Nothing outside the declared paths and parameters is touched. Only O(absent) deletes, and only what carries
    podnet's mark.
version_added: 0.2.0
author:
  - podnet.netmodes maintainers (@podnet)
options:
  directories:
    description: Directories that must exist, in order (before any file is written).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the directory.
        type: path
        required: true
      owner:
        description: Owner (name or number).
        type: str
        default: root
      group:
        description: Group (name or number).
        type: str
        default: root
      mode:
        description: Permissions, as an octal string.
        type: str
        default: '0755'
  files:
    description: Files and their whole content, in order. The parent directory must exist or be in O(directories).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the file.
        type: path
        required: true
      content:
        description: The whole content of the file (UTF-8 text).
        type: str
        required: true
      owner:
        description: Owner (name or number).
        type: str
        default: root
      group:
        description: Group (name or number).
        type: str
        default: root
      mode:
        description: Permissions, as an octal string.
        type: str
        default: '0644'
      validate:
        description:
          - A command that checks the new content before the file is written, with C(%s) where the path of a
            temporary copy goes (for example C(/usr/sbin/bird -p -c %s)). It runs only when the content differs.
            A non-zero exit fails the module and leaves the file as it was.
          - The command is split into arguments as a shell would, but no shell runs it; C(%s) is replaced inside
            one argument, never split.
          - Check mode runs it too, so it predicts a refusal; when the command's program is not installed yet (a
            fresh host before its packages are), check mode cannot run it and skips it.
        type: str
      backup:
        description:
          - Where to keep the file as it was before podnet first replaced it (another owner's file, such as the
            configuration a package shipped), so that O(absent) with O(absent[].restore) can put it back.
          - Taken when the content differs, the file exists, does not contain O(files[].mark) (it is not podnet's
            own from an earlier run) and no backup is there yet; parent directories are created. Later runs keep the
            first backup.
        type: path
      mark:
        description: With O(files[].backup), text that marks the current file as podnet's own, which is not kept.
        type: str
  absent:
    description:
      - Files and directories to delete, in order, each only as far as it proves to be podnet's. What is not proved
        is left as it is and listed in RV(kept).
      - A file is deleted only when its text contains O(absent[].mark).
      - A directory is emptied of the files under it that contain O(absent[].mark) (none without a mark), then every
        directory under it that is empty, then itself when empty.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      mark:
        description: Text that a file must contain to count as podnet's. Required for a file.
        type: str
      restore:
        description:
          - For a file - the O(files[].backup) of it; when that exists, it is moved back over the file instead of the
            file being deleted.
        type: path
  sysctl:
    description:
      - Kernel parameters to hold now, name (dotted, as C(sysctl) prints it) to value.
    type: dict
    default: {}
  exists:
    description:
      - Paths to look at without changing them; the result's RV(exists) says whether each exists (a symlink counts,
        whether or not its target does).
      - For skipping, without another round trip, a later task whose state such a path shows - for example
        C(systemctl enable) of a unit whose C(.wants) link is already there.
    type: list
    elements: path
    default: []
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - One entry per changed file (content as text, with the path as header; owner, group and mode as
        C(ansible.builtin.file) shows them), per created directory, per changed kernel parameter and per deleted
        or restored file and deleted directory. Check mode shows exactly the diff of the real run.
  platform:
    support: full
    platforms: posix
notes:
  - Content is compared byte for byte, so a template rendered on the controller (C(lookup('template', ...)))
    gives the same result as C(ansible.builtin.template) with the same text.
seealso:
  - module: ansible.builtin.copy
  - module: ansible.posix.sysctl
'''

EXAMPLES = r'''
- name: Write podnet's files and hold the kernel parameters pod traffic needs
  podnet.netmodes.node_files:
    directories:
      - path: /etc/ansible/facts.d
      - path: /etc/cni/net.d
    files:
      - path: /etc/ansible/facts.d/podnet.fact
        content: "{{ {'pod_cidr': '10.244.1.0/24'} | to_nice_json }}\n"
      - path: /etc/sysctl.d/90-podnet.conf
        content: "net.ipv4.ip_forward=1\n"
    sysctl:
      net.ipv4.ip_forward: 1
    exists:
      - /etc/systemd/system/multi-user.target.wants/podnet-nftables.service
  register: written

- name: Enable the unit only when its file changed or it is not enabled yet
  ansible.builtin.systemd_service:
    name: podnet-nftables.service
    enabled: true
    daemon_reload: "{{ '/etc/systemd/system/podnet-nftables.service' in written.files }}"
  when: >-
    '/etc/systemd/system/podnet-nftables.service' in written.files
    or not written.exists['/etc/systemd/system/multi-user.target.wants/podnet-nftables.service']

- name: Remove what podnet wrote, putting BIRD's own config back, and its directory once empty
  podnet.netmodes.node_files:
    absent:
      - path: /etc/sysctl.d/90-podnet.conf
        mark: podnet.netmodes
      - path: /etc/bird/bird.conf
        mark: podnet.netmodes
        restore: /etc/podnet/bird/bird.conf.before-podnet
      - path: /etc/podnet
        mark: "# Written by podnet.netmodes"
'''

RETURN = r'''
directories:
  description: Directories created or whose owner, group or mode was set (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/cni/net.d]
files:
  description: Files written or whose owner, group or mode was set (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/ansible/facts.d/podnet.fact]
sysctl:
  description: Kernel parameters whose value was (or would be) changed, name to C(before) and C(after).
  returned: always
  type: dict
  sample: {net.ipv4.ip_forward: {before: '0', after: '1'}}
removed:
  description: Files and directories deleted, or files restored from their backup (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/sysctl.d/90-podnet.conf]
kept:
  description: Paths under O(absent) left in place because they do not carry the mark, or a directory not empty.
  returned: always
  type: list
  elements: str
  sample: [/var/lib/podnet/cni/pods/web-1/podnet/eth0.json]
exists:
  description: Each path of O(exists), to whether it exists (looked at after the files were written).
  returned: always
  type: dict
  sample: {/etc/systemd/system/multi-user.target.wants/podnet-nftables.service: true}
'''

import os
import shlex
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text

PROC_SYS = '/proc/sys'


def sysctl_path(name, root=None):
    """The /proc/sys file of a dotted parameter name; a name with '/' uses slashes as sysctl(8) accepts them."""
    root = root or PROC_SYS
    if '/' in name:
        return os.path.join(root, name.strip('/'))
    return os.path.join(root, *name.split('.'))


def normalize_value(value):
    """A parameter's value as compared: the fields, separated by single spaces (sysctl prints tabs)."""
    if isinstance(value, bool):
        value = int(value)
    return ' '.join(to_text(value).split())


def read_bytes(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def attribute_args(module, spec, path):
    return module.load_file_common_arguments(dict(path=path, owner=spec['owner'], group=spec['group'],
                                                  mode=spec['mode']))


def ensure_directory(module, spec, diffs):
    path = spec['path']
    created = False
    if not os.path.isdir(path):
        if os.path.lexists(path):
            module.fail_json(msg='%s exists and is not a directory' % path)
        diffs.append({'before': {'path': path, 'state': 'absent'}, 'after': {'path': path, 'state': 'directory'}})
        if module.check_mode:
            return True
        os.makedirs(path)
        created = True
    return set_attributes(module, spec, path, created, diffs)


def set_attributes(module, spec, path, created, diffs):
    """Owner, group and mode; the diff shows them only for a path that existed (check mode cannot see more)."""
    diff = None if created else {}
    changed = module.set_fs_attributes_if_different(attribute_args(module, spec, path), created, diff=diff)
    if diff and diff.get('after'):
        diffs.append({'before': dict(diff.get('before', {}), path=path), 'after': dict(diff['after'], path=path)})
    return changed


def program_found(module, program):
    if os.path.isabs(program):
        return os.access(program, os.X_OK)
    return module.get_bin_path(program) is not None


def validate_content(module, spec, wanted):
    """Run the file's validate command on a temporary copy of the new content; fail the module if it refuses."""
    argv = shlex.split(spec['validate'])
    if module.check_mode and not program_found(module, argv[0]):
        return
    handle, temp = tempfile.mkstemp(prefix='.podnet-validate-', dir=module.tmpdir)
    try:
        with os.fdopen(handle, 'wb') as out:
            out.write(wanted)
        rc, out, err = module.run_command([arg.replace('%s', temp) for arg in argv], environ_update={'LC_ALL': 'C'})
    finally:
        os.remove(temp)
    if rc != 0:
        module.fail_json(msg='%s: %s refused the new content, so the file was not written: %s'
                             % (spec['path'], argv[0], (err or out).strip()), rc=rc, stdout=out, stderr=err)


def ensure_file(module, spec, diffs):
    path = spec['path']
    wanted = to_bytes(spec['content'], errors='surrogate_or_strict')
    if os.path.lexists(path) and not os.path.isfile(path):
        module.fail_json(msg='%s exists and is not a regular file' % path)
    current = read_bytes(path)
    changed = False
    if current != wanted:
        diffs.append({'before_header': path, 'after_header': path,
                      'before': '' if current is None else to_text(current, errors='surrogate_or_replace'),
                      'after': spec['content']})
        changed = True
        if spec['validate']:
            validate_content(module, spec, wanted)
        if module.check_mode and current is None:
            return True
        if not module.check_mode:
            if (spec['backup'] and current is not None and not os.path.lexists(spec['backup'])
                    and not (spec['mark'] and marked(path, spec['mark']))):
                keep_backup(module, path, spec['backup'])
            directory = os.path.dirname(path)
            handle, temp = tempfile.mkstemp(prefix='.podnet-', dir=directory)
            try:
                with os.fdopen(handle, 'wb') as out:
                    out.write(wanted)
                module.atomic_move(temp, path)
            finally:
                if os.path.exists(temp):
                    os.remove(temp)
    return set_attributes(module, spec, path, current is None, diffs) or changed


def keep_backup(module, path, backup):
    """Copy ``path`` to ``backup`` with its mode and owner, so that moving it back restores the file as it was."""
    directory = os.path.dirname(backup)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    shutil.copy2(path, backup)
    status = os.stat(path)
    os.chown(backup, status.st_uid, status.st_gid)


def marked(path, mark):
    current = read_bytes(path)
    return current is not None and to_bytes(mark, errors='surrogate_or_strict') in current


def remove_file(module, spec, diffs, result):
    path = spec['path']
    if os.path.isdir(path) and not os.path.islink(path):
        return remove_directory(module, spec, diffs, result)
    if not os.path.lexists(path):
        return
    if not spec['mark']:
        module.fail_json(msg='absent: %s is a file, and a file is only deleted when it carries a mark; give mark'
                             % path)
    if not os.path.isfile(path) or not marked(path, spec['mark']):
        result['kept'].append(path)
        return
    restore = spec['restore'] if spec['restore'] and os.path.isfile(spec['restore']) else None
    after = '' if restore is None else to_text(read_bytes(restore), errors='surrogate_or_replace')
    diffs.append({'before_header': path, 'after_header': restore and '%s (from %s)' % (path, restore) or path,
                  'before': to_text(read_bytes(path), errors='surrogate_or_replace'), 'after': after})
    result['removed'].append(path)
    if module.check_mode:
        return
    if restore is None:
        os.unlink(path)
    else:
        os.rename(restore, path)


def remove_directory(module, spec, diffs, result):
    """Marked files under the directory, in name order, then its empty directories from the bottom up, then itself.
    True when the directory is (or in check mode would be) gone."""
    top = spec['path']
    gone = True
    for name in sorted(os.listdir(top)):
        path = os.path.join(top, name)
        if os.path.isdir(path) and not os.path.islink(path):
            gone = remove_directory(module, dict(spec, path=path), diffs, result) and gone
        elif spec['mark'] and os.path.isfile(path) and not os.path.islink(path) and marked(path, spec['mark']):
            remove_file(module, dict(spec, path=path, restore=None), diffs, result)
        else:
            result['kept'].append(path)
            gone = False
    if not gone:
        result['kept'].append(top)
        return False
    diffs.append({'before': {'path': top, 'state': 'directory'}, 'after': {'path': top, 'state': 'absent'}})
    result['removed'].append(top)
    if not module.check_mode:
        os.rmdir(top)
    return True


def ensure_sysctl(module, name, value, diffs):
    path = sysctl_path(name)
    current = read_bytes(path)
    if current is None:
        module.fail_json(msg='kernel parameter %s: cannot read %s (unknown parameter, or its module is not '
                             'loaded)' % (name, path))
    before, after = normalize_value(to_text(current)), normalize_value(value)
    if before == after:
        return None
    diffs.append({'before_header': 'sysctl %s' % name, 'after_header': 'sysctl %s' % name,
                  'before': '%s = %s\n' % (name, before), 'after': '%s = %s\n' % (name, after)})
    if not module.check_mode:
        try:
            with open(path, 'w') as handle:
                handle.write(after)
        except (IOError, OSError) as caught:
            module.fail_json(msg='kernel parameter %s: writing %r to %s failed: %s' % (name, after, path, caught))
    return {'before': before, 'after': after}


def run_module():
    attributes = dict(owner=dict(type='str', default='root'), group=dict(type='str', default='root'))
    module = AnsibleModule(
        argument_spec=dict(
            directories=dict(type='list', elements='dict', default=[], options=dict(
                path=dict(type='path', required=True), mode=dict(type='str', default='0755'), **attributes)),
            files=dict(type='list', elements='dict', default=[], options=dict(
                path=dict(type='path', required=True), content=dict(type='str', required=True),
                mode=dict(type='str', default='0644'), validate=dict(type='str'), backup=dict(type='path'),
                mark=dict(type='str'),
                **attributes)),
            absent=dict(type='list', elements='dict', default=[], options=dict(
                path=dict(type='path', required=True), mark=dict(type='str'), restore=dict(type='path'))),
            sysctl=dict(type='dict', default={}),
            exists=dict(type='list', elements='path', default=[]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    for kind in ('directories', 'files', 'absent'):
        for spec in params[kind]:
            if not os.path.isabs(spec['path']):
                module.fail_json(msg='%s: path %s is not absolute' % (kind, spec['path']))
            if kind == 'files' and spec['validate'] is not None and '%s' not in spec['validate']:
                module.fail_json(msg='files: validate of %s has no %%s where the temporary file goes: %s. Fix: '
                                     'write the command with %%s, e.g. /usr/sbin/bird -p -c %%s'
                                     % (spec['path'], spec['validate']))
    diffs = []
    result = {'changed': False, 'directories': [], 'files': [], 'sysctl': {}, 'removed': [], 'kept': []}
    for spec in params['directories']:
        if ensure_directory(module, spec, diffs):
            result['directories'].append(spec['path'])
    for spec in params['files']:
        if ensure_file(module, spec, diffs):
            result['files'].append(spec['path'])
    for name in params['sysctl']:
        change = ensure_sysctl(module, name, params['sysctl'][name], diffs)
        if change is not None:
            result['sysctl'][name] = change
    for spec in params['absent']:
        remove_file(module, spec, diffs, result)
    result['changed'] = bool(result['directories'] or result['files'] or result['sysctl'] or result['removed'])
    result['exists'] = dict((path, os.path.lexists(path)) for path in params['exists'])
    if module._diff:
        result['diff'] = diffs
    module.exit_json(**result)


def main():
    run_module()


if __name__ == '__main__':
    main()
