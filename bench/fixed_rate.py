"""Latency at a fixed request rate, below saturation: the p99 that `make bench` judges.

    python bench/fixed_rate.py --port 5100 --path /voice --body '<form>' --signature '<sig>' \
        --rate 2000 --seconds 5

Why not wrk's own p99: wrk (Debian's 4.1 has no rate limit, `-R` is wrk2's) drives a server as
fast as it answers, on the same 2 cores as the server. At that saturation the gevent workers'
p99 is 0.1-1.2 s for the bare Flask app and the helpline alike, while the p50 is 0.3 ms, and it
moves by several times from one 5 s round to the next: the tail belongs to the queue that the
load generator builds, not to either app. A phone line is never run at saturation, so the p99
is measured where a service runs: a fixed rate, the same for both servers.

Open loop: request i is due at start + i/rate whether or not earlier answers came back, sent on
one of `--connections` keep-alive connections (when all are busy it waits for one, and that
wait counts in its latency: a slow server cannot slow the clock down). Latency runs from the
moment the request is due (or, when the event loop wakes late, from when it woke: that lag is
the client's, not the server's) to the last byte of the answer. Standard library only (asyncio
streams). Prints one line `BENCH {json}` like bench/post.lua.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import time


async def _one(pool: asyncio.Queue, request: bytes, due: float, latencies: list[float],
               errors: list[int]) -> None:
    reader, writer = await pool.get()
    try:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = head[9:12]
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - due)
        if not status.startswith(b"2"):
            errors[0] += 1
    except (OSError, asyncio.IncompleteReadError, ValueError):
        errors[1] += 1
        writer.close()
        reader, writer = await asyncio.open_connection(*pool.address)  # type: ignore[attr-defined]
    pool.put_nowait((reader, writer))


async def run(host: str, port: int, path: str, body: str, signature: str, rate: float, seconds: float,
              connections: int) -> dict[str, float]:
    data = body.encode()
    request = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(data)}\r\n"
               + (f"X-Twilio-Signature: {signature}\r\n" if signature else "") + "\r\n").encode() + data
    pool: asyncio.Queue = asyncio.Queue()
    pool.address = (host, port)  # type: ignore[attr-defined]
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection(host, port))
    latencies: list[float] = []
    errors = [0, 0]  # non-2xx answers, failed requests
    tasks = set()
    total = int(rate * seconds)
    start = time.perf_counter()
    for i in range(total):
        due = start + i / rate
        now = time.perf_counter()
        if due > now:
            await asyncio.sleep(due - now)
        task = asyncio.create_task(_one(pool, request, max(due, time.perf_counter()), latencies, errors))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    duration = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait()[1].close()
    latencies.sort()

    def percentile(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] * 1e6 if latencies else 0.0

    return {"requests": len(latencies), "duration_us": duration * 1e6, "rate": rate,
            "p50_us": percentile(50), "p90_us": percentile(90), "p99_us": percentile(99),
            "max_us": latencies[-1] * 1e6 if latencies else 0.0,
            "status_errors": errors[0], "failed": errors[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/voice")
    parser.add_argument("--body", default="")
    parser.add_argument("--signature", default="")
    parser.add_argument("--rate", type=float, default=2000, help="requests per second")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    gc.disable()  # the client's own pauses would land in the servers' tail; it makes no cycles
    figures = asyncio.run(run(args.host, args.port, args.path, args.body, args.signature, args.rate,
                              args.seconds, args.connections))
    print("BENCH " + json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
