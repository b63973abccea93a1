"""Posterior reports: figures (matplotlib, returned not shown) and the HTML renderer."""
