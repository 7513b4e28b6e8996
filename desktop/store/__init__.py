"""Encrypted SQLite store: schema, migrations, keys and repositories."""
