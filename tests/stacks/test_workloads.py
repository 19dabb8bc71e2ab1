"""The example workloads as the dev stack deploys them: config validation, one hardened
namespace per example, the restricted profile on every pod, NetworkPolicies that select
real pods, and a switch per example."""

import json
from collections import defaultdict

import pytest
from eksplatform.prometheus import PROMETHEUS_POD_LABELS

from tests.conftest import FIXTURES, fixture
from tests.pod_security import pod_spec_of, violations
from tests.stacks.configs import load_all_default
from tests.workload_checks import hardening_problems, selects
from tools.pulumi_mocks import PROJECT, Recorder, stack_config

NS = PROJECT
EXAMPLE_TYPES = {
    "enableSidecarExample": "eksplatform:workloads:SidecarExample",
    "enableAmbassadorExample": "eksplatform:workloads:AmbassadorExample",
    "enableAdapterExample": "eksplatform:workloads:AdapterExample",
    "enableInitContainerExample": "eksplatform:workloads:InitContainerExample",
    "enableRedisSecretExample": "eksplatform:workloads:RedisSecretSidecar",
}
EXAMPLE_NAMESPACES = {
    "enableSidecarExample": "sidecar-example",
    "enableAmbassadorExample": "ambassador-example",
    "enableAdapterExample": "adapter-example",
    "enableInitContainerExample": "init-container-example",
    "enableRedisSecretExample": "redis-secret-example",
}


@pytest.fixture(scope="module")
def dev(stack_runs) -> Recorder:
    return stack_runs.run(fixture("dev"))


def _namespaces(rec: Recorder) -> dict[str, dict[str, str]]:
    """Namespace name -> labels, for every Namespace the program creates."""
    return {
        r.inputs["metadata"]["name"]: r.inputs["metadata"].get("labels") or {}
        for r in rec.of_type("kubernetes:core/v1:Namespace")
    }


def _pods(rec: Recorder) -> list[tuple[str, str, dict, dict, dict]]:
    """(object name, namespace, pod labels, pod spec, annotations) of every rendered pod."""
    pods = []
    for r in rec.kubernetes_objects():
        found = pod_spec_of(r.type, r.inputs)
        if found is None:
            continue
        spec, annotations = found
        template = r.inputs["spec"].get("template") or {}
        labels = (template.get("metadata") or {}).get("labels") or {}
        pods.append((r.name, r.inputs["metadata"]["namespace"], labels, spec, annotations))
    return pods


# --- the whole dev program -------------------------------------------------------------


def test_dev_registers_every_example_in_its_own_namespace(dev):
    types = {r.type for r in dev.resources}
    for example_type in EXAMPLE_TYPES.values():
        assert example_type in types
    assert "eksplatform:monitoring:Prometheus" in types
    namespaces = _namespaces(dev)
    for namespace in (*EXAMPLE_NAMESPACES.values(), "monitoring", "secrets-demo"):
        assert namespace in namespaces
    outputs = dev.stack_outputs
    assert outputs["exampleNamespaces"]["ambassador"] == "ambassador-example"
    assert set(outputs["exampleVerifyCommands"]) == {
        "sidecar",
        "ambassador",
        "adapter",
        "prometheus",
        "initContainer",
        "redisSecret",
    }


def test_every_pod_is_admitted_by_its_namespace_pod_security_level(dev):
    """The restricted profile, applied by our own checker to every rendered pod spec."""
    namespaces = _namespaces(dev)
    pods = _pods(dev)
    assert len(pods) >= 8
    for name, namespace, _, spec, annotations in pods:
        assert namespace in namespaces, f"{name} runs in a namespace the stack does not own"
        level = namespaces[namespace].get("pod-security.kubernetes.io/enforce")
        assert level in ("restricted", "baseline"), f"{namespace} enforces no Pod Security level"
        assert violations(spec, level, annotations) == [], name
        assert hardening_problems(spec) == [], name


def test_every_namespace_of_ours_denies_by_default_and_has_quota_and_defaults(dev):
    by_namespace = defaultdict(set)
    for r in dev.kubernetes_objects():
        meta = r.inputs.get("metadata") or {}
        by_namespace[meta.get("namespace")].add((r.type, meta.get("name")))
    for namespace in _namespaces(dev):
        objects = by_namespace[namespace]
        assert ("kubernetes:core/v1:LimitRange", "container-defaults") in objects, namespace
        assert ("kubernetes:core/v1:ResourceQuota", "namespace-quota") in objects, namespace
        assert ("kubernetes:networking.k8s.io/v1:NetworkPolicy", "default-deny") in objects


def test_network_policies_select_the_pods_they_are_meant_to(dev):
    pods_in = defaultdict(list)
    for _, namespace, labels, _, _ in _pods(dev):
        pods_in[namespace].append(labels)
    checked = 0
    for policy in dev.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy"):
        namespace = policy.inputs["metadata"]["namespace"]
        spec = policy.inputs["spec"]
        target = (spec.get("podSelector") or {}).get("matchLabels") or {}
        if target:
            assert any(selects(target, p) for p in pods_in[namespace]), policy.name
            checked += 1
        for rule in [*(spec.get("ingress") or []), *(spec.get("egress") or [])]:
            for peer in [*(rule.get("from") or []), *(rule.get("to") or [])]:
                if "ipBlock" in peer:
                    continue
                peer_labels = peer["podSelector"]["matchLabels"]
                peer_ns = (
                    (peer.get("namespaceSelector") or {})
                    .get("matchLabels", {})
                    .get("kubernetes.io/metadata.name", namespace)
                )
                if peer_ns == "kube-system":
                    assert peer_labels == {"k8s-app": "kube-dns"}
                elif peer_ns == "monitoring":  # Prometheus pods are made by the operator
                    assert peer_labels == PROMETHEUS_POD_LABELS
                else:
                    assert any(selects(peer_labels, p) for p in pods_in[peer_ns]), policy.name
                checked += 1
    assert checked >= 8


def test_services_select_pods_in_their_namespace(dev):
    pods_in = defaultdict(list)
    for _, namespace, labels, _, _ in _pods(dev):
        pods_in[namespace].append(labels)
    for service in dev.of_type("kubernetes:core/v1:Service"):
        namespace = service.inputs["metadata"]["namespace"]
        selector = service.inputs["spec"]["selector"]
        assert any(selects(selector, p) for p in pods_in[namespace]), service.name


def test_service_monitor_waits_for_the_prometheus_crds(dev):
    monitor = dev.named("adapter-workload-servicemonitor")
    assert dev.depends_on(monitor, dev.named("adapter-prometheus-release"))


def test_demo_namespace_lives_under_its_app_baseline(dev):
    namespace = dev.named("secrets-demo-ns-namespace")
    assert namespace.inputs["metadata"]["name"] == "secrets-demo"
    assert namespace.parent.endswith("eksplatform:workloads:NamespaceBaseline::secrets-demo-ns")
    # its SecretProviderClass (which the pod waits for) waits for the whole baseline
    assert dev.depends_on(
        dev.named("secrets-demo-secrets-class-spc"), dev.named("secrets-demo-ns-default-deny")
    )


def _switched_off(*keys: str) -> dict[str, str]:
    """dev with these examples off; without the sidecar, its certificate's name leaves
    secretNamesOutsidePrefix too (a stale entry is refused)."""
    overrides = {f"{NS}:{key}": "false" for key in keys}
    if "enableSidecarExample" in keys:
        dev = stack_config("dev", directory=FIXTURES)
        certificate = dev[f"{NS}:sidecarTlsSecretName"]
        listed = json.loads(dev[f"{NS}:secretNamesOutsidePrefix"])
        overrides[f"{NS}:secretNamesOutsidePrefix"] = json.dumps(
            [n for n in listed if n != certificate]
        )
    return overrides


@pytest.mark.parametrize("key", sorted(EXAMPLE_TYPES))
def test_each_example_can_be_switched_off(run_stack, key):
    rec = run_stack(fixture("dev"), _switched_off(key))
    example_type = EXAMPLE_TYPES[key]
    assert not [r for r in rec.resources if example_type in r.urn]
    assert EXAMPLE_NAMESPACES[key] not in _namespaces(rec)
    others = set(EXAMPLE_TYPES.values()) - {example_type}
    assert others <= {r.type for r in rec.resources}
    if key == "enableAdapterExample":
        assert not rec.of_type("eksplatform:monitoring:Prometheus")


def test_switching_every_example_off_leaves_only_the_platform(run_stack):
    rec = run_stack(fixture("dev"), _switched_off(*EXAMPLE_TYPES))
    assert not [r for r in rec.resources if r.type in EXAMPLE_TYPES.values()]
    assert not set(EXAMPLE_NAMESPACES.values()) & set(_namespaces(rec))


# --- config validation -----------------------------------------------------------------


def test_examples_are_opt_in_outside_dev():
    cfg = load_all_default()
    assert set(cfg.examples) == {
        "adapter",
        "ambassador",
        "init_container",
        "redis_secret",
        "sidecar",
    }
    assert not any(example.enabled for example in cfg.examples.values())


def test_each_example_is_one_parent_component_owning_everything_it_creates(dev):
    """In `pulumi preview` an example is one App; its namespace, identity and workload are
    beneath it, and nothing of it stands at the root."""
    roots = {r.urn: r for r in dev.resources if r.type == "eksplatform:platform:App"}
    example_names = {"sidecar", "ambassador", "adapter", "init-container", "redis-secret"}
    assert example_names <= {r.name for r in roots.values()}
    for root in roots.values():
        assert root.parent.endswith("eks-secrets-platform-dev"), root.name
    owned_by = {}
    for r in dev.resources:
        chain = [r, *dev.ancestors(r)]
        top = chain[-1]
        if top.type == "eksplatform:platform:App":
            owned_by.setdefault(top.name, set()).add(r.type)
    assert {
        "eksplatform:workloads:NamespaceBaseline",
        "eksplatform:secrets:WorkloadSecrets",
        "eksplatform:workloads:SidecarExample",
        "aws:secretsmanager/secret:Secret",
        "tls:index/privateKey:PrivateKey",
    } <= owned_by["sidecar"]
    assert "eksplatform:monitoring:Prometheus" in owned_by["adapter"]
    for name in example_names:
        assert "kubernetes:core/v1:Namespace" in owned_by[name], name


def test_git_source_with_a_public_repository_opens_https_egress(run_stack):
    rec = run_stack(
        fixture("dev"),
        {
            f"{NS}:initContainerSource": "git",
            f"{NS}:initContainerGitRepo": "https://github.com/NillsF/html-demo.git",
        },
    )
    policy = rec.named("init-container-ns-allow-egress-git-https")
    assert policy.inputs["spec"]["egress"][0]["ports"] == [{"protocol": "TCP", "port": 443}]
    init = rec.named("init-container-workload-deployment").inputs["spec"]["template"]["spec"]
    assert init["initContainers"][0]["name"] == "clone-content"
