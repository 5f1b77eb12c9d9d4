"""The FastAPI app of ``app_fastapi.py`` served by ``ric.asgi`` instead of Mangum.

``benchmarks/async_suite.py`` compares the two: per-request CPU and Init Duration.
"""

from fastapi_orders import app

import ric

__all__ = ["handler"]

handler = ric.asgi(app)
