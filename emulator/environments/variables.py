"""A runtime's environment variables: Lambda's, and nothing else of the emulator's.

"Defined runtime environment variables":
https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html
"""

from __future__ import annotations

import datetime
import sys
import uuid
from collections.abc import Mapping

from emulator.config import BOOTSTRAP, FunctionConfig

__all__ = ["INHERITED", "lambda_environment"]

# Passed through from the emulator's own environment: what a process needs to
# run at all. Credentials come from emulator.credentials, chosen at start-up.
INHERITED = (
    "PATH",
    "LANG",
    "HOME",
    "TMPDIR",
    # coverage.py's subprocess measurement: a function run under coverage
    # locally is measured in its runtime too.
    "COVERAGE_PROCESS_CONFIG",
    "COVERAGE_PROCESS_START",
)


def lambda_environment(
    function: FunctionConfig,
    runtime_api: str,
    own: Mapping[str, str],
    now: datetime.datetime,
    credentials: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The variables of one environment of ``function``; ``own``: the emulator's environment,
    ``credentials``: the execution role's stand-in (emulator.credentials)."""
    day = now.strftime("%Y/%m/%d")
    env = {name: own[name] for name in INHERITED if name in own}
    env.update(credentials or {})
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": function.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{day}/[{function.version}]{uuid.uuid4().hex}",
            "AWS_REGION": function.region,
            "AWS_DEFAULT_REGION": function.region,
            "AWS_LAMBDA_RUNTIME_API": runtime_api,
            "LAMBDA_TASK_ROOT": function.code_dir,
            # Lambda's ends in /var/task:/var/task/lib:/opt/lib (the layers add theirs).
            "LD_LIBRARY_PATH": f"{function.code_dir}:{function.code_dir}/lib",
            "LAMBDA_RUNTIME_DIR": str(BOOTSTRAP.parent),
            "_HANDLER": function.handler,
            "TZ": ":UTC",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            # Our bootstrap runs the runtime with the emulator's own Python,
            # where ric is installed.
            "RIC_PYTHON": sys.executable,
        }
    )
    if function.max_concurrency > 1:
        env["AWS_LAMBDA_MAX_CONCURRENCY"] = str(function.max_concurrency)
    env.update(function.environment)
    return env
