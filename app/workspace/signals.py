"""The one place a change to a shared item is announced (the audit trail listens here)."""

from blinker import Namespace
from flask import current_app
from flask import g

signals = Namespace()

# Sent (sender: the app) with: action (share, unshare, edit, rename, delete), kind (payload,
# suite, environment), item_id, name, owner (sub), owner_name, version (after the change),
# by (sub), by_name, account.
shared_changed = signals.signal("shared-changed")


def announce(action, record):
    """Tell listeners that the signed-in user did `action` to a shared (or just unshared) item."""
    user = g.user or {}
    shared_changed.send(
        current_app._get_current_object(),
        action=action,
        kind=record["kind"],
        item_id=record["id"],
        name=record["doc"].get("name"),
        owner=record["owner"],
        owner_name=record.get("owner_name"),
        version=record["version"],
        by=user.get("sub"),
        by_name=user.get("login_name"),
        account=current_app.config["LP_ACCOUNT_ID"],
    )
