"""The function runtime: runs demo functions in threads, within the execution-time limit.

A function is a Python callable `handler(data, ctx)`: `data` is the invocation body
`{timestamp, headers, payload}` and `ctx` its console (`ctx.info(...)`, `ctx.warn(...)`, …) and
clock (`ctx.sleep(seconds)`). Like the platform (reference §5.5): returning a value is success;
raising `FunctionError` is a deliberate failure (`callback(new Error(…))`, custom-failure); any
other exception is a crash (runtime-exception); still running at the limit is
executiontime-exceeded.
"""

import threading
import time
from dataclasses import dataclass
from dataclasses import field

LEVELS = ("Debug", "Info", "Warn", "Error")


class FunctionError(Exception):
    """Raised by a function to fail on purpose, as `callback(new Error(message))` does."""


class Context:
    """A running function's console and clock; the platform cancels it at the limit."""

    def __init__(self):
        self.logs = []
        self.cancelled = threading.Event()

    def log(self, level, message):
        """Write a log entry in the platform's shape `{level, message, extras, timestamp}`."""
        if level not in LEVELS:
            raise ValueError(f"log level must be one of {LEVELS}, not {level!r}")
        entry = {"level": level, "message": str(message), "extras": []}
        self.logs.append({**entry, "timestamp": int(time.time() * 1000)})

    def debug(self, message):
        self.log("Debug", message)

    def info(self, message):
        self.log("Info", message)

    def warn(self, message):
        self.log("Warn", message)

    def error(self, message):
        self.log("Error", message)

    def sleep(self, seconds):
        """Wait, as a slow outbound call would; return early once the platform stopped us."""
        self.cancelled.wait(seconds)


@dataclass
class Outcome:
    """What one run gave: a result, or a failure kind and message; logs either way."""

    result: object = None
    failure: str | None = None
    message: str = ""
    logs: list = field(default_factory=list)
    finished_at: float = 0.0


class Run:
    """One function running in its own thread."""

    def __init__(self, handler, data):
        self.handler = handler
        self.data = data
        self.ctx = Context()
        self.outcome = None
        self.thread = threading.Thread(target=self._run, daemon=True, name="sandbox-function")

    def _run(self):
        # Catch everything: an exception escaping a thread would be lost (and warned about).
        try:
            outcome = Outcome(result=self.handler(self.data, self.ctx))
        except FunctionError as exc:
            outcome = Outcome(failure="custom-failure", message=str(exc) or "Function failed")
        except BaseException as exc:
            outcome = Outcome(failure="runtime-exception", message=f"{type(exc).__name__}: {exc}")
        outcome.finished_at = time.time()
        self.outcome = outcome

    def wait(self, deadline, limit):
        """Return the outcome, or executiontime-exceeded once `deadline` has passed."""
        self.thread.join(max(0.0, deadline - time.monotonic()))
        if self.thread.is_alive():
            self.ctx.cancelled.set()
            message = f"Function did not finish within the execution time limit of {limit:g} s"
            outcome = Outcome(failure="executiontime-exceeded", message=message)
            outcome.finished_at = time.time()
        else:
            outcome = self.outcome
        outcome.logs = list(self.ctx.logs)
        return outcome


def run_all(handlers, data, limit):
    """Run functions side by side on the same input; return their outcomes in order."""
    deadline = time.monotonic() + limit
    runs = [Run(handler, data) for handler in handlers]
    for run in runs:
        run.thread.start()
    return [run.wait(deadline, limit) for run in runs]


def run(handler, data, limit):
    """Run one function on `data` within `limit` seconds and return its outcome."""
    return run_all([handler], data, limit)[0]
