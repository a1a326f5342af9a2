"""A loopback TCP proxy that makes every HTTP request cost a network round trip, and logs them.

Used by scripts/bench in front of the local S3 server (moto), so that kerchunk (s3fs/aiohttp)
and our tool (object_store/reqwest) pay the same latency per request as on S3:

* every chunk of bytes from client to server is forwarded `delay` seconds after it arrived
  (chunks keep their order and are not delayed cumulatively, so concurrent and pipelined
  requests overlap their waits as they would on a real link);
* a new connection waits `delay` once more before its first byte goes out (the TCP handshake:
  plain HTTP, no TLS, so real S3 over HTTPS costs one or two round trips more per connection);
* responses flow back untouched.

It also parses the request heads on the client-to-server stream (HTTP/1.1, one request at a
time per connection as both clients send them) and records per request: method, path, Range,
the time its head arrived, the time its last response byte went back and the response bytes.
`Proxy.take_log()` returns and clears that log; `rounds(log)` is the longest chain of requests
each of which started after the previous one ended: the number of round trips a client paid
one after another (independent of the client's own accounting).

Run in a thread of the benchmark driver (`Proxy(...).start()`), or standalone for debugging:
    python latency_proxy.py LISTEN_PORT UPSTREAM_HOST:PORT DELAY_MS
"""

import asyncio
import sys
import threading
import time


class _Request:
    __slots__ = ("method", "path", "range", "start", "end", "bytes")

    def __init__(self, method, path, rng, start):
        self.method, self.path, self.range = method, path, rng
        self.start = self.end = start
        self.bytes = 0

    def as_dict(self):
        return {"method": self.method, "path": self.path, "range": self.range,
                "start": self.start, "end": self.end, "bytes": self.bytes}


class _HeadParser:
    """Finds request heads in a client-to-server byte stream (skips bodies by Content-Length)."""

    def __init__(self):
        self.buf = b""
        self.body_left = 0

    def feed(self, data):
        heads = []
        self.buf += data
        while True:
            if self.body_left:
                n = min(self.body_left, len(self.buf))
                self.buf = self.buf[n:]
                self.body_left -= n
                if self.body_left:
                    return heads
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > 65536:  # not HTTP: stop looking
                    self.buf = b""
                return heads
            head, self.buf = self.buf[:end].decode("latin-1"), self.buf[end + 4:]
            lines = head.split("\r\n")
            parts = lines[0].split(" ")
            headers = {}
            for line in lines[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            try:
                self.body_left = int(headers.get("content-length", "0"))
            except ValueError:
                self.body_left = 0
            heads.append((parts[0] if parts else "?", parts[1] if len(parts) > 1 else "?",
                          headers.get("range")))


class Proxy:
    """The proxy; `start()` runs it on a daemon thread and returns once it listens."""

    def __init__(self, listen_port, upstream_host, upstream_port, delay_s):
        self.listen_port = listen_port
        self.upstream = (upstream_host, upstream_port)
        self.delay = delay_s
        self._log = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._loop = None
        self.port = None

    def start(self):
        threading.Thread(target=self._run, daemon=True).start()
        if not self._ready.wait(10):
            raise RuntimeError("latency proxy did not start")
        return self

    def set_delay(self, delay_s):
        self.delay = delay_s

    def take_log(self):
        """Completed and in-flight requests since the last call, as dicts; clears the log."""
        with self._lock:
            log, self._log = self._log, []
        return [r.as_dict() for r in log]

    def _run(self):
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._serve())

    async def _serve(self):
        server = await asyncio.start_server(self._handle, "127.0.0.1", self.listen_port,
                                            backlog=1024)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await server.serve_forever()

    async def _handle(self, creader, cwriter):
        loop = asyncio.get_running_loop()
        accepted = loop.time()
        delay = self.delay
        queue = asyncio.Queue()
        current = []  # the request whose response is flowing back (one per connection)
        parser = _HeadParser()

        async def pump():
            try:
                while True:
                    data = await creader.read(1 << 16)
                    now = loop.time()
                    for method, path, rng in parser.feed(data) if data else ():
                        r = _Request(method, path, rng, time.monotonic())
                        with self._lock:
                            self._log.append(r)
                        current[:] = [r]
                    queue.put_nowait((now + delay, data))
                    if not data:
                        return
            except (ConnectionError, OSError):
                queue.put_nowait((loop.time(), b""))

        pump_task = asyncio.ensure_future(pump())
        try:
            await asyncio.sleep(max(0.0, accepted + delay - loop.time()))  # handshake
            ureader, uwriter = await asyncio.open_connection(*self.upstream)
        except OSError:
            pump_task.cancel()
            cwriter.close()
            return

        async def forward():
            try:
                while True:
                    due, data = await queue.get()
                    wait = due - loop.time()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    if not data:
                        if uwriter.can_write_eof():
                            uwriter.write_eof()
                        return
                    uwriter.write(data)
                    await uwriter.drain()
            except (ConnectionError, OSError):
                return

        async def back():
            try:
                while True:
                    data = await ureader.read(1 << 16)
                    if not data:
                        break
                    cwriter.write(data)
                    await cwriter.drain()
                    if current:
                        r = current[0]
                        r.bytes += len(data)
                        r.end = time.monotonic()
            except (ConnectionError, OSError):
                pass
            finally:
                cwriter.close()

        fwd = asyncio.ensure_future(forward())
        await back()
        for t in (fwd, pump_task):
            t.cancel()
        uwriter.close()


def rounds(log):
    """Longest chain of requests in `log` each starting after the previous one ended."""
    reqs = sorted(log, key=lambda r: r["start"])
    # O(n log n): process by start time; a request extends the best chain among requests
    # that ended before it started.
    ends = sorted((r["end"], i) for i, r in enumerate(reqs))
    chain_at = [0] * len(reqs)
    j = 0
    best_ended = 0
    for i, r in enumerate(reqs):
        while j < len(ends) and ends[j][0] <= r["start"]:
            best_ended = max(best_ended, chain_at[ends[j][1]])
            j += 1
        chain_at[i] = best_ended + 1
    return max(chain_at, default=0)


def summarize(log):
    """(requests, response bytes, rounds) of a log (every method: GET and HEAD alike)."""
    return len(log), sum(r["bytes"] for r in log), rounds(log)


if __name__ == "__main__":
    port, upstream, ms = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    host, _, uport = upstream.rpartition(":")
    p = Proxy(port, host, int(uport), ms / 1000).start()
    print(f"proxy on 127.0.0.1:{p.port} -> {upstream}, {ms} ms per request", flush=True)
    try:
        while True:
            time.sleep(5)
            log = p.take_log()
            if log:
                print("requests %d bytes %d rounds %d" % summarize(log), flush=True)
    except KeyboardInterrupt:
        pass
