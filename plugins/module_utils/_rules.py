# -*- coding: utf-8 -*-
# Copyright (c) 2026 podnet.netmodes maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rule book: every rule podnet enforces on a value that can come from an inventory.

Imported by the modules (on the target) and by the inventory checks (on the controller), so a value a
module would refuse is refused before any host changes. Standard library only.

Every ``*_problem`` function returns ``None`` for a good value, or a reason phrase that completes the
sentence "<variable> <value> ..." (for example ``'is 16 bytes long; Linux allows at most 15'``). Callers add
who and how to fix it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import re

IFNAMSIZ = 16  # the kernel's buffer, including the terminating NUL
MIN_MTU = 68
MIN_MTU_IPV6 = 1280
MAX_MTU = 65535
RESERVED_ROUTE_PROTOS = {0: 'unspec', 1: 'redirect', 2: 'kernel', 3: 'boot', 4: 'static'}
MAX_ROUTE_PROTO = 255
MAIN_TABLE = 254
# 0 is "unspecified", 253 the kernel's "default" table and 255 its "local" table.
RESERVED_TABLES = {0: 'unspec', 253: 'default', 255: 'local'}
MAX_TABLE = 0xFFFFFFFF
AS_TRANS = 23456  # RFC 6793
# RFC 7300: the last AS of the 2-byte and of the 4-byte range are reserved and must not be used in a session.
RESERVED_AS = (65535, 0xFFFFFFFF)
MAX_AS = 0xFFFFFFFF
TCP_MD5_MAX_KEY_LEN = 80  # TCP_MD5SIG_MAXKEYLEN in the kernel
NFT_NAME_MAX_LEN = 255  # NFT_NAME_MAXLEN - 1

# Characters that make one value read as more than one argument, or as a comment, in the input of
# `ip -batch` (which splits on whitespace, honours quotes and backslashes, and treats '#' as a comment)
# or of nft. They are refused in every name podnet passes on, whatever the kernel itself would allow.
_UNSAFE_CHARS = frozenset('#;"\'\\{}$`')
_NFT_NAME_RE = re.compile(r'^[A-Za-z][A-Za-z0-9_]*$')
_DIGITS_RE = re.compile(r'^[0-9]+$')
_SAFE_TOKEN_RE = re.compile(r'[^\s\x00-\x1f\x7f%s]+\Z' % re.escape(''.join(sorted(_UNSAFE_CHARS))))


def _has_control_or_space(text):
    return any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in text)


def token_problem(value):
    """Why ``value`` cannot be passed as exactly one argument on an ``ip -batch`` line, or None."""
    if not isinstance(value, str) or not value:
        return 'is not a non-empty string'
    # One regex pass: a module checks every word of thousands of batch lines.
    if _SAFE_TOKEN_RE.match(value):
        return None
    if _has_control_or_space(value):
        return 'contains whitespace or a control character'
    unsafe = sorted(set(value) & _UNSAFE_CHARS)
    if unsafe:
        return 'contains %s, which iproute2 and nft read as syntax, not as part of a name' % ' '.join(unsafe)
    return None


def ifname_problem(value):
    """Why ``value`` is not an interface name podnet can manage, or None.

    Linux refuses '/', ':' (alias syntax) and whitespace, and counts bytes, not characters; podnet also refuses
    what ``ip -batch`` would re-parse ('#' starts a comment there).
    """
    if not isinstance(value, str) or not value:
        return 'is not a non-empty string'
    size = len(value.encode('utf-8'))
    if size >= IFNAMSIZ:
        return 'is %d bytes long; Linux allows at most %d' % (size, IFNAMSIZ - 1)
    if value in ('.', '..'):
        return 'is "." or "..", which Linux refuses as an interface name'
    if '/' in value or ':' in value:
        return 'contains "/" or ":", which Linux refuses in an interface name (":" is alias syntax)'
    return token_problem(value)


def netns_name_problem(value):
    """Why ``value`` is not a network namespace name (a file in /run/netns) podnet can use, or None."""
    if not isinstance(value, str) or not value:
        return 'is not a non-empty string'
    if value in ('.', '..') or '/' in value:
        return 'is "." or ".." or contains "/", so it is not a plain file name in /run/netns'
    if len(value.encode('utf-8')) > 255:
        return 'is longer than 255 bytes'
    return token_problem(value)


def nft_name_problem(value):
    """Why ``value`` is not an nftables table or chain name podnet can use, or None."""
    if not isinstance(value, str) or not value:
        return 'is not a non-empty string'
    if len(value) > NFT_NAME_MAX_LEN:
        return 'is longer than %d characters' % NFT_NAME_MAX_LEN
    if not _NFT_NAME_RE.match(value):
        return 'is not a letter followed by letters, digits or "_"'
    return None


def parse_int(value):
    """(int, None) or (None, reason). Digit strings are accepted: ``-e`` and templates pass strings."""
    if isinstance(value, bool):
        return None, 'is a boolean, not an integer'
    if isinstance(value, int):
        return value, None
    # ASCII digits only: str.isdigit() is also true for '¹' or '²', which int() refuses.
    if isinstance(value, str) and _DIGITS_RE.match(value.strip()):
        return int(value.strip()), None
    return None, 'is not an integer'


def mtu_problem(value, ipv6=False):
    """Why ``value`` is not a usable link MTU (68..65535, at least 1280 where IPv6 runs), or None."""
    number, reason = parse_int(value)
    if reason:
        return reason
    low = MIN_MTU_IPV6 if ipv6 else MIN_MTU
    if not low <= number <= MAX_MTU:
        return 'is outside %d..%d%s' % (low, MAX_MTU, ' (IPv6 needs at least 1280)' if ipv6 else '')
    return None


def route_proto_problem(value):
    """Why ``value`` cannot be podnet's route protocol id (5..255; 0-4 belong to the kernel and admins)."""
    number, reason = parse_int(value)
    if reason:
        return reason
    if number in RESERVED_ROUTE_PROTOS:
        return 'is the reserved protocol "%s" (0-4 belong to the kernel and administrators)' % RESERVED_ROUTE_PROTOS[number]
    if not 0 <= number <= MAX_ROUTE_PROTO:
        return 'is outside 5..%d' % MAX_ROUTE_PROTO
    return None


def parse_route_table(value):
    """(table id, None) or (None, reason); "main" is 254."""
    if value is None or (isinstance(value, str) and value.strip() == 'main'):
        return MAIN_TABLE, None
    number, reason = parse_int(value)
    if reason:
        return None, reason + ' and not "main"'
    if number in RESERVED_TABLES:
        return None, 'is the kernel\'s reserved table "%s"' % RESERVED_TABLES[number]
    if not 1 <= number <= MAX_TABLE:
        return None, 'is outside 1..%d' % MAX_TABLE
    return number, None


def bgp_as_problem(value):
    number, reason = parse_int(value)
    if reason:
        return reason
    if number == AS_TRANS:
        return 'is AS_TRANS (RFC 6793), reserved for 2-byte AS compatibility'
    if number in RESERVED_AS:
        return 'is reserved (RFC 7300) and must not be used'
    if not 1 <= number <= MAX_AS:
        return 'is outside 1..%d' % MAX_AS
    return None


def bgp_password_problem(value):
    """Why ``value`` cannot be a TCP MD5 password in bird.conf, or None ('' means no password)."""
    if not isinstance(value, str):
        return 'is not a string'
    if any(char in '"\\' for char in value) or _has_control_or_space(value.replace(' ', 'x')):
        return 'contains a double quote, backslash or control character, which bird.conf cannot carry'
    if len(value.encode('utf-8')) > TCP_MD5_MAX_KEY_LEN:
        return 'is longer than %d bytes, the kernel\'s TCP MD5 key limit' % TCP_MD5_MAX_KEY_LEN
    return None


def parse_ipv4_network(value):
    """(IPv4Network, None), or (None, reason) when value is not a plain IPv4 network in CIDR notation."""
    if not isinstance(value, str):
        return None, 'is not a string in CIDR notation'
    text = value.strip()
    if ':' in text:
        return None, 'is an IPv6 network; podnet only supports IPv4 here'
    if '/' not in text:
        return None, 'has no prefix length (expected CIDR notation like a.b.c.d/len)'
    try:
        return ipaddress.IPv4Network(text), None
    except ValueError as exc:
        try:
            containing = ipaddress.IPv4Network(text, strict=False)
        except ValueError:
            return None, 'is not a valid IPv4 network (%s)' % exc
    return None, 'has host bits set (the network itself is %s)' % containing


def parse_ipv4_address(value):
    """(IPv4Address, None), or (None, reason)."""
    if not isinstance(value, str):
        return None, 'is not a string holding an IPv4 address'
    text = value.strip()
    if '/' in text:
        return None, 'has a prefix length; give the bare address'
    try:
        return ipaddress.IPv4Address(text), None
    except ValueError as exc:
        return None, 'is not a valid IPv4 address (%s)' % exc


def parse_ip_network(value):
    """(IPv4Network or IPv6Network, None) without host bits, or (None, reason). A bare address is a host route."""
    if not isinstance(value, str):
        return None, 'is not a string in CIDR notation'
    try:
        return ipaddress.ip_network(value.strip(), strict=True), None
    except ValueError as exc:
        return None, 'is not a network address without host bits (%s)' % exc


def parse_ip_address(value):
    """(IPv4Address or IPv6Address, None), or (None, reason)."""
    if not isinstance(value, str):
        return None, 'is not a string holding an IP address'
    try:
        return ipaddress.ip_address(value.strip()), None
    except ValueError:
        return None, 'is not an IP address'


def parse_ip_interface(value):
    """(IPv4Interface or IPv6Interface, None) for ADDRESS/PREFIX, or (None, reason)."""
    if not isinstance(value, str) or '/' not in value:
        return None, 'is not an address with a prefix length (such as 10.244.1.1/24)'
    try:
        return ipaddress.ip_interface(value.strip()), None
    except ValueError as exc:
        return None, 'is not a valid address/prefix (%s)' % exc


NFT_RULE_MAX_LEN = 4096
# nft ends a statement at ';' or a newline and starts a comment at '#'; with braces balanced inside the rule,
# a rule cannot close its chain or table, so these are all it takes to keep rule text one rule.
_NFT_RULE_UNSAFE_CHARS = frozenset(';#\\$\'`')


def nft_rule_problem(value):
    """Why ``value`` cannot be one rule statement inside a chain block of an nft script, or None."""
    if not isinstance(value, str) or not value.strip():
        return 'is not a non-empty string'
    if len(value) > NFT_RULE_MAX_LEN:
        return 'is longer than %d characters' % NFT_RULE_MAX_LEN
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        return 'contains a newline or control character; give one rule per item'
    unsafe = sorted(set(value) & _NFT_RULE_UNSAFE_CHARS)
    if unsafe:
        return 'contains %s, which nft reads as a statement end, comment or escape' % ' '.join(unsafe)
    depth, quoted = 0, False
    for char in value:
        if char == '"':
            quoted = not quoted
        elif not quoted and char == '{':
            depth += 1
        elif not quoted and char == '}':
            depth -= 1
            if depth < 0:
                return 'closes a "}" it did not open, which would end the chain or table'
    if quoted:
        return 'has an unterminated double quote'
    if depth:
        return 'leaves a "{" open'
    return None


_CNI_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.\-]*$')


def cni_network_name_problem(value):
    """Why ``value`` cannot name a CNI network (the conflist's ``name`` and part of its file name), or None.

    The CNI specification allows an alphanumeric first character followed by alphanumerics, '_', '.' and '-';
    that also keeps the name a plain file name in the CNI config directory.
    """
    if not isinstance(value, str) or not value:
        return 'is not a non-empty string'
    if len(value) > NFT_NAME_MAX_LEN:
        return 'is longer than %d characters' % NFT_NAME_MAX_LEN
    if not _CNI_NAME_RE.match(value):
        return 'is not an alphanumeric character followed by alphanumerics, "_", "." or "-" (CNI specification)'
    return None


# IP_MAX_MTU (0xFFF0) minus the 20-byte outer IPv4 header: the kernel's max_mtu of an ipip device.
IPIP_MAX_MTU = 0xFFF0 - 20
MAX_TUNNEL_TTL = 255


def parse_tunnel_endpoint(value):
    """(IPv4Address, None) for the local or remote end of an IPv4 tunnel (ipip), or (None, reason).

    An end is one unicast host: 0.0.0.0 is what the kernel prints as "any" (the fallback device tunl0 has it),
    and multicast, loopback and 240.0.0.0/4 (with 255.255.255.255) cannot be the outer address of a tunnel
    between two nodes.
    """
    addr, reason = parse_ipv4_address(value)
    if reason:
        return None, reason
    if addr.is_unspecified:
        return None, 'is 0.0.0.0 ("any"); give the node\'s own address'
    if addr.is_multicast or addr.is_loopback or addr.is_reserved:
        return None, 'is a multicast, loopback or reserved address, not a node address'
    return addr, None


_MAC_RE = re.compile(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}\Z')


def parse_mac(value):
    """(canonical lower-case MAC, None) for a unicast Ethernet address such as ``0a:58:0a:f4:01:01``, or
    (None, reason). Multicast (the low bit of the first octet) and all-zero addresses cannot be a link's own."""
    if not isinstance(value, str) or not _MAC_RE.match(value.lower()):
        return None, 'is not an Ethernet address of six colon-separated hex octets (such as 0a:58:0a:f4:01:01)'
    mac = value.lower()
    if int(mac[:2], 16) & 1:
        return None, 'is a multicast address; a link\'s own address must be unicast'
    if mac == '00:00:00:00:00:00':
        return None, 'is the all-zero address'
    return mac, None


def tunnel_ttl_problem(value):
    """Why ``value`` is not a TTL for a tunnel's outer header (1..255; omit it to inherit the inner TTL), or None."""
    number, reason = parse_int(value)
    if reason:
        return reason
    if not 1 <= number <= MAX_TUNNEL_TTL:
        return 'is outside 1..%d (omit it to inherit the inner packet\'s TTL)' % MAX_TUNNEL_TTL
    return None


def ipip_mtu_problem(value):
    """Why ``value`` is not an MTU the kernel accepts on an ipip device (68..65500), or None."""
    problem = mtu_problem(value)
    if problem:
        return problem
    if parse_int(value)[0] > IPIP_MAX_MTU:
        return 'is above %d, the largest MTU of an ipip device (65520 minus its 20-byte outer header)' % IPIP_MAX_MTU
    return None
