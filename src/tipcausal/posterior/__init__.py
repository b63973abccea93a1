"""Posterior quantities of a fit: causal effects, the predictive check, PSIS-LOO, and the classical baselines
fitted beside it."""
