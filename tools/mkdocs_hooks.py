"""MkDocs hooks (mkdocs.yml `hooks:`): README.md is the site's home page, links to files
outside docs/ are checked and pointed at the repository, and Mermaid is served locally.

- The home page is README.md as it is, its `docs/<page>` links made site-relative, so the
  README and the site cannot drift apart; ci/iam/README.md is the page `ci-iam.md`.
- A page's relative link that leaves docs/ (`../ci/iam/README.md`, `../README.md#deploy`) must
  name a file that exists, else the build fails; those two READMEs become their pages, any
  other file a link to it on GitHub (`repo_url`) or, without one, its path in code.
- `mermaid.min.js` comes from `ci/docs/node_modules` (npm, pinned by its lockfile), because
  the theme would fetch Mermaid from a CDN.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parent.parent
# Pages that live beside the code they describe, shown on the site under these names.
PAGES_OUTSIDE_DOCS = {Path("README.md"): "index.md", Path("ci/iam/README.md"): "ci-iam.md"}
MERMAID = ROOT / "ci" / "docs" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
LINK = re.compile(r"\[([^\]]*)\]\(((?!https?://|#|mailto:)[^)\s#]+)(#[^)\s]*)?\)")


def _outside(text: str, target: Path, anchor: str, config: MkDocsConfig, source: str) -> str:
    """Replacement of the link `[text](target#anchor)`, whose target is outside docs/."""
    try:
        relative = target.resolve().relative_to(ROOT)
    except ValueError as exc:
        raise PluginError(f"{source}: link to {target} leaves the repository") from exc
    if not target.exists():
        raise PluginError(f"{source}: link to {relative} names no file")
    if relative in PAGES_OUTSIDE_DOCS:
        return f"[{text}]({PAGES_OUTSIDE_DOCS[relative]}{anchor})"
    if config.repo_url:
        return f"[{text}]({config.repo_url.rstrip('/')}/blob/main/{relative.as_posix()}{anchor})"
    path = f"`{relative.as_posix()}`"
    return text if text == path else f"{text} ({path})"


def rewrite_links(markdown: str, page_dir: Path, config: MkDocsConfig, source: str) -> str:
    """Links that leave docs/ checked and pointed at their file; others left to MkDocs."""
    docs = Path(config.docs_dir).resolve()

    def replace(match: re.Match[str]) -> str:
        target = (page_dir / match.group(2)).resolve()
        if target.is_relative_to(docs):
            return match.group(0)
        return _outside(match.group(1), target, match.group(3) or "", config, source)

    return LINK.sub(replace, markdown)


def on_files(files: Files, config: MkDocsConfig, **_: Any) -> Files:
    for source, name in PAGES_OUTSIDE_DOCS.items():
        text = rewrite_links(
            (ROOT / source).read_text(), (ROOT / source).parent, config, str(source)
        )
        files.append(File.generated(config, name, content=text.replace("](docs/", "](")))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, **_: Any) -> str:
    if page.file.src_uri in PAGES_OUTSIDE_DOCS.values():
        return markdown
    page_dir = (Path(config.docs_dir) / page.file.src_uri).parent
    return rewrite_links(markdown, page_dir, config, page.file.src_uri)


def on_post_build(config: MkDocsConfig, **_: Any) -> None:
    if not MERMAID.exists():
        raise PluginError(f"{MERMAID.relative_to(ROOT)} is missing: run `make install`")
    target = Path(config.site_dir) / "js" / "mermaid.min.js"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(MERMAID, target)
