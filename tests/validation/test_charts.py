"""Contract tests: every Helm release the program registers, for every stack file, rendered by
the real Helm engine (helm-python-sdk) from the real chart archive at the pinned version, with
exactly the values the program passes (as recorded under the mocks).

The archives come from .charts/ (`make install`, verified against components/charts.lock.json)
or ../shared/charts; "published" means recorded in the lock and, with ../shared beside the
clone, listed in its published.json; where the repositories answer, the live index is
checked too. Without the archives the session stops at its start with one message
(tests/validation/conftest.py).
"""

from __future__ import annotations

import json
import re

import pytest
from eksplatform.chart_values import unknown_value_keys
from eksplatform.secrets_store import TOKEN_AUDIENCES
from eksplatform.versions import (
    KUBE_PROMETHEUS_STACK,
    SECRETS_STORE_CSI_DRIVER,
    SECRETS_STORE_PROVIDER_AWS,
    ChartPin,
)

from stacks.config.rules import TAINT_EFFECTS
from tests.conftest import FIXTURES, config_of, fixture
from tests.validation.conftest import render_charts, require
from tools import charts, gate
from tools.pulumi_mocks import PROJECT
from tools.render import render

PINS = (SECRETS_STORE_CSI_DRIVER, SECRETS_STORE_PROVIDER_AWS, KUBE_PROMETHEUS_STACK)
DRIVER_DAEMONSETS = ("secrets-store-csi-driver", "secrets-store-csi-driver-provider-aws")
TAINTS = ["dedicated=apps:NoSchedule", "gpu:NoExecute", "spot=true:PreferNoSchedule"]


# --- the pins ------------------------------------------------------------------------------


@pytest.mark.parametrize("pin", PINS, ids=lambda p: p.chart)
def test_pinned_chart_version_was_published(pin):
    locked = charts.locked(pin)  # the lock file records this very version, with its evidence
    assert locked.evidence and locked.accepted
    if (charts.SHARED_CHARTS / charts.PUBLISHED).is_file():
        repo, published = charts.published_versions(pin.chart)
        assert repo == pin.repo
        assert pin.version in published, f"{pin.chart} {pin.version} is not in published.json"
    live = charts.index_versions(pin)
    if live is not None:
        assert pin.version in live, f"{pin.chart} {pin.version} is not in {pin.repo}/index.yaml"


@pytest.mark.parametrize("pin", PINS, ids=lambda p: p.chart)
def test_pinned_chart_archive_is_that_chart_at_that_version(pin, chart_archives):
    chart = charts.load(pin)
    assert (chart.name, chart.version) == (pin.chart, pin.version)


def test_every_release_of_every_stack_uses_a_pin(rendered):
    require(rendered, rendered.releases, "Helm releases")
    for release in rendered.releases.values():
        assert charts.pin_of(release["chart"], release["version"], release["repo"])


def test_a_missing_pin_names_the_chart_the_version_and_every_place(tmp_path, monkeypatch):
    monkeypatch.delenv(charts.CACHE_ENV, raising=False)
    monkeypatch.delenv(charts.ONLINE_ENV, raising=False)
    pin = ChartPin("secrets-store-csi-driver-provider-aws", "2.2.0", "https://x.invalid", None)  # type: ignore[arg-type]
    with pytest.raises(charts.ChartNotFoundError) as raised:
        charts.archive(pin, shared=tmp_path / "shared", local=tmp_path / "local", online=False)
    message = str(raised.value)
    assert "secrets-store-csi-driver-provider-aws version 2.2.0" in message
    assert f"${charts.CACHE_ENV} (not set)" in message
    assert str(tmp_path / "local" / pin.archive) in message
    assert str(tmp_path / "shared" / pin.archive) in message
    assert f"https://x.invalid (not tried: {charts.ONLINE_ENV} is not 1)" in message


def test_nothing_opens_a_connection_unless_online_checks_are_asked_for(monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError(f"a connection was opened: {args}")

    monkeypatch.delenv(charts.ONLINE_ENV, raising=False)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert charts.reachable(SECRETS_STORE_PROVIDER_AWS.repo) is False
    assert charts.index_versions(SECRETS_STORE_PROVIDER_AWS) is None


def test_the_cache_directory_is_looked_in_first(tmp_path, monkeypatch, chart_archives):
    cached = tmp_path / SECRETS_STORE_CSI_DRIVER.archive
    cached.write_bytes(charts.archive(SECRETS_STORE_CSI_DRIVER).read_bytes())
    monkeypatch.setenv(charts.CACHE_ENV, str(tmp_path))
    assert charts.archive(SECRETS_STORE_CSI_DRIVER, online=False) == cached


def test_a_reachable_repository_is_pulled_from_into_the_cache(tmp_path, monkeypatch):
    import helm_python

    calls = []

    def fake_pull(chart, *, repo_url, version, destination, **_):
        calls.append((chart, repo_url, version))
        (destination / f"{chart}-{version}.tgz").write_bytes(b"archive")
        return {"output": ""}

    monkeypatch.setattr(helm_python, "pull", fake_pull)
    cache = tmp_path / "cache"
    pin = SECRETS_STORE_PROVIDER_AWS
    path = charts.archive(pin, shared=tmp_path / "none", cache=cache, local=None, online=True)
    assert path == cache / pin.archive and path.read_bytes() == b"archive"
    assert calls == [(pin.chart, pin.repo, pin.version)]


def test_shared_charts_are_read_from_beside_the_project_never_copied_into_it():
    assert charts.ROOT.parent / "shared" / "charts" == charts.SHARED_CHARTS
    # make install's cache, .charts/, is inside the clone but never in the repository.
    assert charts.LOCAL_CACHE == charts.ROOT / ".charts"
    assert ".charts/" in (charts.ROOT / ".gitignore").read_text().splitlines()
    local = (charts.LOCAL_CACHE, charts.ROOT / ".venv", charts.ROOT / ".venv-tools")
    archives = [
        p for p in charts.ROOT.glob("**/*.tgz") if not any(p.is_relative_to(d) for d in local)
    ]
    assert not archives, "chart archives must stay in ../shared or .charts/"


# --- values --------------------------------------------------------------------------------


def test_every_values_key_the_program_sets_exists_in_the_chart(rendered, chart_archives):
    require(rendered, rendered.releases, "Helm releases")
    problems = []
    for path, release in rendered.releases.items():
        pin = charts.pin_of(release["chart"], release["version"], release["repo"])
        unknown = unknown_value_keys(release["values"], charts.load(pin).values)
        problems += [
            f"{path}: {key} is not a value of {pin.chart} {pin.version}" for key in unknown
        ]
    assert not problems, "\n".join(problems)


def _component_releases(build, **extra) -> dict[str, dict]:
    """SecretsStoreCsi built alone under the mocks, with extra chart values: its releases in
    the shape tools.render records them."""
    from eksplatform.secrets_store import SecretsStoreCsi, SecretsStoreCsiArgs

    def program():
        SecretsStoreCsi("csi", SecretsStoreCsiArgs(aws_region="eu-west-1", **extra))

    return {
        r.name: {
            "chart": r.inputs["chart"],
            "version": r.inputs["version"],
            "repo": r.inputs["repositoryOpts"]["repo"],
            "values": r.inputs["values"],
            "release": r.inputs["name"],
            "namespace": r.inputs["namespace"],
        }
        for r in build(program).of_type("kubernetes:helm.sh/v3:Release")
    }


def _unknown_keys(releases: dict[str, dict]) -> list[str]:
    problems = []
    for name, release in releases.items():
        pin = charts.pin_of(release["chart"], release["version"], release["repo"])
        unknown = unknown_value_keys(release["values"], charts.load(pin).values)
        problems += [f"{name}: {key}" for key in unknown]
    return problems


EXTRA_DRIVER_VALUES = {"logVerbosity": 3, "linux": {"priorityClassName": "system-node-critical"}}
EXTRA_PROVIDER_VALUES = {"priorityClassName": "system-node-critical", "podLabels": {"team": "a"}}


def test_extra_chart_values_are_checked_against_the_chart_and_reach_the_daemonsets(build):
    releases = _component_releases(
        build,
        namespace="secrets-store",
        driver_release_name="csi",
        provider_release_name="ascp",
        driver_values=EXTRA_DRIVER_VALUES,
        provider_values=EXTRA_PROVIDER_VALUES,
    )
    assert set(releases) == {"csi-driver", "csi-aws-provider"}
    assert _unknown_keys(releases) == []
    pods = {}
    for name, release in releases.items():
        objects = [o for items in charts.render_release(release).values() for o in items]
        (ds,) = [o for o in objects if o["kind"] == "DaemonSet"]
        assert ds["metadata"]["namespace"] == "secrets-store"
        pods[name] = ds["spec"]["template"]
    driver, provider = pods["csi-driver"]["spec"], pods["csi-aws-provider"]
    assert driver["priorityClassName"] == "system-node-critical"
    driver_args = [a for c in driver["containers"] for a in c.get("args") or []]
    assert "-v=3" in driver_args or "--v=3" in driver_args, driver_args
    assert provider["spec"]["priorityClassName"] == "system-node-critical"
    assert provider["metadata"]["labels"]["team"] == "a"
    (ascp,) = provider["spec"]["containers"]
    assert ascp["securityContext"]["readOnlyRootFilesystem"] is True


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"driver_values": {"linux": {"priorityClasName": "system-node-critical"}}},
            "driver_values has keys that chart secrets-store-csi-driver 1.6.0 does not: "
            "linux.priorityClasName",
        ),
        (
            {"provider_values": {"podLabel": {"team": "a"}}},
            "provider_values has keys that chart secrets-store-csi-driver-provider-aws 3.1.1 "
            "does not: podLabel",
        ),
    ],
)
def test_a_misspelled_extra_chart_value_is_refused_when_the_args_are_built(extra, message):
    """Where the caller builds the component, with the shapes the package ships; the render
    check below catches what another route (an edited chart pin without a shape) lets by."""
    from eksplatform.secrets_store import SecretsStoreCsiArgs

    with pytest.raises(ValueError, match=re.escape(message)):
        SecretsStoreCsiArgs(aws_region="eu-west-1", **extra)


def test_the_shipped_chart_shapes_are_the_pinned_archives():
    """eksplatform's chart_shapes.json is generated from the archives (`python -m tools.charts
    shapes`): after a chart pin changes, a stale file fails here."""
    from eksplatform.chart_values import chart_shapes

    assert chart_shapes() == charts.shapes()
    assert len(chart_shapes()) == len(charts.SHAPED)


@pytest.mark.parametrize(
    "extra",
    [
        {"driver_values": {"linux": {"image": {"digest": "sha256:" + "a" * 64}}}},
        {"driver_values": {"linux": {"updateStrategy": {"rollingUpdate": {"maxSurge": 1}}}}},
        {"driver_values": {"fullnameOverride": "csi", "nameOverride": "csi"}},
        {"provider_values": {"k8sThrottlingParams": {"qps": 5, "burst": 10}}},
        {"provider_values": {"dnsPolicy": "ClusterFirst", "eksAddonVersion": "v3"}},
        {"provider_values": {"updateStrategy": {"rollingUpdate": {"maxUnavailable": 1}}}},
        {"provider_values": {"rbac": {"serviceAccountName": "ascp"}}},
    ],
    ids=lambda e: json.dumps(e)[:60],
)
def test_a_key_the_templates_read_but_values_yaml_omits_is_accepted(extra):
    """Charts read optional keys values.yaml leaves out (`.Values.linux.image.digest`) and
    hand some values on whole (`toYaml .Values.updateStrategy`): the shapes include what the
    templates read, so pinning the image by digest is not refused."""
    from eksplatform.secrets_store import SecretsStoreCsiArgs

    SecretsStoreCsiArgs(aws_region="eu-west-1", **extra)


def test_widening_adds_what_templates_read_and_keeps_free_form_values_free():
    from eksplatform.chart_values import LEAF

    defaults = {"image": {"repository": LEAF}, "podLabels": {}, "updateStrategy": {"type": LEAF}}
    widened = charts.widen(
        defaults,
        read={("image", "digest"), ("podLabels", "team"), ("k8s", "qps")},
        free={("updateStrategy",)},
    )
    assert widened == {
        "image": {"repository": LEAF, "digest": LEAF},
        "podLabels": {},
        "updateStrategy": None,
        "k8s": {"qps": LEAF},
    }


def test_a_free_form_or_kubernetes_object_value_passes_the_construction_check():
    from eksplatform.secrets_store import SecretsStoreCsiArgs

    SecretsStoreCsiArgs(
        aws_region="eu-west-1",
        driver_values={"linux": {"priorityClassName": "system-node-critical"}},
        provider_values={"podLabels": {"team": "a"}, "resources": {"limits": {"cpu": "1"}}},
    )


def test_the_key_check_catches_a_typo_and_accepts_free_form_maps():
    defaults = {
        "linux": {"tolerations": [], "resources": {}},
        "podAnnotations": None,
        "securityContext": {"privileged": False},
        "image": {"tag": "1"},
    }
    given = {
        "linux": {"toleration": [], "resources": {"limits": {"cpu": "1"}}},
        "podAnnotations": {"a": "b"},
        "securityContext": {"readOnlyRootFilesystem": True},
        "image": {"tga": "2"},
        "extra": 1,
    }
    assert unknown_value_keys(given, defaults) == ["linux.toleration", "image.tga", "extra"]


def test_ascp_container_gets_the_tightened_security_context(rendered, rendered_charts):
    name = "secrets-store-csi-driver-provider-aws"
    require(rendered, name in rendered_charts, "ASCP release")
    (ds,) = rendered_charts[name].of_kind("DaemonSet")
    (container,) = ds["spec"]["template"]["spec"]["containers"]
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert context["privileged"] is False and context["allowPrivilegeEscalation"] is False


# --- rendering and schemas -----------------------------------------------------------------


def test_every_chart_renders_objects(rendered, rendered_charts):
    require(rendered, rendered_charts, "Helm releases")
    for name, chart in rendered_charts.items():
        assert chart.objects, f"{name} renders nothing"


def test_every_rendered_object_validates_strictly_at_the_stack_version(rendered, rendered_charts):
    require(rendered, rendered_charts, "Helm releases")
    errors = []
    for name, chart in rendered_charts.items():
        for obj in chart.objects:
            where = f"{name}: {obj['kind']}/{obj['metadata']['name']}"
            errors += gate.object_errors(obj, rendered.kubernetes_version, where)
    assert not errors, "\n".join(errors)


# --- effects -------------------------------------------------------------------------------


def _driver_charts(rendered_charts):
    return [rendered_charts[n] for n in DRIVER_DAEMONSETS if n in rendered_charts]


def test_csidriver_requests_the_audiences_ascp_needs(rendered, rendered_charts):
    require(rendered, "secrets-store-csi-driver" in rendered_charts, "driver release")
    (csidriver,) = rendered_charts["secrets-store-csi-driver"].of_kind("CSIDriver")
    audiences = [t["audience"] for t in csidriver["spec"]["tokenRequests"]]
    assert audiences == list(TOKEN_AUDIENCES) == ["sts.amazonaws.com", "pods.eks.amazonaws.com"]


def _daemonsets(rendered_charts):
    return [ds for chart in _driver_charts(rendered_charts) for ds in chart.of_kind("DaemonSet")]


KUBERNETES_EFFECT = {eks: kubernetes for kubernetes, eks in TAINT_EFFECTS.items()}
"""NO_SCHEDULE (EKS API) -> NoSchedule (Kubernetes)."""


def test_driver_and_provider_daemonsets_tolerate_every_nodegroup_taint(rendered, rendered_charts):
    daemonsets = _daemonsets(rendered_charts)
    require(rendered, daemonsets, "driver DaemonSets")
    recorder = rendered.render.recorder
    # An existing cluster's node pools are not the stack's: only the "any taint" check holds.
    nodegroups = recorder.of_type("aws:eks/nodeGroup:NodeGroup")
    taints = [
        {"key": t["key"], "value": t.get("value", ""), "effect": KUBERNETES_EFFECT[t["effect"]]}
        for ng in nodegroups
        for t in ng.inputs.get("taints") or []
    ]
    assert {ds["metadata"]["name"] for ds in daemonsets} == set(DRIVER_DAEMONSETS)
    for ds in daemonsets:
        tolerations = ds["spec"]["template"]["spec"].get("tolerations") or []
        # Every taint a node pool can carry, configured or added later, is tolerated.
        assert gate.tolerates(tolerations, {"key": "any", "value": "x", "effect": "NoExecute"})
        for taint in taints:
            assert gate.tolerates(tolerations, taint), (ds["metadata"]["name"], taint)


@pytest.fixture(scope="module")
def tainted(tmp_path_factory, chart_archives):
    """The fixture dev with a tainted nodegroup (`nodeTaints`), rendered and its charts too."""
    from tests.validation.conftest import RenderedStack

    out = tmp_path_factory.mktemp("render-tainted")
    overrides = {f"{PROJECT}:nodeTaints": TAINTS}
    result = render("dev", out, overrides=overrides, directory=FIXTURES)
    stack = RenderedStack(
        stack="dev",
        render=result,
        kubernetes_version=config_of(fixture("dev"), overrides)[f"{PROJECT}:kubernetesVersion"],
        manifests=gate.load_manifests(out),
        releases=gate.load_releases(out),
        iam={},
    )
    return stack, render_charts(stack)


def test_a_tainted_nodegroup_gets_driver_pods_that_tolerate_its_taints(tainted):
    stack, rendered_charts = tainted
    node_taints = stack.render.recorder.named("nodes-ng").inputs["taints"]
    assert len(node_taints) == len(TAINTS)
    eks_to_k8s = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute"}
    eks_to_k8s["PREFER_NO_SCHEDULE"] = "PreferNoSchedule"
    daemonsets = _daemonsets(rendered_charts)
    assert len(daemonsets) == 2
    for ds in daemonsets:
        tolerations = ds["spec"]["template"]["spec"]["tolerations"]
        for taint in node_taints:
            k8s_taint = {**taint, "effect": eks_to_k8s[taint["effect"]]}
            assert gate.tolerates(tolerations, k8s_taint), (ds["metadata"]["name"], k8s_taint)


def test_tolerates_follows_kubernetes_matching():
    taint = {"key": "dedicated", "value": "apps", "effect": "NoSchedule"}
    assert gate.tolerates([{"operator": "Exists"}], taint)
    assert gate.tolerates([{"key": "dedicated", "operator": "Exists"}], taint)
    assert gate.tolerates([{"key": "dedicated", "value": "apps", "effect": "NoSchedule"}], taint)
    assert not gate.tolerates([], taint)
    assert not gate.tolerates([{"key": "dedicated", "value": "db"}], taint)
    assert not gate.tolerates(
        [{"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}], taint
    )


def test_rotation_flags_reach_the_driver_daemonset(rendered, rendered_charts):
    require(rendered, "secrets-store-csi-driver" in rendered_charts, "driver release")
    values = rendered_charts["secrets-store-csi-driver"].release["values"]
    (ds,) = rendered_charts["secrets-store-csi-driver"].of_kind("DaemonSet")
    args = [a for c in ds["spec"]["template"]["spec"]["containers"] for a in c.get("args") or []]
    if values["enableSecretRotation"]:
        assert "--enable-secret-rotation=true" in args
        assert f"--rotation-poll-interval={values['rotationPollInterval']}" in args
    else:
        assert not any(a.startswith("--enable-secret-rotation") for a in args)


def test_sync_secret_grants_the_driver_secret_rbac_only_when_enabled(rendered, rendered_charts):
    require(rendered, "secrets-store-csi-driver" in rendered_charts, "driver release")
    chart = rendered_charts["secrets-store-csi-driver"]
    rules = [
        rule
        for role in chart.of_kind("ClusterRole")
        for rule in role.get("rules") or []
        if "secrets" in (rule.get("resources") or [])
    ]
    creates = any("create" in r.get("verbs", []) for r in rules)
    assert creates == chart.release["values"]["syncSecret"]["enabled"], rules


@pytest.mark.parametrize(("sync", "rotation"), [(True, False), (False, True)])
def test_driver_chart_follows_sync_and_rotation_both_ways(sync, rotation, chart_archives):
    """The stack files all rotate and none syncs; the other way round, rendered directly."""
    from eksplatform.secrets_store import SecretsStoreCsiArgs, driver_values

    args = SecretsStoreCsiArgs(
        aws_region="eu-west-1",
        enable_sync_secret=sync,
        enable_secret_rotation=rotation,
        rotation_poll_interval="90s",
    )
    release = {
        "chart": SECRETS_STORE_CSI_DRIVER.chart,
        "version": SECRETS_STORE_CSI_DRIVER.version,
        "repo": SECRETS_STORE_CSI_DRIVER.repo,
        "values": driver_values(args),
        "release": "secrets-store-csi-driver",
        "namespace": "kube-system",
    }
    objects = [o for items in charts.render_release(release).values() for o in items]
    (ds,) = [o for o in objects if o["kind"] == "DaemonSet"]
    args_ = [a for c in ds["spec"]["template"]["spec"]["containers"] for a in c.get("args") or []]
    assert ("--enable-secret-rotation=true" in args_) is rotation
    assert ("--rotation-poll-interval=90s" in args_) is rotation
    creates_secrets = any(
        "secrets" in (rule.get("resources") or []) and "create" in rule.get("verbs", [])
        for o in objects
        if o["kind"] == "ClusterRole"
        for rule in o.get("rules") or []
    )
    assert creates_secrets is sync


def test_prometheus_selects_the_example_service_monitor(rendered, rendered_charts):
    monitors = rendered.cluster.of_kind("ServiceMonitor")
    require(rendered, monitors and "kps" in rendered_charts, "ServiceMonitor and Prometheus")
    (prometheus,) = rendered_charts["kps"].of_kind("Prometheus")
    spec = prometheus["spec"]
    namespaces = rendered.cluster.namespaces
    for _, monitor in monitors:
        labels = monitor["metadata"].get("labels") or {}
        assert gate.selector_matches(spec["serviceMonitorSelector"], labels)
        ns_labels = namespaces[gate.namespace_of(monitor)]
        assert gate.selector_matches(spec["serviceMonitorNamespaceSelector"], ns_labels)


def test_pod_monitor_and_rule_selectors_are_scoped(rendered, rendered_charts):
    require(rendered, "kps" in rendered_charts, "Prometheus release")
    (prometheus,) = rendered_charts["kps"].of_kind("Prometheus")
    spec = prometheus["spec"]
    for key in (
        "podMonitorSelector",
        "podMonitorNamespaceSelector",
        "ruleSelector",
        "ruleNamespaceSelector",
        "serviceMonitorSelector",
        "serviceMonitorNamespaceSelector",
    ):
        selector = spec.get(key) or {}
        assert selector.get("matchLabels") or selector.get("matchExpressions"), (
            f"{key} is {json.dumps(spec.get(key))}: it selects everything in the cluster"
        )
        assert not gate.selector_matches(selector, {"team": "someone-else"}), key


# --- checkov over the third-party manifests ------------------------------------------------


def test_checkov_finds_no_failed_check_in_the_charts(charts_checkov_run):
    assert not charts_checkov_run.failed, "\n".join(gate.describe_failed(charts_checkov_run.failed))


def test_checkov_scanned_the_chart_objects(charts_checkov_run, rendered_charts):
    summary = charts_checkov_run.report.get("summary") or {}
    assert summary.get("parsing_errors") == 0, summary
    objects = sum(len(c.objects) for c in rendered_charts.values())
    assert summary.get("passed", 0) > objects, summary
