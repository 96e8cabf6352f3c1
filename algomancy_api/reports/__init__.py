"""Comparison reports that leave the app: XLSX, self-contained HTML, PDF."""

from algomancy_api.reports.model import Report, build_report

__all__ = ["Report", "build_report"]
