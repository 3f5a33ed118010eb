"""The load of benchmark a: `--clients` connections, each posting one file after another
for `--seconds`, every file distinct (a FIT whose last record differs, CRC made right);
prints the latencies (ms) of the answers and how many were not the expected status.

asyncio with raw HTTP/1.1, so that the client spends as little of the machine's two
cores as it can: what it uses, the server cannot."""

from __future__ import annotations

import argparse
import asyncio
import json
import struct
import time
import uuid

from tests import factories, fitwriter


class Files:
    """~100 KB FIT files, each different: the last record's longitude moves by a counter,
    and the CRC is carried on from the unchanged prefix."""

    def __init__(self, *, points: int, first: int = 0) -> None:
        data = factories.fit(points=points, seed=7)
        self.prefix = data[:-6]  # everything but the last longitude (4) and the CRC (2)
        (self.lon,) = struct.unpack("<i", data[-6:-2])
        self.crc = fitwriter.crc16(self.prefix)
        self.count = first  # each load of a run starts elsewhere: no file is sent twice

    def next(self) -> bytes:
        self.count += 1
        tail = struct.pack("<i", self.lon + self.count)
        return self.prefix + tail + struct.pack("<H", fitwriter.crc16(tail, self.crc))


def request_bytes(path: str, token: str, data: bytes, port: int) -> bytes:
    boundary = uuid.uuid4().hex
    body = b"".join([
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
        f"filename=\"ride.fit\"\r\nContent-Type: application/octet-stream\r\n\r\n".encode(),
        data, f"\r\n--{boundary}--\r\n".encode()])
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    return head + body


async def _exchange(reader, writer, payload: bytes) -> tuple[int, bool]:
    """Send one request, read its answer; (status, whether the server keeps the line)."""
    writer.write(payload)
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    length, keep = 0, True
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value == "close":
            keep = False
    await reader.readexactly(length)
    return status, keep


async def _client(args, files: Files, until: float, latencies: list[float],
                  wrong: list[int]) -> None:
    reader = writer = None
    while time.monotonic() < until:
        payload = request_bytes(args.path, args.token, files.next(), args.port)
        started = time.perf_counter()
        if writer is None:
            reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
        try:
            status, keep = await _exchange(reader, writer, payload)
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()
            reader = writer = None
            wrong.append(0)
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        if status != args.expect:
            wrong.append(status)
        if not keep:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def main(args) -> dict:
    files = Files(points=args.points, first=args.first)
    latencies: list[float] = []
    wrong: list[int] = []
    started = time.monotonic()
    until = started + args.seconds
    await asyncio.gather(*(_client(args, files, until, latencies, wrong)
                           for _ in range(args.clients)))
    return {"latencies_ms": latencies, "wrong": wrong,
            "seconds": time.monotonic() - started, "file_bytes": len(files.next())}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--token", default="")
    parser.add_argument("--expect", type=int, default=202)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--points", type=int, default=7800)
    parser.add_argument("--first", type=int, default=0, help="where the file counter starts")
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
