# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run tests/kernel inside a VM lab guest, whose kernel has what this machine's lacks (ipip).

The guest is a bare Debian with python3 (3.11, as the venv) and no pip: the collection's plugins, tests/kernel and
the pure-Python packages that pytest and the modules import travel in one tar over SSH, from the venv.
"""
import io
import os
import subprocess
import sys
import sysconfig
import tarfile
import time
import xml.etree.ElementTree as ElementTree

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUEST_DIR = '/root/podnet-kernel-tests'
# pytest and what it imports at start-up (pygments: its terminal writer), and what the modules import from
# ansible-core: module_utils, plus the package's __init__ (which imports release and _vendor).
SITE_PACKAGES = ('pytest', '_pytest', 'pluggy', 'iniconfig', 'packaging', 'pygments', 'py.py')
ANSIBLE_PARTS = ('ansible/__init__.py', 'ansible/release.py', 'ansible/_vendor', 'ansible/module_utils')
# The collection as the tests import it: .collections/ansible_collections/podnet/netmodes is the checkout.
COLLECTION_LINK = '.collections/ansible_collections/podnet/netmodes'


def _skip_bytecode_of_tests(info):
    # pytest's rewritten test bytecode is of no use to another interpreter; site packages keep theirs (same
    # Python 3.11 magic, mtimes kept by tar), which spares the emulated guest compiling them.
    if info.name.startswith('tests/') and '__pycache__' in info.name.split('/'):
        return None
    return info


def bundle(site_packages=None):
    """The gzipped tar the guest unpacks into GUEST_DIR."""
    site = site_packages or sysconfig.get_paths()['purelib']
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w:gz', compresslevel=1) as tar:
        # The unit file and the program it runs: tests/kernel/test_boot_files.py runs its ExecStart.
        for part in ('plugins', 'tests/conftest.py', 'tests/kernel', 'meta/runtime.yml',
                     'roles/common/files/podnet-network.service', 'roles/common/files/podnet-replay'):
            tar.add(os.path.join(ROOT, part), arcname=part, filter=_skip_bytecode_of_tests)
        link = tarfile.TarInfo(COLLECTION_LINK)
        link.type = tarfile.SYMTYPE
        link.linkname = '../../..'
        link.mtime = int(time.time())
        tar.addfile(link)
        for part in SITE_PACKAGES + ANSIBLE_PARTS:
            tar.add(os.path.join(site, part), arcname='site/' + part)
    return buffer.getvalue()


def selected_tests(marker, paths):
    """Names of the tests that ``-m marker`` selects in ``paths`` here: what the guest must run and pass."""
    out = subprocess.run([sys.executable, '-m', 'pytest', '--collect-only', '-q', '-p', 'no:cacheprovider',
                          '-m', marker, *paths], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    return sorted(line.split('::', 1)[1] for line in out.splitlines() if '::' in line)


def guest_command(marker, paths):
    """Shell line for the guest: run pytest as root, then print the junit XML after a separator line."""
    return ('cd {d} && PYTHONPATH={d}/site PODNET_KERNEL_TESTS_MAY_UNLOAD_IPIP=1 python3 -m pytest -q -rs '
            '-p no:cacheprovider -m {m} --junitxml={d}/junit.xml {p}; rc=$?; echo ==junit==; cat {d}/junit.xml; '
            'exit $rc').format(d=GUEST_DIR, m=marker, p=' '.join(paths))


def outcomes(junit_xml):
    """{test name: 'passed' | 'skipped: reason' | 'failed: message'} from pytest's junit XML."""
    result = {}
    for case in ElementTree.fromstring(junit_xml).iter('testcase'):
        name = case.get('name')
        outcome = 'passed'
        for child in case:
            if child.tag in ('failure', 'error', 'skipped'):
                outcome = '%s: %s' % ('skipped' if child.tag == 'skipped' else 'failed', child.get('message'))
                break
        result[name] = outcome
    return result
