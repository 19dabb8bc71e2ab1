"""Every pinned version in one place: Kubernetes, Helm charts and container images.

Bumping a version is a one-line change here plus a look at the chart's release notes.
Each pin carries the date it was last checked against its upstream.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# EKS Kubernetes versions in standard support, with the end of standard support where
# AWS has published it. Checked 2026-11-21.
EKS_STANDARD_SUPPORT: dict[str, date | None] = {
    "1.34": date(2026, 12, 2),
    "1.35": None,
    "1.36": None,
}
DEFAULT_KUBERNETES_VERSION = "1.35"


@dataclass(frozen=True)
class ChartPin:
    """A Helm chart pinned to one version."""

    chart: str
    version: str
    repo: str
    checked: date


SECRETS_STORE_CSI_DRIVER = ChartPin(
    chart="secrets-store-csi-driver",
    version="1.5.4",
    repo="https://kubernetes-sigs.github.io/secrets-store-csi-driver/charts",
    checked=date(2026, 11, 21),
)
SECRETS_STORE_PROVIDER_AWS = ChartPin(
    chart="secrets-store-csi-driver-provider-aws",
    version="2.2.0",
    repo="https://aws.github.io/secrets-store-csi-driver-provider-aws",
    checked=date(2026, 11, 21),
)

# Container images, never `latest`. Checked 2026-11-21.
# nginx-unprivileged listens on 8080 and runs as uid 101, so it fits the restricted profile.
NGINX_UNPRIVILEGED_IMAGE = "nginxinc/nginx-unprivileged:1.29.3-alpine"

# --- example workloads (multi-container pod patterns) ---------------------------------
# Checked 2026-11-22 against each project's release notes / Docker Hub tag lists.
# httpd's alpine variant; runs as a non-root uid with our httpd.conf (pid and logs off /).
HTTPD_IMAGE = "httpd:2.4.69-alpine"
# curl_user (uid 100); the ambassador example's main container.
CURL_IMAGE = "curlimages/curl:8.20.0"
REDIS_IMAGE = "redis:8.10.2-alpine"
# Built FROM scratch, runs as uid 59000.
REDIS_EXPORTER_IMAGE = "oliver006/redis_exporter:v1.91.1"
BUSYBOX_IMAGE = "busybox:1.37.0"
ALPINE_GIT_IMAGE = "alpine/git:v2.52.0"
KUBE_PROMETHEUS_STACK = ChartPin(
    chart="kube-prometheus-stack",
    version="92.15.0",
    repo="https://prometheus-community.github.io/helm-charts",
    checked=date(2026, 11, 22),
)
