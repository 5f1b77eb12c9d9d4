"""A typical FastAPI app: a pydantic model on one route, with no Lambda adapter.

``app_fastapi.py`` serves it through Mangum, ``app_fastapi_ric.py`` through
``ric.asgi``, so that each process imports only what its client needs.
"""

from fastapi import FastAPI
from pydantic import BaseModel

__all__ = ["Order", "app"]

app = FastAPI()


class Order(BaseModel):
    id: str
    quantity: int = 1


@app.get("/orders/{order_id}")
def get_order(order_id: str) -> Order:
    return Order(id=order_id)
