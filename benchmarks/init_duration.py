"""Init Duration of real applications, and how much of it the garbage collector takes.

Init Duration as Lambda counts it: from the start of the runtime process to
its first ``GET /next`` (Lambda, "Lambda execution environment lifecycle",
Init phase). Each client serves each application from a fresh process against
the fake Runtime API, runs interleaved (every start of one application by one
client is followed by the same start by the others, and each round begins
with the next client), one API Gateway event served and its answer checked.
A second, shorter series runs each client under ``gc_probe.py`` and reads,
at the first ``GET /next``, the time its collections took: a diagnosis, kept
apart from the timed starts.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clients import HERE, Client
from fake_api import ClientRun, FakeRuntimeApi
from stats import GcRecord, median, parse_gc_record, rotated

__all__ = [
    "APPS",
    "FASTAPI",
    "App",
    "check_answer",
    "gc_figures",
    "measure_apps",
    "probe_command",
    "serve_app",
]


def _rest_event(path: str, resource: str, parameters: dict[str, str]) -> bytes:
    """An API Gateway REST API proxy event (Lambda, "Using Lambda with API Gateway")."""
    headers = {"Accept": "application/json", "Host": "abc123.execute-api.us-east-1.amazonaws.com"}
    context = {
        "accountId": "123456789012",
        "apiId": "abc123",
        "domainName": headers["Host"],
        "httpMethod": "GET",
        "identity": {"sourceIp": "192.0.2.1", "userAgent": "bench"},
        "path": f"/prod{path}",
        "protocol": "HTTP/1.1",
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "requestTimeEpoch": 1700000000000,
        "resourcePath": resource,
        "stage": "prod",
    }
    event = {
        "resource": resource,
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": parameters,
        "stageVariables": None,
        "requestContext": context,
        "body": None,
        "isBase64Encoded": False,
    }
    return json.dumps(event).encode()


@dataclass(frozen=True)
class App:
    name: str
    handler: str
    event: bytes


FASTAPI = App(
    "FastAPI + Mangum",
    "app_fastapi.handler",
    _rest_event("/orders/42", "/orders/{proxy+}", {"proxy": "orders/42"}),
)
APPS = (
    App(
        "Powertools",
        "app_powertools.handler",
        _rest_event("/orders/42", "/orders/{order_id}", {"order_id": "42"}),
    ),
    FASTAPI,
)


def check_answer(run: ClientRun) -> str | None:
    """Why the run does not count (an error was posted, or the app did not answer 200)."""
    if run.error_posts or not run.first_post.endswith(b"/response HTTP/1.1"):
        return f"posted {run.first_post!r}: {run.first_post_body[:400]!r}"
    try:
        status = json.loads(run.first_post_body).get("statusCode")
    except (ValueError, AttributeError):
        status = None
    if status != 200:
        return f"answered {run.first_post_body[:400]!r}"
    return None


def serve_app(
    client: Client,
    app: App,
    invocations: int = 1,
    command: list[str] | None = None,
    **options: Any,
) -> ClientRun:
    """``app`` served ``invocations`` times by ``client``, from a fresh process.

    ``options`` go to the fake Runtime API (a ``warmup``, say). The run counts
    only if ``check_answer`` finds nothing wrong with it; else this raises.
    """
    api = FakeRuntimeApi(app.event, invocations, keep_first_post=True, **options)
    run = api.run(command or client.argv(app.handler), client.env(), str(HERE))
    problem = check_answer(run)
    if problem:
        raise RuntimeError(f"{client.name} serving {app.handler}: {problem}")
    return run


def probe_command(client: Client, handler: str, record: Path) -> list[str]:
    """The client's command run under ``gc_probe.py``, writing ``record``."""
    argv = client.argv(handler)
    probe = [argv[0], str(HERE / "gc_probe.py"), str(record)]
    form = client.module_form()
    if form is not None:
        return [*probe, "-m", form[0], *[a.format(handler=handler) for a in form[1]]]
    return [*probe, *argv[1:]]


def _probed(client: Client, app: App, folder: Path) -> tuple[ClientRun, GcRecord]:
    record = folder / f"gc-{len(list(folder.iterdir()))}"
    seen: list[GcRecord] = []

    def read(_pid: int) -> None:
        seen.append(parse_gc_record(record.read_text() if record.exists() else ""))

    command = probe_command(client, app.handler, record)
    run = serve_app(client, app, command=command, at_first_next=read)
    return run, seen[0]


def gc_figures(runs: list[tuple[float, GcRecord]]) -> dict[str, Any]:
    """Medians over probed starts of (Init Duration ms, the collector's record at that point)."""
    return {
        "init_ms": median([init for init, _ in runs]),
        "gc_ms": median([record.gc_ms for _, record in runs]),
        "gc_share": median([record.gc_ms / init if init else 0.0 for init, record in runs]),
        "collections": [median([r.collections[g] for _, r in runs]) for g in range(3)],
        "collected": median([record.collected for _, record in runs]),
        "runs": len(runs),
    }


def measure_apps(clients: list[Client], runs: int, gc_runs: int) -> dict[str, Any]:
    """Init Duration of each app by each client (medians), then the probed starts."""
    timed: dict[str, dict[str, list[ClientRun]]] = {
        app.name: {c.name: [] for c in clients} for app in APPS
    }
    for turn in range(runs):
        for app in APPS:
            for client in rotated(clients, turn):
                timed[app.name][client.name].append(serve_app(client, app))
    probed: dict[str, dict[str, list[tuple[float, GcRecord]]]] = {
        app.name: {c.name: [] for c in clients} for app in APPS
    }
    with tempfile.TemporaryDirectory() as folder:
        for turn in range(gc_runs):
            for app in APPS:
                for client in rotated(clients, turn):
                    run, record = _probed(client, app, Path(folder))
                    probed[app.name][client.name].append((run.first_next_s * 1000, record))
    return {
        "apps": {
            app: {name: _init_figures(results) for name, results in by_client.items()}
            for app, by_client in timed.items()
        },
        "gc": {
            app: {name: gc_figures(results) for name, results in by_client.items()}
            for app, by_client in probed.items()
        },
    }


def _init_figures(results: list[ClientRun]) -> dict[str, Any]:
    return {
        "init_ms": median([r.first_next_s * 1000 for r in results]),
        "first_response_ms": median([r.first_response_s * 1000 for r in results]),
        "rss_first_next_kib": median([r.rss_first_next_kib for r in results]),
        "runs": len(results),
    }
