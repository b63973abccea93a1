"""Simulators with known truth: the structural model of the default DAG."""
