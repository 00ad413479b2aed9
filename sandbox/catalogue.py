"""The account's functions as faasUI lists them and the gateway finds them: the Function record,
generated fillers for benchmarks, and the catalogue searched by UUID, event and name."""

import functools
import inspect
import textwrap
import uuid as uuidlib
from dataclasses import dataclass
from dataclasses import field

STATES = ("Draft", "Productive", "Modified", "Marked Undeployed")
INVOCABLE = ("Productive", "Modified")  # a Modified function still runs its deployed version

# The demo's commands use this event; fillers stay off it, so its answers stay the demo's.
COMMAND_EVENT = "conversational_command"
# The event ids the official clients know (reference §6.8); fillers spread over them.
EVENTS = (
    "denver_post_survey_email_transcript",
    "conversational_command",
    "controllerbot_messaging_new_conversation",
    "controllerbot_messaging_ttr",
    "controllerbot_messaging_participants_change",
    "controllerbot_messaging_conversation_idle",
    "controllerbot_messaging_conversation_routing",
    "controllerbot_messaging_mid_conversation_msg",
    "controllerbot_messaging_conversation_end",
    "surveybot_messaging_survey_started",
    "surveybot_messaging_survey_ended",
    "bot_connectors_post_hook",
    "bot_connectors_error_hook",
    "bot_connectors_custom_integration",
    "bot_connectors_pre_hook",
)

RUNTIME = {
    "uuid": "0b5d6c48-37a1-4f44-9a0e-0e8f3c2b1a10",
    "name": "Python 3 (sandbox)",
    "baseImageName": "sandbox-python3",
}
ADMIN_ID = "4000002"


@functools.cache
def source(handler):
    """The handler's code, shown as a V1 lambda's implementation."""
    return textwrap.dedent(inspect.getsource(handler))


@dataclass(frozen=True)
class Function:
    """A function of the account: its metadata and the Python callable behind it."""

    uuid: str
    name: str
    description: str
    state: str
    event_id: str | None
    handler: object
    sample_payload: dict = field(default_factory=lambda: {"headers": [], "payload": {}})
    skills: tuple = ()
    flaky: bool = False
    version: int = 1
    size: str = "S"
    created_at: str = "2025-03-04T09:12:44.000Z"
    created_by: str = ADMIN_ID
    updated_at: str = "2025-03-04T09:12:44.000Z"
    updated_by: str = ADMIN_ID

    @property
    def invocable(self):
        return self.state in INVOCABLE

    def serves(self, skill_id):
        """Tell whether the function runs for a skill (None: any skill)."""
        return skill_id is None or not self.skills or skill_id in self.skills

    def v1(self):
        """The function as faasUI V1 lists a lambda."""
        return {
            "uuid": self.uuid,
            "version": self.version,
            "name": self.name,
            "description": self.description,
            "eventId": self.event_id,
            "skills": list(self.skills),
            "samplePayload": self.sample_payload,
            "state": self.state,
            "runtime": RUNTIME,
            "createdAt": self.created_at,
            "createdBy": self.created_by,
            "updatedAt": self.updated_at,
            "updatedBy": self.updated_by,
            "lastDeployment": self._deployment(),
            "implementation": {
                "code": source(self.handler),
                "dependencies": [],
                "environmentVariables": [],
            },
        }

    def v2(self):
        """The function as faasUI V2 lists it (no code, no sample payload: reference §3.6)."""
        return {
            "uuid": self.uuid,
            "name": self.name,
            "description": self.description,
            "state": self.state,
            "skills": list(self.skills),
            "eventId": self.event_id,
            "size": self.size,
            "isCompV1": False,
            "createdAt": self.created_at,
            "createdBy": self.created_by,
            "updatedAt": self.updated_at,
            "updatedBy": self.updated_by,
        }

    def _deployment(self):
        if self.state == "Draft":
            return {}
        return {
            "uuid": str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"deployment:{self.uuid}")),
            "name": self.name,
            "lambdaUUID": self.uuid,
            "lambdaVersion": self.version,
            "imageName": f"sandbox/{self.uuid}:{self.version}",
            "deploymentState": "Deploy Finish",
            "createdAt": self.created_at,
            "updatedAt": self.created_at,
            "deployedAt": self.created_at,
            "createdBy": self.created_by,
            "updatedBy": self.created_by,
        }


def sample(value, **headers):
    """A sample payload as faasUI shows it: `{headers: [{key, value}], payload}`."""
    return {"headers": [{"key": k, "value": v} for k, v in headers.items()], "payload": value}


def filler(data, ctx):
    """Acknowledge the event."""
    return {"ok": True}


def fillers(count):
    """Generated functions for benchmarks: varied states and events, stable UUIDs."""
    events = [e for e in EVENTS if e != COMMAND_EVENT] + [None]
    return tuple(
        Function(
            str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"sandbox-filler:{i}")),
            f"Filler {i:05d}",
            f"Generated function number {i}, for benchmarks.",
            STATES[i % 3],
            events[(i // 3) % len(events)],  # every state meets every event
            filler,
            sample({"index": i}),
        )
        for i in range(1, count + 1)
    )


class Catalogue:
    """The account's functions, by UUID and by event."""

    def __init__(self, functions):
        self.functions = tuple(functions)
        self.by_uuid = {f.uuid: f for f in self.functions}

    def get(self, uuid):
        """Return the function with this UUID (any case), or None."""
        return self.by_uuid.get(uuid.lower())

    def on_event(self, event_id, skill_id=None):
        """The invocable functions that implement an event for a skill (None: any skill)."""
        return [
            f
            for f in self.functions
            if f.event_id == event_id and f.invocable and f.serves(skill_id)
        ]

    def listing(self, states=(), event_id=None, name=None):
        """Filter as faasUI does: exact states, eventId and name substrings (any case)."""
        event = (event_id or "").lower()
        text = (name or "").lower()
        return [
            f
            for f in self.functions
            if (not states or f.state in states)
            and (not event or event in (f.event_id or "").lower())
            and text in f.name.lower()
        ]
