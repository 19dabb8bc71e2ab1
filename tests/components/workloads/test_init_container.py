"""Init container: fills the shared emptyDir before nginx starts; ConfigMap or git source."""

import pytest
from eksplatform.workloads.init_container import (
    CONTENT_DIR,
    InitContainerExample,
    InitContainerExampleArgs,
    check_repo_url,
    init_pod_spec,
    network_rules,
    site_conf,
    web_labels,
)

from tests.workload_checks import (
    assert_hardened,
    container,
    mounts,
    selects,
    volumes,
    volumes_are_declared,
)

REPO = "https://github.com/NillsF/html-demo.git"


def test_default_copies_the_page_from_a_configmap_into_the_shared_volume():
    spec = init_pod_spec("configmap")
    assert_hardened(spec)
    assert volumes_are_declared(spec)
    (init,) = spec["initContainers"]
    assert init["image"].startswith("busybox:")
    assert "cp /seed/index.html /content/index.html" in init["command"][2]
    assert mounts(init) == {"/seed": "seed", "/content": "content"}
    assert mounts(container(spec, "nginx"))[CONTENT_DIR] == "content"
    assert "emptyDir" in volumes(spec)["content"]
    assert volumes(spec)["seed"]["configMap"]["name"] == "init-web-seed"


def test_git_mode_clones_with_the_url_as_data_and_drops_the_git_directory():
    spec = init_pod_spec("git", REPO, "main")
    assert_hardened(spec)
    assert volumes_are_declared(spec)
    (init,) = spec["initContainers"]
    assert init["image"].startswith("alpine/git:v")
    assert {"name": "GIT_REPO", "value": REPO} in init["env"]
    assert {"name": "GIT_REF", "value": "main"} in init["env"]
    assert REPO not in init["command"][2]
    assert "rm -rf /tmp/repo/.git" in init["command"][2]
    assert "seed" not in volumes(spec)


@pytest.mark.parametrize(
    "url",
    [
        "http://github.com/a/b.git",
        "https://user:token@github.com/a/b.git",
        "https://github.com/a/b.git;rm -rf /",
        "git@github.com:a/b.git",
        "https://github.com/../etc",
    ],
)
def test_repository_must_be_a_public_https_url(url):
    assert check_repo_url(url)
    with pytest.raises(ValueError, match="must be a public https:// repository URL"):
        InitContainerExampleArgs(namespace="init", source="git", git_repo=url)


def test_bad_source_and_ref_are_refused():
    with pytest.raises(ValueError, match="'svn' is not a valid InitContainerSource"):
        InitContainerExampleArgs(namespace="init", source="svn")
    with pytest.raises(ValueError, match="git_ref '\\$\\(x\\)' must be a branch or tag"):
        InitContainerExampleArgs(namespace="init", source="git", git_repo=REPO, git_ref="$(x)")


def test_only_git_mode_opens_https_egress_and_never_to_instance_metadata():
    assert network_rules("configmap") == []
    (rule,) = network_rules("git")
    assert selects(rule.pod_labels, web_labels())
    assert list(rule.ports) == [443]
    assert rule.to_cidr == "0.0.0.0/0"
    assert "169.254.169.254/32" in rule.except_cidrs


def test_nginx_serves_the_filled_directory():
    conf = site_conf()
    assert f"root {CONTENT_DIR};" in conf and "listen 8080;" in conf


def test_component_registers_seed_configmap_deployment_and_matching_service(build):
    rec = build(
        lambda: InitContainerExample("init", InitContainerExampleArgs(namespace="init-example"))
    )
    seed = rec.named("init-seed")
    assert "Written by an init container" in seed.inputs["data"]["index.html"]
    deployment = rec.named("init-deployment")
    assert rec.depends_on(deployment, seed)
    pod_labels = deployment.inputs["spec"]["template"]["metadata"]["labels"]
    assert selects(rec.named("init-service").inputs["spec"]["selector"], pod_labels)
    assert (
        deployment.inputs["spec"]["template"]["spec"]["initContainers"][0]["name"] == "copy-content"
    )
