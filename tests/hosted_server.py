"""A local HTTP server on 127.0.0.1 that speaks a hosted API's endpoints, for the hosted adapters' tests.

Each test declares the routes its SDK calls (method + path regex -> handler);
the SDK is pointed at `server.url` through its own base-URL setting, never
patched. Every request is recorded (`server.calls`), so a test can count
submissions.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np


@dataclass
class Request:
    method: str
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body or b"{}")


@dataclass
class Reply:
    status: int = 200
    body: object = None  # dict/list -> JSON, bytes -> as they are
    headers: dict = field(default_factory=dict)


class FakeAPI:
    """Routes, calls and a server thread; use as a context manager."""

    def __init__(self, tls: "tuple[str, str] | None" = None, port: int = 0) -> None:
        """tls: (certificate PEM path, key PEM path) to serve HTTPS (an SDK whose address is https only)."""
        self.routes: list[tuple[str, re.Pattern, object]] = []
        self.calls: list[Request] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _serve(self):
                n = int(self.headers.get("content-length") or 0)
                req = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                              self.rfile.read(n) if n else b"")
                api.calls.append(req)
                reply = api.dispatch(req)
                body = reply.body
                data = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
                self.send_response(reply.status)
                ctype = "application/octet-stream" if isinstance(body, bytes) else "application/json"
                for k, v in {"content-type": ctype, **reply.headers}.items():
                    self.send_header(k, str(v))
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        scheme = "http"
        if tls is not None:
            import ssl

            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.port = self.server.server_address[1]
        self.url = f"{scheme}://127.0.0.1:{self.port}"

    def route(self, method: str, pattern: str):
        def register(fn):
            self.routes.append((method, re.compile(pattern), fn))
            return fn
        return register

    def dispatch(self, req: Request) -> Reply:
        path = req.path.split("?")[0]
        for method, pattern, fn in self.routes:
            m = pattern.fullmatch(path)
            if method == req.method and m:
                out = fn(req, *m.groups())
                return out if isinstance(out, Reply) else Reply(200, out)
        return Reply(404, {"error": f"no route for {req.method} {path}"})

    def count(self, method: str, pattern: str) -> int:
        return sum(1 for c in self.calls if c.method == method and re.fullmatch(pattern, c.path.split("?")[0]))

    def __enter__(self) -> "FakeAPI":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class RunwayAPI(FakeAPI):
    """Runway's task API: POST /v1/text_to_video | image_to_video -> a task; GET /v1/tasks/ID; uploads."""

    def __init__(self, video: bytes) -> None:
        super().__init__()
        self.video, self.script, self.tasks = video, ["RUNNING", "SUCCEEDED"], {}
        self.failure = ("", "")  # (failure, failureCode) when the script says FAILED
        self.submit_errors: list[Reply] = []  # answered (in turn) before a submission is accepted

        def submit(req, kind):
            if self.submit_errors:
                return self.submit_errors.pop(0)
            tid = f"task-{len(self.tasks) + 1}"
            self.tasks[tid] = {"kind": kind, "body": req.json(), "states": list(self.script)}
            return {"id": tid}

        self.route("POST", r"/v1/(text_to_video|image_to_video)")(submit)

        @self.route("GET", r"/v1/tasks/([\w-]+)")
        def task(req, tid):
            states = self.tasks[tid]["states"]
            status = states.pop(0) if len(states) > 1 else states[0]
            out = {"id": tid, "status": status, "createdAt": "2026-12-03T12:00:00Z"}
            if status == "SUCCEEDED":
                out.update(output=[f"{self.url}/files/{tid}.mp4"], cost={"credits": 24})
            if status == "FAILED":
                out.update(failure=self.failure[0], failureCode=self.failure[1], cost={"credits": 0})
            return out

        @self.route("GET", r"/files/([\w-]+)\.mp4")
        def delivered(req, tid):
            """The video: bytes, or video(seconds) -> bytes for a video as long as the task asked."""
            video = self.video
            return Reply(200, video(self.tasks[tid]["body"]["duration"]) if callable(video) else video)
        self.route("POST", r"/v1/uploads")(lambda req: {"runwayUri": "runway://upload/1", "uploadUrl": f"{self.url}/s3",
                                                        "fields": {"key": "k"}})
        self.route("POST", r"/s3")(lambda req: Reply(204))

    def submissions(self) -> int:
        return self.count("POST", r"/v1/(text_to_video|image_to_video)")


def mp4_bytes(tmp_path, width: int, height: int, frames: int, fps: float) -> bytes:
    """A real H.264 MP4 of a moving gradient (what a provider delivers)."""
    from storyreel.output.clip import write_clip

    t = np.arange(frames)[:, None, None, None]
    x = np.linspace(0, 255, width)[None, None, :, None]
    video = ((x + 8 * t) % 256).astype(np.uint8).repeat(height, axis=1).repeat(3, axis=3)
    path = write_clip(video, fps, tmp_path / "delivered.mp4")
    return path.read_bytes()


def self_signed(folder) -> tuple[str, str]:
    """(certificate, key) PEM paths of a certificate for 127.0.0.1, made now (SSL_CERT_FILE may name it)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = f"{folder}/cert.pem", f"{folder}/key.pem"
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_path, key_path


class GenericAPI(FakeAPI):
    """A provider's job API in general terms: `script` is the states a job goes through ("running",
    "succeeded", "failed", "refused"); `submit_errors` are answered before a submission is accepted;
    `jobs` holds each accepted submission's JSON body. Subclasses add the provider's routes."""

    def __init__(self, video: bytes, **kw) -> None:
        super().__init__(**kw)
        self.video, self.script, self.reason = video, ["running", "succeeded"], "the worker crashed"
        self.submit_errors: list[Reply] = []
        self.jobs: dict[str, dict] = {}

    def accept(self, req: Request, prefix: str = "job") -> "str | Reply":
        """A new job id, or the next queued error."""
        if self.submit_errors:
            return self.submit_errors.pop(0)
        jid = f"{prefix}-{len(self.jobs) + 1}"
        self.jobs[jid] = {"body": req.json(), "states": list(self.script)}
        return jid

    def state(self, jid: str) -> str:
        states = self.jobs[jid]["states"]
        return states.pop(0) if len(states) > 1 else states[0]

    def submissions(self) -> int:
        return len(self.jobs)
