"""The Pod Security Standards checker itself: it must refuse what PSA refuses, or the
whole-stack test that relies on it proves nothing."""

import copy

import pytest

from tests.pod_security import pod_spec_of, violations

GOOD = {
    "securityContext": {
        "runAsNonRoot": True,
        "runAsUser": 101,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
    "containers": [
        {
            "name": "web",
            "image": "nginxinc/nginx-unprivileged:1.29.3-alpine",
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
                "readOnlyRootFilesystem": True,
            },
        }
    ],
    "volumes": [{"name": "tmp", "emptyDir": {}}],
}

BAD = {
    "hostNetwork": True,
    "hostPID": True,
    "securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]},
    "containers": [
        {
            "name": "root",
            "image": "busybox:1.37.0",
            "ports": [{"containerPort": 80, "hostPort": 80}],
            "securityContext": {
                "privileged": True,
                "runAsUser": 0,
                "capabilities": {"add": ["SYS_ADMIN"]},
                "seccompProfile": {"type": "Unconfined"},
            },
        }
    ],
    "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
}


def test_a_hardened_pod_is_admitted_at_every_level():
    for level in ("privileged", "baseline", "restricted"):
        assert violations(GOOD, level) == []


def test_a_bad_pod_is_refused_for_every_reason():
    found = "\n".join(violations(BAD, "restricted"))
    for expected in (
        "pod: hostNetwork must be unset or false",
        "pod: hostPID must be unset or false",
        "hostPath volumes are forbidden",
        "sysctl 'kernel.msgmax' is not in the safe set",
        "container 'root': privileged must be unset or false",
        "container 'root': capabilities ['SYS_ADMIN'] added",
        "container 'root': hostPort 80 is forbidden",
        "container 'root': seccompProfile Unconfined is forbidden",
        "volume 'host': type ['hostPath'] is not allowed",
        "container 'root': allowPrivilegeEscalation must be false",
        "container 'root': runAsNonRoot must be true",
        "container 'root': runAsUser must not be 0",
        "container 'root': capabilities must drop ALL",
    ):
        assert expected in found


def test_baseline_admits_what_only_restricted_forbids():
    pod = copy.deepcopy(GOOD)
    del pod["securityContext"]
    pod["containers"][0]["securityContext"] = {}
    assert violations(pod, "baseline") == []
    assert len(violations(pod, "restricted")) == 4  # escalation, non-root, seccomp, caps


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda p: p["containers"][0]["securityContext"].update(runAsNonRoot=False),
            "runAsNonRoot",
        ),
        (
            lambda p: p["containers"][0]["securityContext"]["capabilities"].update(add=["NET_RAW"]),
            "only NET_BIND_SERVICE may be added",
        ),
        (lambda p: p["securityContext"].update(seccompProfile={"type": "Unconfined"}), "seccomp"),
        (lambda p: p["securityContext"].update(runAsUser=0), "pod: runAsUser must not be 0"),
        (
            lambda p: p.setdefault("initContainers", []).append({"name": "init"}),
            "initContainer 'init': allowPrivilegeEscalation must be false",
        ),
        (
            lambda p: p["containers"][0]["securityContext"].update(
                seLinuxOptions={"type": "spc_t"}
            ),
            "seLinuxOptions.type 'spc_t' is forbidden",
        ),
        (
            lambda p: p["containers"][0]["securityContext"].update(procMount="Unmasked"),
            "procMount must be Default",
        ),
    ],
)
def test_each_restricted_rule_is_enforced(change, message):
    pod = copy.deepcopy(GOOD)
    change(pod)
    assert any(message in v for v in violations(pod, "restricted"))


def test_net_bind_service_is_the_one_capability_restricted_allows():
    pod = copy.deepcopy(GOOD)
    pod["containers"][0]["securityContext"]["capabilities"]["add"] = ["NET_BIND_SERVICE"]
    assert violations(pod, "restricted") == []


def test_pod_specs_are_found_in_workload_objects():
    deployment = {"spec": {"template": {"metadata": {}, "spec": GOOD}}}
    assert pod_spec_of("kubernetes:apps/v1:Deployment", deployment) == (GOOD, {})
    assert pod_spec_of("kubernetes:core/v1:Service", {"spec": {}}) is None
