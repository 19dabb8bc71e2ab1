"""Validators of plain values shared by component Args and the stack config parser."""

from __future__ import annotations

import ipaddress
import re

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")


def check_cidr(value: str) -> str | None:
    """None when `value` is a CIDR block, else what is allowed."""
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError:
        return "must be an IPv4 or IPv6 CIDR block with no host bits set, e.g. 203.0.113.0/24"
    return None


def check_dns1123_label(value: str) -> str | None:
    if len(value) > 63 or not DNS1123_LABEL.fullmatch(value):
        return (
            "must be a DNS-1123 label: at most 63 lowercase letters, digits or '-', "
            "starting and ending with a letter or digit"
        )
    return None


def check_dns1123_subdomain(value: str) -> str | None:
    if len(value) > 253 or not DNS1123_SUBDOMAIN.fullmatch(value):
        return "must be a DNS-1123 subdomain: lowercase letters, digits, '-' or '.'"
    return None
