"""A Python client for LivePerson Functions (FaaS): invoke, query events, list functions."""

__version__ = "0.1.0"
