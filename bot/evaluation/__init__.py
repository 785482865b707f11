"""Measures the NLU on real buyer messages against two simple baselines."""
