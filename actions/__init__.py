"""Custom actions of the Anxin assistant: thin glue between Rasa and ``bot``."""
