"""CLI command handlers: thin wrappers over the store and the model runtime."""
