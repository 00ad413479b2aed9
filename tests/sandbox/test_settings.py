"""The sandbox's settings for the gateway and faasUI: defaults, SANDBOX_* variables, checks."""

import pytest

from sandbox import Settings


def test_defaults():
    settings = Settings()
    assert settings.dialect == "v1"
    assert settings.execution_limit == 30
    assert settings.rate_limit == 50
    assert settings.flaky_share == 0.5
    assert settings.extra_functions == 0
    assert settings.app_token_lifetime == 3600  # the official client re-fetches under 30 min


def test_from_env_reads_the_sandbox_variables():
    settings = Settings.from_env(
        {
            "SANDBOX_DIALECT": "V2",
            "SANDBOX_EXECUTION_LIMIT": "0.5",
            "SANDBOX_RATE_LIMIT": "7",
            "SANDBOX_FLAKY_SHARE": "0.25",
            "SANDBOX_EXTRA_FUNCTIONS": "3",
        },
        url="http://localhost:9",
    )
    assert settings.dialect == "v2"
    assert settings.execution_limit == 0.5
    assert settings.rate_limit == 7
    assert settings.flaky_share == 0.25
    assert settings.extra_functions == 3


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SANDBOX_DIALECT", "v3"),
        ("SANDBOX_EXECUTION_LIMIT", "0"),
        ("SANDBOX_RATE_LIMIT", "0"),
        ("SANDBOX_FLAKY_SHARE", "1.5"),
        ("SANDBOX_EXTRA_FUNCTIONS", "-1"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(variable, value):
    with pytest.raises(ValueError, match=variable):
        Settings.from_env({variable: value})


def test_v2_advertises_the_sandboxs_own_address():
    # Host names with "fninvocations" would need a resolver that knows them; clients force V2.
    domains = Settings(url="http://localhost:8001", dialect="v2").domains()
    assert domains["faasGW"] == domains["faasUI"] == "localhost:8001"


def test_sentinel_defaults_follow_the_documentation():
    settings = Settings()
    assert settings.client_auth == "basic"  # Functions' authorization-code guide: "header"
    assert settings.id_token_lifetime == 600  # the Token API page's example id_token
    assert Settings(token_lifetime=2).id_token_lifetime == 2  # never outlives the access token


def test_client_auth_and_id_token_lifetime_from_env():
    environ = {"SANDBOX_CLIENT_AUTH": "Both", "SANDBOX_ID_TOKEN_LIFETIME": "30"}
    settings = Settings.from_env(environ)
    assert (settings.client_auth, settings.id_token_lifetime) == ("both", 30)
    with pytest.raises(ValueError, match="SANDBOX_CLIENT_AUTH"):
        Settings.from_env({"SANDBOX_CLIENT_AUTH": "header"})
