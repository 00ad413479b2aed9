"""The sandbox's faasUI function list over real HTTP: both dialects, filters, who may list."""

import pytest

from sandbox import ACCOUNT_ID
from sandbox import functions as fn
from tests.support import calls
from tests.support import sandbox_log

V1 = pytest.param({"dialect": "v1"}, id="v1")
V2 = pytest.param({"dialect": "v2"}, id="v2")
DEMO = [f.uuid for f in fn.DEMO]
V1_KEYS = {
    "uuid",
    "version",
    "name",
    "description",
    "eventId",
    "skills",
    "samplePayload",
    "state",
    "runtime",
    "createdAt",
    "createdBy",
    "updatedAt",
    "updatedBy",
    "lastDeployment",
    "implementation",
}
V2_KEYS = {
    "uuid",
    "name",
    "description",
    "state",
    "skills",
    "eventId",
    "size",
    "isCompV1",
    "createdAt",
    "createdBy",
    "updatedAt",
    "updatedBy",
}


def uuids(answer):
    assert answer.status_code == 200, answer.text
    return [item["uuid"] for item in answer.json()]


def test_v1_lists_lambdas_with_or_without_the_trailing_slash(lp, agent):
    params = {"v": "1", "userId": "4000001"}
    for path in ("lambdas", "lambdas/"):
        assert uuids(lp.call("GET", path, agent, params=params)) == DEMO
    items = {item["uuid"]: item for item in lp.call("GET", "lambdas", agent).json()}
    assert all(set(item) == V1_KEYS for item in items.values())
    summariser = items[fn.SUMMARISER]
    assert summariser["name"] == "Conversation summariser"
    assert summariser["eventId"] == "conversational_command" and summariser["version"] == 3
    assert summariser["samplePayload"]["payload"]["command"] == "/summary"
    assert summariser["lastDeployment"]["deploymentState"] == "Deploy Finish"
    assert "def summarise(data, ctx):" in summariser["implementation"]["code"]
    assert summariser["runtime"]["name"]
    assert items[fn.BILLING_COMMAND]["skills"] == ["1001", "1002"]
    assert items[fn.DRAFT]["lastDeployment"] == {}
    assert items[fn.GREETING]["eventId"] is None
    assert calls(lp.served, "list_functions") == 3


@pytest.mark.parametrize("sandbox_settings", [V2])
def test_v2_lists_functions_in_the_v2_shape(lp, agent):
    answer = lp.call("GET", "functions", agent)
    assert uuids(answer) == DEMO
    assert all(set(item) == V2_KEYS for item in answer.json())
    billing = next(i for i in answer.json() if i["uuid"] == fn.BILLING_COMMAND)
    assert billing["state"] == "Modified" and billing["skills"] == ["1001", "1002"]
    assert billing["isCompV1"] is False and billing["size"] == "S"


@pytest.mark.parametrize(
    ("sandbox_settings", "other"),
    [({"dialect": "v1"}, "functions"), ({"dialect": "v2"}, "lambdas")],
)
def test_the_other_dialects_list_is_not_found(lp, agent, other):
    answer = lp.call("GET", other, agent)
    assert answer.status_code == 404 and answer.json() == {"message": "Not found."}


@pytest.mark.parametrize(
    ("sandbox_settings", "path", "name"),
    [({"dialect": "v1"}, "lambdas/", "name"), ({"dialect": "v2"}, "functions", "functionName")],
)
def test_filters_by_state_event_and_name(lp, agent, path, name):
    def listed(params):
        return uuids(lp.call("GET", path, agent, params=params))

    assert listed({"state": "Draft"}) == [fn.DRAFT]
    assert listed([("state", "Modified"), ("state", "Draft")]) == [fn.BILLING_COMMAND, fn.DRAFT]
    assert listed({"state": "Marked Undeployed"}) == []
    assert listed({"eventId": "conversational_command"}) == [fn.SUMMARISER, fn.BILLING_COMMAND]
    assert listed({"eventId": "CONVERSATION"}) == [fn.SUMMARISER, fn.BILLING_COMMAND, fn.DRAFT]
    assert listed({name: "order"}) == [fn.FAILING]
    assert listed({name: "summariser", "state": "Draft"}) == []
    # Empty values, as the Node client sends them, filter nothing.
    assert listed({"eventId": "", "state": "", name: "", "userId": ""}) == DEMO


@pytest.mark.parametrize("sandbox_settings", [V2])
def test_v2_also_takes_the_java_clients_name_filter(lp, agent):
    assert uuids(lp.call("GET", "functions", agent, params={"name": "weather"})) == [fn.FLAKY]


@pytest.mark.parametrize(
    ("sandbox_settings", "path", "body"),
    [
        (
            {"dialect": "v1"},
            "lambdas",
            {
                "errorCode": "com.liveperson.faas.es.badinput",
                "errorMsg": "Invalid state 'active': use one of Draft, Productive, Modified, "
                "Marked Undeployed.",
            },
        ),
        (
            {"dialect": "v2"},
            "functions",
            {
                "code": "com.liveperson.faas.evg.invalid",
                "message": "Invalid state 'active': use one of Draft, Productive, Modified, "
                "Marked Undeployed.",
            },
        ),
    ],
)
def test_an_unknown_state_is_400(lp, agent, path, body):
    answer = lp.call("GET", path, agent, params=[("state", "Draft"), ("state", "active")])
    assert answer.status_code == 400 and answer.json() == body


@pytest.mark.parametrize(
    ("sandbox_settings", "path"),
    [({"dialect": "v1"}, "lambdas/"), ({"dialect": "v2"}, "functions")],
)
def test_app_tokens_may_not_list(lp, app_token, path):
    answer = lp.call("GET", path, app_token)
    assert answer.status_code == 403
    assert answer.json() == {
        "message": "App tokens (client credentials) cannot list functions; use a user's bearer."
    }
    (entry,) = sandbox_log(lp.served, "list_functions")
    assert entry["principal"] == "app:sandbox-m2m" and entry["status"] == 403


def test_who_may_list(lp):
    assert lp.call("GET", "lambdas").status_code == 401
    # A wrong bearer gets 403 (LivePerson's Node client tests: "403 for a wrong bearer").
    assert lp.call("GET", "lambdas", "nonsense").status_code == 403
    for token in (lp.bearer("viewer"), lp.user_token("viewer")):
        refused = lp.call("GET", "lambdas", token)
        assert refused.status_code == 403
        assert "needs FaaS-Invocation, FaaS-Developer or FaaS-Admin" in refused.json()["message"]
    assert uuids(lp.call("GET", "lambdas", lp.bearer("admin"))) == DEMO
    assert uuids(lp.call("GET", "lambdas", lp.user_token("agent"))) == DEMO
    # Every Functions profile may read (liveperson-functions-permission-system).
    assert uuids(lp.call("GET", "lambdas", lp.user_token("developer"))) == DEMO
    assert uuids(lp.call("GET", "lambdas", lp.user_token("faasadmin"))) == DEMO


def test_the_user_id_received_is_recorded(lp, agent):
    lp.call("GET", "lambdas", agent, params={"v": "1", "userId": "4000001"})
    lp.call("GET", "lambdas", agent, params={"v": "1"})
    assert [e["userId"] for e in sandbox_log(lp.served, "list_functions")] == ["4000001", None]


def test_list_calls_are_recorded(lp, agent):
    headers = {"X-Request-ID": "list-1", "User-Agent": "faas-client-js@2.0.0"}
    params = {"v": "1", "eventId": "", "state": "Draft", "externalSystem": "", "userId": "4"}
    answer = lp.call("GET", "lambdas/", agent, params=params, headers=headers)
    assert answer.headers["X-Request-ID"] == "list-1"
    (entry,) = sandbox_log(lp.served, "list_functions")
    assert entry["path"] == f"/api/account/{ACCOUNT_ID}/lambdas/"
    assert entry["query"]["state"] == ["Draft"] and entry["query"]["eventId"] == [""]
    assert entry["headers"]["User-Agent"] == "faas-client-js@2.0.0"
    assert entry["principal"] == "user:agent" and entry["status"] == 200
    assert agent not in repr(entry)


@pytest.mark.parametrize("sandbox_settings", [{"extra_functions": 2000}])
def test_extra_functions_fill_the_list_for_benchmarks(lp, agent):
    items = lp.call("GET", "lambdas", agent).json()
    assert len(items) == len(fn.DEMO) + 2000
    fillers = items[len(fn.DEMO) :]
    assert fillers[0]["name"] == "Filler 00001" and fillers[-1]["name"] == "Filler 02000"
    assert len({i["uuid"] for i in items}) == len(items)
    assert {i["state"] for i in fillers} == {"Draft", "Productive", "Modified"}
    assert len(uuids(lp.call("GET", "lambdas", agent, params={"name": "filler 0001"}))) == 10
    productive = next(i for i in fillers if i["state"] == "Productive" and i["eventId"] is None)
    assert lp.invoke(productive["uuid"], {}, agent).json() == {"ok": True}
