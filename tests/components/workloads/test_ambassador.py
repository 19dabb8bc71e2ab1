"""Ambassador: localhost-only proxy, weighted upstream, backends reachable only from it."""

import pytest
from eksplatform.k8s import selector_labels
from eksplatform.workloads.ambassador import (
    BACKEND_PORT,
    PROXY_PORT,
    AmbassadorExample,
    AmbassadorExampleArgs,
    Backend,
    ambassador_labels,
    ambassador_pod_spec,
    backend_labels,
    backend_nginx_conf,
    backend_pod_spec,
    network_rules,
    upstream_conf,
    verify_command,
)

from tests.workload_checks import (
    assert_hardened,
    container,
    mounts,
    selects,
    volumes,
    volumes_are_declared,
)

BACKENDS = (Backend("server1", 3), Backend("server2", 1))


def test_upstream_weights_follow_the_seed_and_use_service_fqdns():
    conf = upstream_conf(BACKENDS, "amb")
    assert (
        "upstream backends {\n"
        "        server server1.amb.svc.cluster.local:8080 weight=3;\n"
        "        server server2.amb.svc.cluster.local:8080;\n"
        "    }"
    ) in conf
    assert "proxy_pass http://backends;" in conf


def test_configured_weights_reach_the_upstream():
    conf = upstream_conf((Backend("server1", 1), Backend("server2", 5)), "amb")
    assert "server1.amb.svc.cluster.local:8080;" in conf
    assert "server2.amb.svc.cluster.local:8080 weight=5;" in conf


def test_ambassador_listens_on_loopback_and_answers_probes_elsewhere():
    conf = upstream_conf(BACKENDS, "amb")
    assert f"listen 127.0.0.1:{PROXY_PORT};" in conf
    assert "listen 8081;" in conf and "location = /healthz" in conf
    # one worker: the weighted round robin is exact, not per-worker
    assert conf.startswith("worker_processes 1;\n")
    assert "pid /tmp/nginx.pid;" in conf


def test_backend_serves_its_page_on_8080():
    conf = backend_nginx_conf()
    assert f"listen {BACKEND_PORT};" in conf
    assert "try_files /index.html =404;" in conf


@pytest.mark.parametrize(
    ("backends", "message"),
    [
        ((Backend("server1", 1), Backend("server1", 2)), "distinct names"),
        ((Backend("ambassador", 1),), "distinct names"),
        ((), "distinct names"),
    ],
)
def test_backend_names_must_be_distinct(backends, message):
    with pytest.raises(ValueError, match=message):
        AmbassadorExampleArgs(namespace="amb", backends=backends)


def test_weight_outside_1_to_100_is_refused():
    with pytest.raises(ValueError, match="weight 0 is not within 1-100"):
        Backend("server1", 0)


def test_pods_are_hardened_and_mount_only_declared_volumes():
    for spec in (ambassador_pod_spec("cm"), backend_pod_spec("cm")):
        assert_hardened(spec)
        assert volumes_are_declared(spec)


def test_main_container_is_curl_through_localhost_and_ready_after_a_response():
    spec = ambassador_pod_spec("ambassador-nginx")
    main = container(spec, "main")
    assert main["image"].startswith("curlimages/curl:")
    assert f"http://localhost:{PROXY_PORT}/" in main["command"][2]
    assert main["readinessProbe"]["exec"]["command"] == ["sh", "-c", "test -s /tmp/last-response"]
    assert main["securityContext"]["runAsUser"] == 100
    assert mounts(main) == {"/tmp": "main-tmp"}
    proxy = container(spec, "ambassador")
    assert mounts(proxy)["/etc/nginx/custom"] == "nginx-conf"
    assert volumes(spec)["nginx-conf"]["configMap"]["name"] == "ambassador-nginx"
    assert proxy["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}


def test_network_rules_let_only_the_ambassador_reach_each_backend():
    ingress, egress = network_rules(BACKENDS)
    ambassador_pod = ambassador_labels()
    for rule, backend in zip(ingress, BACKENDS, strict=True):
        assert selects(rule.pod_labels, backend_labels(backend.name))
        assert not selects(rule.pod_labels, ambassador_pod)
        assert selects(rule.from_pod_labels, ambassador_pod)
        assert list(rule.ports) == [BACKEND_PORT]
    for rule, backend in zip(egress, BACKENDS, strict=True):
        assert selects(rule.pod_labels, ambassador_pod)
        assert selects(rule.to_pod_labels, backend_labels(backend.name))


def test_verify_command_repeats_the_curl_and_counts():
    command = verify_command("amb")
    assert "exec deploy/ambassador -c main" in command
    assert "for i in $(seq 20); do curl -s localhost:8080; done" in command
    assert command.endswith("| sort | uniq -c")


def test_component_wires_services_to_pods_and_waits_for_backends(build):
    rec = build(
        lambda: AmbassadorExample("amb", AmbassadorExampleArgs(namespace="amb", backends=BACKENDS))
    )
    deployment = rec.named("amb-ambassador")
    assert deployment.inputs["metadata"]["namespace"] == "amb"
    for backend in ("server1", "server2"):
        service = rec.named(f"amb-{backend}-service")
        backend_deployment = rec.named(f"amb-{backend}")
        pod_labels = backend_deployment.inputs["spec"]["template"]["metadata"]["labels"]
        assert service.inputs["spec"]["selector"] == selector_labels(pod_labels)
        assert selects(service.inputs["spec"]["selector"], pod_labels)
        assert service.inputs["spec"]["ports"][0]["port"] == BACKEND_PORT
        assert service.inputs["metadata"]["name"] == backend
        page = rec.named(f"amb-{backend}-content").inputs["data"]["index.html"]
        assert page == f"served by {backend}\n"
        assert rec.depends_on(deployment, service)
    conf = rec.named("amb-ambassador-conf").inputs["data"]["nginx.conf"]
    assert "server1.amb.svc.cluster.local:8080 weight=3;" in conf
