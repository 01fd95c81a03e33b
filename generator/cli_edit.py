"""Commands registered on the `crm` group (placeholder until implemented)."""

from __future__ import annotations
