"""A typical FastAPI function: a pydantic model served through Mangum.

Its Init Duration is what the benchmarks measure (``benchmarks/init_duration.py``).
"""

from fastapi import FastAPI
from mangum import Mangum
from pydantic import BaseModel

app = FastAPI()


class Order(BaseModel):
    id: str
    quantity: int = 1


@app.get("/orders/{order_id}")
def get_order(order_id: str) -> Order:
    return Order(id=order_id)


handler = Mangum(app)
