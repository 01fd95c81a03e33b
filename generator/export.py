"""`crm export vcard`: every valid contact as vCard 3.0 (what Apple, Google and Outlook import).

FN, N, EMAIL, TEL (and a `fax` extra as TEL;TYPE=FAX), BDAY (a `birthday` extra), ORG (with a
`department` extra as the unit), TITLE, ADR (the location as the locality), CATEGORIES (tags), one `itemN.URL` + `itemN.X-ABLabel` per link, how_we_met as
`X-TIPSCALE-HOW-WE-MET`, and NOTE (the Markdown notes). CRLF, folded at 75 octets, escaped;
`crm import vcard` reads it back into the same contacts.
"""

from __future__ import annotations

from collections.abc import Iterable

from .importers.vcard_text import write_card
from .model import Contact


def contact_vcard(contact: Contact) -> str:
    extra = dict(contact.extra)
    return write_card(
        name=contact.name,
        emails=contact.emails,
        phones=contact.phones,
        company=contact.company,
        department=extra.get("department", "") if contact.company else "",
        title=contact.title,
        location=contact.location,
        tags=contact.tags,
        links=contact.links,
        how_we_met=contact.how_we_met,
        note=contact.body,
        birthday=extra.get("birthday", ""),
        fax=extra.get("fax", ""),
    )


def export_vcards(contacts: Iterable[Contact]) -> str:
    return "".join(contact_vcard(c) for c in contacts)
