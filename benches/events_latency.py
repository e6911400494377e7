"""Client of benches/events.sh: event latency over server-sent events.

usage: events_latency.py BASE_URL SERVER_PID STREAMS [STREAMS ...]

For each count of open streams (one user each, so every stream is its own
instance polling its own user's events): open them, read each opening
frame, take the host's RSS before and after; then, one at a time, change a
user's name (PATCH /api/users/me, which commits a user.updated event in the
same statement) and time from the PATCH's response to the event's arrival
on that user's stream; the PATCH's own round trip, in the same rounds, is
the baseline. A random pause between rounds keeps the rounds from
locking onto the component's poll interval. Prints one Markdown row per
count. Standard library only: asyncio streams and HTTP/1.1 by hand.
"""

import asyncio
import json
import os
import random
import statistics
import sys
import time
import urllib.parse

ROUNDS = int(os.environ.get("EVENTS_ROUNDS", "100"))
PASSWORD = "password123"
OPEN_BATCH = 100


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def read_head(reader):
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    headers = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


async def read_chunks(reader, headers):
    """Yields the body's bytes as they come (chunked or not)."""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                return
            data = await reader.readexactly(size)
            await reader.readline()
            yield data
    elif "content-length" in headers:
        yield await reader.readexactly(int(headers["content-length"]))
    else:
        while data := await reader.read(65536):
            yield data


class Client:
    def __init__(self, base: str):
        url = urllib.parse.urlsplit(base)
        self.host, self.port = url.hostname, url.port or 80

    async def call(self, method, path, body=None, token=None):
        reader, writer = await asyncio.open_connection(self.host, self.port)
        payload = json.dumps(body).encode() if body is not None else b""
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nConnection: close\r\n"
        if token:
            head += f"Authorization: Bearer {token}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        writer.write(head.encode() + b"\r\n" + payload)
        await writer.drain()
        status, headers = await read_head(reader)
        data = b"".join([chunk async for chunk in read_chunks(reader, headers)])
        writer.close()
        return status, (json.loads(data) if data else None)

    async def user(self, email):
        status, _ = await self.call("POST", "/api/auth/register",
                                    {"email": email, "password": PASSWORD, "name": "Bench"})
        assert status in (201, 409), f"register {email}: {status}"
        status, tokens = await self.call("POST", "/api/auth/login", {"email": email, "password": PASSWORD})
        assert status == 200, f"login {email}: {status}"
        return tokens["access_token"]


class Stream:
    """One open GET /api/events; resolves a waiter when its name arrives."""

    def __init__(self, client, token):
        self.client, self.token = client, token
        self.waiting = {}
        self.opened = asyncio.get_running_loop().create_future()

    async def run(self):
        reader, writer = await asyncio.open_connection(self.client.host, self.client.port)
        writer.write((f"GET /api/events HTTP/1.1\r\nHost: {self.client.host}\r\n"
                      f"Accept: text/event-stream\r\nAuthorization: Bearer {self.token}\r\n\r\n").encode())
        await writer.drain()
        status, headers = await read_head(reader)
        assert status == 200, f"stream: {status}"
        self.writer = writer
        text = ""
        async for chunk in read_chunks(reader, headers):
            arrived = time.perf_counter()
            text += chunk.decode()
            while "\n\n" in text:
                frame, text = text.split("\n\n", 1)
                if not self.opened.done():
                    self.opened.set_result(True)
                fields = dict(line.split(": ", 1) for line in frame.split("\n") if ": " in line)
                if fields.get("event") == "user.updated":
                    name = json.loads(fields["data"])["data"]["user"]["name"]
                    waiter = self.waiting.pop(name, None)
                    if waiter and not waiter.done():
                        waiter.set_result(arrived)

    def close(self):
        self.writer.close()


async def measure(client, pid, tokens, count):
    before = rss_kib(pid)
    streams = [Stream(client, token) for token in tokens[:count]]
    tasks = []
    # Opened in batches, as clients arrive: all at once, a few hundred
    # instantiations queue past the host's admission wait and get 503.
    for first in range(0, count, OPEN_BATCH):
        batch = streams[first:first + OPEN_BATCH]
        tasks += [asyncio.create_task(stream.run()) for stream in batch]
        await asyncio.wait_for(asyncio.gather(*(s.opened for s in batch)), 60)
    await asyncio.sleep(2)
    per_stream = (rss_kib(pid) - before) / count
    latencies, writes = [], []
    for i in range(ROUNDS):
        await asyncio.sleep(random.uniform(0, 0.5))
        stream = streams[i % count]
        name = f"n{count}-{i}"
        waiter = asyncio.get_running_loop().create_future()
        stream.waiting[name] = waiter
        sent = time.perf_counter()
        status, _ = await client.call("PATCH", "/api/users/me", {"name": name}, stream.token)
        acknowledged = time.perf_counter()
        writes.append((acknowledged - sent) * 1000)
        assert status == 200, f"PATCH: {status}"
        arrived = await asyncio.wait_for(waiter, 10)
        latencies.append(max(0.0, arrived - acknowledged) * 1000)
    for stream in streams:
        stream.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"| {count} | {statistics.median(latencies):.0f} ms | {p99:.0f} ms | {latencies[-1]:.0f} ms "
          f"| {statistics.median(writes):.1f} ms | {per_stream:.0f} KiB |", flush=True)


async def main():
    base, pid, counts = sys.argv[1], int(sys.argv[2]), [int(n) for n in sys.argv[3:]]
    client = Client(base)
    tokens = [await client.user(f"events-{i}@example.com") for i in range(max(counts))]
    print("| open streams | delivery p50 | p99 | max | the PATCH itself, p50 | host RSS per open stream |")
    print("|---|---|---|---|---|---|")
    for count in counts:
        await measure(client, pid, tokens, count)


asyncio.run(main())
