"""The desktop window and tray: works only through the HTTP API (see ARCHITECTURE.md)."""
