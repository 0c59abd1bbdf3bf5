"""Filing an access request, for every way in (the page, the API, the demo):
``request_check``, ``request_file`` and ``request_edit`` (``service``),
problems at request paths (``paths``)."""

from secrets_app.requests.filing.service import (
    Checked,
    Filed,
    FilingInvalid,
    Problem,
    request_check,
    request_edit,
    request_file,
)

__all__ = [
    "Checked",
    "Filed",
    "FilingInvalid",
    "Problem",
    "request_check",
    "request_edit",
    "request_file",
]
