"""Model runtime and analysis tasks. Knows nothing of HTTP, Tk or SQLite."""
