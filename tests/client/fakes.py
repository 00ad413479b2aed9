"""Small local stand-ins for LivePerson's CSDS, Sentinel, gateway and UI, plus faulty sockets."""

import base64
import json
import socket
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

from liveperson_functions.discovery import Resolver

ACCOUNT = "le123456"
FN_UUID = "0c3c1d3e-8b4a-4f6e-9d2a-1b2c3d4e5f60"
CLIENT_ID = "m2m-client"
CLIENT_SECRET = "m2m-secret-value"


def make_jwt(claims):
    """Return an (unsigned-in-practice) compact JWT; clients only read its claims."""

    def part(value):
        raw = json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signature = base64.urlsafe_b64encode(b"not-a-real-signature").rstrip(b"=").decode()
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.{signature}"


@dataclass
class Reply:
    """A scripted HTTP answer."""

    status: int = 200
    body: object = None
    headers: dict = field(default_factory=dict)
    chunked: bool = False

    def encoded(self):
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


@dataclass
class Seen:
    """A request as it reached the fake server."""

    method: str
    path: str
    query: list
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)

    def form(self):
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


class FakeLivePerson:
    """One local HTTP server playing CSDS, Sentinel, faasGW and faasUI for tests."""

    def __init__(self, account=ACCOUNT):
        self.account = account
        self.seen = []
        self.routes = {}
        self.token_lifetime = 3600
        self.token_delay = 0.0
        self.credentials = (CLIENT_ID, CLIENT_SECRET)
        self.tokens_issued = []
        self.clock = time.time
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                fake._handle(self)

            do_POST = do_GET

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.handle_error = lambda *_args: None  # clients hang up on purpose
        self.port = self.server.server_address[1]
        self.domain = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.domain}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # Scripting -------------------------------------------------------------------------------

    def reply(self, method, path, *replies):
        """Answer `method path` with these replies in turn, repeating the last one."""
        queue = list(replies)

        def handler(_seen):
            return queue.pop(0) if len(queue) > 1 else queue[0]

        self.routes[(method, path)] = handler

    def handle(self, method, path, handler):
        """Answer `method path` with `handler(seen) -> Reply`."""
        self.routes[(method, path)] = handler

    def requests_to(self, path, method=None):
        return [s for s in self.seen if s.path == path and method in (None, s.method)]

    def gw_path(self, *parts):
        return "/".join(("", "api", "account", self.account, *parts))

    @property
    def token_path(self):
        return f"/sentinel/api/account/{self.account}/app/token"

    # Serving ---------------------------------------------------------------------------------

    def _handle(self, handler):
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        seen = Seen(
            handler.command,
            url.path,
            parse_qsl(url.query, keep_blank_values=True),
            {k.lower(): v for k, v in handler.headers.items()},
            body,
        )
        with self._lock:
            self.seen.append(seen)
        route = self.routes.get((handler.command, url.path))
        if route is not None:
            reply = route(seen)
        elif url.path.endswith("/service/baseURI.json"):
            reply = self._csds(url.path)
        elif handler.command == "POST" and url.path.endswith("/app/token"):
            reply = self._token(seen)
        else:
            reply = Reply(418, {"error": f"unscripted {handler.command} {url.path}"})
        self._write(handler, reply)

    def _csds(self, path):
        account = path.split("/")[3]
        services = ("sentinel", "faasGW", "faasUI", "agentVep")
        entries = [{"service": s, "account": account, "baseURI": self.domain} for s in services]
        return Reply(200, {"baseURIs": entries})

    def _token(self, seen):
        if self.token_delay:
            time.sleep(self.token_delay)
        form = seen.form()
        offered = (form.get("client_id"), form.get("client_secret"))
        if form.get("grant_type") != "client_credentials" or offered != self.credentials:
            return Reply(401, {"error": "invalid_client", "error_description": "Bad client"})
        now = int(self.clock())
        with self._lock:
            serial = len(self.tokens_issued) + 1
            token = make_jwt(
                {
                    "aud": self.account,
                    "azp": form["client_id"],
                    "scope": "faas.lambda.invoke",
                    "iss": "Sentinel",
                    "iat": now,
                    "exp": now + self.token_lifetime,
                    "jti": f"token-{serial}",
                }
            )
            self.tokens_issued.append(token)
        return Reply(
            200,
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": str(self.token_lifetime),
            },
        )

    @staticmethod
    def _write(handler, reply):
        data = reply.encoded()
        try:
            handler.send_response(reply.status)
            headers = {"Content-Type": "application/json", **reply.headers}
            for name, value in headers.items():
                handler.send_header(name, value)
            if reply.chunked:
                handler.send_header("Transfer-Encoding", "chunked")
                handler.end_headers()
                step = 256 * 1024
                for start in range(0, len(data), step):
                    chunk = data[start : start + step]
                    handler.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                handler.wfile.write(b"0\r\n\r\n")
            else:
                handler.send_header("Content-Length", str(len(data)))
                handler.end_headers()
                handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True


class RawServer:
    """A socket server that reads each request, then stalls (`silent`, `partial`) or hangs up."""

    def __init__(self, mode="silent"):
        self.mode = mode
        self.requests = 0
        self._sockets = []
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self.domain = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._sockets.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn):
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(rest) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                rest += chunk
            self.requests += 1
            if self.mode == "hangup":
                conn.close()
            elif self.mode == "partial":
                conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"res')
        except OSError:
            pass

    def close(self):
        self._stop.set()
        self._thread.join()
        self._listener.close()
        for conn in self._sockets:
            conn.close()


def free_port():
    """Return a port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def resolver_for(gw, ui=None, sentinel=None, account=ACCOUNT):
    """A Resolver that never calls CSDS: every service is pinned to a local host:port."""
    return Resolver(
        account,
        "http://127.0.0.1:9",
        overrides={"faasGW": gw, "faasUI": ui or gw, "sentinel": sentinel or gw},
        insecure_http=True,
    )
