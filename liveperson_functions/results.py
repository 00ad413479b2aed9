"""What the client's calls return, and what its metrics hook receives."""

import logging
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from typing import Any

log = logging.getLogger("liveperson_functions.client")


@dataclass(frozen=True)
class Invocation:
    """The outcome of a successful invocation by UUID."""

    result: Any
    status: int
    duration_ms: float
    request_id: str
    domain: str
    logs: list[Any] = field(default_factory=list)
    content_type: str | None = None  # the gateway's Content-Type header


@dataclass(frozen=True)
class EventResult:
    """One function's answer to an invocation by event."""

    uuid: str | None
    timestamp: Any
    result: Any


@dataclass(frozen=True)
class CallMetric:
    """What the metrics hook receives after every client call."""

    operation: str
    account: str
    uuid: str | None
    event: str | None
    status: int | None
    duration_ms: float
    error: str | None
    from_cache: bool
    domain: str | None = None
    request_id: str | None = None
    platform: str | None = None


@dataclass
class Call:
    """What one public call learned so far, for its result and its metric."""

    operation: str = ""
    started: float = field(default_factory=time.perf_counter)
    status: int | None = None
    domain: str | None = None
    request_id: str | None = None
    platform: str | None = None
    from_cache: bool = False
    content_type: str | None = None

    def elapsed_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 3)


Metrics = Callable[[CallMetric], object]


@contextmanager
def measure(
    metrics: Metrics | None,
    account: str,
    operation: str,
    *,
    uuid: str | None = None,
    event: str | None = None,
) -> Iterator[Call]:
    """Time a call and report it to the metrics hook, whether it succeeds or fails."""
    call = Call(operation)
    error: str | None = None
    try:
        yield call
    except BaseException as exc:
        error = type(exc).__name__
        if call.status is None:
            call.status = getattr(exc, "status", None)
        raise
    finally:
        if metrics is not None:
            metric = CallMetric(
                operation=operation,
                account=account,
                uuid=uuid,
                event=event,
                status=call.status,
                duration_ms=call.elapsed_ms(),
                error=error,
                from_cache=call.from_cache,
                domain=call.domain,
                request_id=call.request_id,
                platform=call.platform,
            )
            try:
                metrics(metric)
            except Exception:
                # A broken metrics sink must not turn a successful call into a failure.
                log.exception("The FaaS metrics hook raised; metric dropped")
