"""Web apps in process: Lambda handlers for web apps, without I/O of their own.

- :mod:`ric.web.events`: an HTTP event of API Gateway (REST, payload 1.0;
  HTTP API, payload 2.0), of an Application Load Balancer or of a function URL
  turned into one :class:`~ric.web.events.Request`, and a
  :class:`~ric.web.events.Response` turned back into the result that event's
  format expects.
- :mod:`ric.web.wsgi`: ``ric.wsgi(app)``, a handler for a WSGI app (PEP 3333).
- :mod:`ric.web.asgi`: ``ric.asgi(app)``, an ``async def`` handler for an
  ASGI 3 app, with :mod:`ric.web.asgi_scope` (the request as Mangum's
  scope), :mod:`ric.web.asgi_result` (the response as Mangum's result) and
  :mod:`ric.web.lifespan` (startup at init, shutdown at SIGTERM).

Nothing here is imported until a handler uses ``ric.wsgi`` or ``ric.asgi``: a plain handler's
cold path never loads this package.
"""

from __future__ import annotations

__all__: list[str] = []
