"""ric: a fast, pure-Python runtime interface client for AWS Lambda.

``python -m ric MODULE.FUNCTION`` serves a handler through the Lambda Runtime
API. Nothing is imported here beyond the version, so start-up stays cheap.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
