"""Shared workload helpers: a Service's port equals the container port it targets."""

from __future__ import annotations

import re

import pytest
from eksplatform.workloads.common import check_service_ports, service_port

POD = {"containers": [{"name": "web", "ports": [{"name": "http", "containerPort": 8080}]}]}


@pytest.mark.parametrize("target", ["http", 8080])
def test_service_port_equal_to_its_container_port_passes(target):
    spec = {"ports": [service_port("http", 8080, target)]}
    assert check_service_ports(spec, POD) == spec


@pytest.mark.parametrize(
    ("port", "target", "found"),
    [(80, "http", "[8080]"), (8080, "https", "[]"), (9090, 9090, "[]")],
)
def test_service_port_other_than_its_container_port_is_refused(port, target, found):
    """EKS: with network policies, the service port must be the same as the container port."""
    message = re.escape(f"container port(s) {found}")
    with pytest.raises(ValueError, match=rf"Service port {port} targets .*{message}"):
        check_service_ports({"ports": [service_port("http", port, target)]}, POD)
