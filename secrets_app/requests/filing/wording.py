"""One rule, two audiences: a problem's message as the page says it, with
the API's words where the page names one of its own controls ("tick
'another AWS account'") that a JSON client knows by its key
("set cross_account: true").

A ``Said`` is the page's message (it is a ``str``, so every adapter, the
dedupe and the logs take it as it is); ``for_api`` picks the API's words.
The rule is written once; only the sentence that names the control is
given twice."""

from __future__ import annotations


class Said(str):
    api: str

    def __new__(cls, page: str, api: str) -> Said:
        said = super().__new__(cls, page)
        said.api = api
        return said

    def __reduce__(self):
        # Pickled (Celery, the cache) as the pair, not as a bare str.
        return (Said, (str(self), self.api))


def said(page: str, api: str) -> str:
    """A message: ``page`` for the pages, ``api`` for the API."""
    return Said(page, api)


def for_api(message: str) -> str:
    """The API's words for ``message`` (the message itself when the page and
    the API say it alike)."""
    return getattr(message, "api", message)
