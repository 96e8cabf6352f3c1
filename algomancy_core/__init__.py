"""Placeholder; filled in by the package modules."""
