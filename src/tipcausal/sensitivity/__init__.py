"""Sensitivity analyses of a study's fits: unobserved confounding, prior power-scaling, panel-aware refutations."""
