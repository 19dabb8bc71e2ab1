"""Writes the generated parts of the docs: the configuration reference (from Pulumi.yaml), the
component reference (from each component's Args dataclass) and the pins table (from
components/versions.py, with each pin's evidence comment).

Each generated part sits between `<!-- <name>:start -->` and `<!-- <name>:end -->` in its
page, so the hand-written text around it stays where it is.

    python -m tools.docs            # rewrite the generated parts
    python -m tools.docs --check    # exit 1 and name the pages that are out of date
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tools.config_table import config_table

ROOT = Path(__file__).resolve().parent.parent
COMPONENTS = ROOT / "components"
VERSIONS = COMPONENTS / "versions.py"


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


# --- component reference -------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    default: str | None
    """The default as written in the source; None when the field is required."""
    doc: str


@dataclass(frozen=True)
class Component:
    name: str
    module: str
    type_token: str
    doc: str
    args: str
    inputs: tuple[Field, ...]
    outputs: tuple[tuple[str, str], ...]
    """(name, type) of each value passed to register_outputs."""
    handles: tuple[tuple[str, str], ...]
    """(name, type) of the other public attributes set in __init__ (child resources)."""


def _docstring_after(body: list[ast.stmt], index: int) -> str:
    following = body[index + 1] if index + 1 < len(body) else None
    if (
        isinstance(following, ast.Expr)
        and isinstance(following.value, ast.Constant)
        and isinstance(following.value.value, str)
    ):
        return following.value.value
    return ""


def _default(value: ast.expr) -> str:
    if (
        isinstance(value, ast.Call)
        and ast.unparse(value.func) in ("field", "dataclasses.field")
        and value.keywords
    ):
        for keyword in value.keywords:
            if keyword.arg == "default_factory" and isinstance(keyword.value, ast.Lambda):
                return ast.unparse(keyword.value.body)
            if keyword.arg == "default_factory":
                factory = ast.unparse(keyword.value)
                return {"dict": "{}", "list": "[]", "tuple": "()"}.get(factory, f"{factory}()")
            if keyword.arg == "default":
                return ast.unparse(keyword.value)
    return ast.unparse(value)


def _dataclass_fields(node: ast.ClassDef) -> tuple[Field, ...]:
    fields = []
    for index, item in enumerate(node.body):
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            fields.append(
                Field(
                    name=item.target.id,
                    type=ast.unparse(item.annotation),
                    default=None if item.value is None else _default(item.value),
                    doc=_docstring_after(node.body, index),
                )
            )
    return tuple(fields)


def _is_dataclass(node: ast.ClassDef) -> bool:
    return any("dataclass" in ast.unparse(d) for d in node.decorator_list)


def _is_component(node: ast.ClassDef) -> bool:
    return any(ast.unparse(b).endswith("ComponentResource") for b in node.bases)


def _init(node: ast.ClassDef) -> ast.FunctionDef | None:
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            return item
    return None


def _public_attributes(init: ast.FunctionDef) -> dict[str, str]:
    """Public `self.<name>` set in __init__ -> its annotation ('' when not annotated)."""
    found: dict[str, str] = {}
    for node in ast.walk(init):
        targets: list[tuple[ast.expr, str]] = []
        if isinstance(node, ast.AnnAssign):
            targets = [(node.target, ast.unparse(node.annotation))]
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                elements = target.elts if isinstance(target, ast.Tuple) else [target]
                targets += [(element, "") for element in elements]
        for target, annotation in targets:
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
                and not target.attr.startswith("_")
            ) and (annotation or target.attr not in found):
                found[target.attr] = annotation
    return found


def _registered_outputs(init: ast.FunctionDef) -> list[str]:
    for node in ast.walk(init):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "register_outputs"
            and node.args
            and isinstance(node.args[0], ast.Dict)
        ):
            return [str(k.value) for k in node.args[0].keys if isinstance(k, ast.Constant)]
    return []


def _type_token(init: ast.FunctionDef, module: ast.Module, where: str) -> str:
    """The type token passed to `super().__init__`: a literal, or a module-level constant."""
    constants = {
        target.id: node.value.value
        for node in module.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    for node in ast.walk(init):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "__init__"
            and node.args
        ):
            first = node.args[0]
            if isinstance(first, ast.Constant):
                return str(first.value)
            if isinstance(first, ast.Name) and first.id in constants:
                return str(constants[first.id])
    raise ValueError(f"{where}: the component's type token is neither a literal nor a constant")


def _args_class(init: ast.FunctionDef) -> str:
    for argument in init.args.args:
        if argument.arg == "args" and argument.annotation is not None:
            return ast.unparse(argument.annotation).strip("'\"")
    return ""


def components() -> list[Component]:
    """Every public ComponentResource under components/, in module then source order."""
    # provider.py holds the hosted adapters for other languages: listed apart (hosted_table).
    modules = sorted(
        p for p in COMPONENTS.rglob("*.py") if p.name not in ("__init__.py", "provider.py")
    )
    trees = {p: ast.parse(p.read_text()) for p in modules}
    dataclasses = {
        node.name: node
        for tree in trees.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and _is_dataclass(node)
    }
    found = []
    for path, tree in trees.items():
        for node in tree.body:
            if not isinstance(node, ast.ClassDef) or node.name.startswith("_"):
                continue
            init = _init(node)
            if not _is_component(node) or init is None:
                continue
            args = _args_class(init)
            attributes = _public_attributes(init)
            outputs = _registered_outputs(init)
            found.append(
                Component(
                    name=node.name,
                    module=str(path.relative_to(ROOT)),
                    type_token=_type_token(init, tree, f"{path.name} {node.name}"),
                    doc=ast.get_docstring(node) or "",
                    args=args,
                    inputs=_dataclass_fields(dataclasses[args]) if args in dataclasses else (),
                    outputs=tuple((name, attributes.get(name, "")) for name in outputs),
                    handles=tuple(
                        (name, kind) for name, kind in attributes.items() if name not in outputs
                    ),
                )
            )
    return found


def _field_row(field: Field) -> str:
    doc = _one_line(field.doc)
    default = "*required*" if field.default is None else f"`{_one_line(field.default)}`"
    return f"| `{field.name}` | `{_one_line(field.type)}` | {default} | {doc} |"


def component_reference() -> str:
    """Markdown: one section per component, its inputs, outputs and handles."""
    parts: list[str] = []
    for component in components():
        parts += [
            f"### {component.name}",
            "",
            f"`{component.module}` · type `{component.type_token}` · args `{component.args}`",
            "",
        ]
        if component.doc:
            parts += [" ".join(component.doc.split()), ""]
        parts += [
            "| input | type | default | description |",
            "| --- | --- | --- | --- |",
            *(_field_row(f) for f in component.inputs),
            "",
        ]
        if component.outputs:
            listed = ", ".join(
                f"`{name}`" + (f" (`{kind}`)" if kind else "") for name, kind in component.outputs
            )
            parts += [f"Outputs: {listed}.", ""]
        else:
            parts += ["Outputs: none registered.", ""]
        if component.handles:
            listed = ", ".join(
                f"`{name}`" + (f" (`{kind}`)" if kind else "") for name, kind in component.handles
            )
            parts += [f"Handles on children: {listed}.", ""]
    return "\n".join([*parts, *hosted_table()])


def hosted_table() -> list[str]:
    """The components hosted for every Pulumi language (components/provider.py): each is an
    adapter over the Python component of the same name, with the same input names."""
    from eksplatform import provider

    rows = [
        f"| `{provider.PACKAGE}:index:{cls.__name__}` | `{cls.__name__}` | "
        f"{_one_line(cls.__doc__ or '')} |"
        for cls in provider.HOSTED
    ]
    return [
        "## Hosted for other Pulumi languages",
        "",
        "`pulumi package add` on the plugin in `provider/` generates an SDK with these; their "
        "inputs are the Python component's Args fields, in each language's own case.",
        "",
        "| type | component | what it is |",
        "| --- | --- | --- |",
        *rows,
        "",
    ]


# --- pins ----------------------------------------------------------------------------------


def _comment_above(lines: list[str], line: int) -> list[str]:
    """The `#` comment lines directly above 1-based `line`, without section rules; a line that
    starts a list item (`- `) or a `Limits:` note starts a new paragraph."""
    block: list[str] = []
    index = line - 2
    while index >= 0 and lines[index].lstrip().startswith("#"):
        text = lines[index].strip().lstrip("#").strip()
        if not re.fullmatch(r"-+ .* -+", text):
            block.insert(0, text)
        index -= 1
    paragraphs: list[str] = []
    for text in block:
        if not paragraphs or text.startswith(("- ", "Limits:")):
            paragraphs.append(text)
        else:
            paragraphs[-1] += " " + text
    return paragraphs


def _pin_statements() -> Iterator[tuple[str, ast.expr, list[str]]]:
    source = VERSIONS.read_text()
    lines = source.splitlines()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name, value = node.targets[0].id, node.value
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.value is not None
        ):
            name, value = node.target.id, node.value
        else:
            continue
        yield name, value, _comment_above(lines, node.lineno)


def pins_table() -> str:
    """Markdown: every pin of components/versions.py with the evidence written beside it."""
    from eksplatform import versions

    rows = ["| pin | what | version | evidence |", "| --- | --- | --- | --- |"]
    addons: list[str] = []
    for name, value, paragraphs in _pin_statements():
        pinned = getattr(versions, name)
        evidence = " ".join(paragraphs)
        if name == "EKS_STANDARD_SUPPORT":
            listed = ", ".join(
                f"{v} (standard support until {end})" if end else f"{v} (end not published)"
                for v, end in pinned.items()
            )
            rows.append(
                f"| `{name}` | Kubernetes versions accepted | {listed}; default "
                f"`{versions.DEFAULT_KUBERNETES_VERSION}` | {_one_line(evidence)} |"
            )
        elif isinstance(value, ast.Call) and ast.unparse(value.func) == "ChartPin":
            rows.append(
                f"| `{name}` | Helm chart `{pinned.chart}` from {pinned.repo} | "
                f"`{pinned.version}` (checked {pinned.checked}) | {_one_line(evidence)} |"
            )
        elif name.endswith("_IMAGE"):
            image, _, tag = str(pinned).rpartition(":")
            rows.append(f"| `{name}` | image `{image}` | `{tag}` | {_one_line(evidence)} |")
        elif name == "EKS_ADDON_VERSIONS":
            names = sorted({addon for row in pinned.values() for addon in row})
            addons = [
                "| Kubernetes | " + " | ".join(f"`{a}`" for a in names) + " |",
                "| --- |" + " --- |" * len(names),
                *(
                    f"| {k} | " + " | ".join(f"`{row.get(a, '')}`" for a in names) + " |"
                    for k, row in pinned.items()
                ),
                "",
                f"Checked {versions.EKS_ADDONS_CHECKED}. {paragraphs[0]}" if paragraphs else "",
                *(
                    f"\n{p}" if p.startswith("Limits:") or (i == 0 and p.startswith("- ")) else p
                    for i, p in enumerate(paragraphs[1:])
                ),
            ]
    text = "\n".join(rows) + "\n"
    if addons:
        text += "\n#### EKS add-on builds (`EKS_ADDON_VERSIONS`)\n\n" + "\n".join(addons) + "\n"
    return text


# --- pages ---------------------------------------------------------------------------------

GENERATED: dict[str, tuple[str, Callable[[], str]]] = {
    "docs/configuration.md": ("config-table", config_table),
    "docs/components.md": ("components", lambda: component_reference().rstrip("\n") + "\n"),
    "docs/pins.md": ("pins", pins_table),
}


def with_region(text: str, name: str, body: str) -> str:
    """`text` with the part between the `name` markers replaced by `body`."""
    start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
    if start not in text or end not in text:
        raise ValueError(f"markers {start.strip()} ... {end} not found")
    head, rest = text.split(start, 1)
    return head + start + body + end + rest.split(end, 1)[1]


def region(text: str, name: str) -> str:
    """The part between the `name` markers."""
    return text.split(f"<!-- {name}:start -->\n", 1)[1].split(f"<!-- {name}:end -->", 1)[0]


def stale_pages(write: bool) -> list[str]:
    """Pages whose generated part differs from what the generators give now (rewritten when
    `write`)."""
    stale = []
    for page, (name, generate) in GENERATED.items():
        path = ROOT / page
        text = path.read_text()
        wanted = with_region(text, name, generate())
        if wanted != text:
            stale.append(page)
            if write:
                path.write_text(wanted, encoding="utf-8", newline="\n")
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    stale = stale_pages(write=not args.check)
    for page in stale:
        print(f"{'out of date' if args.check else 'wrote'}: {page}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
