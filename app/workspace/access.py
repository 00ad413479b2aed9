"""Who may see and change workspace items: the owner and admins change, the account reads."""

from flask import abort
from flask import current_app
from flask import g

from app.console import gateway
from app.workspace.signals import announce
from app.workspace.store import new_record
from app.workspace.store import next_version
from liveperson_functions.breaker import CircuitOpen
from liveperson_functions.errors import FaaSError

MAX_ITEMS = 100  # a user's own environments


class NotAllowed(Exception):
    """A change to a shared item by someone who is neither its owner nor an admin."""

    def __init__(self, record):
        owner = record.get("owner_name") or "its owner"
        super().__init__(
            f"Only {owner} (who shared “{record['doc'].get('name')}”) and the account's "
            "administrators may change, rename, unshare or delete it. Nothing was changed. "
            "You may copy it to your own and change the copy."
        )


def workspace():
    return current_app.extensions["workspace"]


def account():
    return current_app.config["LP_ACCOUNT_ID"]


def may_see_shared():
    """Tell whether the signed-in user may read the account's functions (and so shared items)."""
    if "may_see_shared" not in g:
        try:
            gateway.functions()
            g.may_see_shared = True
        except (FaaSError, CircuitOpen):
            # A 403 says the user may not read functions; any other failure shows nothing
            # shared rather than guessing.
            g.may_see_shared = False
    return g.may_see_shared


def may_change(record):
    return record["owner"] == g.user["sub"] or bool(g.user.get("is_admin"))


def items(kind):
    """Return the user's own items of a kind and, when allowed, the account's shared ones."""
    return workspace().items(account(), kind, g.user["sub"], may_see_shared())


def shared_items(kind):
    """Return the items of a kind shared with the account (the user's own shared ones too)."""
    return [r for r in items(kind) if r["shared"]]


def init_app(app):
    """Let the pages list shared items and say when the user may not see them."""
    app.add_template_global(shared_items)
    app.add_template_global(may_see_shared)
    app.add_template_global(may_change)


def find(kind, item_id):
    """Return an item the user may see, or None."""
    record = workspace().item(account(), kind, item_id)
    if record is None:
        return None
    if record["owner"] == g.user["sub"] or (record["shared"] and may_see_shared()):
        return record
    return None


def visible(kind, item_id):
    """Return an item the user may see, or 404 (another account's or user's is not there)."""
    return find(kind, item_id) or abort(404)


def changeable(kind, item_id):
    """Return an item the user may change; NotAllowed (a 403 page) says who may."""
    record = visible(kind, item_id)
    if not may_change(record):
        raise NotAllowed(record)
    return record


def add(kind, doc, shared, action="share", item_id=None):
    """Keep a new item owned by the signed-in user; announce it when shared."""
    # A suite keeps its id when shared (`item_id`): its runs stay linked to it.
    record = new_record(kind, g.user["sub"], g.user.get("login_name"), shared, doc)
    record["id"] = item_id or record["id"]
    workspace().add(account(), record)
    if shared:
        announce(action, record)
    return record


def change(record, version, doc=None, shared=None):
    """Save a new version of an item (Conflict if `version` is not the stored one)."""
    changes = {}
    if doc is not None:
        changes["doc"] = doc
    if shared is not None:
        changes["shared"] = bool(shared)
    updated = next_version(record, changes, g.user.get("login_name"))
    workspace().update(account(), updated, version) or abort(404)
    for action in actions(record, updated):
        announce(action, updated)
    return updated


def actions(before, after):
    """Name what a change did to an item that is (or was) shared."""
    if not (before["shared"] or after["shared"]):
        return []
    found = []
    if after["shared"] != before["shared"]:
        found.append("share" if after["shared"] else "unshare")
    if after["doc"].get("name") != before["doc"].get("name"):
        found.append("rename")
    if {**after["doc"], "name": None} != {**before["doc"], "name": None}:
        found.append("edit")
    return found


def give_back(record, version, doc=None):
    """Unshare a payload or suite (version-checked, announced); the caller gives it back."""
    change(record, version, doc, shared=False)
    workspace().delete(account(), record["kind"], record["id"])


def remove(record, action="delete"):
    """Delete an item (also how a shared payload or suite goes back to its owner's own)."""
    workspace().delete(account(), record["kind"], record["id"])
    if record["shared"]:
        announce(action, record)
