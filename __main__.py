"""Pulumi entry point: load and validate the stack's config, build the stack, export."""

import pulumi

from stacks.build import build
from stacks.entrypoint import load_stack_config, secret_values
from stacks.iam_guardrails import apply_iam_guardrails

config = load_stack_config()
apply_iam_guardrails(config.stack)
for name, value in build(config, secret_values(config)).items():
    pulumi.export(name, value)
