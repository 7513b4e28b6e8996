"""The sales pipeline a contact moves through: the one list of stages (the extension's panel
keeps a copy that a test compares with this one)."""

from __future__ import annotations

STAGES = ("lead", "qualified", "proposal", "won", "lost")
FIRST_STAGE = STAGES[0]
LEAD, QUALIFIED, PROPOSAL, WON, LOST = STAGES
OPEN_STAGES = STAGES[:3]  # neither won nor lost: their value is the pipeline value
STATUSES = ("open", "pending", "resolved")  # of a conversation; resolution time is measured from it
