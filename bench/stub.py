"""A minimal, fast gateway stub: an asyncio HTTP/1.1 server with keep-alive and a fixed answer.

`python bench/stub.py PORT [DELAY_SECONDS]` answers
`POST /api/account/12345678/lambdas/<uuid>/invoke` with a fixed JSON body (549 bytes), after
DELAY_SECONDS without blocking (so 64 slow calls run side by side), and 404 to any other
path. `GET /_count` answers how many invocations it received; `GET /_delay/<seconds>` changes
the delay (the slow-gateway phase). It listens on 127.0.0.1 only.
"""

import asyncio
import json
import re
import sys

INVOKE = re.compile(
    rb"^post /api/account/12345678/lambdas/[0-9a-f-]{36}/invoke(\?\S*)? http/1\.1$"
)
INVOCATION_ID = "3f0c2a9e-1d2b-4c5e-8f7a-9b0c1d2e3f4a"  # in every answer: result pages show it
ITEMS = [
    {"id": i, "name": f"item-{i}", "score": 0.5 + i / 100, "tags": ["a", "b", "c"]}
    for i in range(6)
]
ANSWER = {"status": "success", "invocation_id": INVOCATION_ID, "function": "echo-transform"}
ANSWER |= {"duration_ms": 12.7, "billed_ms": 13}
ANSWER["result"] = {"items": ITEMS, "message": "ok", "version": "2024-06-01"}
BODY = json.dumps(ANSWER, separators=(",", ":")).encode()
invocations = 0


def response(status, body, close):
    head = b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
    head %= (status, b"OK" if status == 200 else b"Not Found", len(body))
    return head + (b"Connection: %s\r\n\r\n" % (b"close" if close else b"keep-alive")) + body


OK_KA, OK_CLOSE = response(200, BODY, False), response(200, BODY, True)
NOT_FOUND = response(404, b'{"message":"not found"}', True)


class Proto(asyncio.Protocol):
    delay = 0.0

    def connection_made(self, transport):
        self.transport, self.buf, self.loop = transport, b"", asyncio.get_running_loop()

    def data_received(self, data):
        global invocations
        self.buf += data
        while (end := self.buf.find(b"\r\n\r\n")) >= 0:
            head = self.buf[:end].lower()
            length = 0
            if (i := head.find(b"content-length:")) >= 0:
                j = head.find(b"\r\n", i)
                length = int(head[i + 15 : j if j >= 0 else len(head)].strip())
            if len(self.buf) < end + 4 + length:
                return
            self.buf = self.buf[end + 4 + length :]
            first = head.split(b"\r\n", 1)[0]
            close = b"connection: close" in head
            if first.startswith(b"get /_delay/"):
                Proto.delay = float(first.split(b" ")[1][len(b"/_delay/") :])
                first = b"get /_count "
            if first.startswith(b"get /_count "):
                count = json.dumps({"invocations": invocations}).encode()
                self.transport.write(response(200, count, close))
            elif INVOKE.match(first):
                invocations += 1
                if self.delay:
                    self.loop.call_later(self.delay, self.answer, close)
                else:
                    self.answer(close)
            else:
                self.transport.write(NOT_FOUND)
                self.transport.close()
                return

    def answer(self, close):
        if self.transport.is_closing():
            return
        self.transport.write(OK_CLOSE if close else OK_KA)
        if close:
            self.transport.close()


async def main(port, delay):
    Proto.delay = delay
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Proto, "127.0.0.1", port, backlog=4096, reuse_address=True)
    print(f"stub on http://127.0.0.1:{port} delay={delay}s", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 0.0))
