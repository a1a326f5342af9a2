"""A loopback HTTP/1.1 proxy that injects faults, for testing clients of a local S3 server.

    python fault_proxy.py LISTEN_PORT UPSTREAM_HOST:PORT PLAN LOG_FILE [--slow SECONDS]

Every request gets the next fault of PLAN, a comma-separated cycle of:

    ok        forwarded untouched
    500, 503  answered by the proxy with that status and an S3-style XML error, not forwarded
    reset     the connection is reset (TCP RST) without any response
    slow      forwarded after SECONDS (default 3) of silence
    truncate  forwarded, but the response body is cut in half (Content-Length still promises
              all of it) and the connection closed; a response without a body is reset instead

so `500,ok,reset,ok` fails every other request, and `503` fails all of them. Each request is
appended to LOG_FILE as one JSON line (`{"n", "method", "path", "range", "fault"}`, with the
fault actually applied), so a test can check that every kind of fault really happened.

One request per client connection: the proxy answers with `Connection: close`, which both
object_store (reqwest) and s3fs (aiohttp) handle by reconnecting. Standard library only.
"""

import asyncio
import json
import socket
import struct
import sys


async def read_message_head(reader):
    """Returns (head bytes incl. the blank line, headers dict) or None at EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k:
            headers[k.strip().lower()] = v.strip()
    return head, headers


def with_connection_close(head):
    """The message head with any Connection header replaced by `Connection: close`."""
    lines = head.decode("latin-1").split("\r\n")
    kept = [l for l in lines[1:] if l and not l.lower().startswith("connection:")]
    return ("\r\n".join([lines[0], *kept, "Connection: close"]) + "\r\n\r\n").encode("latin-1")


def reset(writer):
    """Close with a TCP RST instead of a FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultProxy:
    def __init__(self, upstream, plan, log_path, slow):
        self.host, port = upstream.rsplit(":", 1)
        self.port = int(port)
        self.plan = plan
        self.log = open(log_path, "a", buffering=1)
        self.slow = slow
        self.n = 0

    async def handle(self, reader, writer):
        msg = await read_message_head(reader)
        if msg is None:
            writer.close()
            return
        head, headers = msg
        body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
        fault = self.plan[self.n % len(self.plan)]
        self.n += 1
        method, path = (head.split(b" ", 2) + [b"?", b"?"])[:2]
        method, path = method.decode("latin-1"), path.decode("latin-1")

        try:
            if fault in ("500", "503"):
                reason = "Internal Error" if fault == "500" else "Service Unavailable"
                code = "InternalError" if fault == "500" else "SlowDown"
                xml = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                       f"<Message>injected by fault_proxy</Message></Error>").encode()
                writer.write(f"HTTP/1.1 {fault} {reason}\r\nContent-Type: application/xml\r\n"
                             f"Content-Length: {len(xml)}\r\nConnection: close\r\n\r\n".encode()
                             + (xml if method != "HEAD" else b""))
                await writer.drain()
                writer.close()
            elif fault == "reset":
                reset(writer)
            else:
                if fault == "slow":
                    await asyncio.sleep(self.slow)
                up_r, up_w = await asyncio.open_connection(self.host, self.port)
                up_w.write(with_connection_close(head) + body)
                await up_w.drain()
                resp = await read_message_head(up_r)
                rest = await up_r.read()
                up_w.close()
                if resp is None:
                    reset(writer)
                    fault = "reset (upstream closed)"
                else:
                    resp_head, _ = resp
                    if fault == "truncate" and len(rest) >= 2:
                        writer.write(with_connection_close(resp_head) + rest[: len(rest) // 2])
                        await writer.drain()
                        reset(writer)
                    elif fault == "truncate":
                        reset(writer)
                        fault = "reset (no body to truncate)"
                    else:
                        writer.write(with_connection_close(resp_head) + rest)
                        await writer.drain()
                        writer.close()
        except (ConnectionError, OSError):
            fault += " (client went away)"
        self.log.write(json.dumps({"n": self.n - 1, "method": method, "path": path,
                                   "range": headers.get("range"), "fault": fault}) + "\n")


async def main(argv):
    slow = 3.0
    if "--slow" in argv:
        i = argv.index("--slow")
        slow = float(argv[i + 1])
        del argv[i:i + 2]
    port, upstream, plan, log_path = argv
    proxy = FaultProxy(upstream, plan.split(","), log_path, slow)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", int(port))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
