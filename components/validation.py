"""Validators of plain values shared by component Args and the stack config parser.

Each returns None for a good value, else what is allowed: the config layer reports that
text under the key that held the value, and Args raise it as their invariant.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")
GRAVITON_FAMILY = re.compile(r"a1|[a-z]+\d+[a-z]*g[a-z]*(-[a-z0-9]+)?")
"""arm64 instance families: a1 and every family with `g` after its generation (m7g, c6gn,
t4g, im4gn, x2gd ...). GPU families such as g5 or g4dn have no `g` after the digit."""


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
    """Kubernetes object names: at most 253 characters, dot-separated DNS-1123 labels."""
    if len(value) > 253 or not value:
        return "must be a DNS-1123 subdomain of 1-253 characters"
    for label in value.split("."):
        if check_dns1123_label(label):
            return (
                "must be a DNS-1123 subdomain: dot-separated labels of 1-63 lowercase "
                f"letters, digits or '-' (label {label!r} is not one)"
            )
    return None


def check_hostname(value: str, *, maximum: int = 253) -> str | None:
    """A DNS host name: no empty label, no label over 63 characters, at most `maximum`."""
    if len(value) > maximum:
        return f"must be a DNS name of at most {maximum} characters (it has {len(value)})"
    return check_dns1123_subdomain(value)


def instance_family(instance_type: str) -> str:
    return instance_type.split(".", 1)[0]


def instance_architecture(instance_type: str) -> str:
    """`arm64` (Graviton) or `x86_64`, read from the instance family's name."""
    return "arm64" if GRAVITON_FAMILY.fullmatch(instance_family(instance_type)) else "x86_64"


def check_one_architecture(instance_types: Iterable[str]) -> str | None:
    """One nodegroup runs one AMI type, so its instance types share an architecture."""
    by_arch: dict[str, list[str]] = {}
    for t in instance_types:
        by_arch.setdefault(instance_architecture(t), []).append(t)
    if len(by_arch) > 1:
        return (
            "mixes CPU architectures (arm64: "
            + ", ".join(by_arch["arm64"])
            + "; x86_64: "
            + ", ".join(by_arch["x86_64"])
            + "); one nodegroup runs one AMI type, so list one architecture"
        )
    return None


def check_not_world_open(cidr: str) -> str | None:
    if ipaddress.ip_network(cidr, strict=False).prefixlen == 0:
        return "would open the API endpoint to the whole internet; list your own egress CIDRs"
    return None
