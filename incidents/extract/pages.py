"""A saved web page as an article: its main text, publication date, address, outlet and title, read offline.

trafilatura finds the main text and the page's metadata (its canonical address, site name and title); htmldate
finds the publication date (the original one, not the last update). Neither fetches anything when given the page
itself. `incidents extract` reads a page this way when the file is HTML (docs/extraction.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from incidents.errors import UsageError

HTML_START = re.compile(r"^\ufeff?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b",
                        re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Page:
    text: str  # the main text, one paragraph a block, separated by blank lines
    published: date | None
    url: str | None
    outlet: str | None
    title: str | None


def is_html(text: str, name: str = "") -> bool:
    """Whether a file is a saved web page: by its name (.html, .htm) or by how it begins (<!DOCTYPE html>, <html>)."""
    return name.lower().endswith((".html", ".htm", ".xhtml")) or bool(HTML_START.match(text[:4096]))


def read_page(html: str, name: str = "the page") -> Page:
    """The article in the saved page `html`; UsageError if the page holds no main text."""
    import htmldate
    import trafilatura

    text = trafilatura.extract(html, output_format="txt", include_comments=False, include_tables=False,
                               favor_recall=True)
    if not text or not text.strip():
        raise UsageError(f"{name}: no article text found in the page (is it the article's page, saved whole?)")
    # a blank line between paragraphs, so a headline is a sentence of its own
    text = "\n\n".join(line.strip() for line in text.splitlines() if line.strip())
    metadata = trafilatura.extract_metadata(html)
    found = htmldate.find_date(html, original_date=True, extensive_search=False, outputformat="%Y-%m-%d")
    published = None
    if found:
        try:
            published = date.fromisoformat(found)
        except ValueError:
            published = None
    url = metadata.url if metadata is not None and metadata.url and metadata.url.startswith(("http://", "https://")) \
        else None
    return Page(text=text, published=published, url=url,
                outlet=metadata.sitename if metadata is not None else None,
                title=metadata.title if metadata is not None else None)
