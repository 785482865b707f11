"""Anxin (安心): the library behind the after-sales assistant (rules, NLU components, channels)."""
