"""The real Helm chart archive of a pin, for tests that render it with the real Helm engine.

`archive(pin)` looks for `<chart>-<version>.tgz`, in this order:

1. the directory named by `$EKS_PLATFORM_CHART_CACHE`, when set;
2. `../shared/charts` beside the project (upstream's archives, kept outside the repository);
3. with `$EKS_PLATFORM_ONLINE=1` and the pin's repository answering, `helm_python.pull` from
   it, into the cache directory (or a temporary one), which also proves the version was
   published. Without that variable nothing here opens a connection: the offline suite never
   touches the network, and a job that runs where the network is (pins.yml) opts in.

A pin found nowhere fails with a message that names the chart, the version and every place
that was looked in. `published_versions(chart)` reads `../shared/charts/published.json`, the
record of what upstream really published; `index_versions(pin)` reads the live repository
index when it is reachable.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import tempfile
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import yaml

from components.versions import ChartPin

ROOT = Path(__file__).resolve().parent.parent
SHARED_CHARTS = ROOT.parent / "shared" / "charts"
CACHE_ENV = "EKS_PLATFORM_CHART_CACHE"
ONLINE_ENV = "EKS_PLATFORM_ONLINE"
PUBLISHED = "published.json"


class ChartNotFoundError(FileNotFoundError):
    """No archive of a pinned chart version anywhere this module looks."""


def online_allowed() -> bool:
    """Network checks run only where asked for: `$EKS_PLATFORM_ONLINE=1`."""
    return os.environ.get(ONLINE_ENV) == "1"


def reachable(url: str, timeout: float = 2.0) -> bool:
    """True when network checks are allowed and the URL's host accepts a TCP connection (no
    HTTP request)."""
    if not online_allowed():
        return False
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def _places(pin: ChartPin, shared: Path, cache: Path | None) -> list[Path]:
    return [d / pin.archive for d in (cache, shared) if d is not None]


def archive(
    pin: ChartPin,
    *,
    shared: Path = SHARED_CHARTS,
    cache: Path | None = None,
    online: bool | None = None,
) -> Path:
    """The path of the pin's archive; pulls it when it is nowhere local and the repository
    answers. `online=None` probes the repository; False never touches the network."""
    if cache is None and os.environ.get(CACHE_ENV):
        cache = Path(os.environ[CACHE_ENV])
    looked: list[str] = []
    if cache is None:
        looked.append(f"${CACHE_ENV} (not set)")
    for path in _places(pin, shared, cache):
        if path.is_file():
            return path
        looked.append(str(path))
    if online is None:
        online = reachable(pin.repo)
    if not online:
        reason = "not reachable" if online_allowed() else f"not tried: {ONLINE_ENV} is not 1"
        looked.append(f"{pin.repo} ({reason})")
    else:
        import helm_python as helm

        destination = cache or Path(tempfile.mkdtemp(prefix="charts-"))
        destination.mkdir(parents=True, exist_ok=True)
        try:
            helm.pull(pin.chart, repo_url=pin.repo, version=pin.version, destination=destination)
        except helm.HelmError as exc:
            looked.append(f"{pin.repo} (pull failed: {exc})")
        else:
            if (destination / pin.archive).is_file():
                return destination / pin.archive
            looked.append(f"{pin.repo} (pull wrote no {pin.archive})")
    raise ChartNotFoundError(
        f"chart {pin.chart} version {pin.version} not found; looked in: " + "; ".join(looked)
    )


@functools.cache
def load(pin: ChartPin):
    """The loaded `helm_python.Chart` of a pin (once per process)."""
    import helm_python as helm

    return helm.Chart.load_archive(archive(pin).read_bytes())


def published_versions(chart: str, shared: Path = SHARED_CHARTS) -> tuple[str, list[str]]:
    """(repository URL, every version upstream published) from `published.json`."""
    record = json.loads((shared / PUBLISHED).read_text())
    if chart not in record:
        raise KeyError(f"{chart} is not in {shared / PUBLISHED}")
    return record[chart]["repo"], list(record[chart]["published_versions"])


def index_versions(pin: ChartPin, timeout: float = 10.0) -> list[str] | None:
    """Every version of the pin's chart in the live repository index, or None offline (or
    without `$EKS_PLATFORM_ONLINE=1`)."""
    if not reachable(pin.repo):
        return None
    url = pin.repo.rstrip("/") + "/index.yaml"
    with urllib.request.urlopen(url, timeout=timeout) as response:
        index = yaml.safe_load(response.read())
    return [str(e["version"]) for e in (index.get("entries") or {}).get(pin.chart) or []]


def pin_of(chart: str, version: str, repo: str) -> ChartPin:
    """The pin of a recorded Helm release (chart, version and repo as the program passed)."""
    from components import versions

    for value in vars(versions).values():
        if isinstance(value, ChartPin) and (value.chart, value.version, value.repo) == (
            chart,
            version,
            repo,
        ):
            return value
    raise KeyError(f"{chart} {version} from {repo} is not a pin in components/versions.py")


def render_release(release: dict) -> dict[str, list[dict]]:
    """Template path -> objects, rendered by the real Helm engine from a recorded release
    (`chart`, `version`, `repo`, `values`, `release`, `namespace`, as tools.render writes
    them). NOTES.txt and empty documents are left out; CRDs under `crds/` are not templates.
    The SDK renders with Helm's default capabilities (it takes no Kubernetes version); the
    objects are then validated against the stack's version."""
    chart = load(pin_of(release["chart"], release["version"], release["repo"]))
    out = chart.render(
        values=release["values"],
        name=release["release"],
        namespace=release["namespace"],
        is_install=True,
    )
    rendered: dict[str, list[dict]] = {}
    for path, text in sorted(out.items()):
        if path.endswith("NOTES.txt"):
            continue
        objects = [d for d in yaml.safe_load_all(text) if isinstance(d, dict) and d]
        if objects:
            rendered[path] = objects
    return rendered
