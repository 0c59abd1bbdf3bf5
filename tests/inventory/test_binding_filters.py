"""The bindings list's filter form, its widgets written in Python
(``web/widget_html.py``): every field with its label, id, choices and the
values a filtered GET selected, the same HTML as Django's own renderer."""

from html.parser import HTMLParser

import pytest
from django.forms.renderers import get_default_renderer
from django.urls import reverse

from secrets_app.web.filters import BindingFilter
from secrets_app.web.widget_html import PythonWidgetRenderer
from tests.factories import ClusterFactory
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db


class FormParts(HTMLParser):
    """The filter form's labels, inputs and selects (with their options)."""

    def __init__(self):
        super().__init__()
        self.inside = False
        self.labels, self.fields, self.options = {}, {}, {}
        self._label = self._select = None
        self._option = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and "filters" in (attrs.get("class") or ""):
            self.inside = True
        if not self.inside:
            return
        if tag == "label":
            self._label, self.labels[attrs["for"]] = attrs["for"], ""
        elif tag in ("input", "select"):
            self.fields[attrs["name"]] = attrs
            if tag == "select":
                self._select = attrs["name"]
                self.options[self._select] = []
        elif tag == "option":
            self._option = [attrs["value"], "", "selected" in attrs]
            self.options[self._select].append(self._option)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "label":
            self._label = None
        elif tag == "option":
            self._option = None

    def handle_data(self, data):
        if self._label:
            self.labels[self._label] += data
        elif self._option is not None:
            self._option[1] += data


def form_parts(client, params=None) -> FormParts:
    response = client.get(reverse("binding-list"), params or {})
    assert response.status_code == 200
    parts = FormParts()
    parts.feed(response.content.decode())
    return parts


@pytest.fixture
def engineer(requester):
    return client_for(requester)


@pytest.fixture
def clusters(db):
    return [ClusterFactory(name="beta", environment="prod"), ClusterFactory(name="alpha")]


def test_every_field_is_there_with_its_label_id_and_choices(engineer, clusters):
    parts = form_parts(engineer)
    form = BindingFilter().form
    assert list(parts.fields) == list(form.fields)  # the 15, in order
    for name, field in form.fields.items():
        attrs = parts.fields[name]
        assert attrs["id"] == f"id_{name}"
        assert parts.labels[f"id_{name}"] == str(form[name].label)
        if name in parts.options:
            shown = [(value, label) for value, label, _ in parts.options[name]]
            assert shown == [(str(v), str(label)) for v, label in field.choices]
    # The clusters by name, their ids as values, after "Any cluster".
    assert [label for _, label, _ in parts.options["cluster"]] == ["Any cluster", "alpha", "beta"]
    assert len(parts.options) == 9


def test_a_filtered_get_shows_what_it_filters_by(engineer, clusters):
    beta = clusters[0]
    params = {
        "q": 'svc "quoted" <b>',
        "cluster": str(beta.pk),
        "environment": "prod",
        "namespace": "ns-1",
        "service": "pay",
        "secret": "arn:aws:secretsmanager:us-west-2:1:secret:x&y",
        "requester": "alice",
        "team": "blue",
        "state": "revoking",
        "standing": "confirming",
        "health_status": "failing",
        "source": "imported",
        "drift": "unchecked",
        "versions": "stale",
        "usage": "unused",
    }
    parts = form_parts(engineer, params)
    for name, value in params.items():
        if name in parts.options:
            selected = [v for v, _, chosen in parts.options[name] if chosen]
            assert selected == [value], name
        else:
            assert parts.fields[name].get("value") == value, name
    # Nothing asked for, nothing selected but each select's "Any ..." option.
    parts = form_parts(engineer)
    for name, options in parts.options.items():
        assert [v for v, _, chosen in options if chosen] == [""], name
    assert all("value" not in parts.fields[n] for n in parts.fields if n not in parts.options)


def test_a_cluster_by_name_filters_but_selects_no_option(engineer, clusters):
    # As with Django's templates: the options' values are ids, so a name
    # (what scripts type) matches none of them.
    parts = form_parts(engineer, {"cluster": "alpha"})
    assert [v for v, _, chosen in parts.options["cluster"] if chosen] == []


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"cluster": "alpha", "q": "<script>&'\"", "state": "active", "drift": "yes"},
        {"cluster": "no such cluster", "environment": "nope", "namespace": "x" * 300},
    ],
)
def test_the_widgets_html_is_djangos(clusters, data):
    if data.get("cluster") == "alpha":
        data = {**data, "cluster": str(clusters[1].pk)}
    fast, stock = BindingFilter(data).form, BindingFilter(data).form
    stock.renderer = get_default_renderer()
    assert isinstance(fast.renderer, PythonWidgetRenderer)
    for ours, djangos in zip(fast, stock, strict=True):
        assert str(ours) == str(djangos)
