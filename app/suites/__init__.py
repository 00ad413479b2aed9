"""Test suites: named lists of invocations with expectations, run from the app."""
