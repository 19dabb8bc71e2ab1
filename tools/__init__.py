"""Developer tools: Pulumi mocks shared by the tests and the offline render."""
