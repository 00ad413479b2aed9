"""The gateway's per-account rate limit: at most N invocations in any one-second window."""

import collections
import math
import threading
import time

WINDOW = 1.0


class RateLimiter:
    """A sliding one-second window per account; `clock` is replaceable so tests can stop time."""

    def __init__(self, rate, clock=time.monotonic):
        self.rate = rate
        self.clock = clock
        self.seen = collections.defaultdict(collections.deque)
        self.lock = threading.Lock()

    def acquire(self, account_id):
        """Count one invocation; return None if allowed, else the seconds to wait (≥ 1)."""
        now = self.clock()
        with self.lock:
            seen = self.seen[account_id]
            while seen and seen[0] <= now - WINDOW:
                seen.popleft()
            if len(seen) >= self.rate:
                # Retry-After takes whole seconds; never tell a client to retry at once.
                return max(1, math.ceil(seen[0] + WINDOW - now))
            seen.append(now)
            return None
