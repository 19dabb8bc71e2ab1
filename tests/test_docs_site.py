"""The documentation site: `mkdocs build --strict` passes, fails on a broken link, serves
Mermaid itself, and a real headless Chromium draws the home page's diagram and a stack's."""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from mkdocs.config import load_config
from mkdocs.exceptions import PluginError

from tools.diagram import stack_diagram
from tools.mkdocs_hooks import rewrite_links

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
CHROMIUM = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
    None,
)


def mkdocs_build(site: Path, config: Path = ROOT / "mkdocs.yml") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = mkdocs_build(out)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_strict_build_gives_every_page_with_mermaid_served_from_the_site(site):
    pages = {p.relative_to(site).parent.as_posix() for p in site.rglob("index.html")}
    wanted = {p.stem for p in (ROOT / "docs").glob("*.md")} | {"ci-iam"}
    assert wanted <= pages and "." in pages
    home = (site / "index.html").read_text()
    assert '<pre class="mermaid"><code>flowchart TB' in home
    assert 'src="js/mermaid.min.js"' in home
    assert (site / "js" / "mermaid.min.js").stat().st_size > 1_000_000
    assert "unpkg.com" not in home


def test_strict_build_fails_on_a_link_to_a_missing_page(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs)
    # What pages link outside docs/ (`../ci/iam/README.md`), where the links expect it: else
    # the first such link stops the build before the missing page is reported.
    for outside in ("README.md", "ci"):
        (tmp_path / outside).symlink_to(ROOT / outside)
    with (docs / "apps.md").open("a") as page:
        page.write("\nSee [the missing page](no-such-page.md).\n")
    config = tmp_path / "mkdocs.yml"
    hooks = ROOT / "tools" / "mkdocs_hooks.py"
    config.write_text(
        f"INHERIT: {ROOT / 'mkdocs.yml'}\ndocs_dir: {docs}\nhooks:\n  - {hooks}\n",
    )
    done = mkdocs_build(tmp_path / "site", config)
    assert done.returncode != 0
    assert "no-such-page.md" in done.stdout + done.stderr


def test_links_that_leave_docs_must_name_a_file_and_point_at_it():
    config = load_config(str(ROOT / "mkdocs.yml"))
    docs = ROOT / "docs"
    text = "[IAM](../ci/iam/README.md) [home](../README.md#set-up-and-test) [page](apps.md)"
    assert rewrite_links(text, docs, config, "x.md") == (
        "[IAM](ci-iam.md) [home](index.md#set-up-and-test) [page](apps.md)"
    )
    assert rewrite_links("[plan gate](../ci/plan_gate.py)", docs, config, "x.md") == (
        "plan gate (`ci/plan_gate.py`)"
    )
    config["repo_url"] = "https://github.com/o/r"
    assert rewrite_links("[gate](../ci/plan_gate.py#L1)", docs, config, "x.md") == (
        "[gate](https://github.com/o/r/blob/main/ci/plan_gate.py#L1)"
    )
    with pytest.raises(PluginError, match=r"ci/nothing\.py names no file"):
        rewrite_links("[gone](../ci/nothing.py)", docs, config, "x.md")


# --- a real browser ------------------------------------------------------------------------

CHECK_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<script src="js/mermaid.min.js"></script></head><body><div id="out">rendering</div><script>
const diagrams = %s;
mermaid.initialize({startOnLoad: false});
(async () => {
  const out = document.getElementById("out");
  out.textContent = "";
  for (const [i, text] of diagrams.entries()) {
    try {
      const {svg} = await mermaid.render("check" + i, text);
      out.insertAdjacentHTML("beforeend", svg);
    } catch (e) {
      out.insertAdjacentHTML("beforeend", "<p class='failed'>" + e + "</p>");
    }
  }
  out.insertAdjacentHTML("beforeend", "<p id='done'>done</p>");
})();
</script></body></html>
"""


@pytest.fixture(scope="module")
def served(site) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def dump_dom(urls: list[str], profile: Path) -> list[str]:
    """The DOM of each page after its scripts ran, from headless Chromium (in parallel)."""
    assert CHROMIUM
    runs = [
        subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile / str(i)}",
                "--virtual-time-budget=15000",
                "--dump-dom",
                url,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for i, url in enumerate(urls)
    ]
    return [run.communicate(timeout=120)[0] for run in runs]


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on this machine (apt-get install chromium; .ci/run installs it): "
    "the browser check of the docs site is skipped",
)
def test_chromium_draws_the_home_page_diagram_and_a_rendered_stack_diagram(
    site, served, stack_runs, tmp_path
):
    readme = (ROOT / "README.md").read_text()
    architecture = readme.split("```mermaid\n", 1)[1].split("```", 1)[0]
    stack = stack_diagram(stack_runs.run("dev"), "dev").split("```mermaid\n", 1)[1]
    diagrams = [architecture, stack.split("```", 1)[0]]
    (site / "diagram-check.html").write_text(CHECK_PAGE % json.dumps(diagrams))

    home, check = dump_dom([f"{served}/", f"{served}/diagram-check.html"], tmp_path)

    # Material replaces the diagram's <pre class="mermaid"> by a <div class="mermaid"> (its
    # SVG in a closed shadow root) only once Mermaid has drawn it without an error.
    assert '<pre class="mermaid">' not in home
    assert '<div class="mermaid"></div>' in home
    drawn = check.split('<div id="out">', 1)[1].split("<script>", 1)[0]
    assert drawn.endswith('<p id="done">done</p></div>'), drawn[-500:]
    assert re.findall(r'<p class="failed">[^<]*', drawn) == []
    assert drawn.count('aria-roledescription="flowchart') == 2
