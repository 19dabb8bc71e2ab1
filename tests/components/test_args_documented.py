"""Every input of every component is documented where it is declared, as terraform-aws-eks
documents every variable: a docstring under each dataclass field that says `Required.` or
gives the `Default:`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

COMPONENTS = Path(__file__).resolve().parents[2] / "components"
MODULES = sorted(p for p in COMPONENTS.rglob("*.py") if p.name != "__init__.py")
each_module = pytest.mark.parametrize(
    "module", MODULES, ids=lambda p: str(p.relative_to(COMPONENTS))
)


def undocumented_fields(source: str) -> list[str]:
    """`Class.field` of each dataclass field without a docstring that says `Required.` (no
    default) or `Default:` (with one)."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef) or not any(
            "dataclass" in ast.unparse(d) for d in node.decorator_list
        ):
            continue
        body = node.body
        for index, item in enumerate(body):
            if not isinstance(item, ast.AnnAssign) or not isinstance(item.target, ast.Name):
                continue
            following = body[index + 1] if index + 1 < len(body) else None
            doc = (
                following.value.value
                if isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
                else ""
            )
            wanted = "Default:" if item.value is not None else "Required"
            if wanted not in doc:
                problems.append(f"{node.name}.{item.target.id}: docstring lacks {wanted!r}")
            elif doc.count(wanted) > 1:
                # A pasted-twice docstring reads twice in docs/components.md.
                problems.append(f"{node.name}.{item.target.id}: docstring says {wanted!r} twice")
    return problems


@each_module
def test_every_args_field_says_whether_it_is_required_or_its_default(module):
    assert undocumented_fields(module.read_text()) == []


def test_the_check_finds_a_field_without_a_docstring_and_one_without_its_default():
    source = (
        "@dataclass(frozen=True)\n"
        "class ExampleArgs:\n"
        "    name: str\n"
        "    replicas: int = 1\n"
        '    """Pods of the Deployment."""\n'
        "    port: int = 80\n"
        '    """Its port. Default: 80. Its port. Default: 80."""\n'
    )
    assert undocumented_fields(source) == [
        "ExampleArgs.name: docstring lacks 'Required'",
        "ExampleArgs.replicas: docstring lacks 'Default:'",
        "ExampleArgs.port: docstring says 'Default:' twice",
    ]
