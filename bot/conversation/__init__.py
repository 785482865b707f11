"""The after-sales conversation, below Rasa: who the buyer is, which order, what to say.

``actions/`` stays thin glue: it reads slots and the channel's metadata, calls
``AfterSalesDesk`` (orders, rules, the decision and handoff logs) and sends the
``domain.yml`` response that ``replies`` picks with its parameters. Nothing here
imports Rasa, so every piece is tested with plain values.
"""
