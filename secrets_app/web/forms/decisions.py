from django import forms


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment", max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ApproveForm(forms.Form):
    comment = forms.CharField(
        label="Comment (optional)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Reason", max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label="Why revoke this access?",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
