"""A Python client for LivePerson Functions (FaaS): invoke, query events, list functions."""

__version__ = "0.1.0"

from .client import FunctionsClient  # noqa: E402
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
from .wire import PreparedRequest  # noqa: E402
from .wire import prepare_invoke  # noqa: E402

__all__ = [
    "CallMetric",
    "EventResult",
    "FaaSConnectionError",
    "FaaSDetailedError",
    "FaaSError",
    "FaaSInputError",
    "FaaSLambdaError",
    "FaaSTimeout",
    "FunctionsClient",
    "Invocation",
    "from_env",
    "PreparedRequest",
    "prepare_invoke",
]
