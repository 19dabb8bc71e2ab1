"""Pulumi mocks with realistic computed outputs, and a recorder of every registration.

Shared by tests/conftest.py and the offline render so both see the same program run.
Outputs are derived from resource names only, so two runs give identical values.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.config import set_all_config

from stacks.config.stack_file import config_strings

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "123456789012"
PROJECT = "eks-secrets-platform"
OIDC_ID = "EXAMPLED539D4633E53DE1B71EXAMPLE"
EXISTING_CLUSTER_VERSION = "1.35"
"""The Kubernetes version every looked-up (existing) cluster runs under the mocks."""


def _hex(name: str, length: int) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:length]


@dataclass
class Registration:
    """One resource as the engine would see it: inputs, options and mocked outputs."""

    urn: str
    id: str
    type: str
    name: str
    custom: bool
    parent: str
    inputs: dict[str, Any]
    """Inputs with Pulumi secrets unwrapped to their plain values."""
    outputs: dict[str, Any] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    protect: bool = False
    retain_on_delete: bool = False
    provider: str = ""
    ignore_changes: list[str] = field(default_factory=list)
    secret_inputs: dict[str, Any] = field(default_factory=dict)
    """Inputs as sent, secrets still wrapped in Pulumi's secret marker (for redaction)."""
    aliases: list[dict[str, Any]] = field(default_factory=list)
    """Alias specs as sent to the engine ({"urn": ...} or {"spec": {...}})."""


@dataclass(frozen=True)
class Invoke:
    """One provider function call (`aws:index/getRegion:getRegion`) and the provider it went
    to (`<urn>::<id>`; empty for the default provider)."""

    token: str
    provider: str
    args: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """The arguments as sent (`{"name": "my-cluster"}`)."""


class Recorder:
    """What a program run registered, in registration order."""

    def __init__(self) -> None:
        self.resources: list[Registration] = []
        self.invokes: list[Invoke] = []
        self.stack_outputs: dict[str, Any] = {}

    def freeze(self) -> Recorder:
        """Makes the run read-only for sharing: lists become tuples (appending fails) and
        `fingerprint()` tells later whether anything inside was changed."""
        self.resources = tuple(self.resources)  # type: ignore[assignment]
        self.invokes = tuple(self.invokes)  # type: ignore[assignment]
        return self

    def fingerprint(self) -> str:
        """A digest of everything recorded, to prove a shared run was not mutated."""
        data = [self.resources, self.invokes, self.stack_outputs]
        return hashlib.sha256(pickle.dumps(data, protocol=5)).hexdigest()

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> Registration:
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}")
        return matches[0]

    def by_urn(self, urn: str) -> Registration:
        return next(r for r in self.resources if r.urn == urn)

    def ancestors(self, resource: Registration) -> list[Registration]:
        chain, parent = [], resource.parent
        while parent and not parent.endswith(f"::{PROJECT}-{parent.split('::')[1]}"):
            try:
                current = self.by_urn(parent)
            except StopIteration:
                break
            chain.append(current)
            parent = current.parent
        return chain

    def depends_on(self, resource: Registration, other: Registration) -> bool:
        """True when `resource` (or an ancestor) waits for `other` or an ancestor of it."""
        mine = {resource.urn, *(a.urn for a in self.ancestors(resource))}
        targets = {other.urn, *(a.urn for a in self.ancestors(other))}
        return any(r.urn in mine and targets & set(r.dependencies) for r in self.resources)

    def engine_urns(self) -> dict[str, str]:
        """Each resource's URN as the Pulumi engine writes it: the parents' whole chain of
        types, the stack left out. (The mock monitor keeps only the nearest parent's type.)"""
        by_urn = {r.urn: r for r in self.resources}
        memo: dict[str, str] = {}

        def qualified(r: Registration) -> str:
            if r.urn not in memo:
                parent = by_urn.get(r.parent)
                memo[r.urn] = f"{qualified(parent)}${r.type}" if parent else r.type
            return memo[r.urn]

        return {r.urn: f"{_stack_prefix(r.urn)}::{qualified(r)}::{r.name}" for r in self.resources}

    def former_urns(self) -> dict[str, set[str]]:
        """Every earlier engine URN each resource answers to through its aliases, resolved as
        the engine does: its own alias specs (under its parent, or the parent's former
        URNs), and, inherited, its name under each former URN of its parent, a name that
        starts with the parent's renamed along with it. Keyed by mock URN."""
        by_urn = {r.urn: r for r in self.resources}
        engine = self.engine_urns()
        memo: dict[str, set[str]] = {}

        def former(r: Registration) -> set[str]:
            if r.urn in memo:
                return memo[r.urn]
            parent = by_urn.get(r.parent)
            parent_urns = {engine[parent.urn], *former(parent)} if parent else {""}
            found: set[str] = set()
            if parent is not None:
                for alias in former(parent):
                    name = r.name
                    if name.startswith(parent.name):
                        name = alias.rsplit("::", 1)[1] + name[len(parent.name) :]
                    found.add(_engine_urn(r.urn, alias, r.type, name))
            for alias in r.aliases:
                if "urn" in alias:
                    found.add(alias["urn"])
                    continue
                spec = alias.get("spec", {})
                if spec.get("noParent"):
                    parents = {""}
                elif spec.get("parentUrn"):
                    parents = {spec["parentUrn"]}
                else:
                    parents = parent_urns
                type_, name = spec.get("type") or r.type, spec.get("name") or r.name
                found.update(_engine_urn(r.urn, p, type_, name) for p in parents)
            found.discard(engine[r.urn])
            memo[r.urn] = found
            return found

        return {r.urn: former(r) for r in self.resources}

    def kubernetes_objects(self) -> list[Registration]:
        return [
            r
            for r in self.resources
            if r.custom
            and r.type.startswith("kubernetes:")
            and r.type != "pulumi:providers:kubernetes"
            and "helm.sh" not in r.type
        ]


def _stack_prefix(urn: str) -> str:
    """`urn:pulumi:<stack>::<project>` of a URN."""
    return "::".join(urn.split("::")[:2])


def _engine_urn(sibling: str, parent: str, type_: str, name: str) -> str:
    """The engine URN of `type_` `name` under the engine URN `parent` ("" for the root), in
    the stack and project of `sibling`."""
    qualified = f"{parent.split('::')[2]}${type_}" if parent else type_
    return f"{_stack_prefix(sibling)}::{qualified}::{name}"


class RealisticMocks(pulumi.runtime.Mocks):
    """Computed outputs shaped like AWS's, so no check sees None."""

    def __init__(self, region: str = "ap-southeast-1") -> None:
        self.region = region
        self.provider_regions: dict[str, str] = {}
        """Explicit AWS provider id -> its region: an invoke sent to it answers for that region."""

    def call(self, args: pulumi.runtime.MockCallArgs):
        token = args.token
        region = self.provider_regions.get((args.provider or "").rpartition("::")[2], self.region)
        if token.endswith("getAvailabilityZones"):
            names = [f"{region}{z}" for z in "abc"]
            return {
                "names": names,
                "zoneIds": [f"{region}-az{i}" for i in (1, 2, 3)],
                "id": region,
            }, []
        if token.endswith("getCallerIdentity"):
            return {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/ci",
                "userId": "AIDAEXAMPLE",
                "id": ACCOUNT,
            }, []
        if token.endswith("getPartition"):
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        if token.endswith("getRegion"):
            return {"name": region, "region": region, "id": region}, []
        if token == "aws:eks/getCluster:getCluster":
            return self._existing_cluster(str(args.args["name"]), region), []
        if token == "aws:secretsmanager/getSecret:getSecret":
            name = str(args.args.get("name") or args.args.get("arn") or "")
            arn = f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{name}-{_hex(name, 6)}"
            return {"arn": arn, "id": arn, "name": name}, []
        if token == "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider":
            url = str(args.args.get("url") or "").removeprefix("https://")
            arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{url}"
            return {"arn": arn, "id": arn, "url": url, "clientIdLists": ["sts.amazonaws.com"]}, []
        return {}, []

    def _existing_cluster(self, name: str, region: str) -> dict[str, Any]:
        """What `aws eks describe-cluster` says of a cluster someone else created: its OIDC
        issuer id and endpoint derive from its name; it runs EXISTING_CLUSTER_VERSION."""
        oidc_id = _hex(name, 32).upper()
        return {
            "id": name,
            "name": name,
            "arn": f"arn:aws:eks:{region}:{ACCOUNT}:cluster/{name}",
            "endpoint": f"https://{oidc_id}.gr7.{region}.eks.amazonaws.com",
            "certificateAuthorities": [{"data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="}],
            "version": EXISTING_CLUSTER_VERSION,
            "status": "ACTIVE",
            "identities": [
                {"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{oidc_id}"}]}
            ],
        }

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        name, inputs, typ = args.name, dict(args.inputs), args.typ
        physical = inputs.get("name") or f"{name}-{_hex(name, 7)}"
        out: dict[str, Any] = {**inputs}
        rid = f"{name}-id"
        if typ == "pulumi:providers:aws" and inputs.get("region"):
            self.provider_regions[rid] = inputs["region"]
        arn_prefix = f"arn:aws:{{}}:{self.region}:{ACCOUNT}"
        if typ == "aws:iam/role:Role":
            out.update(
                name=physical,
                arn=f"arn:aws:iam::{ACCOUNT}:role/{physical}",
                uniqueId=f"AROA{_hex(name, 16).upper()}",
            )
            rid = physical
        elif typ == "aws:iam/policy:Policy":
            out.update(name=physical, arn=f"arn:aws:iam::{ACCOUNT}:policy/{physical}")
            rid = out["arn"]
        elif typ == "aws:secretsmanager/secret:Secret":
            out["arn"] = f"{arn_prefix.format('secretsmanager')}:secret:{physical}-{_hex(name, 6)}"
            rid = out["arn"]
        elif typ == "aws:ssm/parameter:Parameter":
            out["arn"] = f"{arn_prefix.format('ssm')}:parameter/{physical.lstrip('/')}"
        elif typ == "aws:kms/key:Key":
            digest = _hex(name, 32)
            key_id = "-".join((digest[:8], digest[8:12], digest[12:16], digest[16:20], digest[20:]))
            out.update(keyId=key_id, arn=f"{arn_prefix.format('kms')}:key/{key_id}")
            rid = key_id
        elif typ == "aws:ec2/vpc:Vpc":
            rid = f"vpc-{_hex(name, 17)}"
        elif typ == "aws:ec2/subnet:Subnet":
            rid = f"subnet-{_hex(name, 17)}"
        elif typ == "aws:ec2/launchTemplate:LaunchTemplate":
            rid = f"lt-{_hex(name, 17)}"
            out.update(latestVersion=1, defaultVersion=1)
        elif typ == "aws:eks/nodeGroup:NodeGroup":
            out.update(
                nodeGroupName=physical, arn=f"{arn_prefix.format('eks')}:nodegroup/{physical}"
            )
        elif typ == "eks:index:Cluster":
            out.update(self._eks_outputs(inputs.get("name") or name))
        elif typ.startswith("kubernetes:") and "metadata" in inputs:
            meta = dict(inputs.get("metadata") or {})
            meta.setdefault("name", physical)
            out["metadata"] = meta
        elif typ == "kubernetes:helm.sh/v3:Release":
            out["status"] = {
                "status": "deployed",
                "name": physical,
                "namespace": inputs.get("namespace", "default"),
                "version": 1,
            }
        if "arn" not in out and typ.startswith("aws:"):
            service = typ.split(":")[1].split("/")[0]
            out["arn"] = f"{arn_prefix.format(service)}:{typ.split(':')[-1].lower()}/{rid}"
        return rid, out

    def _eks_outputs(self, cluster_name: str) -> dict[str, Any]:
        issuer = f"oidc.eks.{self.region}.amazonaws.com/id/{OIDC_ID}"
        kubeconfig = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": cluster_name,
                    "cluster": {
                        "server": f"https://{OIDC_ID}.gr7.{self.region}.eks.amazonaws.com",
                        "certificate-authority-data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==",
                    },
                }
            ],
            "contexts": [
                {"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}
            ],
            "current-context": cluster_name,
            "users": [
                {
                    "name": cluster_name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": ["eks", "get-token", "--cluster-name", cluster_name],
                        }
                    },
                }
            ],
        }
        return {
            "kubeconfig": kubeconfig,
            "kubeconfigJson": json.dumps(kubeconfig),
            "oidcProviderArn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer}",
            "oidcProviderUrl": issuer,
            "oidcIssuer": f"https://{issuer}",
            "clusterSecurityGroupId": f"sg-{_hex(cluster_name + 'cluster', 17)}",
            "nodeSecurityGroupId": f"sg-{_hex(cluster_name + 'node', 17)}",
        }


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A MockMonitor that also keeps each registration's options (parent, deps, protect)."""

    def __init__(self, mocks: pulumi.runtime.Mocks, recorder: Recorder) -> None:
        super().__init__(mocks)
        self.recorder = recorder

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.recorder.resources.append(
                Registration(
                    urn=response.urn,
                    id=response.id,
                    type=request.type,
                    name=request.name,
                    custom=request.custom,
                    parent=request.parent,
                    inputs=_plain(request.object, keep_secrets=False),
                    secret_inputs=_plain(request.object, keep_secrets=True),
                    outputs=dict(response.object.items()) and _struct_to_dict(response.object),
                    dependencies=list(request.dependencies),
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    provider=request.provider,
                    ignore_changes=list(request.ignoreChanges),
                    aliases=[json_format.MessageToDict(a) for a in request.aliases],
                )
            )
        return response

    def Invoke(self, request):
        self.recorder.invokes.append(
            Invoke(
                token=request.tok,
                provider=request.provider,
                args=_plain(request.args, keep_secrets=False),
            )
        )
        return super().Invoke(request)


def _struct_to_dict(struct) -> dict[str, Any]:
    return _plain(struct, keep_secrets=True)


def _plain(struct, *, keep_secrets: bool) -> dict[str, Any]:
    """A property struct as plain data, without `rpc.deserialize_properties`.

    That function rehydrates resource references (e.g. eks.Cluster's `serviceRole`) into
    Resource objects, which starts `get_resource` RPCs on this monitor thread's event loop;
    the program's loop then awaits them and fails at random with "attached to a different
    loop". Here a reference becomes its id (or URN), as the SDK does for unknown types, and a
    secret stays wrapped in Pulumi's marker only when `keep_secrets`.
    """
    return _plain_value(json_format.MessageToDict(struct), keep_secrets)


def _plain_value(value: Any, keep_secrets: bool) -> Any:
    if isinstance(value, list):
        return [_plain_value(v, keep_secrets) for v in value]
    if not isinstance(value, dict):
        return value
    signature = value.get(rpc._special_sig_key)
    if signature == rpc._special_secret_sig:
        inner = _plain_value(value.get("value"), keep_secrets)
        return rpc.wrap_rpc_secret(inner) if keep_secrets else inner
    if signature == rpc._special_resource_sig:
        return value.get("id") or value["urn"]
    return {k: _plain_value(v, keep_secrets) for k, v in value.items() if v is not None}


def stack_config(
    stack: str, overrides: dict[str, Any] | None = None, *, directory: Path = ROOT
) -> dict[str, str]:
    """The config the Pulumi CLI would hand the program for Pulumi.<stack>.yaml (read as the
    CLI reads it, see `stacks.config.stack_file`), with `overrides` like `pulumi up -c`.
    Raises StackFileError (a ConfigError) for a file the CLI would refuse.

    `directory` holds the stack file: the project (the user's stacks) by default, or the
    tests' frozen fixture stacks (`tests/fixtures/stacks`)."""
    return config_strings(Path(directory) / f"Pulumi.{stack}.yaml", overrides)


def install_mocks(recorder: Recorder, stack: str, *, region: str = "ap-southeast-1") -> None:
    """Fresh realistic mocks whose registrations go to `recorder`."""
    mocks = RealisticMocks(region=region)
    # set_mocks keeps an existing root Stack: without this, URNs would name the stack of an
    # earlier run in the same process, and its exports would leak into `stack_outputs`.
    settings.set_root_resource(None)  # type: ignore[arg-type]
    pulumi.runtime.set_mocks(
        mocks,
        project=PROJECT,
        stack=stack,
        preview=False,
        monitor=RecordingMonitor(mocks, recorder),
    )


def run_program(
    stack: str,
    config: dict[str, str],
    *,
    secret_keys: tuple[str, ...] = (f"{PROJECT}:secretValues",),
    program: Path = ROOT / "__main__.py",
    recorder: Recorder | None = None,
) -> Recorder:
    """Runs the Pulumi program under mocks and returns what it registered."""
    recorder = Recorder() if recorder is None else recorder
    install_mocks(recorder, stack, region=config.get("aws:region", "ap-southeast-1"))
    set_all_config(dict(config), [k for k in secret_keys if k in config])

    @pulumi.runtime.test
    def run() -> pulumi.Output:
        runpy.run_path(str(program), run_name="__main__")
        exported = pulumi.runtime.get_root_resource().outputs  # type: ignore[union-attr]
        return pulumi.Output.from_input(dict(exported)).apply(
            lambda values: recorder.stack_outputs.update(values)
        )

    run()
    return recorder
