"""The composition root: where the service's settings are read and its parts are put together.

Every other package takes what it needs as parameters; only this one knows the whole service.

- :mod:`app.settings`: :class:`~app.settings.Settings`, every setting, read from the environment here
  and nowhere else (docs/configuration.md lists them).
- :mod:`app.wiring`: builds the engine runtime (forms, calendar, access rules, domain hooks), the
  scheduler's jobs and the production web app (``gunicorn 'app.wiring:create_web_app()'``).
- :mod:`app.cli`: ``vsw``, the operator's command line (``vsw authority …`` in :mod:`app.cli_authority`).

It is the top of the import graph: it may import every package, and no package imports it, except
that the Alembic environment (``migrations/env.py``) reads ``DATABASE_URL`` through :mod:`app.settings`
(``tests/test_architecture.py`` checks both).
"""
