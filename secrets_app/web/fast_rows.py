"""A table body rendered in Python, for the tables of the pages that list
hundreds of cells (issue #19).

django-tables2 renders each cell through its template (``{% for column, cell
in row.items %}``): a template node walk, an ``inspect.signature`` of the
column's render method and a fresh ``BoundColumn.attrs`` per cell. At 25-50
rows of 7-10 columns that was two thirds of the bindings list's and the
health cluster page's server time. ``FastRowsMixin`` produces the same cells
(the library's own value lookup, ``get_FOO_display`` included, the same
render methods and links, the same escaping and localisation as ``{{ cell
}}``) with the signature and the cell attributes worked out once per column.
The header and the pagination are still the library's template.
"""

from __future__ import annotations

from functools import partial

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django_tables2.columns.linkcolumn import BaseLinkColumn
from django_tables2.columns.manytomanycolumn import ManyToManyColumn
from django_tables2.utils import Accessor, AttributeDict, signature


def _value_getter(bound, model):
    """A function record -> the cell's raw value, as ``BoundRow._get_and_render_with``
    finds it (``get_FOO_display`` for a field with choices), with the field
    looked up once per column instead of once per cell; ``None`` where the
    library's own path is needed (links without a field, many-to-many)."""
    if model is None or isinstance(bound.column, BaseLinkColumn | ManyToManyColumn):
        return None
    accessor = Accessor(bound.accessor)
    try:
        field = accessor.get_field(model)
    except FieldDoesNotExist:
        field = None
    remainder = accessor.bits[-1] if accessor.bits else ""

    def library(record):
        try:
            return accessor.resolve(record)
        except Exception:  # as the library: a column of no field renders from None
            return None

    # One name on a model instance (most columns): the attribute itself. The
    # library first tries ``record[name]``, which a model answers with a
    # TypeError, costly to raise and catch on every cell; callables and
    # anything else still take its path.
    single = len(accessor.bits) == 1 and not accessor.callable_args
    single = single and not accessor.callable_kwargs

    def resolve(record):
        if single and isinstance(record, Model):
            try:
                value = getattr(record, remainder)
            except Exception:  # the library's lookups end in None for a model too
                return None
            if not callable(value):
                return value
        return library(record)

    if field is not None and getattr(field, "choices", ()):
        display = f"get_{remainder}_display"

        def choice(record):
            if single and isinstance(record, Model):
                penultimate = record  # the record itself, as accessor.penultimate finds it
            else:
                penultimate, _ = accessor.penultimate(record)
            fn = getattr(penultimate, display, None)
            return fn() if fn else resolve(record)

        return choice
    return resolve


def _direct(method, args):
    """The render method called with what it asks of ``value`` and ``record``
    (most render methods), without building the six arguments a cell can
    have; ``None`` for any other signature (``FastRowsMixin._render_cell``)."""
    names = tuple(args)
    if names == ("value",):
        return lambda row, bound, value=None: method(value=value)
    if names == ("record",):
        return lambda row, bound, value=None: method(record=row.record)
    if names in (("value", "record"), ("record", "value")):
        return lambda row, bound, value=None: method(value=value, record=row.record)
    return None


def _has_callables(attrs) -> bool:
    return any(
        callable(v) or (isinstance(v, dict) and _has_callables(v)) for v in (attrs or {}).values()
    )


class FastRowsMixin:
    """For a ``tables.Table``: ``{% render_table %}`` renders the body with
    ``body_html`` (templates/secrets_app/tables/fast_table.html)."""

    fast_template = "secrets_app/tables/fast_table.html"

    @property
    def template_name(self):
        return getattr(self, "_template", None) or self.fast_template

    @template_name.setter
    def template_name(self, value):
        self._template = value

    def _cell_plan(self):
        plan = []
        model = getattr(self.data, "model", None)
        dynamic = _has_callables(self.attrs)
        for bound in self.columns:
            args, catch_all = signature(bound.render)
            per_cell = dynamic or _has_callables(bound.column.attrs)
            td = None if per_cell else bound.attrs["td"].as_html()
            render = _direct(bound.render, args) if not (catch_all or bound.link) else None
            render = render or partial(self._render_cell, args, catch_all, bound.link)
            plan.append((bound, render, td, _value_getter(bound, model), bound.localize))
        return plan

    def _render_cell(self, args, catch_all, link, row, bound_column, value=None):
        """``BoundRow._call_render`` with the render method's signature known."""
        kwargs = {
            "value": value,
            "record": row.record,
            "column": bound_column.column,
            "bound_column": bound_column,
            "bound_row": row,
            "table": self,
        }
        wanted = kwargs if catch_all else {k: kwargs[k] for k in args if k in kwargs}
        # As call_with_appropriate: a method asking for more than it can get gives None.
        content = bound_column.render(**wanted) if len(wanted) >= len(args) else None
        return link(content, **kwargs) if link else content

    def body_html(self):
        plan = self._cell_plan()
        # A column's ``localize`` (None, True, False) as the library's
        # ``{{ cell }}``, ``{{ cell|localize }}``, ``{{ cell|unlocalize }}``.
        contexts = {flag: Context(autoescape=True, use_l10n=flag) for flag in (None, True, False)}
        # Static row attributes differ only by the even/odd class: made twice.
        tr_static = not _has_callables(self.row_attrs)
        tr_html: dict[str, str] = {}
        out = []
        for row in self.paginated_rows:
            record = row.record
            cells = []
            for bound, render, td, getter, localize in plan:
                if getter is None:
                    cell = row._get_and_render_with(
                        bound, render_func=partial(render, row), default=bound.default
                    )
                else:
                    value = getter(record)
                    empty = value in bound.column.empty_values
                    cell = bound.default if empty else render(row, bound, value)
                if td is None:
                    bound.current_value, bound.current_record = cell, record
                    attrs = AttributeDict(bound.attrs["td"]).as_html()
                else:
                    attrs = td
                if isinstance(cell, str):
                    # What render_value_in_context does to a string, whatever
                    # the localisation: no date to convert, nothing to localise.
                    shown = conditional_escape(cell)
                else:
                    shown = render_value_in_context(cell, contexts[localize])
                cells.append(f"<td {attrs}>{shown}</td>")
            if tr_static:
                parity = row.get_even_odd_css_class()
                tr = tr_html.get(parity)
                if tr is None:
                    tr = tr_html[parity] = row.attrs.as_html()
            else:
                tr = row.attrs.as_html()
            out.append(f"<tr {tr}>{''.join(cells)}</tr>")
        if not out and self.empty_text:
            out.append(
                format_html('<tr><td colspan="{}">{}</td></tr>', len(self.columns), self.empty_text)
            )
        return mark_safe("\n".join(out))  # noqa: S308 (every cell escaped above)
