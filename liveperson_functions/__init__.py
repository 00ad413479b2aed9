"""A Python client for LivePerson Functions (FaaS): invoke, query events, list functions."""

__version__ = "0.2.0"

from typing import TYPE_CHECKING  # noqa: E402
from typing import Any  # noqa: E402

from .auth import ClientCredentials  # noqa: E402
from .auth import UserBearer  # noqa: E402
from .client import FunctionsClient  # noqa: E402
from .core import Retries  # noqa: E402
from .discovery import Resolver  # noqa: E402
from .env import async_from_env  # noqa: E402
from .env import from_env  # noqa: E402
from .errors import FaaSConnectionError  # noqa: E402
from .errors import FaaSDetailedError  # noqa: E402
from .errors import FaaSError  # noqa: E402
from .errors import FaaSInputError  # noqa: E402
from .errors import FaaSLambdaError  # noqa: E402
from .errors import FaaSTimeout  # noqa: E402
from .results import CallMetric  # noqa: E402
from .results import EventResult  # noqa: E402
from .results import Invocation  # noqa: E402
from .wire import USER_AGENT  # noqa: E402
from .wire import FunctionInfo  # noqa: E402
from .wire import PreparedRequest  # noqa: E402
from .wire import prepare_invoke  # noqa: E402

if TYPE_CHECKING:
    from .aio import AsyncFunctionsClient

__all__ = [
    "USER_AGENT",
    "AsyncFunctionsClient",
    "CallMetric",
    "ClientCredentials",
    "EventResult",
    "FaaSConnectionError",
    "FaaSDetailedError",
    "FaaSError",
    "FaaSInputError",
    "FaaSLambdaError",
    "FaaSTimeout",
    "FunctionInfo",
    "FunctionsClient",
    "Invocation",
    "PreparedRequest",
    "Resolver",
    "Retries",
    "UserBearer",
    "__version__",
    "async_from_env",
    "from_env",
    "prepare_invoke",
]


def __getattr__(name: str) -> Any:
    """Import the async client on first use: it needs httpx (the `async` extra)."""
    if name == "AsyncFunctionsClient":
        from .aio import AsyncFunctionsClient

        return AsyncFunctionsClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
