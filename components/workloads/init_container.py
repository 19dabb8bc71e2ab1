"""Init-container pattern (seed 004): an init container fills a shared emptyDir before
nginx starts, so the web server image stays generic and the content step runs to
completion (or the pod never starts).

The content source is configurable: `configmap` (default; copies a page from a ConfigMap
with busybox, needs no network) or `git` (clones a public https repository with a
pinned alpine/git image, as seed 004 does).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..k8s import (
    app_labels,
    empty_dir,
    http_probe,
    object_meta,
    resources,
    restricted_container_security_context,
    restricted_pod_security_context,
    selector_labels,
    when_known,
)
from ..modes import InitContainerSource
from ..namespace_baseline import IMDS_CIDR, EgressAllow
from ..validation import check_dns1123_label
from ..versions import ALPINE_GIT_IMAGE, BUSYBOX_IMAGE
from .common import (
    NGINX_UID,
    check_service_ports,
    cluster_ip_service_spec,
    config_map_volume,
    deployment_spec,
    nginx_conf,
    nginx_container,
    service_port,
    tmp_volume,
)

APP_NAME = "init-web"
HTTP_PORT = 8080
CONTENT_DIR = "/usr/share/nginx/html"
HTTPS_REPO = re.compile(r"https://[A-Za-z0-9.-]+(:\d+)?/[A-Za-z0-9._~/-]+")
"""A public https URL: no credentials (`user@`), no query, no shell metacharacters."""
GIT_REF = re.compile(r"[A-Za-z0-9._/-]{1,100}")
PAGE = (
    "<!DOCTYPE html>\n<html><body>\n"
    "<h1>Written by an init container</h1>\n"
    "<p>This page was copied into a shared emptyDir before nginx started.</p>\n"
    "</body></html>\n"
)
COPY_SCRIPT = "cp /seed/index.html /content/index.html && date -u > /content/initialized-at.txt"
CLONE_SCRIPT = (
    "set -e\n"
    'git clone --depth 1 ${GIT_REF:+--branch "$GIT_REF"} -- "$GIT_REPO" /tmp/repo\n'
    "rm -rf /tmp/repo/.git\n"
    "cp -R /tmp/repo/. /content/\n"
    "date -u > /content/initialized-at.txt\n"
)


def check_repo_url(url: str) -> str | None:
    """None when `url` is a public https repository URL, else what is allowed."""
    if not HTTPS_REPO.fullmatch(url) or ".." in url:
        return (
            "must be a public https:// repository URL without credentials, "
            "e.g. https://github.com/org/repo.git"
        )
    return None


def web_labels() -> dict[str, str]:
    return app_labels(APP_NAME, "web")


def site_conf() -> str:
    return nginx_conf(
        "server {\n"
        f"    listen {HTTP_PORT};\n"
        f"    root {CONTENT_DIR};\n"
        "    index index.html;\n"
        "    location = /healthz {\n"
        "        access_log off;\n"
        '        return 200 "ok\\n";\n'
        "    }\n"
        "}\n"
    )


def init_container(source: str, repo: str = "", ref: str = "") -> dict[str, Any]:
    """The content step: copy from the ConfigMap, or shallow-clone the repository without
    its .git directory (nginx would otherwise serve the repository's history)."""
    common: dict[str, Any] = {
        "resources": resources("25m", "32Mi", cpu_limit="200m", memory_limit="128Mi"),
        "securityContext": restricted_container_security_context(),
    }
    if source == InitContainerSource.CONFIGMAP:
        return {
            **common,
            "name": "copy-content",
            "image": BUSYBOX_IMAGE,
            "command": ["sh", "-c", COPY_SCRIPT],
            "volumeMounts": [
                {"name": "seed", "mountPath": "/seed", "readOnly": True},
                {"name": "content", "mountPath": "/content"},
            ],
        }
    if source == InitContainerSource.GIT:
        if problem := check_repo_url(repo):
            raise ValueError(f"git repository {repo!r} {problem}")
        return {
            **common,
            "name": "clone-content",
            "image": ALPINE_GIT_IMAGE,
            "command": ["sh", "-c", CLONE_SCRIPT],
            # URL and ref reach the script as data, never as shell code.
            "env": [
                {"name": "GIT_REPO", "value": repo},
                {"name": "GIT_REF", "value": ref},
                {"name": "HOME", "value": "/tmp"},
            ],
            "volumeMounts": [
                {"name": "content", "mountPath": "/content"},
                {"name": "init-tmp", "mountPath": "/tmp"},
            ],
        }
    raise ValueError(f"source {source!r} is not an InitContainerSource")


def init_pod_spec(source: str, repo: str = "", ref: str = "") -> dict[str, Any]:
    nginx = nginx_container(
        name="nginx",
        ports=[{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}],
        readiness=http_probe("/healthz", "http"),
        liveness=http_probe("/healthz", "http", initial_delay=10, period=20),
        extra_mounts=[{"name": "content", "mountPath": CONTENT_DIR, "readOnly": True}],
    )
    volumes = [
        config_map_volume("nginx-conf", "init-web-nginx"),
        tmp_volume(),
        empty_dir("content", "64Mi"),
    ]
    if source == InitContainerSource.CONFIGMAP:
        volumes.append(config_map_volume("seed", "init-web-seed"))
    else:
        volumes.append(empty_dir("init-tmp", "128Mi"))
    return {
        "automountServiceAccountToken": False,
        "securityContext": restricted_pod_security_context(NGINX_UID),
        "initContainers": [init_container(source, repo, ref)],
        "containers": [nginx],
        "volumes": volumes,
    }


def network_rules(source: str) -> list[EgressAllow]:
    """git needs HTTPS out (any address but the instance metadata service); copying from a
    ConfigMap needs no network at all."""
    if source != InitContainerSource.GIT:
        return []
    return [
        EgressAllow(
            name="git-https",
            pod_labels=selector_labels(web_labels()),
            ports=[443],
            to_cidr="0.0.0.0/0",
            except_cidrs=[IMDS_CIDR],
        )
    ]


def verify_command(namespace: str) -> str:
    return (
        f"kubectl -n {namespace} get pod -l app.kubernetes.io/name={APP_NAME} "
        "-o jsonpath='{.items[0].status.initContainerStatuses[0].state}'; echo; "
        f"kubectl -n {namespace} exec deploy/{APP_NAME} -c nginx -- "
        f"sh -c 'cat {CONTENT_DIR}/initialized-at.txt; "
        f"wget -qO- http://127.0.0.1:{HTTP_PORT}/ | head -5'"
    )


@dataclass(frozen=True)
class InitContainerExampleArgs:
    """Inputs of InitContainerExample."""

    namespace: pulumi.Input[str]
    """Kubernetes namespace of the workload (DNS-1123 label, checked when plain); it must exist.
    Required."""
    source: InitContainerSource = InitContainerSource.CONFIGMAP
    """Where the init container gets the site. Default: CONFIGMAP."""
    git_repo: str = ""
    """Public https URL cloned when source is `git`. Default: empty."""
    git_ref: str = ""
    """Branch or tag to clone. Default: empty, the repository's default branch."""
    wait_for: Sequence[pulumi.Resource] = ()
    """The namespace baseline. Default: none."""

    def __post_init__(self) -> None:
        if isinstance(self.namespace, str) and (problem := check_dns1123_label(self.namespace)):
            raise ValueError(f"namespace {self.namespace!r} {problem}")
        InitContainerSource(self.source)
        if self.source == InitContainerSource.GIT and (problem := check_repo_url(self.git_repo)):
            raise ValueError(f"git_repo {self.git_repo!r} {problem}")
        if self.git_ref and not GIT_REF.fullmatch(self.git_ref):
            raise ValueError(f"git_ref {self.git_ref!r} must be a branch or tag name")


class InitContainerExample(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: InitContainerExampleArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eksplatform:workloads:InitContainerExample", name, None, opts)
        ns = args.namespace
        labels = web_labels()
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=list(args.wait_for))
        configs: list[pulumi.Resource] = [
            k8s.core.v1.ConfigMap(
                f"{name}-nginx-conf",
                metadata=object_meta("init-web-nginx", ns, labels),
                data={"nginx.conf": site_conf()},
                opts=in_namespace,
            )
        ]
        if args.source == InitContainerSource.CONFIGMAP:
            configs.append(
                k8s.core.v1.ConfigMap(
                    f"{name}-seed",
                    metadata=object_meta("init-web-seed", ns, labels),
                    data={"index.html": PAGE},
                    opts=in_namespace,
                )
            )
        pod_spec = init_pod_spec(args.source, args.git_repo, args.git_ref)
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=object_meta(APP_NAME, ns, labels),
            spec=deployment_spec(labels, pod_spec),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*args.wait_for, *configs]),
        )
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=object_meta(APP_NAME, ns, labels),
            spec=check_service_ports(
                cluster_ip_service_spec(labels, [service_port("http", HTTP_PORT)]), pod_spec
            ),
            opts=in_namespace,
        )
        self.verify_command: pulumi.Input[str] = when_known(ns, verify_command)
        self.register_outputs({"verify_command": self.verify_command})
