"""A local AWS Lambda: the Invoke API for callers, the Runtime API for runtimes.

``python -m emulator --help`` for the command line; ``emulator.app`` draws how the
packages fit together. The exception tree::

    EmulatorError              errorType and HTTP status of the answer
    ├── ConfigError            bad command line or config file (never an answer)
    └── ApiError               an Invoke API or Runtime API error answer
"""

__all__: list[str] = []
