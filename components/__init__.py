"""Reusable ComponentResources of the platform; none of them reads stack config.

Installed, this package imports as `eksplatform` (pyproject.toml maps it to components/).
"""

__version__ = "0.2.0"
"""SemVer of the package (pyproject.toml reads it): a breaking change to an Args field, a hosted
component's inputs or a stack output is a major version; see CHANGELOG.md."""
