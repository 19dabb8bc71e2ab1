"""The config layer: reads raw stack config, applies every rule, and returns it parsed: into
the components' Args where a component consumes it, else into frozen dataclasses.

Split by concern: `schema` (what Pulumi.yaml declares, and so every default), `reader`
(typed access with every problem collected, and `build` for a component's Args), `rules`
(validators of single values), `model` (`StackConfig` and the stack's own dataclasses:
secrets, apps, fence, CI runner), and one parser per area (`infrastructure`, `secrets`,
`apps`; each add-on and example parses its own keys). `stacks.load` runs them all; nothing
here creates a resource.
"""
