"""tipcausal: a Bayesian causal modeling workbench for anti-trafficking policy research.

The package is organised by pipeline stage (see ARCHITECTURE.md):
data -> dag -> identify -> models -> sampling -> diagnostics -> effects -> report, with
``study`` running all stages and ``cli`` exposing them. Importing the package is cheap: no
sampler, JAX or DoWhy import happens until a stage needs it.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
