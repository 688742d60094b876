# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Boot files: the script a module leaves on the node so that a systemd unit rebuilds its declaration at boot.

A module renders its boot file with the same code that applies the declaration, so the file can never say
something the module would not do. The file starts with a header naming the module that wrote it. Outside podnet's
own directory (/etc/podnet), a file at the same path without it belongs to someone else and is neither overwritten
nor deleted. Inside it, every file is podnet's: one without the header is podnet's own file damaged (truncated,
overwritten), and the module writes it anew, as it does a file whose header is intact but whose lines are not.
Standard library only.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import hashlib
import io
import os

# podnet's own directory: its boot units read it, and nothing else writes there.
PODNET_DIR = '/etc/podnet'


# The start of every boot file's header, whichever module wrote it.
HEADER_PREFIX = '# Written by podnet.netmodes '


def header_line(module_name, unit, verb='applied'):
    """The first line of every boot file ``module_name`` writes, e.g. for ip_routes and podnet-network.service."""
    return '# Written by podnet.netmodes %s; %s at boot by %s.\n' % (module_name, verb, unit)


def render(header, lines):
    """The file's text: the header, then one script line each; None (no file) when there are no lines."""
    if not lines:
        return None
    return header + ''.join(line + '\n' for line in lines)


def read_text(path):
    """The file's text, or None when it does not exist; bytes that are not UTF-8 (a damaged file) read as U+FFFD."""
    if not os.path.exists(path):
        return None
    with io.open(path, encoding='utf-8', errors='replace') as handle:
        return handle.read()


def header_marks(patterns):
    """Each regular file matching the glob ``patterns`` (those of the boot units), in name order per pattern, as
    {'path', 'podnet'}: whether it starts with a podnet header, which a damaged file (truncated, overwritten) lacks."""
    marks = []
    prefix = HEADER_PREFIX.encode('ascii')
    for pattern in patterns:
        for path in sorted(glob.glob(pattern)):
            if not os.path.isfile(path):
                continue
            with open(path, 'rb') as handle:
                marks.append({'path': path, 'podnet': handle.read(len(prefix)) == prefix})
    return marks


def in_podnet_dir(path):
    """Whether ``path`` lies under podnet's own directory, symbolic links resolved."""
    own = os.path.join(os.path.realpath(PODNET_DIR), '')
    return os.path.realpath(path).startswith(own)


def write_text(module, path, text):
    """Replace ``path`` atomically (a temporary file in the same directory, then a rename), mode 0644."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    tmp = path + '.tmp'
    with open(tmp, 'w') as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)
    module.atomic_move(tmp, path)


def summary_lines(path, text):
    """The boot file as diff lines: one line with its size and digest, none when there is no file."""
    if text is None:
        return []
    return ['boot file %s: %d lines, %s' % (path, text.count('\n'), digest(text))]


def digest(text):
    return 'sha256 ' + hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]


class BootFile(object):
    """One declaration's boot file: the text it holds (``before``) and the text the declaration needs (``after``).

    ``lines`` are the script lines that build the declaration on a freshly booted kernel; none means no file.
    """

    def __init__(self, path, header, lines):
        self.path = path
        self.header = header
        self.before = read_text(path)
        self.after = render(header, lines)

    @property
    def unmarked(self):
        return self.before is not None and not self.before.startswith(self.header)

    @property
    def foreign(self):
        """A file is there that this module did not write (no header of ours), outside podnet's own directory."""
        return self.unmarked and not in_podnet_dir(self.path)

    @property
    def damaged(self):
        """podnet's own file without its header: written anew like any file whose text differs."""
        return self.unmarked and in_podnet_dir(self.path)

    def damage_warning(self):
        """The warning for a damaged file, or None."""
        if not self.damaged:
            return None
        return ('%s did not start with "%s" (damaged); it is written anew from the declaration'
                % (self.path, self.header.rstrip('\n')))

    @property
    def changed(self):
        return self.before != self.after

    def refusal(self):
        """The failure message for a foreign file, or None."""
        if not self.foreign:
            return None
        return ('%s exists but was not written by podnet (its first line is not "%s"); refusing to overwrite or '
                'delete it' % (self.path, self.header.rstrip('\n')))

    def result(self):
        """What the module returns about the file; ``lines`` counts script lines, 0 when there is no file."""
        return dict(path=self.path, changed=self.changed,
                    lines=0 if self.after is None else self.after.count('\n') - self.header.count('\n'))

    def apply(self, module, applied=()):
        """Write the new text, or remove the file when the declaration needs none. Only call when ``changed``.

        ``applied``: what the run already changed in the kernel; a failure here reports it, and ``changed`` true
        when there is any.
        """
        try:
            if self.after is None:
                os.unlink(self.path)
            else:
                write_text(module, self.path, self.after)
        except (OSError, IOError) as exc:
            module.fail_json(msg='%s the boot file %s failed after applying %s: %s'
                             % ('removing' if self.after is None else 'writing', self.path,
                                '%d batch lines' % len(applied) if applied else 'nothing', exc),
                             changed=bool(applied), applied=list(applied))
