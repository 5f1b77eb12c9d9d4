"""The package as a new user gets it: the README's main-job command run as written in
a fresh copy of the project, then that virtual environment (a wheel install, not the
checkout) used from another folder for every promise the README makes of it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.emulator.harness import EmulatorProcess

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
# What a function reports of where its Python looks for modules.
PATHS_APP = """\
import os
import sys


def handler(event, context):
    return {"path": sys.path, "pythonpath": os.environ.get("PYTHONPATH", "")}
"""


class Installed:
    """A copy of the project with the README's venv in it, and a folder elsewhere."""

    def __init__(self, project: Path, elsewhere: Path, main_job: subprocess.CompletedProcess[str]):
        self.project = project
        self.elsewhere = elsewhere
        self.main_job = main_job
        self.python = str(project / ".venv" / "bin" / "python")

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.python, *args],
            check=False,
            cwd=cwd or self.elsewhere,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )


def clean_env() -> dict[str, str]:
    # Nothing of the test run's own: no PYTHONPATH, no virtual environment.
    drop = {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("COVERAGE_")}


def main_job_command() -> str:
    """The first shell block after "Run the main job" in the README, as written."""
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("Run the main job") :]
    match = re.search(r"```sh\n(.*?)\n```", section, re.DOTALL)
    assert match is not None, "the README has no main-job command"
    return match.group(1)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("wheel")
    project = base / "project"
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", ".*_cache", ".coverage-data"
    )
    shutil.copytree(REPO, project, ignore=ignore, symlinks=True)
    main_job = subprocess.run(
        ["/bin/sh", "-c", main_job_command()],
        check=False,
        cwd=project,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    yield Installed(project, elsewhere, main_job)


def test_the_readmes_main_job_serves_the_example_once(installed: Installed) -> None:
    done = installed.main_job
    assert done.returncode == 0, done.stderr[-3000:]
    assert "status 200" in done.stdout
    assert '"greeting":"Hello, Lambda!"' in done.stdout
    assert re.search(r"\[hello\] REPORT RequestId: \S+\tDuration: ", done.stdout)


def test_the_venv_holds_a_wheel_install_not_the_checkout(installed: Installed) -> None:
    done = installed.run("-c", "import emulator, ric; print(ric.__file__, emulator.__file__)")
    assert done.returncode == 0, done.stderr
    for location in done.stdout.split():
        assert "/site-packages/" in location
        assert not location.startswith(str(REPO))


def test_the_example_runs_from_another_folder(installed: Installed) -> None:
    example = installed.project / "examples" / "invoke_once.py"
    done = installed.run(str(example), '{"name": "elsewhere"}')
    assert done.returncode == 0, done.stderr
    assert '"greeting":"Hello, elsewhere!"' in done.stdout


def function_paths(installed: Installed, args: list[str]) -> dict[str, object]:
    """Serve PATHS_APP with ``python -m emulator ARGS`` and invoke it once with the client."""
    emulator = EmulatorProcess(
        ["--port", "0", *args], cwd=installed.elsewhere, env=clean_env(), python=installed.python
    )
    try:
        done = installed.run("-m", "emulator", "invoke", "paths", "--url", emulator.url)
    finally:
        status = emulator.stop(signal.SIGTERM)
    assert done.returncode == 0, (done.stdout, done.stderr, emulator.lines)
    assert status == 0, emulator.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.fixture
def code_dir(installed: Installed) -> Path:
    folder = installed.elsewhere / "code"
    folder.mkdir(exist_ok=True)
    (folder / "paths_app.py").write_text(PATHS_APP)
    return folder


def assert_no_checkout(result: dict[str, object], installed: Installed) -> None:
    """Neither the project nor its copy is on the function's path, but for the venv's own."""
    venv = str(installed.project / ".venv")
    entries = [str(e) for e in (*result["path"], result["pythonpath"]) if e]  # type: ignore[misc]
    for checkout in (str(installed.project), str(REPO)):
        found = [e for e in entries if e.startswith(checkout) and not e.startswith(venv)]
        assert not found, entries


def test_the_zero_config_form_runs_the_handler_with_the_installed_ric(
    installed: Installed, code_dir: Path
) -> None:
    args = ["--function-name", "paths", "--code-dir", str(code_dir), "paths_app.handler"]
    result = function_paths(installed, args)
    assert result["path"][0] == str(code_dir)  # type: ignore[index]
    assert_no_checkout(result, installed)


def test_a_config_file_with_a_handler(installed: Installed, code_dir: Path) -> None:
    config = code_dir.parent / "functions.toml"
    config.write_text('[functions.paths]\nhandler = "paths_app.handler"\ncode_dir = "code"\n')
    result = function_paths(installed, ["--config", str(config)])
    assert_no_checkout(result, installed)


def test_write_bootstrap_gives_the_custom_runtime_entrypoint(installed: Installed) -> None:
    target = installed.elsewhere / "zip"
    target.mkdir()
    done = installed.run("-m", "ric", "--write-bootstrap", str(target))
    assert done.returncode == 0, done.stderr
    bootstrap = target / "bootstrap"
    assert done.stdout == f"{bootstrap}\n"
    assert bootstrap.read_bytes() == (REPO / "ric" / "bootstrap").read_bytes()
    assert os.access(bootstrap, os.X_OK)
    missing = installed.run("-m", "ric", "--write-bootstrap", str(target / "no" / "such"))
    assert missing.returncode == 2
    assert missing.stderr.startswith("ric: error: cannot write ")


def test_the_console_scripts(installed: Installed) -> None:
    bin_dir = Path(installed.python).parent
    version = subprocess.run(
        [str(bin_dir / "ric"), "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout == "ric 0.1.0\n"
    usage = subprocess.run(
        [str(bin_dir / "lambda-emulator"), "--help"], capture_output=True, text=True, check=True
    )
    assert "A local AWS Lambda" in usage.stdout


def test_the_streaming_example_through_a_function_url(installed: Installed) -> None:
    examples = installed.project / "examples"
    args = ["--code-dir", str(examples), "--function-url", "RESPONSE_STREAM", "--url-port", "0"]
    emulator = EmulatorProcess(
        ["--port", "0", *args, "streaming.page"],
        cwd=installed.elsewhere,
        env=clean_env(),
        python=installed.python,
    )
    try:
        line = emulator.wait_for_line(lambda text: "function URL of function: " in text)
        url = line.rsplit(" ", 1)[1]
        with httpx.stream("GET", url + "from-the-wheel", timeout=60) as response:
            pieces = [piece for piece in response.iter_raw() if piece]
    finally:
        status = emulator.stop(signal.SIGTERM)
    assert status == 0, emulator.stderr
    assert response.headers["set-cookie"] == "visited=1"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = b"".join(pieces).decode()
    assert "<h1>/from-the-wheel</h1>" in page and "<li>chunk 3" in page


def serve_and_call(installed: Installed, args: list[str], client: list[str]) -> str:
    """The wheel's emulator serving ``args``; what ``client`` (this run's Python, which has
    boto3; URL last) printed."""
    emulator = EmulatorProcess(
        ["--port", "0", *args], cwd=installed.elsewhere, env=clean_env(), python=installed.python
    )
    try:
        line = [sys.executable, *client, emulator.url]
        done = subprocess.run(line, capture_output=True, text=True, timeout=120, check=False)
    finally:
        status = emulator.stop(signal.SIGTERM)
    assert (status, done.returncode) == (0, 0), (emulator.stderr, done.stderr)
    return done.stdout


def test_versions_copy_the_code_and_run_it_with_the_installed_ric(installed: Installed) -> None:
    examples = installed.project / "examples"
    printed = serve_and_call(
        installed,
        ["--code-dir", str(examples), "hello.handler"],
        [str(examples / "release_demo.py")],
    )
    assert "provisioned concurrency of live: READY" in printed
    assert "version 2: " in printed


def test_the_layers_example_merges_its_layers(installed: Installed) -> None:
    config = installed.project / "examples" / "layers" / "layers.toml"
    payload = '{"name": "wheel"}'
    printed = serve_and_call(
        installed,
        ["--config", str(config)],
        ["-m", "emulator", "invoke", "greet", "--payload", payload, "--url"],
    )
    assert "HOWDY, WHEEL!" in printed
