"""Data layer: the validated country-year panel and its schema."""

from tipcausal.data.panel import Panel, PanelSchema, load_panel_csv, validate_panel

__all__ = ["Panel", "PanelSchema", "load_panel_csv", "validate_panel"]
