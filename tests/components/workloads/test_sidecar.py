"""Sidecar: httpd on loopback, nginx terminating TLS with a CSI-mounted pulumi-tls cert."""

import dataclasses
import json

import pytest

from components.k8s import SECRETS_MOUNT_PATH
from components.workloads.common import WorkloadIdentity
from components.workloads.sidecar import (
    HTTPD_PORT,
    TLS_PORT,
    SidecarExample,
    SidecarExampleArgs,
    certificate_dns_names,
    httpd_conf,
    network_rules,
    service_annotations,
    service_spec,
    sidecar_pod_spec,
    tls_proxy_conf,
    tls_secret_object,
    web_labels,
)
from tests.workload_checks import assert_hardened, container, mounts, selects, volumes_are_declared

ISSUER = "oidc.eks.ap-southeast-1.amazonaws.com/id/X"
IDENTITY = WorkloadIdentity(
    oidc_provider_arn=f"arn:aws:iam::123456789012:oidc-provider/{ISSUER}",
    oidc_issuer=ISSUER,
    region="ap-southeast-1",
)


def _args(**overrides):
    values = dict(
        namespace="side",
        hostname="web.example.com",
        secret_name="eks-dev-sidecar-example-tls",
        identity=IDENTITY,
    )
    values.update(overrides)
    return SidecarExampleArgs(**values)


def test_httpd_listens_on_loopback_only_and_writes_only_to_tmp():
    conf = httpd_conf()
    assert f"Listen 127.0.0.1:{HTTPD_PORT}\n" in conf
    assert conf.count("Listen ") == 1
    assert "PidFile /tmp/httpd.pid" in conf and "DefaultRuntimeDir /tmp" in conf
    assert "ErrorLog /proc/self/fd/2" in conf


def test_nginx_terminates_tls_with_mounted_files_and_proxies_to_httpd():
    conf = tls_proxy_conf("web.example.com")
    assert f"listen {TLS_PORT} ssl;" in conf
    assert f"ssl_certificate {SECRETS_MOUNT_PATH}/tls.crt;" in conf
    assert f"ssl_certificate_key {SECRETS_MOUNT_PATH}/tls.key;" in conf
    assert f"proxy_pass http://127.0.0.1:{HTTPD_PORT};" in conf
    assert "server_name web.example.com;" in conf
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in conf


def test_secret_object_quotes_the_dotted_json_keys():
    obj = tls_secret_object("eks-dev-sidecar-example-tls")
    assert obj.as_dict()["jmesPath"] == [
        {"path": '"tls.crt"', "objectAlias": "tls.crt"},
        {"path": '"tls.key"', "objectAlias": "tls.key"},
    ]


def test_pod_is_hardened_and_only_nginx_sees_the_certificate():
    spec = sidecar_pod_spec("web-tls", "web-tls")
    assert_hardened(spec)
    assert volumes_are_declared(spec)
    nginx = container(spec, "nginx")
    httpd = container(spec, "httpd")
    assert mounts(nginx)[SECRETS_MOUNT_PATH] == "secrets-store"
    assert SECRETS_MOUNT_PATH not in mounts(httpd)
    assert nginx["ports"] == [{"name": "https", "containerPort": TLS_PORT, "protocol": "TCP"}]
    assert "ports" not in httpd
    assert nginx["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    assert httpd["readinessProbe"]["exec"]["command"][-1] == f"http://127.0.0.1:{HTTPD_PORT}/"
    assert httpd["securityContext"]["runAsUser"] == 82
    assert httpd["image"].startswith("httpd:") and httpd["image"].endswith("-alpine")
    assert spec["serviceAccountName"] == "web-tls"


def test_service_maps_443_to_the_tls_port_and_selects_the_pod():
    spec = service_spec("ClusterIP")
    assert spec["ports"] == [
        {"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}
    ]
    assert selects(spec["selector"], web_labels())
    assert service_annotations("ClusterIP", "internal") == {}


def test_load_balancer_gets_nlb_annotations_with_the_configured_scheme():
    assert service_annotations("LoadBalancer", "internet-facing") == {
        "service.beta.kubernetes.io/aws-load-balancer-type": "external",
        "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
    }


def test_network_rule_opens_only_the_tls_port_of_the_web_pod():
    (rule,) = network_rules()
    assert selects(rule.pod_labels, web_labels())
    assert list(rule.ports) == [TLS_PORT]
    assert rule.from_anywhere


def test_certificate_names_cover_the_hostname_and_the_service():
    assert certificate_dns_names("web.example.com", "side") == [
        "web.example.com",
        "web",
        "web.side.svc",
        "web.side.svc.cluster.local",
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"hostname": "Web.Example.com"}, "must be a DNS name"),
        ({"hostname": "a" * 65}, "at most 64"),
        ({"service_type": "NodePort"}, "service_type 'NodePort' is not one of"),
        ({"load_balancer_scheme": "public"}, "load_balancer_scheme 'public'"),
        ({"early_renewal_hours": 0}, "early_renewal_hours"),
    ],
)
def test_bad_args_are_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        _args(**overrides)


def test_component_stores_cert_and_key_in_secrets_manager_and_reads_them_by_irsa(build):
    rec = build(lambda: SidecarExample("side", _args(service_type="LoadBalancer")))
    cert = rec.named("side-cert")
    assert cert.inputs["subject"]["commonName"] == "web.example.com"
    assert "server_auth" in cert.inputs["allowedUses"]
    assert rec.named("side-key").inputs["algorithm"] == "ECDSA"
    secret = rec.named("side-tls-secret-secret")
    assert secret.inputs["name"] == "eks-dev-sidecar-example-tls"
    assert secret.inputs["recoveryWindowInDays"] == 0
    version = rec.named("side-tls-secret-value")
    assert set(json.loads(version.inputs["secretString"])) == {"tls.crt", "tls.key"}
    assert isinstance(version.secret_inputs["secretString"], dict)  # a Pulumi secret
    policy = json.loads(rec.named("side-secrets-read-policy").inputs["policy"])
    assert policy["Statement"][0]["Resource"] == [secret.outputs["arn"]]
    sa = rec.named("side-secrets-irsa-sa")
    assert sa.inputs["metadata"]["name"] == "web-tls"
    spc = rec.named("side-secrets-class-spc")
    assert spc.inputs["metadata"]["namespace"] == "side"
    deployment = rec.named("side-deployment")
    assert rec.depends_on(deployment, spc)
    service = rec.named("side-service")
    pod_labels = deployment.inputs["spec"]["template"]["metadata"]["labels"]
    assert selects(service.inputs["spec"]["selector"], pod_labels)
    assert service.inputs["spec"]["type"] == "LoadBalancer"
    assert (
        service.inputs["metadata"]["annotations"][
            "service.beta.kubernetes.io/aws-load-balancer-scheme"
        ]
        == "internal"
    )
    nginx_conf = rec.named("side-nginx-conf").inputs["data"]["nginx.conf"]
    assert "proxy_pass http://127.0.0.1:8081;" in nginx_conf
    assert "replicas" not in secret.inputs or not secret.inputs["replicas"]
    assert "failoverRegion" not in spc.inputs["spec"]["parameters"]


def test_with_failover_the_tls_secret_is_replicated_and_read_from_either_region(build):
    identity = dataclasses.replace(IDENTITY, failover_region="ap-southeast-2")
    rec = build(lambda: SidecarExample("side", _args(identity=identity)))
    secret = rec.named("side-tls-secret-secret")
    assert secret.inputs["replicas"] == [{"region": "ap-southeast-2"}]
    primary = secret.outputs["arn"]
    policy = json.loads(rec.named("side-secrets-read-policy").inputs["policy"])
    assert policy["Statement"][0]["Resource"] == [
        primary,
        primary.replace(":ap-southeast-1:", ":ap-southeast-2:"),
    ]
    spc = rec.named("side-secrets-class-spc")
    assert spc.inputs["spec"]["parameters"]["failoverRegion"] == "ap-southeast-2"
