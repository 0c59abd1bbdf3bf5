from django import forms

#: The longest comment, reason or justification text a person may type.
MAX_TEXT = 5000


def text_field(label: str, *, rows: int = 2, required: bool = True) -> forms.CharField:
    """A free-text box of a decision or a comment."""
    return forms.CharField(
        label=label,
        required=required,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class CommentForm(forms.Form):
    body = text_field("Comment", rows=3)


class ApproveForm(forms.Form):
    comment = text_field("Comment (optional)", required=False)


class RejectForm(forms.Form):
    reason = text_field("Reason")


class RevokeForm(forms.Form):
    reason = text_field("Why revoke this access?")


class ExtendForm(forms.Form):
    """An extension: the new date, and why (the service checks both)."""

    expires_on = forms.DateField(
        label="New expiry date", widget=forms.DateInput(attrs={"type": "date"})
    )
    justification = text_field("Why is the access still needed?")
