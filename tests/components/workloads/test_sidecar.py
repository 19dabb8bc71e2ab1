"""Sidecar: httpd on loopback, nginx terminating TLS with a CSI-mounted pulumi-tls cert."""

import json

import pytest
from eksplatform.k8s import SECRETS_MOUNT_PATH
from eksplatform.workloads.sidecar import (
    HTTPD_PORT,
    TLS_JMES_PATH,
    TLS_PORT,
    SidecarExample,
    SidecarExampleArgs,
    certificate_and_key,
    certificate_dns_names,
    httpd_conf,
    network_rules,
    service_annotations,
    service_spec,
    sidecar_pod_spec,
    tls_proxy_conf,
    web_labels,
)

from tests.workload_checks import assert_hardened, container, mounts, selects, volumes_are_declared


def _args(**overrides):
    values = dict(
        namespace="side",
        hostname="web.example.com",
        service_account="web-tls",
        secret_provider_class="web-tls",
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


def test_jmes_path_quotes_the_dotted_json_keys():
    assert TLS_JMES_PATH == (('"tls.crt"', "tls.crt"), ('"tls.key"', "tls.key"))


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


def test_service_serves_on_the_tls_port_itself_and_selects_the_pod():
    """With network policies the VPC CNI needs the Service port to equal the container port."""
    spec = service_spec("ClusterIP")
    assert spec["ports"] == [
        {"name": "https", "port": 8443, "targetPort": "https", "protocol": "TCP"}
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
        ({"hostname": "Web.Example.com"}, "must be a DNS-1123 subdomain"),
        ({"hostname": "a" * 65}, "at most 64"),
        ({"hostname": "a..example.com"}, "label '' is not one"),
        ({"namespace": "Side"}, "must be a DNS-1123 label"),
    ],
)
def test_bad_args_are_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        _args(**overrides)


def test_certificate_renewal_must_come_before_expiry(build):
    import pulumi

    with pytest.raises(ValueError, match="early_renewal_hours"):
        certificate_and_key(
            "c", "web.example.com", "side", pulumi.ResourceOptions(), early_renewal_hours=0
        )


def test_certificate_and_key_become_one_json_secret_value(build):
    import pulumi

    values = []

    def make():
        value = certificate_and_key("c", "web.example.com", "side", pulumi.ResourceOptions())
        value.apply(values.append)

    rec = build(make)
    cert = rec.named("c-cert")
    assert cert.inputs["subject"]["commonName"] == "web.example.com"
    assert cert.inputs["dnsNames"] == certificate_dns_names("web.example.com", "side")
    assert "server_auth" in cert.inputs["allowedUses"]
    assert rec.named("c-key").inputs["algorithm"] == "ECDSA"
    (value,) = values
    assert set(json.loads(value)) == {"tls.crt", "tls.key"}


def test_component_runs_the_pod_behind_a_service_with_its_configuration(build):
    rec = build(lambda: SidecarExample("side", _args(service_type="LoadBalancer")))
    deployment = rec.named("side-deployment")
    pod = deployment.inputs["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "web-tls"
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
    assert rec.depends_on(deployment, rec.named("side-httpd-conf"))
