"""The rule base: after-sales decisions as data (YAML → SQLAlchemy) decided by pure code."""
