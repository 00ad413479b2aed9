"""A circuit breaker per dependency: after repeated failures, answer at once for a while."""

import threading
import time
from collections.abc import Callable


class CircuitOpen(Exception):
    """A dependency failed repeatedly; it is not called until its cool-down ends."""

    def __init__(self, name: str, retry_after: int) -> None:
        super().__init__(f"{name} failed repeatedly; not calling it for {retry_after} s")
        self.name = name
        self.retry_after = retry_after


class Breaker:
    """Open after `threshold` failures in a row; after `cooldown` s let one probe through."""

    def __init__(
        self,
        name: str,
        threshold: int = 5,
        cooldown: float = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.threshold = threshold
        self.cooldown = cooldown
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self.probing = False
        self.lock = threading.Lock()

    def allow(self) -> None:
        """Raise CircuitOpen unless a call may go ahead now."""
        with self.lock:
            if self.opened_at is None:
                return
            waited = self.clock() - self.opened_at
            if waited >= self.cooldown and not self.probing:
                self.probing = True  # half-open: this caller is the one probe
                return
            raise CircuitOpen(self.name, max(1, int(self.cooldown - waited + 0.999)))

    def success(self) -> None:
        with self.lock:
            self.failures, self.opened_at, self.probing = 0, None, False

    def failure(self) -> None:
        with self.lock:
            self.failures += 1
            if self.probing or self.failures >= self.threshold:
                self.opened_at, self.probing = self.clock(), False

    @property
    def state(self) -> str:
        with self.lock:
            if self.opened_at is None:
                return "closed"
            return "half-open" if self.probing else "open"
