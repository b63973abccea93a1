"""The conditional (fixed-effects) logit of a binary outcome grouped by country: the likelihood of which of a
country's years are the successes given how many there are, free of the country's own intercept.

It is statsmodels' ``ConditionalLogit`` likelihood, vectorised over countries. statsmodels evaluates each
country's denominator (the elementary symmetric polynomial of its rows' odds, of the degree of its success count)
by a memoised Python recursion per country and per evaluation: about 23 ms per score on the default panel, about
3 s per outcome, and its default 100 BFGS iterations stopped short of convergence on all three of the default
study's outcomes. Here the same polynomial and its gradient are one dynamic programme over the rows of every
country at once (countries padded to the longest), about 1 ms per evaluation; the covariance is the inverse of the
Hessian, by central differences of the exact gradient, as statsmodels' is by forward differences of its score.
``tests/posterior/test_baselines_loo.py`` checks estimates and standard errors against statsmodels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize


@dataclass(frozen=True)
class FeLogit:
    """A fitted conditional logit: coefficients, their covariance, and whether the optimiser converged."""

    params: np.ndarray
    cov: np.ndarray
    converged: bool

    @property
    def bse(self) -> np.ndarray:
        """Standard errors of the coefficients."""
        return np.sqrt(np.diag(self.cov))


class _Groups:
    """The rows of each group laid out (group, position) and padded with zero-odds rows."""

    def __init__(self, y: np.ndarray, X: np.ndarray, groups: np.ndarray) -> None:
        codes, index = np.unique(groups, return_inverse=True)
        order = np.argsort(index, kind="stable")
        sizes = np.bincount(index, minlength=codes.size)
        position = np.arange(len(index)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        n_groups, width = codes.size, int(sizes.max())
        self.X = np.zeros((n_groups, width, X.shape[1]))
        self.X[index[order], position] = X[order]
        self.present = np.zeros((n_groups, width), dtype=bool)
        self.present[index[order], position] = True
        self.successes = np.bincount(index, weights=y, minlength=n_groups).astype(int)
        self.yx = (y[:, None] * X).sum(axis=0)  # the numerator's sufficient statistic

    def loglike_and_grad(self, beta: np.ndarray) -> tuple[float, np.ndarray]:
        """The conditional log-likelihood and its gradient at ``beta``."""
        eta = self.X @ beta
        shift = np.where(self.present, eta, -np.inf).max(axis=1)  # odds scaled by each group's largest: no overflow
        w = np.where(self.present, np.exp(eta - shift[:, None]), 0.0)
        n_groups, width, p = self.X.shape
        degree = int(self.successes.max())
        e = np.zeros((n_groups, degree + 1))
        e[:, 0] = 1.0
        de = np.zeros((n_groups, degree + 1, p))
        for j in range(width):  # e_k(w_1..w_j) = e_k(w_1..w_j-1) + w_j e_k-1(w_1..w_j-1), and its derivative
            wj = w[:, j, None]
            de[:, 1:] += wj[..., None] * (self.X[:, j, None, :] * e[:, :-1, None] + de[:, :-1])
            e[:, 1:] += wj * e[:, :-1]
        rows = np.arange(n_groups)
        denom, ddenom = e[rows, self.successes], de[rows, self.successes]
        loglike = float(self.yx @ beta - (self.successes * shift).sum() - np.log(denom).sum())
        return loglike, self.yx - (ddenom / denom[:, None]).sum(axis=0)


def _hessian(data: _Groups, beta: np.ndarray) -> np.ndarray:
    """The log-likelihood's Hessian at ``beta``, by central differences of the exact gradient."""
    step = 1e-5 * np.maximum(1.0, np.abs(beta))
    hessian = np.empty((beta.size, beta.size))
    for i in range(beta.size):
        up, down = beta.copy(), beta.copy()
        up[i] += step[i]
        down[i] -= step[i]
        hessian[i] = (data.loglike_and_grad(up)[1] - data.loglike_and_grad(down)[1]) / (2 * step[i])
    return (hessian + hessian.T) / 2


def fit_fe_logit(y: np.ndarray, X: np.ndarray, groups: np.ndarray, *, tol: float = 1e-7,
                 max_newton: int = 20) -> FeLogit:
    """The conditional logit of 0/1 ``y`` on ``X`` (no constant) grouped by ``groups``: BFGS from zero, then
    Newton steps (the log-likelihood is concave) until the largest gradient entry is below ``tol``; groups whose
    outcome never changes carry no information and should be left out by the caller."""
    data = _Groups(np.asarray(y, dtype=float), np.asarray(X, dtype=float), np.asarray(groups))

    def negative(beta: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = data.loglike_and_grad(beta)
        return -value, -grad

    beta = optimize.minimize(negative, np.zeros(X.shape[1]), jac=True, method="BFGS",
                             options={"gtol": tol, "maxiter": 1000}).x
    hessian = _hessian(data, beta)
    for _ in range(max_newton):
        value, grad = data.loglike_and_grad(beta)
        if np.max(np.abs(grad)) < tol:
            break
        try:
            step = np.linalg.solve(-hessian, grad)
        except np.linalg.LinAlgError:
            break
        while data.loglike_and_grad(beta + step)[0] < value and np.max(np.abs(step)) > 1e-12:
            step /= 2  # a full step can overshoot far from the optimum
        beta = beta + step
        hessian = _hessian(data, beta)
    converged = bool(np.max(np.abs(data.loglike_and_grad(beta)[1])) < tol)
    try:
        cov = np.linalg.inv(-hessian)
    except np.linalg.LinAlgError:
        cov, converged = np.full_like(hessian, np.nan), False
    return FeLogit(params=beta, cov=cov, converged=converged)
