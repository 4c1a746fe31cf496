#!/usr/bin/env python3
"""The attacks of a client on the same network, against a live pinhole-server on loopback, bounded
in time and count: slow-header and slow-body clients, almost-complete bodies pinning memory
(garbage, and batches of well-formed reports), a connection flood, and a catalogue of malformed
requests, all from 127.0.0.1 (and 127.0.<n>.<m>), while a normal
client on 127.0.0.2 fetches a collection's signed config. Asserts: the normal client's p99
latency stays under 100 ms and none of its requests fails; the server's resident memory grows by
less than MEM_LIMIT_MIB; every refusal the attackers get is application/problem+json (or a plain
close); nothing is stored.
usage: attack.py PORT SERVER_PID ANALYST_TOKEN"""
import asyncio
import os
import socket
import sys
import time

PORT, PID, TOKEN = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ATTACK_SECONDS = 12
MEM_LIMIT_MIB = 150
PIN_REPORT_CONNECTIONS = 40
refusals, bad_refusals, peak_rss, peak_held = [], [], [0], [0]


def rss_mib():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0


def source(group, i, per):
    """Attackers come from many loopback addresses (127.0.<group>.<n>, per connections each), so
    that the server-wide bounds are reached, not only the per-address ones."""
    return f"127.0.{group}.{1 + i // per}"


async def connect(src="127.0.0.1"):
    return await asyncio.open_connection("127.0.0.1", PORT, local_addr=(src, 0), limit=1 << 20)


async def read_answer(r, timeout):
    """The server's answer, up to timeout; b'' when it closed without one, None on timeout."""
    try:
        return await asyncio.wait_for(r.read(65536), timeout)
    except asyncio.TimeoutError:
        return None
    except ConnectionError:
        return b""


def judge(answer, what):
    """A refusal must be problem+json (or a plain close)."""
    if answer is None or answer == b"":
        return
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"http/1.") else 0
    if status >= 400:
        refusals.append(status)
        if b"content-type: application/problem+json" not in head:
            bad_refusals.append((what, answer[:300]))
    elif status == 0:
        bad_refusals.append((what, answer[:300]))


async def slow_header(n):
    async def one(i):
        try:
            r, w = await connect(source(1, i, 30))
            head = b"POST /v1/collections/1/reports HTTP/1.1\r\nHost: x\r\nX-Slow: "
            w.write(head)
            deadline = time.monotonic() + ATTACK_SECONDS
            while time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                if r.at_eof():
                    break
                w.write(b"a")  # each byte would reset an inactivity timeout
                try:
                    await w.drain()
                except ConnectionError:
                    break
                ans = await read_answer(r, 0.01)
                if ans is not None:
                    judge(ans, "slow header")
                    break
            w.close()
        except OSError:
            pass
    await asyncio.gather(*(one(i) for i in range(n)))


async def slow_body(n, length):
    async def one(i):
        try:
            r, w = await connect(source(2, i, 10))
            w.write(b"POST /v1/collections/1/reports HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % length)
            deadline = time.monotonic() + ATTACK_SECONDS
            while time.monotonic() < deadline:
                w.write(b"\0" * 10)
                try:
                    await w.drain()
                except ConnectionError:
                    break
                ans = await read_answer(r, 0.5)
                if ans is not None:
                    judge(ans, "slow body")
                    break
            w.close()
        except OSError:
            pass
    await asyncio.gather(*(one(i) for i in range(n)))


async def pin_bodies(n, length):
    async def one(i):
        try:
            r, w = await connect(source(3, i, 4))
            w.write(b"POST /v1/collections/1/reports HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % length)
            w.write(b"\1" * (length - 1))  # all but the last byte, then hold
            try:
                await w.drain()
            except ConnectionError:
                return
            judge(await read_answer(r, ATTACK_SECONDS), "pinned body")
            w.close()
        except OSError:
            pass
    await asyncio.gather(*(one(i) for i in range(n)))


def valid_reports(n):
    """A plain batch of n well-formed reports for collection 1 (PGR, zero payloads), built from
    its public description: what an attacker who read the config can send. Such a batch is
    decoded as it arrives, so holding it almost complete pins its reports' records only."""
    import json
    import struct
    import urllib.request
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}/v1/collections/1",
                                 headers={"Authorization": f"Bearer {TOKEN}"})
    c = json.load(urllib.request.urlopen(req, timeout=5))
    pb, fp = c["payload_bytes"], bytes.fromhex(c["fingerprint"])
    t = int(time.time()) // c["time_precision"]
    items = []
    for i in range(n):
        rep = struct.pack("<BBHIQ", 1, 1, 0, pb, 1) + fp + os.urandom(16) + struct.pack("<Q", t)
        items.append(struct.pack("<I", len(rep) + pb) + rep + bytes(pb))
    return struct.pack("<BBHI", 1, 0, 0, n) + b"".join(items)


async def pin_reports(n, count):
    body = valid_reports(count)
    async def one(i):
        try:
            r, w = await connect(source(5, i, 4))
            w.write(b"POST /v1/collections/1/reports HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n"
                    % len(body))
            w.write(body[:-1])  # all but the last byte, then hold
            try:
                await w.drain()
            except ConnectionError:
                return
            judge(await read_answer(r, ATTACK_SECONDS), "pinned reports")
            w.close()
        except OSError:
            pass
    await asyncio.gather(*(one(i) for i in range(n)))


async def flood(n):
    conns = []
    for i in range(n):
        try:
            conns.append(await connect(source(4, i, 50)))
        except OSError:
            pass
    await asyncio.sleep(2)
    for r, w in conns:  # the ones past the limits were answered at once
        ans = await read_answer(r, 0.001)
        if ans:
            judge(ans, "flood")
    await asyncio.sleep(ATTACK_SECONDS - 3)
    for r, w in conns:
        w.close()


CATALOGUE = [
    b"GET /healthz HTTP/1.1\r\n\r\n",  # no Host
    b"POST /v1/collections/1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream"
    b"\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n",
    b"POST /v1/collections/1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream"
    b"\r\nContent-Length: 5\r\n\r\n\x01\x00\x00\x00\x00",  # a batch of nothing, broken
    b"POST /v1/collections/1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 2\r\n\r\nhi",
    b"POST /v1/collections/1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream"
    b"\r\nContent-Length: 999999999999\r\n\r\n",
    b"POST /v1/collections HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: 13\r\n\r\n{\"epsilon\":1}",  # no token
    b"GET /v1/collections/1 HTTP/1.1\r\nHost: x\r\n\r\n",  # no token
    b"GET /v1/collections/99999/config HTTP/1.1\r\nHost: x\r\n\r\n",
    b"DELETE /v1/keys HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /v1/collections/1/histogram HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n",  # head too large
]


async def catalogue():
    for req in CATALOGUE * 3:
        try:
            r, w = await connect()
            w.write(req)
            await w.drain()
            judge(await read_answer(r, 3), req[:40])
            w.close()
        except OSError:
            pass


async def normal_client(latencies, failures):
    """A device fetching the signed config every 20 ms, on a connection of its own each time."""
    req = b"GET /v1/collections/1/config HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    end = time.monotonic() + ATTACK_SECONDS - 1
    await asyncio.sleep(1)  # the attacks are under way
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            r, w = await connect("127.0.0.2")
            w.write(req)
            data = await asyncio.wait_for(r.read(), 5)
            w.close()
            if not data.startswith(b"HTTP/1.1 200"):
                failures.append(data[:200])
        except (OSError, asyncio.TimeoutError) as e:
            failures.append(repr(e))
        latencies.append(time.monotonic() - t0)
        await asyncio.sleep(0.02)


def body_bytes_held():
    import urllib.request
    text = urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics", timeout=5).read().decode()
    for line in text.splitlines():
        if line.startswith("pinhole_body_buffer_bytes "):
            return int(line.split()[1])
    return 0


async def memory_watch():
    end = time.monotonic() + ATTACK_SECONDS + 1
    n = 0
    while time.monotonic() < end:
        peak_rss[0] = max(peak_rss[0], rss_mib())
        n += 1
        if n % 5 == 0:  # the request bodies the server holds (the gate's reservations)
            try:
                peak_held[0] = max(peak_held[0], await asyncio.to_thread(body_bytes_held))
            except OSError:
                pass
        await asyncio.sleep(0.1)


async def main():
    base = rss_mib()
    latencies, failures = [], []
    await asyncio.gather(slow_header(300), slow_body(40, 1 << 20), pin_bodies(100, 1 << 20),
                         pin_reports(PIN_REPORT_CONNECTIONS, 16000),
                         flood(1000), catalogue(), normal_client(latencies, failures),
                         memory_watch())
    latencies.sort()
    p99 = latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("inf")
    print(f"normal client: {len(latencies)} requests, p50 {latencies[len(latencies) // 2] * 1e3:.1f}"
          f" ms, p99 {p99 * 1e3:.1f} ms, {len(failures)} failed; server RSS {base:.0f} -> peak "
          f"{peak_rss[0]:.0f} MiB; {len(refusals)} refusals, statuses {sorted(set(refusals))}; "
          f"request bodies held at most {peak_held[0]} bytes, {PIN_REPORT_CONNECTIONS} connections "
          f"each holding {len(valid_reports(1)) - 8} x 16,000 - 1 bytes of reports")
    ok = True
    if failures:
        print("FAIL: normal requests failed:", failures[:3])
        ok = False
    if len(latencies) < 50 or p99 > 0.100:
        print(f"FAIL: p99 {p99 * 1e3:.1f} ms over {len(latencies)} requests (want < 100 ms)")
        ok = False
    if peak_rss[0] - base > MEM_LIMIT_MIB:
        print(f"FAIL: server memory grew by {peak_rss[0] - base:.0f} MiB")
        ok = False
    if bad_refusals:
        print("FAIL: refusals that are not problem+json:", bad_refusals[:3])
        ok = False
    if not refusals:
        print("FAIL: no refusal seen at all")
        ok = False
    sys.exit(0 if ok else 1)


asyncio.run(main())
