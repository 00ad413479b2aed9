"""The sandbox account's functions: demo functions with realistic metadata, plus fillers.

Each demo function shows one platform behaviour (reference §3, §5): a greeting and an echo, a
summariser and a skill-bound command on `conversational_command`, one failing on purpose (901
custom-failure), one crashing (901 runtime-exception), one running past the limit (901
executiontime-exceeded), a Draft (404 notdeployed) and a flaky one (a share of 502s).

Skills: a function with skills serves only those skills; one without skills serves every skill.
Invoking an event without a skillId runs every invocable function on it.
"""

from .catalogue import COMMAND_EVENT
from .catalogue import Catalogue
from .catalogue import Function
from .catalogue import fillers
from .catalogue import sample
from .runtime import FunctionError

GREETING = "d671cec5-7fd0-4f65-906d-84b02b642e65"
ECHO = "5290e51d-6fde-46f6-bea4-07b65e0f2f28"
SUMMARISER = "46febf79-27e1-4aea-b916-5196bbf49a9e"
BILLING_COMMAND = "128ff1db-87da-456f-96bd-326c4ad65380"
FAILING = "c769c87f-8d19-4bb6-8065-28ff48289542"
CRASHING = "88c7d779-1525-4a84-8dc6-785dd6be6050"
SLOW = "ded25ed4-e43a-48df-93c7-00d5ce195471"
DRAFT = "a02b66a1-ef73-4a88-a926-e83114d70efc"
FLAKY = "4778424e-b1d3-4d01-9d1a-f673f8c9af64"

BILLING_SKILLS = ("1001", "1002")

AGENT_ID = "4000001"


def greeting(data, ctx):
    """Greet whoever the payload names."""
    name = (data.get("payload") or {}).get("name") or "there"
    ctx.info(f"Greeting {name}")
    return {"greeting": f"Hello, {name}!"}


def echo(data, ctx):
    """Answer with the payload, unchanged."""
    return data.get("payload")


def summarise(data, ctx):
    """Summarise a conversation's messages: who spoke, how much, and the last word."""
    payload = data.get("payload") or {}
    messages = payload.get("messages") or []
    participants = sorted({m.get("from", "unknown") for m in messages})
    last = messages[-1].get("text", "") if messages else ""
    ctx.info(f"Summarised {len(messages)} messages")
    return {
        "conversationId": payload.get("conversationId"),
        "messageCount": len(messages),
        "participants": participants,
        "summary": f"{len(messages)} messages between {', '.join(participants) or 'nobody'}."
        + (f' Last: "{last}"' if last else ""),
    }


def billing_command(data, ctx):
    """Answer the billing skills' `/balance` command."""
    payload = data.get("payload") or {}
    return {
        "command": payload.get("command"),
        "reply": "Your balance is 42.00 EUR; the next invoice is due on the 1st.",
    }


def fail_on_purpose(data, ctx):
    """Fail deliberately, as `callback(new Error(…))` would."""
    order = (data.get("payload") or {}).get("orderId", "42")
    ctx.warn(f"Order {order} is not in the order system")
    raise FunctionError(f"Order {order} could not be found")


def crash(data, ctx):
    """Crash reading a field of a customer that is not there."""
    ctx.info("Looking up the customer")
    customer = (data.get("payload") or {}).get("customer")
    return {"customerId": customer["id"]}  # no customer: TypeError, a runtime exception


def run_too_long(data, ctx):
    """Wait for an answer that never comes, past the execution-time limit."""
    ctx.info("Waiting for the CRM to answer")
    ctx.sleep(3600)
    return {"crm": "answered"}


def draft(data, ctx):
    """Tag the conversation's end (never deployed)."""
    return {"tagged": True}


def flaky(data, ctx):
    """Look up the weather, through an upstream that often fails."""
    return {"city": (data.get("payload") or {}).get("city", "Berlin"), "weather": "sunny"}


DEMO = (
    Function(
        GREETING,
        "Greeting",
        "Greets whoever the payload names; logs whom it greeted.",
        "Productive",
        None,
        greeting,
        sample({"name": "Ada"}),
    ),
    Function(
        ECHO,
        "Echo",
        "Answers with the payload it received, unchanged.",
        "Productive",
        None,
        echo,
        sample({"message": "ping", "count": 1}, **{"X-Source": "sandbox"}),
        created_by=AGENT_ID,
        updated_by=AGENT_ID,
    ),
    Function(
        SUMMARISER,
        "Conversation summariser",
        "Summarises a conversation for the /summary command: who spoke, how much, last words.",
        "Productive",
        COMMAND_EVENT,
        summarise,
        sample(
            {
                "conversationId": "f3d2c1b0-0000-4000-8000-00000000c0de",
                "command": "/summary",
                "messages": [
                    {"from": "consumer", "text": "My parcel has not arrived."},
                    {"from": "agent", "text": "Sorry to hear that, let me check."},
                    {"from": "consumer", "text": "Thanks!"},
                ],
            }
        ),
        version=3,
        size="M",
        updated_at="2025-06-18T14:03:09.000Z",
    ),
    Function(
        BILLING_COMMAND,
        "Billing commands",
        "Answers /balance for the billing skills; edited since it was deployed.",
        "Modified",
        COMMAND_EVENT,
        billing_command,
        sample({"conversationId": "f3d2c1b0-0000-4000-8000-00000000b111", "command": "/balance"}),
        skills=BILLING_SKILLS,
        version=2,
        updated_at="2025-07-01T10:30:00.000Z",
        updated_by=AGENT_ID,
    ),
    Function(
        FAILING,
        "Order lookup (fails on purpose)",
        "Always fails with an Error of its own: a 901 custom-failure.",
        "Productive",
        None,
        fail_on_purpose,
        sample({"orderId": "42"}),
    ),
    Function(
        CRASHING,
        "Customer lookup (crashes)",
        "Reads a field of a missing customer and crashes: a 901 runtime-exception.",
        "Productive",
        None,
        crash,
        sample({"customer": None}),
    ),
    Function(
        SLOW,
        "CRM sync (too slow)",
        "Waits for a CRM that never answers, past the execution-time limit.",
        "Productive",
        None,
        run_too_long,
        sample({"contactId": "c-1001"}),
    ),
    Function(
        DRAFT,
        "Conversation tagger (draft)",
        "Tags ended conversations; pushed but never deployed.",
        "Draft",
        "controllerbot_messaging_conversation_end",
        draft,
        sample({"conversationId": "f3d2c1b0-0000-4000-8000-00000000e4d0"}),
        created_by=AGENT_ID,
        updated_by=AGENT_ID,
    ),
    Function(
        FLAKY,
        "Weather (flaky upstream)",
        "Usually answers; a share of its invocations fail at the gateway with 502.",
        "Productive",
        None,
        flaky,
        sample({"city": "Berlin"}),
        flaky=True,
    ),
)


def catalogue(extra_functions=0):
    """The demo functions followed by `extra_functions` fillers."""
    return Catalogue(DEMO + fillers(extra_functions))
