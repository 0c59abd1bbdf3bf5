"""After-commit follow-ups: the one way a change sets further work going.

A service announces what happened (``publish("request.approved", event)``)
inside its transaction; each handler of that topic runs once the transaction
has committed, in the order of ``events.followups.TABLE``, so a rolled-back
change sets nothing going and the order never depends on which module was
imported first. A handler that raises is logged (``robust``) and never
reaches the code that made the change, nor the handlers after it.

Nothing registers itself on import: ``SecretsAppConfig.ready`` installs the
table once. Tests add a handler for a while with ``listening``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

from django.db import transaction

Handler = Callable[[Any], None]

_table: dict[str, tuple[Handler, ...]] = {}


def install(table: Mapping[str, Sequence[Handler]]) -> None:
    """Replace the handlers of every topic (called once, at start-up)."""
    _table.clear()
    _table.update({topic: tuple(handlers) for topic, handlers in table.items()})


def handlers(topic: str) -> tuple[Handler, ...]:
    return _table.get(topic, ())


def publish(topic: str, payload: Any) -> None:
    """Run the topic's handlers with ``payload`` after the current
    transaction commits (at once outside a transaction)."""
    for handler in handlers(topic):
        transaction.on_commit(partial(handler, payload), robust=True)


@contextmanager
def listening(topic: str, handler: Handler) -> Iterator[Handler]:
    """Add ``handler`` after the topic's own handlers while the block runs."""
    before = _table.get(topic)
    _table[topic] = (*(before or ()), handler)
    try:
        yield handler
    finally:
        if before is None:
            _table.pop(topic, None)
        else:
            _table[topic] = before
