"""Inference: sampler settings and backends behind one interface, and the convergence gate."""
