"""A typical FastAPI function: the app of ``fastapi_orders.py`` served through Mangum.

Its Init Duration is what the benchmarks measure (``benchmarks/init_duration.py``).
"""

from fastapi_orders import app
from mangum import Mangum

__all__ = ["handler"]

handler = Mangum(app)
