"""Every pinned version in one place: Kubernetes, Helm charts, container images and EKS
add-ons.

Bumping a version is a one-line change here plus a look at the release notes. Each pin
carries the date it was last checked and the evidence that upstream published it (a Helm
repository index, a release tag, a docker-library manifest), because a version seen in a
`Chart.yaml`, a changelog or a blog post is not proof: ASCP 2.2.0 was in a `Chart.yaml` for
one day and never released. Renovate (`renovate.json`) reads these lines, so keep their
shape: a `ChartPin(...)` per chart, a module-level `*_IMAGE` string per image, and the
add-on builds in `EKS_ADDON_VERSIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# EKS Kubernetes versions in standard support, with the end of standard support where
# AWS has published it. Evidence: endoflife.date/amazon-eks (from AWS's EKS release calendar)
# lists 1.34 until 2026-12-02 and 1.35 (released 2026-01-28) until 2027-03-27; 1.36 is in
# AWS's add-on tables (see EKS_ADDON_VERSIONS) with no end date seen. Checked 2026-11-27.
EKS_STANDARD_SUPPORT: dict[str, date | None] = {
    "1.34": date(2026, 12, 2),
    "1.35": date(2027, 3, 27),
    "1.36": None,
}
DEFAULT_KUBERNETES_VERSION = "1.35"


@dataclass(frozen=True)
class ChartPin:
    """A Helm chart pinned to one version of one repository."""

    chart: str
    """Chart name in its repository. Required."""
    version: str
    """A version the repository's index lists (see published.json). Required."""
    repo: str
    """The Helm repository URL. Required."""
    checked: date
    """When the version was last checked against its upstream. Required."""

    @property
    def archive(self) -> str:
        """`<chart>-<version>.tgz`, as `helm pull` names it."""
        return f"{self.chart}-{self.version}.tgz"


# Evidence: the chart repository index (gh-pages `charts/index.yaml`) lists 1.6.0, the
# newest; ASCP 3.1.1's Chart.lock resolves its driver sub-chart to 1.6.0. Checked 2026-11-27.
SECRETS_STORE_CSI_DRIVER = ChartPin(
    chart="secrets-store-csi-driver",
    version="1.6.0",
    repo="https://kubernetes-sigs.github.io/secrets-store-csi-driver/charts",
    checked=date(2026, 11, 27),
)
# Evidence: the repository index goes 2.1.1 -> 2.2.1 ... 3.1.1; release tag `3.1.1` of
# aws/secrets-store-csi-driver-provider-aws (commit 5f47771, "bump version number to 3.1.1").
# From 3.0 the driver passes the pod's tokens: see secrets_store.TOKEN_AUDIENCES.
# Checked 2026-11-27.
SECRETS_STORE_PROVIDER_AWS = ChartPin(
    chart="secrets-store-csi-driver-provider-aws",
    version="3.1.1",
    repo="https://aws.github.io/secrets-store-csi-driver-provider-aws",
    checked=date(2026, 11, 27),
)
# Evidence: the prometheus-community index lists 88.5.3; chart-releaser tag
# `kube-prometheus-stack-88.5.3`. Its archive is in ../shared/charts, so the contract tests
# render it offline (92.x cannot be verified here). Checked 2026-11-27.
KUBE_PROMETHEUS_STACK = ChartPin(
    chart="kube-prometheus-stack",
    version="88.5.3",
    repo="https://prometheus-community.github.io/helm-charts",
    checked=date(2026, 11, 27),
)

# Container images, never `latest`. Checked 2026-11-27; evidence beside each.
# nginx-unprivileged listens on 8080 and runs as uid 101, so it fits the restricted profile.
# Evidence: release tag `1.29.3` of nginx/docker-nginx-unprivileged (commit bbe8643).
NGINX_UNPRIVILEGED_IMAGE = "nginxinc/nginx-unprivileged:1.29.3-alpine"

# --- example workloads (multi-container pod patterns) ---------------------------------
# httpd's alpine variant; runs as a non-root uid with our httpd.conf (pid and logs off /).
# Evidence: docker-library/official-images `library/httpd` at 37079fb (2026-08-21) lists
# `2.4.68-alpine`; 2.4.69 appears in no upstream source checked.
HTTPD_IMAGE = "httpd:2.4.68-alpine"
# curl_user (uid 100); the ambassador example's main container.
# Evidence: release tag `8.20.0` of curl/curl-container (commit edbce83).
CURL_IMAGE = "curlimages/curl:8.20.0"
# Evidence: docker-library/official-images `library/redis` at 37079fb lists `8.10.1-alpine`
# (the newest 8.10 patch there; 8.10.2 is not listed).
REDIS_IMAGE = "redis:8.10.1-alpine"
# Built FROM scratch, runs as uid 59000.
# Evidence: release tag `v1.88.0` of oliver006/redis_exporter (commit 16db88a, 2026-07-23),
# the newest tag in the snapshot checked; v1.91.1 is not tagged there.
REDIS_EXPORTER_IMAGE = "oliver006/redis_exporter:v1.88.0"
# Evidence: docker-library/official-images `library/busybox` at 37079fb lists `1.37.0`.
BUSYBOX_IMAGE = "busybox:1.37.0"
# alpine-docker/git's build.sh tags each image `v<git version of alpine's package>`, so the
# repository has no tag per image. Evidence: public build files pin
# `alpine/git:v2.52.0@sha256:3b7890cb...` (found by exact search); not checked on Docker Hub.
ALPINE_GIT_IMAGE = "alpine/git:v2.52.0"

# EKS add-on builds, by Kubernetes version then add-on name. pulumi-eks looks the vpc-cni and
# kube-proxy builds up as "most recent" on every run unless given one, so these pins are what
# keeps prod from unplanned add-on updates. AWS publishes builds per Kubernetes version and
# this repository cannot query AWS; the evidence is AWS's user-guide tables ("latest version
# of the Amazon EKS add-on type for each Kubernetes version"), checked 2026-11-27:
# - kube-proxy, coredns: docs.aws.amazon.com/ja_jp/eks/latest/userguide/managing-kube-proxy.md
#   and managing-coredns.md (the snapshot whose tables include 1.36).
# - vpc-cni: no AWS table seen lists 1.34+ (managing-vpc-cni, ja_jp, stops at 1.33 with
#   v1.20.1-eksbuild.3). v1.23.0-eksbuild.1 is the newest build seen: public repositories
#   describe it installed on EKS 1.35 (its configuration schema, a 1.35 cluster's pins), and
#   aws/eks-charts v0.0.243 released the aws-vpc-cni chart v1.23.0. vpc-cni builds are not
#   per Kubernetes minor, but that 1.34 and 1.36 offer this build is NOT proven here.
# - eks-pod-identity-agent (checked 2026-12-03): no AWS page seen has a table (add-ons-pod-id
#   and pod-id-agent-setup, every language, only say to run describe-addon-versions).
#   v1.3.10-eksbuild.3 is EKS's default build for each version in public repositories that
#   record describe-addon-versions output: for 1.34 a Terraform config whose comment says
#   "describe-addon-versions --kubernetes-version 1.34 --region ap-northeast-2, default as of
#   2026-06-24"; for 1.35 an upgrade report (af-south-1, nodes 1.35.8-20260917) listing it
#   among "the Kubernetes 1.35 default versions", and 1.35 stacks pinning it; for 1.36 a config
#   dated 2026-09-22 that calls it "AWS's flagged default" for 1.36 while pinning the newer
#   v1.4.0-eksbuild.2. Medium: third-party records of AWS's answer, consistent across versions
#   and regions, not AWS's own page, and months old. v1.4.0-eksbuild.1/.2 exist (1.35 and 1.36
#   configs), so a cluster already upgraded to them needs that build here.
# - aws-secrets-store-csi-driver-provider (ASCP add-on, the `eks-addon` path; 2026-12-03):
#   no AWS table seen either. 1.34: v3.1.1-eksbuild.1, the default in the same 2026-06-24
#   1.34 describe-addon-versions comment (also the 1.33 default on 2026-06-05 there). 1.35:
#   v3.1.3-eksbuild.1, in the 1.35 upgrade report's default versions and a 1.35 stack's map.
#   1.36: v3.1.3-eksbuild.1, "the default" in the 2026-09-22 1.36 config; v3.1.1-eksbuild.2
#   is also seen on a 1.36 cluster. WEAK for 1.34 (one record, three months old, a newer
#   build may have become the default) and medium for 1.35 and 1.36. ASCP 3.1.3 is newer than
#   the 3.1.1 chart the Helm path pins; the add-on's configuration is shaped like chart 3.1.1.
# Limits: a table shows the newest build on the day the page was built; AWS can retire a
# build, and EKS refuses to downgrade an add-on (a stack that already runs a newer build
# needs that build here). Before deploying a new version row: `aws eks
# describe-addon-versions --addon-name <name> --kubernetes-version <v>`. `pulumi preview`
# fails with the add-on name and version if EKS rejects one.
EKS_ADDON_VERSIONS: dict[str, dict[str, str]] = {
    "1.34": {
        "vpc-cni": "v1.23.0-eksbuild.1",
        "kube-proxy": "v1.34.6-eksbuild.13",
        "coredns": "v1.13.2-eksbuild.11",
        "eks-pod-identity-agent": "v1.3.10-eksbuild.3",
        "aws-secrets-store-csi-driver-provider": "v3.1.1-eksbuild.1",
    },
    "1.35": {
        "vpc-cni": "v1.23.0-eksbuild.1",
        "kube-proxy": "v1.35.3-eksbuild.13",
        "coredns": "v1.14.3-eksbuild.3",
        "eks-pod-identity-agent": "v1.3.10-eksbuild.3",
        "aws-secrets-store-csi-driver-provider": "v3.1.3-eksbuild.1",
    },
    "1.36": {
        "vpc-cni": "v1.23.0-eksbuild.1",
        "kube-proxy": "v1.36.0-eksbuild.14",
        "coredns": "v1.14.3-eksbuild.3",
        "eks-pod-identity-agent": "v1.3.10-eksbuild.3",
        "aws-secrets-store-csi-driver-provider": "v3.1.3-eksbuild.1",
    },
}
EKS_ADDONS_CHECKED = date(2026, 11, 27)


def addon_version(kubernetes_version: str, addon: str) -> str:
    """The pinned build of an EKS add-on for a cluster version; a version without a row fails
    with the versions that have one."""
    row = EKS_ADDON_VERSIONS.get(kubernetes_version)
    if row is None or addon not in row:
        raise ValueError(
            f"no pinned {addon} add-on build for Kubernetes {kubernetes_version}; "
            f"components/versions.py EKS_ADDON_VERSIONS has {', '.join(sorted(EKS_ADDON_VERSIONS))}"
        )
    return row[addon]
