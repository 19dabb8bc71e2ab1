"""The engine's side of a component plugin's Construct, served over gRPC in the test process.

When a program in another language creates `eksplatform:index:<Name>`, the engine sends the
plugin a ConstructRequest naming its resource monitor; the plugin's Python SDK registers every
child there and logs to the engine. This module serves both: a ResourceMonitor that records
each RegisterResource as it arrives on the wire (secrets still marked, property dependencies
as sent) and answers with a URN, an id and the inputs echoed (plus an `arn` for AWS
resources), and an Engine that records logs. It supports the features a `pulumi up` engine
advertises except output values, so a secret arrives as the secret signature and the
dependencies in `propertyDependencies`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    resource_pb2,
    resource_pb2_grpc,
)

SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
PROJECT = "consumer"
STACK = "dev"
ACCOUNT = "123456789012"
STACK_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}"
INVOKE_ANSWERS: dict[str, dict[str, Any]] = {}
"""What the fake engine answers for each provider function, as the AWS provider would. None of
the hosted components calls one today; one that starts to gets UNIMPLEMENTED until its answer
is added here, instead of an empty result that would pass unnoticed."""


def secret(value: Any) -> dict[str, Any]:
    """A secret as it travels on the wire."""
    return {SIG: SECRET_SIG, "value": value}


def output(value: Any, *dependencies: str, is_secret: bool = False) -> dict[str, Any]:
    """An Output value as the engine sends it to a plugin that accepts outputs."""
    return {
        SIG: OUTPUT_SIG,
        "value": value,
        "secret": is_secret,
        "dependencies": list(dependencies),
    }


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG) == SECRET_SIG


def reveal(value: Any) -> Any:
    """The value inside a secret (the value itself when it is not one)."""
    return value["value"] if is_secret(value) else value


def child_urn(parent: str, type_: str, name: str) -> str:
    """The engine's URN: a child's type is qualified by its parent's (the stack's is left out)."""
    qualified = type_
    if parent and parent != STACK_URN:
        qualified = f"{parent.split('::')[2]}${type_}"
    return f"urn:pulumi:{STACK}::{PROJECT}::{qualified}::{name}"


@dataclass(frozen=True)
class Registration:
    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    """Wire form: secrets are `{SIG: SECRET_SIG, "value": ...}`."""
    property_dependencies: dict[str, list[str]]
    dependencies: list[str]


@dataclass
class Recorder:
    registrations: list[Registration] = field(default_factory=list)
    invokes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Messages the plugin logged at WARNING or ERROR."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, type_: str, name: str) -> Registration:
        found = [r for r in self.registrations if (r.type, r.name) == (type_, name)]
        assert len(found) == 1, (type_, name, [(r.type, r.name) for r in self.registrations])
        return found[0]

    def children_of(self, urn: str) -> list[Registration]:
        return [r for r in self.registrations if r.parent == urn]


def computed(type_: str, name: str) -> dict[str, Any]:
    """What a real provider would add to the echoed inputs."""
    if type_.startswith("aws:iam/role:"):
        return {"arn": f"arn:aws:iam::{ACCOUNT}:role/{name}"}
    if type_.startswith("aws:iam/policy:"):
        return {"arn": f"arn:aws:iam::{ACCOUNT}:policy/{name}"}
    if type_.startswith("aws:secretsmanager/secret:"):
        return {"arn": f"arn:aws:secretsmanager:ap-southeast-1:{ACCOUNT}:secret:{name}-AbCdEf"}
    return {}


class Monitor(resource_pb2_grpc.ResourceMonitorServicer):
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def GetDeploymentInfo(self, request: Any, context: Any) -> resource_pb2.DeploymentInfo:
        return resource_pb2.DeploymentInfo(
            supportedFeatures=[
                resource_pb2.RESOURCE_MONITOR_FEATURE_SECRETS,
                resource_pb2.RESOURCE_MONITOR_FEATURE_RESOURCE_REFERENCES,
                resource_pb2.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS,
                resource_pb2.RESOURCE_MONITOR_FEATURE_DELETED_WITH,
            ]
        )

    def SupportsFeature(self, request: Any, context: Any) -> resource_pb2.SupportsFeatureResponse:
        return resource_pb2.SupportsFeatureResponse(
            hasSupport=request.id in ("secrets", "resourceReferences", "aliasSpecs", "deletedWith")
        )

    def RegisterResource(self, request: Any, context: Any) -> resource_pb2.RegisterResourceResponse:
        urn = child_urn(request.parent, request.type, request.name)
        inputs = json_format.MessageToDict(request.object)
        registration = Registration(
            type=request.type,
            name=request.name,
            urn=urn,
            parent=request.parent,
            custom=request.custom,
            inputs=inputs,
            property_dependencies={
                k: list(v.urns) for k, v in request.propertyDependencies.items()
            },
            dependencies=list(request.dependencies),
        )
        with self.recorder.lock:
            self.recorder.registrations.append(registration)
        if not request.custom:
            return resource_pb2.RegisterResourceResponse(urn=urn)
        state = struct_pb2.Struct()
        state.update({**inputs, **computed(request.type, request.name)})
        return resource_pb2.RegisterResourceResponse(urn=urn, id=f"{request.name}-id", object=state)

    def RegisterResourceOutputs(self, request: Any, context: Any) -> empty_pb2.Empty:
        return empty_pb2.Empty()

    def Invoke(self, request: Any, context: Any) -> resource_pb2.ResourceInvokeResponse:
        """The answers a real AWS provider gives for the functions the hosted components call;
        any other function fails the construct, so a component that starts to depend on an
        invoke's answer is not tested against an empty one."""
        with self.recorder.lock:
            self.recorder.invokes.append(request.tok)
        answer = INVOKE_ANSWERS.get(request.tok)
        if answer is None:
            context.abort(
                grpc.StatusCode.UNIMPLEMENTED,
                f"the fake engine has no answer for {request.tok}: add one to INVOKE_ANSWERS",
            )
        result = struct_pb2.Struct()
        result.update(answer)
        return resource_pb2.ResourceInvokeResponse(**{"return": result})

    def RegisterPackage(self, request: Any, context: Any) -> resource_pb2.RegisterPackageResponse:
        return resource_pb2.RegisterPackageResponse(ref=f"{request.name}-ref")

    def SignalAndWaitForShutdown(self, request: Any, context: Any) -> empty_pb2.Empty:
        return empty_pb2.Empty()


class Engine(engine_pb2_grpc.EngineServicer):
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def Log(self, request: Any, context: Any) -> empty_pb2.Empty:
        if request.severity >= engine_pb2.WARNING:
            with self.recorder.lock:
                self.recorder.warnings.append(request.message)
        return empty_pb2.Empty()


@contextmanager
def serve() -> Iterator[tuple[str, Recorder]]:
    """The address both services listen on, and what they record."""
    recorder = Recorder()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    resource_pb2_grpc.add_ResourceMonitorServicer_to_server(Monitor(recorder), server)
    engine_pb2_grpc.add_EngineServicer_to_server(Engine(recorder), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}", recorder
    finally:
        server.stop(grace=None)
