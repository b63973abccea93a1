"""Causal graphs: declarative DAG files, validation and drawing."""

from tipcausal.dag.spec import CausalGraph, Node, load_dag

__all__ = ["CausalGraph", "Node", "load_dag"]
