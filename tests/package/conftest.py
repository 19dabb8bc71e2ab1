"""The package as an outside user gets it: the wheel built from this repository, installed into
a fresh virtualenv in a temporary directory, away from the repository's sources.

The virtualenv reaches the already installed dependencies (pulumi, pulumi-aws ...) through a
`.pth` file naming the test interpreter's site-packages, so nothing is downloaded; the wheel
itself goes into the virtualenv's own site-packages (`--no-deps`), which comes first on its
sys.path.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from pulumi.runtime.proto import provider_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "components")
"""What the wheel is built from; copied out so the build writes nothing into the worktree."""


@dataclass(frozen=True)
class Installed:
    wheel: Path
    python: Path
    site_packages: Path

    def env(self) -> dict[str, str]:
        """An environment with nothing that would put the repository on sys.path."""
        return {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}

    def run_json(self, args: Sequence[str], cwd: Path, timeout: float) -> Any:
        """The installed interpreter run with `args` in `cwd`, with dependency_check.py beside
        it: it must exit 0, and what it printed is read as JSON."""
        shutil.copy(HERE / "dependency_check.py", cwd / "dependency_check.py")
        done = subprocess.run(
            [str(self.python), *args],
            cwd=cwd,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


@contextmanager
def started_plugin(
    installed: Installed, engine_address: str
) -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """provider/__main__.py run as the engine runs a plugin: the plugin directory's program
    from the installed wheel's interpreter, with the engine's address as argument; the first
    stdout line is the port it serves on."""
    process = subprocess.Popen(
        [str(installed.python), str(ROOT / "provider" / "__main__.py"), engine_address],
        cwd=ROOT / "provider",
        env=installed.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        if not port.isdigit():
            process.kill()
            _, err = process.communicate(timeout=30)
            pytest.fail(f"the plugin printed {port!r}, not a port: {err}")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
            yield provider_pb2_grpc.ResourceProviderStub(channel)
    finally:
        process.terminate()
        process.wait(timeout=30)


def build_wheel(out: Path) -> Path:
    source = out / "source"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--quiet",
            "--wheel-dir",
            str(out / "dist"),
            str(source),
        ],
        check=True,
        cwd=out,
    )
    (wheel,) = (out / "dist").glob("*.whl")
    return wheel


def install(wheel: Path, venv: Path) -> Installed:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site_packages = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    dependencies = Path(sysconfig.get_paths()["purelib"]).resolve()
    (site_packages / "zz_dependencies.pth").write_text(f"{dependencies}\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--disable-pip-version-check",
            "--quiet",
            str(wheel),
        ],
        check=True,
    )
    return Installed(wheel=wheel, python=python, site_packages=site_packages)


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel, installed into a fresh virtualenv outside the repository (once a session)."""
    out = tmp_path_factory.mktemp("package")
    return install(build_wheel(out), out / "venv")
