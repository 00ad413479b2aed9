import pytest

from tests.sandbox.support import CALLBACK
from tests.sandbox.support import Caller
from tests.support import start_sandbox


@pytest.fixture
def lp(sandbox_settings):
    """A fresh sandbox on a loopback port and a caller for its gateway and faasUI."""
    served = start_sandbox([CALLBACK], **sandbox_settings)
    caller = Caller(served)
    yield caller
    caller.close()
    served.stop()


@pytest.fixture
def app_token(lp):
    return lp.app_token()


@pytest.fixture
def agent(lp):
    """The agent's bearer from agentVep (a user with the FaaS-Invocation permission)."""
    return lp.bearer("agent")
