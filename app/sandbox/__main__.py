"""Run the sandbox alone: `python -m app.sandbox [--host H] [--port P]`."""

import argparse
import contextlib
import os

from werkzeug.serving import make_server

from . import Settings
from . import create_sandbox


def main(argv=None):
    """Parse arguments and serve the sandbox until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m app.sandbox", description=__doc__)
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    url = os.environ.get("SANDBOX_URL", f"http://{args.host}:{args.port}")
    app = create_sandbox(Settings.from_env(os.environ, url=url))
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"LivePerson sandbox on {url}, account {app.extensions['sandbox'].settings.account_id}")
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
