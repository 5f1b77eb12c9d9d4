"""Web apps in process: Lambda handlers for web apps, without I/O of their own.

- :mod:`ric.web.events`: an HTTP event of API Gateway (REST, payload 1.0;
  HTTP API, payload 2.0), of an Application Load Balancer or of a function URL
  turned into one :class:`~ric.web.events.Request`, and a
  :class:`~ric.web.events.Response` turned back into the result that event's
  format expects.
- :mod:`ric.web.wsgi`: ``ric.wsgi(app)``, a handler for a WSGI app (PEP 3333).
- :mod:`ric.web.asgi_result`: a Response rendered by Mangum's rules, for the
  ASGI bridge to come.

Nothing here is imported until a handler uses ``ric.wsgi``: a plain handler's
cold path never loads this package.
"""

from __future__ import annotations

__all__: list[str] = []
