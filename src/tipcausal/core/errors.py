"""Exceptions raised by tipcausal for bad input and failed checks."""

from __future__ import annotations


class TipcausalError(Exception):
    """Base class of every error tipcausal raises on purpose."""


class InputError(TipcausalError):
    """A study, DAG, data file or option is invalid; raised before any sampling starts."""


class DataValidationError(InputError):
    """A panel failed validation; ``problems`` lists every problem found (file, column, rows)."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source}: {len(self.problems)} problem(s) found:\n{lines}")


class DagError(InputError):
    """A DAG file is malformed, cyclic or inconsistent with the study."""


class IdentificationError(InputError):
    """The study's adjustment set is refused by the identification guard-rails."""


class ConvergenceError(TipcausalError):
    """A fit failed the diagnostics gate and unconverged results were not allowed."""
