"""`make install`'s chart fetch (tools/charts.py `fetch`): archives from ../shared/charts or a
Helm repository, kept in .charts/ only when their sha256 is one the lock file records.

The repository is a real one: index.yaml and an archive served over HTTP on 127.0.0.1 from
tmp_path, so the download and the check run as they do against the chart's own repository,
without the internet.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
import socket
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from eksplatform.versions import SECRETS_STORE_CSI_DRIVER

from tools import charts

PIN = SECRETS_STORE_CSI_DRIVER


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args, requests: list[str], **kwargs):
        self._requests = requests
        super().__init__(*args, **kwargs)

    def do_GET(self):
        self._requests.append(self.path)
        super().do_GET()

    def log_message(self, format, *args):
        pass


@dataclasses.dataclass
class HelmRepo:
    root: Path
    url: str
    requests: list[str]

    def publish(self, data: bytes, *, digest: str | None = None, absolute: bool = False) -> None:
        """Serves `data` as the pin's archive, listed in index.yaml with `digest` (default:
        its real sha256) and a URL relative to the index (or absolute)."""
        (self.root / PIN.archive).write_bytes(data)
        url = f"{self.url}/{PIN.archive}" if absolute else PIN.archive
        entry = {
            "apiVersion": "v2",
            "name": PIN.chart,
            "version": PIN.version,
            "digest": digest or hashlib.sha256(data).hexdigest(),
            "urls": [url],
        }
        index = {"apiVersion": "v1", "entries": {PIN.chart: [entry]}}
        (self.root / "index.yaml").write_text(yaml.safe_dump(index))


@pytest.fixture
def helm_repo(tmp_path, monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "served" / "charts"
    root.mkdir(parents=True)
    requests: list[str] = []
    handler = functools.partial(_Handler, directory=str(tmp_path / "served"), requests=requests)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield HelmRepo(root, f"http://127.0.0.1:{server.server_address[1]}/charts", requests)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def real_archive(chart_archives) -> bytes:
    """The pinned driver archive's bytes (the published ones: the lock's digest)."""
    return charts.archive(PIN, online=False).read_bytes()


def _lock_without_published_digest(tmp_path: Path) -> Path:
    """A copy of the lock in which the driver's published digest is unknown."""
    lock = json.loads(charts.LOCK.read_text())
    lock["charts"][PIN.chart]["published"]["sha256"] = None
    lock["charts"][PIN.chart]["shared"]["sha256"] = "0" * 64
    path = tmp_path / "charts.lock.json"
    path.write_text(json.dumps(lock))
    return path


def test_the_lock_records_every_pinned_version():
    for pin in charts.pins():
        locked = charts.locked(pin)
        for digest in locked.accepted:
            assert len(digest) == 64 and int(digest, 16) >= 0
        assert locked.published or "NOT FOUND" in locked.evidence, pin.chart


def test_a_pin_bumped_without_its_digest_is_named():
    bumped = dataclasses.replace(PIN, version="9.9.9")
    with pytest.raises(KeyError, match=r"records version 1\.6\.0 for secrets-store-csi-driver"):
        charts.locked(bumped)


def test_a_published_archive_is_downloaded_and_kept_when_its_digest_is_locked(
    tmp_path, helm_repo, real_archive
):
    helm_repo.publish(real_archive)
    cache = tmp_path / "cache"
    path, how = charts.fetch(PIN, cache=cache, shared=tmp_path / "none", repo=helm_repo.url)
    assert path == cache / PIN.archive and path.read_bytes() == real_archive
    assert how == f"downloaded from {helm_repo.url}"
    assert helm_repo.requests == ["/charts/index.yaml", f"/charts/{PIN.archive}"]
    assert sorted(p.name for p in cache.iterdir()) == [PIN.archive]


def test_an_absolute_archive_url_in_the_index_is_followed(tmp_path, helm_repo, real_archive):
    helm_repo.publish(real_archive, absolute=True)
    path, _ = charts.fetch(
        PIN, cache=tmp_path / "cache", shared=tmp_path / "none", repo=helm_repo.url
    )
    assert path.read_bytes() == real_archive


def test_a_tampered_archive_is_refused_naming_the_chart_and_both_digests(
    tmp_path, helm_repo, real_archive
):
    tampered = real_archive + b"\0"
    helm_repo.publish(tampered)  # the index even agrees with the tampered bytes
    cache = tmp_path / "cache"
    with pytest.raises(charts.DigestMismatchError) as raised:
        charts.fetch(PIN, cache=cache, shared=tmp_path / "none", repo=helm_repo.url)
    message = str(raised.value)
    assert f"chart {PIN.chart} version {PIN.version}" in message
    assert f"downloaded from {helm_repo.url}" in message
    assert f"has sha256 {hashlib.sha256(tampered).hexdigest()}" in message
    assert f"expected {charts.locked(PIN).published}" in message
    assert list(cache.iterdir()) == []


def test_an_unreachable_repository_names_every_place_looked_in(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/charts"  # closed again: connection refused
    with pytest.raises(charts.ChartNotFoundError) as raised:
        charts.fetch(PIN, cache=tmp_path / "cache", shared=tmp_path / "none", repo=url)
    message = str(raised.value)
    assert message.startswith(f"chart {PIN.chart} version {PIN.version}: looked in ")
    assert f"{tmp_path / 'none'} (not there)" in message
    assert f"{url}/index.yaml (not reachable: " in message


def test_a_version_the_index_does_not_list_is_not_found(tmp_path, helm_repo, real_archive):
    helm_repo.publish(real_archive)
    other = dataclasses.replace(PIN, version="1.5.4")
    lock = json.loads(charts.LOCK.read_text())
    lock["charts"][PIN.chart]["version"] = "1.5.4"
    (tmp_path / "lock.json").write_text(json.dumps(lock))
    with pytest.raises(charts.ChartNotFoundError, match=r"does not list 1\.5\.4"):
        charts.fetch(
            other,
            cache=tmp_path / "cache",
            shared=tmp_path / "none",
            repo=helm_repo.url,
            lock=tmp_path / "lock.json",
        )


def test_the_shared_folder_is_copied_from_first_and_checked_too(tmp_path, real_archive):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / PIN.archive).write_bytes(real_archive)
    cache = tmp_path / "cache"
    unreachable = "http://127.0.0.1:9/charts"
    path, how = charts.fetch(PIN, cache=cache, shared=shared, repo=unreachable)
    assert (path.read_bytes(), how) == (real_archive, f"copied from {shared}")
    assert charts.fetch(PIN, cache=cache, shared=shared, repo=unreachable)[1] == (
        "already in the cache"
    )
    (shared / PIN.archive).write_bytes(real_archive[:-1])
    path.unlink()
    with pytest.raises(charts.DigestMismatchError, match=re.escape(str(shared / PIN.archive))):
        charts.fetch(PIN, cache=cache, shared=shared, repo=unreachable)


def test_an_altered_cached_copy_is_replaced(tmp_path, real_archive):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / PIN.archive).write_bytes(real_archive)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / PIN.archive).write_bytes(b"not the chart")
    path, how = charts.fetch(PIN, cache=cache, shared=shared)
    assert (path.read_bytes(), how) == (real_archive, f"copied from {shared}")


def test_without_a_published_digest_only_the_live_index_digest_is_accepted(
    tmp_path, helm_repo, real_archive
):
    lock = _lock_without_published_digest(tmp_path)
    cache = tmp_path / "cache"
    none = tmp_path / "none"
    helm_repo.publish(real_archive, digest="f" * 64)
    with pytest.raises(charts.DigestMismatchError, match=r"the live index's digest \(f{64}\)"):
        charts.fetch(PIN, cache=cache, shared=none, repo=helm_repo.url, lock=lock)
    helm_repo.publish(real_archive)
    path, how = charts.fetch(PIN, cache=cache, shared=none, repo=helm_repo.url, lock=lock)
    digest = hashlib.sha256(real_archive).hexdigest()
    assert f"sha256 {digest} matches the live index" in how
    # Offline later, the copy is still accepted: the digest the index gave was kept with it.
    again = charts.fetch(PIN, cache=cache, shared=none, repo="http://127.0.0.1:9", lock=lock)
    assert again == (path, "already in the cache")


def test_nothing_available_is_one_message_naming_charts_places_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.delenv(charts.CACHE_ENV, raising=False)
    monkeypatch.delenv(charts.ONLINE_ENV, raising=False)
    local = tmp_path / "clone" / ".charts"
    shared = tmp_path / "shared" / "charts"
    missing = charts.missing_pins(shared=shared, local=local)
    assert missing == charts.pins()
    message = charts.unavailable_message(missing, shared=shared, local=local)
    for pin in charts.pins():
        assert f"{pin.chart} {pin.version}" in message
        assert pin.repo in message
    assert f"${charts.CACHE_ENV} (not set); {local}; {shared}" in message
    assert "run `make install`" in message and "shared/charts folder beside the clone" in message


def test_make_install_warns_once_for_missing_charts_and_fails_on_a_bad_digest(monkeypatch, capsys):
    def unavailable(pin):
        raise charts.ChartNotFoundError(f"chart {pin.chart}: looked in nowhere")

    monkeypatch.setattr(charts, "fetch", unavailable)
    assert charts.main(["fetch"]) == 0
    err = capsys.readouterr().err
    assert err.count("WARNING") == 1
    assert all(f"chart {pin.chart}: looked in nowhere" in err for pin in charts.pins())

    def mismatch(pin):
        raise charts.DigestMismatchError(f"chart {pin.chart}: bad digest")

    monkeypatch.setattr(charts, "fetch", mismatch)
    assert charts.main(["fetch"]) == 1
    assert "ERROR: chart secrets-store-csi-driver: bad digest" in capsys.readouterr().err


def test_make_install_fails_on_a_pin_the_lock_does_not_record(tmp_path, monkeypatch, capsys):
    bumped = dataclasses.replace(PIN, version="9.9.9")
    monkeypatch.setattr(charts, "pins", lambda: [bumped])
    cache = tmp_path / "cache"
    monkeypatch.setattr(charts, "fetch", functools.partial(charts.fetch, cache=cache))
    assert charts.main(["fetch"]) == 1
    err = capsys.readouterr().err
    assert (
        "ERROR: charts.lock.json records version 1.6.0 for secrets-store-csi-driver, not 9.9.9"
        in err
    )
    assert not cache.exists()
