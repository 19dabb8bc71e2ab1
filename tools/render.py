"""Offline render of a stack: what `pulumi up` would create, with no cloud credentials.

`pulumi preview` needs AWS access, so a pull request from a fork, or a reviewer without an
account, sees nothing. This runs the real program (`__main__.py`) for `Pulumi.<stack>.yaml`
under the same mocks the tests use and writes what it registered:

- `k8s/<namespace>/<Kind>-<name>.yaml` for every Kubernetes object (`k8s/_cluster/` for
  cluster-scoped ones) and `k8s/<namespace>/HelmRelease-<name>.yaml` for every Helm release
  (chart, version, repo and values);
- `iam/<name>.json` for every identity policy, `iam/<name>.trust.json` for every role's trust
  policy and `iam/<name>.key-policy.json` for every KMS key policy;
- `inventory.json`: each resource's type, name, parent, protect and key inputs;
- `diagram.md`: a Mermaid picture of the platform and each app (`tools/diagram.py`).

Secrets never reach the output: created secrets get placeholder values (the real ones live
only in the encrypted stack config), every value the program marks as a Pulumi secret is
replaced by `<redacted>`, and so are fields that are sensitive by name (secretString,
kubeconfig, private keys, Kubernetes Secret data). Files are byte-identical between runs, so a
diff of two renders shows exactly what a change does.

    python -m tools.render --stack dev --out build/dev
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import shutil
import sys
import traceback
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pulumi.runtime import rpc

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from stacks.config.reader import ConfigError  # noqa: E402
from stacks.config.yaml_loader import YamlError, load  # noqa: E402
from tools.diagram import stack_diagram  # noqa: E402
from tools.pulumi_mocks import PROJECT, Recorder, Registration, run_program, stack_config  # noqa: E402

REDACTED = "<redacted>"
UNKNOWN = "<unknown>"
CLUSTER_DIR = "_cluster"
SECRET_VALUES_KEY = f"{PROJECT}:secretValues"

# Field names whose values are credentials wherever they appear, secret-marked or not: under
# mocks a provider's own secret outputs (tls private keys) are not marked.
SENSITIVE_KEYS = frozenset(
    k.lower()
    for k in (
        "secretString",
        "secretBinary",
        "secretValues",
        "kubeconfig",
        "kubeconfigJson",
        "privateKeyPem",
        "privateKeyPemPkcs8",
        "privateKeyOpenssh",
        "password",
        "token",
        "tls.key",
        "ssh-privatekey",
    )
)
# Kinds with no namespace; everything else without one lands in `default`, as kubectl does.
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "APIService",
        "CSIDriver",
        "ClusterIssuer",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "FlowSchema",
        "IngressClass",
        "MutatingWebhookConfiguration",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PriorityClass",
        "PriorityLevelConfiguration",
        "RuntimeClass",
        "StorageClass",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
        "VolumeSnapshotClass",
    }
)
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


@dataclass
class Render:
    """The result of one render: what was written where, and the run it came from."""

    stack: str
    out: Path
    recorder: Recorder
    files: dict[str, str]
    """Relative path -> file text, exactly as written."""
    placeholder_secrets: list[str] = field(default_factory=list)
    """Created secrets whose values were placeholders (empty when real values were given)."""

    def summary(self) -> str:
        return summary_table(self)


# --- running the program -------------------------------------------------------------------


def created_secret_names(config: dict[str, str]) -> list[str]:
    """Names of the secrets the stack creates (not those referenced by `existingArn`).

    Parsed by the program's own YAML loader; a malformed `secrets` value gives an empty list
    here, and the program's config parser then reports it exactly as `pulumi up` would.
    """
    try:
        specs = load(config.get(f"{PROJECT}:secrets", "") or "[]") or []
    except YamlError:
        return []
    if not isinstance(specs, list):
        return []
    return sorted(
        str(s["name"])
        for s in specs
        if isinstance(s, dict) and s.get("name") and not s.get("existingArn")
    )


def render(
    stack: str,
    out: Path | str,
    *,
    overrides: dict[str, Any] | None = None,
    secret_values: dict[str, Any] | None = None,
    directory: Path = ROOT,
) -> Render:
    """Runs the stack's program under mocks and writes its plan to `out`.

    `secret_values` stands in for the encrypted `secretValues` config; by default every created
    secret gets the placeholder `<redacted>`. Raises ConfigError for bad config, like `pulumi up`.
    """
    config = stack_config(stack, overrides, directory=directory)
    placeholders: list[str] = []
    if secret_values is None:
        placeholders = created_secret_names(config)
        secret_values = dict.fromkeys(placeholders, REDACTED)
    if secret_values:
        config[SECRET_VALUES_KEY] = json.dumps(secret_values, sort_keys=True)
    else:
        config.pop(SECRET_VALUES_KEY, None)
    return render_recorded(run_program(stack, config), stack, out, placeholders)


def render_recorded(
    recorder: Recorder, stack: str, out: Path | str, placeholders: Sequence[str] = ()
) -> Render:
    """Writes the plan of a program run that already happened (the tests share one run per
    stack). Files depend only on the run, and secret values never reach them."""
    files = render_files(recorder, stack)
    out = Path(out)
    write_tree(out, files)
    return Render(stack, out, recorder, files, list(placeholders))


def write_tree(out: Path, files: dict[str, str]) -> None:
    """Replaces a previous render in `out` (only the paths a render owns) with `files`."""
    out.mkdir(parents=True, exist_ok=True)
    for owned in ("k8s", "iam"):
        shutil.rmtree(out / owned, ignore_errors=True)
    for owned_file in ("inventory.json", "diagram.md"):
        (out / owned_file).unlink(missing_ok=True)
    for relative, text in sorted(files.items()):
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")


# --- redaction and normalisation -----------------------------------------------------------


def is_secret(value: Any) -> bool:
    """True for Pulumi's wire marker of a secret value."""
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def secret_plaintexts(resources: Iterable[Registration], minimum: int = 8) -> set[str]:
    """Every string the program marked secret (long enough to be unambiguous)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if is_secret(value):
            inner = value.get("value")
            for text in _strings(inner):
                if len(text) >= minimum:
                    found.add(text)
            if isinstance(inner, (dict, list)):
                found.add(json.dumps(inner, sort_keys=True))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for resource in resources:
        walk(resource.secret_inputs)
    return found


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def clean(value: Any, key: str = "", *, known_secrets: frozenset[str] = frozenset()) -> Any:
    """Redacted, plain, stable data: secrets and sensitive fields become `<redacted>`, the
    engine's unknowns `<unknown>`, and integral floats (the wire has only doubles) ints."""
    if is_secret(value):
        return REDACTED
    if key.lower() in SENSITIVE_KEYS and value not in (None, "", [], {}):
        return REDACTED
    if isinstance(value, dict):
        return {
            str(k): clean(v, str(k), known_secrets=known_secrets)
            for k, v in value.items()
            if v is not None
        }
    if isinstance(value, list):
        return [clean(v, key, known_secrets=known_secrets) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        if value == rpc.UNKNOWN:
            return UNKNOWN
        if any(secret in value for secret in known_secrets):
            return REDACTED
    return value


# --- Kubernetes objects --------------------------------------------------------------------


def api_version_and_kind(type_token: str) -> tuple[str, str]:
    """`kubernetes:apps/v1:Deployment` -> (`apps/v1`, `Deployment`); core/v1 -> `v1`."""
    _, module, kind = type_token.split(":")
    return module.removeprefix("core/"), kind


def kubernetes_manifest(resource: Registration, known: frozenset[str]) -> dict[str, Any]:
    """The object as the API server would receive it, secrets redacted."""
    body = clean(resource.secret_inputs, known_secrets=known)
    api_version, kind = api_version_and_kind(resource.type)
    body.setdefault("apiVersion", api_version)
    body.setdefault("kind", kind)
    metadata = dict(body.get("metadata") or {})
    if not metadata.get("name"):
        assigned = (resource.outputs.get("metadata") or {}).get("name")
        metadata["name"] = assigned or resource.name
    body["metadata"] = metadata
    if body["kind"] == "Secret":
        for data_key in ("data", "stringData"):
            if isinstance(body.get(data_key), dict):
                body[data_key] = dict.fromkeys(body[data_key], REDACTED)
    return body


def namespace_dir(manifest: dict[str, Any]) -> str:
    if manifest["kind"] in CLUSTER_SCOPED_KINDS:
        return CLUSTER_DIR
    return manifest["metadata"].get("namespace") or "default"


def helm_release(resource: Registration, known: frozenset[str]) -> dict[str, Any]:
    """A Helm release as chart, version, repo and values (no apiVersion/kind: it is not an
    object the API server sees, so the schema and security scanners leave it alone)."""
    inputs = clean(resource.secret_inputs, known_secrets=known)
    repo = (inputs.get("repositoryOpts") or {}).get("repo", "")
    release = {
        "release": inputs.get("name") or resource.name,
        "namespace": inputs.get("namespace") or "default",
        "chart": inputs.get("chart", ""),
        "version": inputs.get("version", ""),
        "repo": repo,
        "values": inputs.get("values") or {},
        "pulumiResource": resource.name,
        "pulumiType": resource.type,
    }
    options = {
        k: v
        for k, v in inputs.items()
        if k not in {"name", "namespace", "chart", "version", "repositoryOpts", "values"}
    }
    if options:
        release["options"] = options
    return release


def is_helm(resource: Registration) -> bool:
    return resource.type.startswith("kubernetes:helm.sh/")


# --- IAM documents -------------------------------------------------------------------------


SECRET_DOCUMENT = {"Redacted": "the program marks this document secret; it is not written"}


def iam_documents(resource: Registration, known: frozenset[str] = frozenset()) -> dict[str, Any]:
    """File name -> policy document (parsed) of the IAM documents one resource carries.

    A document the program marks secret is replaced by a stub, which no validator accepts, so
    a reviewer looks at it instead of the render silently showing or hiding it.
    """
    inputs = resource.secret_inputs
    name = safe_name(resource.name)
    found: dict[str, Any] = {}
    if resource.type in ("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy"):
        found[f"{name}.json"] = inputs.get("policy")
    elif resource.type == "aws:iam/role:Role":
        found[f"{name}.trust.json"] = inputs.get("assumeRolePolicy")
        for inline in inputs.get("inlinePolicies") or []:
            if isinstance(inline, dict) and inline.get("policy"):
                file_name = f"{name}.inline-{safe_name(str(inline.get('name', 'policy')))}.json"
                found[file_name] = inline["policy"]
    elif resource.type == "aws:kms/key:Key":
        found[f"{name}.key-policy.json"] = inputs.get("policy")
    documents = {}
    for file_name, document in found.items():
        if not document:
            continue
        if is_secret(document):
            documents[file_name] = SECRET_DOCUMENT
        else:
            parsed = json.loads(document) if isinstance(document, str) else document
            documents[file_name] = clean(parsed, known_secrets=known)
    return documents


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


# --- output files --------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line strings (nginx.conf, SecretProviderClass `objects`)."""


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_str)


def to_yaml(data: Any) -> str:
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=True,
        default_flow_style=False,
        width=4096,
        allow_unicode=True,
    )


def _load(text: str) -> Any:
    """Parses our own output back (libyaml when present: same result, faster)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _ref(urn: str) -> str:
    """`<type>::<name>` of a URN: unique, readable and free of the stack name."""
    qualified, name = urn.split("::")[-2:]
    return f"{qualified.split('$')[-1]}::{name}"


def render_files(recorder: Recorder, stack: str) -> dict[str, str]:
    """Relative path -> text of every output file; a pure function of the recorded run."""
    known = frozenset(secret_plaintexts(recorder.resources))
    files: dict[str, str] = {}

    def add(path: str, text: str, owner: Registration) -> None:
        if path in files:
            raise ValueError(f"two resources render to {path} (second: {owner.name})")
        files[path] = text

    kubernetes = {r.urn for r in recorder.kubernetes_objects()}
    inventory = []
    for resource in sorted(recorder.resources, key=lambda r: (r.type, r.name, r.urn)):
        entry: dict[str, Any] = {
            "type": resource.type,
            "name": resource.name,
            "parent": _ref(resource.parent) if resource.parent else "",
            "protect": resource.protect,
        }
        if resource.retain_on_delete:
            entry["retainOnDelete"] = True
        if resource.ignore_changes:
            entry["ignoreChanges"] = sorted(resource.ignore_changes)
        if resource.dependencies:
            entry["dependsOn"] = sorted({_ref(u) for u in resource.dependencies})
        if resource.urn in kubernetes:
            manifest = kubernetes_manifest(resource, known)
            path = (
                f"k8s/{namespace_dir(manifest)}/"
                f"{manifest['kind']}-{safe_name(manifest['metadata']['name'])}.yaml"
            )
            add(path, to_yaml(manifest), resource)
            entry["file"] = path
        elif is_helm(resource):
            release = helm_release(resource, known)
            path = f"k8s/{release['namespace']}/HelmRelease-{safe_name(release['release'])}.yaml"
            add(path, to_yaml(release), resource)
            entry["file"] = path
            entry["chart"] = f"{release['chart']}@{release['version']}"
        else:
            documents = iam_documents(resource, known)
            inputs = clean(resource.secret_inputs, known_secrets=known)
            for file_name, document in sorted(documents.items()):
                path = f"iam/{file_name}"
                add(path, to_json(document), resource)
                entry.setdefault("files", []).append(path)
            for doc_key in ("policy", "assumeRolePolicy"):
                if doc_key in inputs and documents:
                    inputs[doc_key] = "see files"
            for inline in inputs.get("inlinePolicies") or []:
                if isinstance(inline, dict) and "policy" in inline:
                    inline["policy"] = "see files"
            entry["inputs"] = inputs
        inventory.append(entry)
    files["diagram.md"] = stack_diagram(recorder, stack)
    files["inventory.json"] = to_json(
        {
            "project": PROJECT,
            "stack": stack,
            "resourceCount": len(recorder.resources),
            "resources": inventory,
            "stackOutputs": clean(recorder.stack_outputs, known_secrets=known),
        }
    )
    return files


# --- summary -------------------------------------------------------------------------------


def split_image(image: str) -> tuple[str, str]:
    """(`repository`, `tag or digest`); an image with neither reads as `latest`."""
    if "@" in image:
        repository, digest = image.split("@", 1)
        return repository, digest
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        repository, tag = image.rsplit(":", 1)
        return repository, tag
    return image, "latest (implicit)"


def images_of(manifest: Any) -> list[str]:
    """Every container image in an object (pod templates at any depth)."""
    images: list[str] = []
    if isinstance(manifest, dict):
        for key, value in manifest.items():
            if key in CONTAINER_LISTS and isinstance(value, list):
                images.extend(c["image"] for c in value if isinstance(c, dict) and "image" in c)
            else:
                images.extend(images_of(value))
    elif isinstance(manifest, list):
        for item in manifest:
            images.extend(images_of(item))
    return images


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=False)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return [line.format(*headers).rstrip(), *(line.format(*map(str, r)).rstrip() for r in rows)]


def app_rows(files: dict[str, str]) -> list[tuple[str, str, str, str, str]]:
    """(app, namespace, identity, role, secrets) for each `apps` entry of a render: what a
    reviewer checks when a change adds a team. From the stack output `apps` (in
    inventory.json) and the objects of each app's SecretProviderClass."""
    outputs = json.loads(files.get("inventory.json", "{}")).get("stackOutputs") or {}
    rows = []
    for name, app in sorted((outputs.get("apps") or {}).items()):
        namespace, spc = app.get("namespace", ""), app.get("secretProviderClass", "")
        text = files.get(f"k8s/{namespace}/SecretProviderClass-{safe_name(spc)}.yaml", "")
        parameters = ((_load(text) or {}).get("spec") or {}).get("parameters") or {}
        objects = _load(parameters.get("objects") or "[]") or []
        secrets = ", ".join(str(o.get("objectName", "")) for o in objects if isinstance(o, dict))
        role = str(app.get("roleArn", "")).rpartition("/")[2]
        rows.append((name, namespace, str(app.get("identity", "")), role, secrets))
    return rows


def summary_table(result: Render) -> str:
    files = result.files
    manifests = {
        path: _load(text)
        for path, text in files.items()
        if path.startswith("k8s/") and not path.split("/")[-1].startswith("HelmRelease-")
    }
    releases = [
        _load(text)
        for path, text in sorted(files.items())
        if path.split("/")[-1].startswith("HelmRelease-")
    ]
    counts = Counter(r.type for r in result.recorder.resources)
    lines = [f"Stack {result.stack}: {len(result.recorder.resources)} resources, offline render"]
    if result.placeholder_secrets:
        lines.append(
            f"Secret values are placeholders ({REDACTED}) for: "
            + ", ".join(result.placeholder_secrets)
        )
    lines += ["", *_table(["TYPE", "COUNT"], sorted(counts.items()))]

    per_namespace = Counter(path.split("/")[1] for path in manifests)
    lines += ["", *_table(["NAMESPACE", "OBJECTS"], sorted(per_namespace.items()))]
    apps = app_rows(files)
    if apps:
        lines += ["", *_table(["APP", "NAMESPACE", "IDENTITY", "ROLE", "SECRETS"], apps)]

    used: dict[str, set[str]] = {}
    for path, manifest in manifests.items():
        where = f"{path.split('/')[1]}/{manifest['kind']}/{manifest['metadata']['name']}"
        for image in images_of(manifest):
            used.setdefault(image, set()).add(where)
    image_rows = [
        (*split_image(image), ", ".join(sorted(where))) for image, where in sorted(used.items())
    ]
    lines += ["", *_table(["IMAGE", "TAG", "USED BY"], image_rows)]

    chart_rows = [
        (f"{r['namespace']}/{r['release']}", r["chart"], r["version"], r["repo"]) for r in releases
    ]
    lines += ["", *_table(["RELEASE", "CHART", "VERSION", "REPO"], chart_rows)]
    iam = sorted(p for p in files if p.startswith("iam/"))
    lines += [
        "",
        f"{len(manifests)} Kubernetes objects, {len(releases)} Helm releases, "
        f"{len(iam)} IAM documents written to {result.out}",
    ]
    return "\n".join(lines)


# --- command line --------------------------------------------------------------------------


def parse_overrides(pairs: Sequence[str]) -> dict[str, str]:
    """`-c key=value` as `pulumi up -c` takes it; a key without namespace is the project's."""
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--config expects KEY=VALUE, got {pair!r}")
        overrides[key if ":" in key else f"{PROJECT}:{key}"] = value
    return overrides


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """`-c KEY=VALUE`, repeatable, read with `parse_overrides` (render and check share it)."""
    parser.add_argument(
        "-c",
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config value, like `pulumi up -c`",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.render",
        description="Render a stack's plan offline (no cloud credentials): Kubernetes objects, "
        "Helm releases, IAM policies and an inventory, secrets redacted.",
    )
    parser.add_argument("--stack", required=True, help="reads Pulumi.<stack>.yaml")
    parser.add_argument("--out", help="output directory (default build/<stack>)")
    parser.add_argument(
        "--directory",
        "--dir",
        type=Path,
        default=ROOT,
        help="where Pulumi.<stack>.yaml is (default: the project; the tests' frozen stacks "
        "are in tests/fixtures/stacks)",
    )
    add_config_option(parser)
    args = parser.parse_args(argv)
    out = Path(args.out or f"build/{args.stack}")
    try:
        overrides = parse_overrides(args.config)
        result = render(args.stack, out, overrides=overrides, directory=args.directory)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        stacks = sorted(p.name.split(".")[1] for p in args.directory.glob("Pulumi.*.yaml"))
        print(f"{exc}; stacks: {', '.join(stacks)}", file=sys.stderr)
        return 2
    except Exception:
        traceback.print_exc()
        return 1
    print(result.summary())
    return 0


if __name__ == "__main__":
    # One short-lived process that allocates ~150 MB of objects it never frees (SDK modules,
    # the run): cyclic GC passes during the run and over every object at exit cost ~0.9 s of
    # ~2 s and free almost nothing (peak memory is the same), so collect nothing.
    gc.disable()
    code = main()
    gc.freeze()
    sys.exit(code)
