"""Conversa: local-first AI copilot and mini-CRM for WhatsApp Web attendants."""

__version__ = "0.1.0"
API_VERSION = 1
