"""Run the sandbox alone: `python -m sandbox [--host H] [--port P] [--tls] [--gateway H[:P]]`.

`--tls` serves https with a certificate made at start (its path is printed, for clients to
trust); `--cert`/`--key` use your own. `--gateway 127.0.0.2` also serves plain http on port 80 of
that address and has CSDS advertise it, port-less, for faasGW, faasUI and agentVep: the official
Node client cannot put a port in those domains. Every listener serves the same app and state.
"""

import argparse
import contextlib
import os
import shutil
import signal
import sys
import threading

from werkzeug.serving import make_server

from . import Settings
from . import create_sandbox
from . import tls

GATEWAY_SERVICES = ("faasGW", "faasUI", "agentVep")


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=8001, help="0 picks a free port")
    parser.add_argument("--tls", action="store_true", help="https with a self-signed cert")
    parser.add_argument("--cert", help="certificate file (PEM) for https")
    parser.add_argument("--key", help="private key file (PEM) for https")
    parser.add_argument(
        "--gateway",
        metavar="HOST[:PORT]",
        help="also serve plain http here (port 80 by default) for faasGW, faasUI and agentVep",
    )
    args = parser.parse_args(argv)
    if bool(args.cert) != bool(args.key):
        parser.error("--cert and --key go together")
    if args.tls and args.cert:
        parser.error("use --tls or --cert/--key, not both")
    return args


def listen(host, port, ssl_context=None):
    """Bind a threaded werkzeug server (its app is set later); exit clearly if we cannot."""
    try:
        return make_server(host, port, None, threaded=True, ssl_context=ssl_context)
    except OSError as exc:
        sys.exit(f"Cannot listen on {host}:{port}: {exc}")


def main(argv=None):
    """Parse arguments and serve the sandbox until interrupted."""
    args = parse(argv)
    cert_dir = None
    ssl_context = None
    if args.tls:
        cert_path, key_path = tls.self_signed()
        cert_dir = os.path.dirname(cert_path)
        ssl_context = (cert_path, key_path)
    elif args.cert:
        ssl_context = (args.cert, args.key)
    servers = [listen(args.host, args.port, ssl_context)]
    scheme = "https" if ssl_context else "http"
    url = os.environ.get("SANDBOX_URL", f"{scheme}://{args.host}:{servers[0].server_port}")
    domains = {}
    if args.gateway:
        host, _, port = args.gateway.partition(":")
        servers.append(listen(host, int(port or 80)))
        domain = host if servers[1].server_port == 80 else f"{host}:{servers[1].server_port}"
        domains = dict.fromkeys(GATEWAY_SERVICES, domain)
    app = create_sandbox(Settings.from_env(os.environ, url=url, service_domains=domains))
    for server in servers:
        server.app = app
    settings = app.extensions["sandbox"].settings
    print(f"LivePerson sandbox on {url}, account {settings.account_id}", flush=True)
    if cert_dir:
        print(f"TLS certificate: {cert_path}", flush=True)
    if args.gateway:
        print(f"Gateway, faasUI and agentVep also on http://{domain}", flush=True)
    print("Ctrl-C stops the sandbox.", flush=True)
    # SIGTERM ends the sandbox like Ctrl-C, so the certificate's directory is removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with contextlib.suppress(KeyboardInterrupt):
            servers[0].serve_forever()
    finally:
        for server in servers[1:]:
            server.shutdown()
        for server in servers:
            server.server_close()
        if cert_dir:
            shutil.rmtree(cert_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
