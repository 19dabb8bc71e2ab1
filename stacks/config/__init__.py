"""The config layer: reads raw stack config, applies every rule, returns frozen settings.

Split by concern: `schema` (what Pulumi.yaml declares, and so every default), `reader`
(typed access with every problem collected), `rules` (validators of single values),
`model` (the settings dataclasses), and one parser per area (`infrastructure`, `secrets`,
`apps`). `stacks.load` runs them all; nothing here creates a resource.
"""
