"""The real Helm chart archive of a pin, for tests that render it with the real Helm engine.

`archive(pin)` looks for `<chart>-<version>.tgz`, in this order:

1. the directory named by `$EKS_PLATFORM_CHART_CACHE`, when set;
2. `.charts/` in the clone, which `make install` fills (`python -m tools.charts fetch`);
3. `../shared/charts` beside the project (upstream's archives, kept outside the repository);
4. with `$EKS_PLATFORM_ONLINE=1` and the pin's repository answering, `helm_python.pull` from
   it, into the cache directory (or a temporary one), which also proves the version was
   published. Without that variable nothing here opens a connection: the offline suite never
   touches the network, and a job that runs where the network is (pins.yml) opts in.

`fetch(pin)` is what `make install` runs for every pin: it copies the archive from
`../shared/charts` when that is beside the clone, else downloads it over HTTPS from the
repository (its `index.yaml`, then the archive URL listed there), and keeps it in `.charts/`
only when its sha256 is one that `components/charts.lock.json` records for that version
(the published archive's, or that of the ../shared copy where its bytes differ). A chart
whose published digest is not recorded is accepted only when it matches the digest the live
index states. Archives are never copied into the repository itself: `.charts/` is ignored.

A pin found nowhere fails with a message that names the chart, the version and every place
that was looked in. `published_versions(chart)` reads `../shared/charts/published.json`, the
record of what upstream really published; `index_versions(pin)` reads the live repository
index when it is reachable.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import socket
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import yaml
from eksplatform.chart_values import LEAF
from eksplatform.versions import ChartPin

ROOT = Path(__file__).resolve().parent.parent
SHARED_CHARTS = ROOT.parent / "shared" / "charts"
LOCAL_CACHE = ROOT / ".charts"
LOCK = ROOT / "components" / "charts.lock.json"
CACHE_ENV = "EKS_PLATFORM_CHART_CACHE"
ONLINE_ENV = "EKS_PLATFORM_ONLINE"
PUBLISHED = "published.json"


class ChartNotFoundError(FileNotFoundError):
    """No archive of a pinned chart version anywhere this module looks."""


class DigestMismatchError(ValueError):
    """An archive whose sha256 is not one the lock file accepts for its chart version."""


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


def _places(pin: ChartPin, shared: Path, cache: Path | None, local: Path | None) -> list[Path]:
    return [d / pin.archive for d in (cache, local, shared) if d is not None]


def archive(
    pin: ChartPin,
    *,
    shared: Path = SHARED_CHARTS,
    cache: Path | None = None,
    local: Path | None = LOCAL_CACHE,
    online: bool | None = None,
) -> Path:
    """The path of the pin's archive; pulls it when it is nowhere local and the repository
    answers. `online=None` probes the repository; False never touches the network."""
    if cache is None and os.environ.get(CACHE_ENV):
        cache = Path(os.environ[CACHE_ENV])
    looked: list[str] = []
    if cache is None:
        looked.append(f"${CACHE_ENV} (not set)")
    for path in _places(pin, shared, cache, local):
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
    from eksplatform import versions

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


# --- make install: fetch every pin into .charts/ and verify it -------------------------------


def pins() -> list[ChartPin]:
    """Every chart pin of components/versions.py."""
    from eksplatform import versions

    return [v for v in vars(versions).values() if isinstance(v, ChartPin)]


@dataclass(frozen=True)
class LockedDigests:
    """What the lock file accepts for one chart version."""

    published: str | None
    """sha256 of the archive the repository serves, or None where no evidence was found."""
    shared: str | None
    """sha256 of the ../shared/charts copy, where its bytes differ from the published ones."""
    evidence: str
    """Where the published digest was read (or why it is missing)."""

    @property
    def accepted(self) -> list[str]:
        return [d for d in (self.published, self.shared) if d]


def locked(pin: ChartPin, lock: Path = LOCK) -> LockedDigests:
    """The lock file's digests of the pin; a chart or version it does not record fails."""
    entry = json.loads(lock.read_text())["charts"].get(pin.chart)
    if entry is None or entry["version"] != pin.version:
        recorded = "nothing" if entry is None else f"version {entry['version']}"
        raise KeyError(
            f"{lock.name} records {recorded} for {pin.chart}, not {pin.version}: record the "
            "sha256 of the new version's archive (its repository index.yaml `digest:`)"
        )
    return LockedDigests(
        published=entry["published"]["sha256"],
        shared=(entry.get("shared") or {}).get("sha256"),
        evidence=entry["published"]["evidence"],
    )


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify(
    pin: ChartPin, path: Path, source: str, *, index_digest: str | None = None, lock: Path = LOCK
) -> str:
    """The archive's sha256 when the lock accepts it (or, for a chart whose published digest
    is not recorded, when it equals `index_digest`, the live index's); else
    DigestMismatchError naming the chart, where the archive came from and both digests."""
    digests = locked(pin, lock)
    actual = sha256_of(path)
    if actual in digests.accepted:
        return actual
    if digests.published is None and index_digest is not None and actual == index_digest:
        return actual
    expected = " or ".join(digests.accepted) or "(none recorded)"
    if digests.published is None:
        expected += f" or the live index's digest ({index_digest or 'not read'})"
    raise DigestMismatchError(
        f"chart {pin.chart} version {pin.version}: the archive from {source} has sha256 "
        f"{actual}, expected {expected} ({lock.name}); it was not kept"
    )


def _get(url: str, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def _download(pin: ChartPin, repo: str, target: Path, timeout: float) -> str | None:
    """Writes the archive the repository's index lists for the pin to `target`; returns the
    index's digest of it. ChartNotFoundError when the repository does not answer or does not
    list the version."""
    base = repo.rstrip("/") + "/"
    try:
        index = yaml.safe_load(_get(base + "index.yaml", timeout)) or {}
    except (urllib.error.URLError, OSError) as exc:
        raise ChartNotFoundError(f"{base}index.yaml (not reachable: {exc})") from exc
    entries = [
        e
        for e in (index.get("entries") or {}).get(pin.chart) or []
        if str(e.get("version")) == pin.version
    ]
    if not entries or not entries[0].get("urls"):
        raise ChartNotFoundError(f"{base}index.yaml (does not list {pin.version})")
    url = urljoin(base, entries[0]["urls"][0])
    try:
        target.write_bytes(_get(url, timeout))
    except (urllib.error.URLError, OSError) as exc:
        raise ChartNotFoundError(f"{url} (not reachable: {exc})") from exc
    return entries[0].get("digest")


def fetch(
    pin: ChartPin,
    *,
    cache: Path = LOCAL_CACHE,
    shared: Path = SHARED_CHARTS,
    repo: str | None = None,
    lock: Path = LOCK,
    timeout: float = 60.0,
) -> tuple[Path, str]:
    """(path in `cache`, how it got there) for the pin's archive, verified against the lock:
    already there, copied from `shared`, or downloaded from `repo` (default: the pin's).
    DigestMismatchError on bytes the lock does not accept (nothing is kept);
    ChartNotFoundError, naming every place looked in, when no source has the archive."""
    locked(pin, lock)  # a version the lock does not record fails before any download
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / pin.archive
    marker = cache / f"{pin.archive}.index-sha256"
    if target.is_file():
        index_digest = marker.read_text().strip() if marker.is_file() else None
        try:
            verify(pin, target, str(target), index_digest=index_digest, lock=lock)
            return target, "already in the cache"
        except DigestMismatchError:
            target.unlink()  # a stale or altered copy: fetch it again
    partial = cache / f".{pin.archive}.part"
    looked = [f"{cache} (not there)"]
    if (shared / pin.archive).is_file():
        shutil.copyfile(shared / pin.archive, partial)
        source = str(shared / pin.archive)
        how = f"copied from {shared}"
        index_digest = None
    else:
        looked.append(f"{shared} (not there)")
        url = repo or pin.repo
        try:
            index_digest = _download(pin, url, partial, timeout)
        except ChartNotFoundError as exc:
            partial.unlink(missing_ok=True)
            looked.append(str(exc))
            raise ChartNotFoundError(
                f"chart {pin.chart} version {pin.version}: looked in " + "; ".join(looked)
            ) from exc
        source = how = f"downloaded from {url}"
    try:
        digest = verify(pin, partial, source, index_digest=index_digest, lock=lock)
    except DigestMismatchError:
        partial.unlink()
        raise
    partial.replace(target)
    if digest not in locked(pin, lock).accepted:
        marker.write_text(digest + "\n")
        how += f" (sha256 {digest} matches the live index; {lock.name} records no published digest)"
    return target, how


def unavailable_message(
    missing: list[ChartPin], *, shared: Path = SHARED_CHARTS, local: Path = LOCAL_CACHE
) -> str:
    """The one message for chart archives that are nowhere: which, where looked, what to do."""
    cache = os.environ.get(CACHE_ENV)
    where = [f"${CACHE_ENV} ({cache or 'not set'})", str(local), str(shared)]
    names = ", ".join(f"{p.chart} {p.version}" for p in missing)
    repos = ", ".join(sorted({p.repo for p in missing}))
    return (
        f"The Helm chart contract tests need {len(missing)} chart archive(s) that are not "
        f"here: {names}. Looked in: {'; '.join(where)}. To get them, run `make install` "
        f"where {repos} can be reached (it downloads them into .charts/ and checks their "
        f"sha256 against components/charts.lock.json), or place the project's shared/charts "
        f"folder beside the clone, or point ${CACHE_ENV} at a folder that holds them."
    )


def missing_pins(*, shared: Path = SHARED_CHARTS, local: Path = LOCAL_CACHE) -> list[ChartPin]:
    """Pins whose archive `archive()` cannot find (it pulls only with `$EKS_PLATFORM_ONLINE=1`
    and a repository that answers)."""
    missing = []
    for pin in pins():
        try:
            archive(pin, shared=shared, local=local)
        except ChartNotFoundError:
            missing.append(pin)
    return missing


SHAPES = ROOT / "components" / "chart_shapes.json"
SHAPED = ("SECRETS_STORE_CSI_DRIVER", "SECRETS_STORE_PROVIDER_AWS")
"""The pins whose extra values a component takes from its caller (SecretsStoreCsi)."""


FREE_FORM_READ = re.compile(r"\b(?:toYaml|with|range)\s+\$?\.Values((?:\.\w+)+)")
"""A value the templates hand on whole (`toYaml .Values.x`) or read relative to itself
(`with`/`range`): any keys below it are the chart's to take."""
VALUE_READ = re.compile(r"\$?\.Values((?:\.\w+)+)")
"""A value the templates read by its path: a key the chart takes even when values.yaml leaves
it out (`.Values.linux.image.digest`, `.Values.fullnameOverride`)."""


def template_reads(pin: ChartPin) -> tuple[set[tuple[str, ...]], set[tuple[str, ...]]]:
    """(paths read, paths read free-form) by the chart's templates; a subchart's templates
    (`charts/<name>/templates/`) read under `<name>`."""
    read: set[tuple[str, ...]] = set()
    free: set[tuple[str, ...]] = set()
    with tarfile.open(archive(pin)) as tar:
        for member in tar.getmembers():
            parts, prefix = member.name.split("/")[1:], ()
            while len(parts) > 2 and parts[0] == "charts":
                prefix, parts = (*prefix, parts[1]), parts[2:]
            source = tar.extractfile(member) if member.isfile() else None
            if source is None or parts[0] != "templates":
                continue
            text = source.read().decode("utf-8", "replace")
            read |= {(*prefix, *m.strip(".").split(".")) for m in VALUE_READ.findall(text)}
            free |= {(*prefix, *m.strip(".").split(".")) for m in FREE_FORM_READ.findall(text)}
    return read, free


def widen(values_shape: Any, read: set[tuple[str, ...]], free: set[tuple[str, ...]]) -> Any:
    """The shape of values.yaml with every path the templates read added (a leaf), and every
    path they read free-form opened (null: anything below it). A free-form value (null or
    `{}`) already takes anything and stays as it is."""
    marked = [*((path, False) for path in sorted(read)), *((path, True) for path in sorted(free))]
    for path, free_form in marked:
        node = values_shape
        for key in path[:-1]:
            child = node.get(key, LEAF)
            if child is None or child == {}:
                break
            if child == LEAF:
                node[key] = child = {}
            node = child
        else:
            if free_form:
                node[path[-1]] = None
            else:
                node.setdefault(path[-1], LEAF)
    return values_shape


def shapes() -> dict[str, object]:
    """components/chart_shapes.json: for each SHAPED pin, the keys its default values have
    and the keys its templates read (`template_reads`, `widen`), from its pinned archive
    (eksplatform.chart_values)."""
    from eksplatform import versions
    from eksplatform.chart_values import shape, shape_key

    pins = [getattr(versions, name) for name in SHAPED]
    return {shape_key(pin): widen(shape(load(pin).values), *template_reads(pin)) for pin in pins}


def main(argv: list[str]) -> int:
    """`python -m tools.charts fetch`, run by `make install`. A digest mismatch fails (exit
    1); archives that no source has are one warning (exit 0), so an offline install still
    sets up everything else and `make test` says the same thing once. `shapes` regenerates
    components/chart_shapes.json after a chart pin changes."""
    if argv == ["shapes"]:
        SHAPES.write_text(json.dumps(shapes(), indent=1, sort_keys=True) + "\n")
        print(f"charts: wrote {SHAPES.relative_to(ROOT)}")
        return 0
    if argv != ["fetch"]:
        print("usage: python -m tools.charts fetch|shapes", file=sys.stderr)
        return 2
    missing: dict[ChartPin, str] = {}
    failed = False
    for pin in pins():
        try:
            path, how = fetch(pin)
        except ChartNotFoundError as exc:
            missing[pin] = str(exc)
        except (DigestMismatchError, KeyError) as exc:  # KeyError: a pin the lock lacks
            failed = True
            print(f"charts: ERROR: {exc.args[0]}", file=sys.stderr)
        else:
            print(f"charts: {path.relative_to(ROOT)}: {how}")
    if missing:
        details = "".join(f"\n  - {reason}" for reason in missing.values())
        print(f"charts: WARNING: {unavailable_message(list(missing))}{details}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
