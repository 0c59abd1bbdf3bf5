"""Page fragments cached until the rows under them change.

The expensive middle of the fleet pages (the health overview, a cluster's and
a namespace's dashboard, the bindings list) is the same for every user who
asks within the same minute, until a write touches a table it reads. So:

- ``tracking`` sees every SQL statement Django sends (an execute wrapper on
  every connection), and after each write, once it is committed, bumps the
  generation of the table it wrote (``generations``). Writes the ORM makes
  behind the models' backs (``update()``, ``bulk_update``, ``bulk_create``,
  raw cursors) are statements too, so nothing escapes; a statement it cannot
  read (DDL, a ``TRUNCATE``) bumps every page.
- ``fragments.cached_fragment`` keys a fragment on the generations of the
  tables the page reads, so a change is never served stale: the next request
  after the commit builds a new key.

A sweep of one cluster writes that cluster's rows only: inside
``tracking.cluster_writes`` its writes bump the cluster's own generation (and
the fleet's) instead of the tables', so the other 49 clusters' pages stay
cached. See docs in README ("Caching").
"""
