"""Importers: LinkedIn, Google Contacts and vCard files → one merge step."""
