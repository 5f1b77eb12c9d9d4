"""A typical Powertools function: Logger, Tracer and Metrics around a REST API resolver.

Its Init Duration is what the benchmarks measure (``benchmarks/init_duration.py``);
with ``LAMBDA_TASK_ROOT`` set, as in Lambda, the Tracer is enabled and patches
the modules the X-Ray SDK supports, as it does in a deployed function.
"""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="orders")
tracer = Tracer(service="orders")
metrics = Metrics(namespace="Bench", service="orders")
app = APIGatewayRestResolver()


@app.get("/orders/<order_id>")
@tracer.capture_method
def get_order(order_id: str) -> dict[str, str]:
    metrics.add_metric(name="OrderRead", unit=MetricUnit.Count, value=1)
    logger.info("order read", extra={"order_id": order_id})
    return {"id": order_id}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
