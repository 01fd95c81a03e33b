"""Tipscale: a personal CRM in Markdown files that tells you which follow-up you owe."""

__version__ = "0.1.0"
