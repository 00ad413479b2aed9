"""The sandbox's demo users and registered OAuth clients."""

import hmac
from dataclasses import dataclass
from dataclasses import field

from authlib.oauth2.rfc6749 import ClientMixin

SCOPE = "faas.lambda.invoke"
# LivePerson's three Functions permissions (developer-center liveperson-functions-permission-
# system): each may read functions; FaaS-Admin may not invoke them.
ADMIN, DEVELOPER, INVOCATION = "FaaS-Admin", "FaaS-Developer", "FaaS-Invocation"
INVOKE_PERMISSION = INVOCATION
PERMISSIONS = (ADMIN, DEVELOPER, INVOCATION)
READ_PERMISSIONS = frozenset(PERMISSIONS)
INVOKE_PERMISSIONS = frozenset({DEVELOPER, INVOCATION})


@dataclass(frozen=True)
class User:
    """A LivePerson user of the sandbox account."""

    user_id: str
    login_name: str
    password: str
    is_admin: bool = False
    permissions: frozenset = frozenset()

    def can_read(self):
        """Tell whether the user may read (list) functions: any Functions permission."""
        return bool(READ_PERMISSIONS & self.permissions)

    def can_invoke(self):
        """Tell whether the user may invoke functions: FaaS-Developer or FaaS-Invocation."""
        return bool(INVOKE_PERMISSIONS & self.permissions)

    def profile(self):
        """Describe the user's permission profile in a few words, for the sign-in page."""
        held = ", ".join(sorted(self.permissions)) or "no Functions permission"
        if self.can_invoke():
            may = "reads and invokes"
        else:
            may = "reads, may not invoke" if self.can_read() else "may not read or invoke"
        admin = "account administrator; " if self.is_admin else ""
        return f"{admin}{held} — {may}"

    def get_user_id(self):
        """Return the id authlib records for the resource owner."""
        return self.user_id


@dataclass
class Client(ClientMixin):
    """An installed app, as LivePerson's App Installation registers it."""

    client_id: str
    client_secret: str = field(repr=False)
    grant_types: tuple = ()
    redirect_uris: tuple = ()

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        # Sentinel: redirect_uri is optional only when exactly one is registered.
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope):
        return SCOPE

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return hmac.compare_digest(self.client_secret.encode(), (client_secret or "").encode())

    def check_endpoint_auth_method(self, method, endpoint):
        # LivePerson's docs show both the form body and HTTP Basic for client authentication.
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type):
        return grant_type in self.grant_types


USERS = (
    User("4000001", "agent", "agent", permissions=frozenset({INVOCATION})),
    # The Administrator role has all three by default.
    User("4000002", "admin", "admin", is_admin=True, permissions=frozenset(PERMISSIONS)),
    User("4000003", "viewer", "viewer"),
    User("4000004", "developer", "developer", permissions=frozenset({DEVELOPER})),
    User("4000005", "faasadmin", "faasadmin", permissions=frozenset({ADMIN})),
)

DEFAULT_REDIRECT_URIS = ("http://127.0.0.1:8000/callback", "http://localhost:8000/callback")


class Directory:
    """Look up the sandbox's users and clients."""

    def __init__(self, redirect_uris=DEFAULT_REDIRECT_URIS):
        self.users = {user.login_name: user for user in USERS}
        self.clients = {
            "functions-invoker": Client(
                "functions-invoker",
                "sandbox-secret",
                ("authorization_code", "refresh_token"),
                tuple(redirect_uris),
            ),
            "sandbox-m2m": Client("sandbox-m2m", "sandbox-m2m-secret", ("client_credentials",)),
        }

    def user(self, login_name):
        """Return the user with this login name, or None."""
        return self.users.get(login_name or "")

    def user_by_id(self, user_id):
        """Return the user with this user id, or None."""
        return next((u for u in self.users.values() if u.user_id == user_id), None)

    def check_password(self, login_name, password):
        """Return the user if the password matches, else None."""
        user = self.user(login_name)
        if user and hmac.compare_digest(user.password.encode(), (password or "").encode()):
            return user
        return None

    def client(self, client_id):
        """Return the registered client, or None."""
        return self.clients.get(client_id or "")
