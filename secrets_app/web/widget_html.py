"""Form widgets rendered in Python, for forms with many selects (issue #19).

The bindings list's filter form has 15 widgets, 9 of them selects (one with
every cluster). Django renders each through the form renderer's templates:
``select.html``, then ``select_option.html`` and ``attrs.html`` included once
per option, a template walk per ``<option>``; about a fifth of the page's
time. ``PythonWidgetRenderer`` keeps the widgets' own ``get_context`` (ids,
attributes, choices, which option is selected: all of it Django's) and
writes the HTML of the two templates the form uses, text inputs and selects,
with the same escaping and the same bytes (tests/inventory/test_binding_filters.py
compares them with the stock renderer's). Any other template, or a widget
whose options use another template, goes to the project's usual renderer.
"""

from __future__ import annotations

from django import forms
from django.forms.renderers import BaseRenderer, get_default_renderer
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.html import conditional_escape

OPTION_TEMPLATE = "django/forms/widgets/select_option.html"
# As Django's {{ x }} in a template: localised, then escaped unless safe.
_CONTEXT = Context(autoescape=True)


def _shown(value) -> str:
    return render_value_in_context(value, _CONTEXT)


def _attrs(attrs: dict) -> str:
    """``django/forms/widgets/attrs.html``."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            out.append(f" {_shown(name)}")
        else:
            # {{ value|stringformat:'s' }}: str() first, then escaped.
            out.append(f' {_shown(name)}="{conditional_escape(str(value))}"')
    return "".join(out)


def input_html(widget: dict) -> str:
    """``django/forms/widgets/input.html`` (what text.html includes)."""
    value = widget["value"]
    shown_value = "" if value is None else f' value="{conditional_escape(str(value))}"'
    return (
        f'<input type="{_shown(widget["type"])}" name="{_shown(widget["name"])}"'
        f"{shown_value}{_attrs(widget['attrs'])}>"
    )


def select_html(widget: dict) -> str | None:
    """``django/forms/widgets/select.html`` with ``select_option.html`` per
    option; None when an option has a template of its own."""
    out = [f'<select name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{_shown(group_name)}">')
        for option in group_choices:
            if option["template_name"] != OPTION_TEMPLATE:
                return None
            out.append(
                f'\n  <option value="{conditional_escape(str(option["value"]))}"'
                # The option template's own closing newline, as Django includes it.
                f"{_attrs(option['attrs'])}>{_shown(option['label'])}</option>\n"
            )
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


WRITERS = {
    "django/forms/widgets/text.html": input_html,
    "django/forms/widgets/select.html": select_html,
}


class PythonWidgetRenderer(BaseRenderer):
    """A form renderer: text inputs and selects written in Python, every
    other template rendered by the project's renderer (``FORM_RENDERER``)."""

    def __init__(self):
        self.fallback = get_default_renderer()
        self.form_template_name = self.fallback.form_template_name
        self.formset_template_name = self.fallback.formset_template_name
        self.field_template_name = self.fallback.field_template_name
        self.bound_field_class = self.fallback.bound_field_class

    def get_template(self, template_name):
        return self.fallback.get_template(template_name)

    def render(self, template_name, context, request=None):
        writer = WRITERS.get(template_name)
        html = writer(context["widget"]) if writer and request is None else None
        if html is None:
            return self.fallback.render(template_name, context, request=request)
        return html


class PythonWidgetsForm(forms.Form):
    """A form whose widgets render through ``PythonWidgetRenderer``."""

    default_renderer = PythonWidgetRenderer
