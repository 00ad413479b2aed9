"""The LivePerson event ids the official clients know, with what each means and a sample."""

from dataclasses import dataclass

CONVERSATION = {
    "conversationId": "4a2a7a7c-7a1f-4b61-9c3a-5f0c2c5d8e01",
    "brandId": "12345678",
    "general": {"startTs": 1732150000000, "skillId": "1234567890"},
}


@dataclass(frozen=True)
class Event:
    """A documented event a function can implement."""

    event_id: str
    title: str
    description: str
    sample: dict


EVENTS = (
    Event(
        "conversational_command",
        "Conversational command",
        "An agent types a /command in a messaging conversation (up to 30 functions).",
        {
            "command": "/summarize",
            "conversationId": CONVERSATION["conversationId"],
            "messages": [
                {"from": "consumer", "text": "My invoice looks wrong."},
                {"from": "agent", "text": "Let me check the billing details for you."},
            ],
        },
    ),
    Event(
        "denver_post_survey_email_transcript",
        "Chat post-survey e-mail transcript",
        "A chat ends with a post-chat survey; send its transcript by e-mail (up to 10).",
        {"chatId": "H1234567890", "visitorEmail": "visitor@example.com", "transcript": []},
    ),
    Event(
        "controllerbot_messaging_new_conversation",
        "Messaging: new conversation",
        "A consumer starts a new messaging conversation.",
        CONVERSATION,
    ),
    Event(
        "controllerbot_messaging_ttr",
        "Messaging: time to respond",
        "The brand's time to respond (TTR) to a conversation is reached.",
        {**CONVERSATION, "ttr": {"ttrType": "NORMAL", "value": 3600}},
    ),
    Event(
        "controllerbot_messaging_participants_change",
        "Messaging: participants change",
        "An agent or bot joins or leaves a conversation.",
        {**CONVERSATION, "participants": [{"id": "4000001", "role": "ASSIGNED_AGENT"}]},
    ),
    Event(
        "controllerbot_messaging_conversation_idle",
        "Messaging: conversation idle",
        "A conversation has been idle for the configured time.",
        {**CONVERSATION, "idleSince": 1732150600000},
    ),
    Event(
        "controllerbot_messaging_conversation_routing",
        "Messaging: conversation routing",
        "A conversation is routed or transferred to a skill.",
        {**CONVERSATION, "targetSkillId": "1234567890"},
    ),
    Event(
        "controllerbot_messaging_mid_conversation_msg",
        "Messaging: mid-conversation message",
        "A message arrives in an ongoing conversation.",
        {**CONVERSATION, "message": {"text": "Hello, is anyone there?"}},
    ),
    Event(
        "controllerbot_messaging_conversation_end",
        "Messaging: conversation end",
        "A messaging conversation is closed.",
        {**CONVERSATION, "closeReason": "CONSUMER"},
    ),
    Event(
        "surveybot_messaging_survey_started",
        "Survey bot: survey started",
        "A survey bot starts a survey in a conversation.",
        {**CONVERSATION, "surveyId": "3560010"},
    ),
    Event(
        "surveybot_messaging_survey_ended",
        "Survey bot: survey ended",
        "A survey bot ends a survey in a conversation.",
        {**CONVERSATION, "surveyId": "3560010", "answers": []},
    ),
    Event(
        "bot_connectors_pre_hook",
        "Third-party bots: pre hook",
        "Before a message goes to a third-party bot (up to 15 functions).",
        {"message": "Hi", "convId": CONVERSATION["conversationId"]},
    ),
    Event(
        "bot_connectors_post_hook",
        "Third-party bots: post hook",
        "After a third-party bot answers, before the answer reaches the consumer.",
        {"response": {"text": "Hello!"}, "convId": CONVERSATION["conversationId"]},
    ),
    Event(
        "bot_connectors_error_hook",
        "Third-party bots: error hook",
        "A third-party bot connector fails.",
        {"error": {"code": "TIMEOUT"}, "convId": CONVERSATION["conversationId"]},
    ),
    Event(
        "bot_connectors_custom_integration",
        "Third-party bots: custom integration",
        "A custom bot integration runs as a function.",
        {"message": "Hi", "convId": CONVERSATION["conversationId"]},
    ),
)

BY_ID = {event.event_id: event for event in EVENTS}


def describe(event_id):
    """Return the documented event, or a plain one for an event id typed freely."""
    return BY_ID.get(event_id) or Event(event_id, event_id, "A custom event id.", {})
