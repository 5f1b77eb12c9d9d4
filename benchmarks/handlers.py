"""Handlers the benchmarks serve."""


def echo(event, context):
    return event
