"""Custom Rasa NLU components for Chinese buyer messages (normaliser, tokenizer)."""
