"""Pulumi entry point: load and validate the stack's config, build the stack, export."""

import pulumi

from stacks.build import build
from stacks.entrypoint import load_stack_config, secret_values

config = load_stack_config()
for name, value in build(config, secret_values(config)).items():
    pulumi.export(name, value)
