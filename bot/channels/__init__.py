"""Rasa input channels of Anxin (the IM webhook, the web chat widget)."""
