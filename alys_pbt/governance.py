"""The suite's governance node: a real gRPC server (grpcio) of alys_pbt/governance.proto, in-process,
on a loopback port chosen when it first starts, that a test or state machine scripts.

It plays the Anduro governance side of the V2 governance stream (governance-stream.md §2): it
acknowledges each NodeRegistration (NodeRegistrationAck) and each Heartbeat (HeartbeatAck echoing
its sequence) unless told to be silent or to hold heartbeat answers back (late: released when the
script says), records every request of every stream in arrival order, answers signature requests
when and in the order the script chooses (or never), pushes federation updates, drops a stream
(UNAVAILABLE), stops (a partition: connections are refused), starts again on the same port (heal,
restart). Its message classes come from its own copy of the contract, compiled when first used
into a private descriptor pool, so the port's copy (alys/governance.proto) is never imported.

`running_server()` is the test context: it starts a server and, on leaving, stops it and checks
that nothing leaks: no server thread, stream reader, executor worker or client reader thread is
left, every client channel is closed, and the port can be bound again.
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

# gRPC's core logs each GOAWAY at info level; a dropped stream is routine here.
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
import grpc
from attrs import define, field
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from grpc_tools import protoc

PROTO = Path(__file__).with_name("governance.proto")
SERVICE = "governance.v1.GovernanceStream"
HEARTBEAT_MODES = ("answer", "late", "never")


@functools.cache
def messages() -> dict[str, Any]:
    """The message classes of the suite's governance.proto, by short name."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "governance.pb"
        if protoc.main(["protoc", f"-I{PROTO.parent}", f"--descriptor_set_out={out}", PROTO.name]) != 0:
            raise RuntimeError(f"protoc could not compile {PROTO}")
        files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file
    pool = descriptor_pool.DescriptorPool()
    for proto in files:
        pool.Add(proto)
    return {
        name.rsplit(".", 1)[1]: cls
        for name, cls in message_factory.GetMessages(list(files), pool=pool).items()
    }


_DROP, _END = object(), object()


@define
class Session:
    """One Stream call as the server sees it."""

    id: int
    received: list[Any] = field(factory=list)  # StreamRequests, in arrival order
    sent: list[Any] = field(factory=list)  # StreamResponses handed to gRPC, in order
    outbox: queue.SimpleQueue[Any] = field(factory=queue.SimpleQueue)
    queued: int = 0  # StreamResponses put in the outbox (counted when queued, not when sent)
    open: bool = True
    reader: threading.Thread | None = None

    def of_kind(self, kind: str) -> list[Any]:
        return [r for r in self.received if r.WhichOneof("payload") == kind]


class GovernanceServer:
    """A scriptable governance node (see the module docstring)."""

    def __init__(self, *, heartbeats: str = "answer", silent: bool = False, workers: int = 32) -> None:
        assert heartbeats in HEARTBEAT_MODES
        self.heartbeats, self.silent, self.workers = heartbeats, silent, workers
        self.port = 0
        self.sessions: list[Session] = []
        self.held: list[tuple[Session, Any]] = []  # heartbeat answers held back ("late")
        self.changed = threading.Condition()
        self._server: grpc.Server | None = None
        self._executor: futures.ThreadPoolExecutor | None = None
        self.starts = 0

    # --- lifecycle --------------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> int:
        """Serve on loopback: a port the OS picks the first time, the same port after that."""
        assert self._server is None, "already running"
        self._executor = futures.ThreadPoolExecutor(self.workers, thread_name_prefix="governance-server")
        server = grpc.server(self._executor, options=[("grpc.so_reuseport", 0)])
        handler = grpc.stream_stream_rpc_method_handler(
            self._stream,
            request_deserializer=messages()["StreamRequest"].FromString,
            response_serializer=messages()["StreamResponse"].SerializeToString,
        )
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, {"Stream": handler}),))
        self.port = server.add_insecure_port(f"127.0.0.1:{self.port}")
        if not self.port:
            raise OSError("could not bind a loopback port for the governance server")
        server.start()
        self._server = server
        self.starts += 1
        return self.port

    def stop(self) -> None:
        """Stop serving: every open stream ends (the client sees UNAVAILABLE or CANCELLED)."""
        if self._server is None:
            return
        self._server.stop(None).wait()
        self._server = None
        for session in self.sessions:
            session.outbox.put(_END)
            if session.reader is not None:
                session.reader.join(10.0)
        with self.changed:  # ended now, not whenever gRPC gets round to closing the handler
            for session in self.sessions:
                session.open = False
            self.changed.notify_all()
        assert self._executor is not None
        self._executor.shutdown(wait=True)
        self._executor = None

    def restart(self) -> None:
        self.stop()
        self.start()

    # --- the RPC ----------------------------------------------------------------------------------
    def _stream(self, requests: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
        with self.changed:
            session = Session(len(self.sessions) + 1)
            self.sessions.append(session)
        context.add_callback(lambda: session.outbox.put(_END))
        session.reader = threading.Thread(
            target=self._read, args=(session, requests), name=f"governance-server-reader-{session.id}"
        )
        session.reader.start()
        try:
            while True:
                item = session.outbox.get()
                if item is _END:
                    return
                if item is _DROP:
                    context.abort(grpc.StatusCode.UNAVAILABLE, "stream dropped by the script")
                with self.changed:
                    session.sent.append(item)
                yield item
        finally:
            with self.changed:
                session.open = False
                self.changed.notify_all()

    def _read(self, session: Session, requests: Iterator[Any]) -> None:
        try:
            for request in requests:
                with self.changed:
                    session.received.append(request)
                    self._auto_answer(session, request)
                    self.changed.notify_all()
        except grpc.RpcError:
            pass  # the stream ended under the reader
        with self.changed:
            self.changed.notify_all()

    def _auto_answer(self, session: Session, request: Any) -> None:
        msgs = messages()
        kind = request.WhichOneof("payload")
        if self.silent:
            return
        response = msgs["StreamResponse"]()
        response.metadata.request_id = request.metadata.request_id
        response.metadata.status = 1  # SUCCESS
        if kind == "node_registration":
            response.registration_ack.accepted = True
            response.registration_ack.assigned_node_id = f"node-{session.id}"
            self._queue(session, response)
        elif kind == "heartbeat" and self.heartbeats != "never":
            response.heartbeat_ack.sequence = request.heartbeat.sequence
            response.heartbeat_ack.original_timestamp = request.heartbeat.timestamp
            if self.heartbeats == "late":
                self.held.append((session, response))
            else:
                self._queue(session, response)

    def _queue(self, session: Session, response: Any) -> None:
        with self.changed:
            session.queued += 1
            session.outbox.put(response)
            self.changed.notify_all()

    # --- the script -------------------------------------------------------------------------------
    def wait(self, until: Callable[[], bool], timeout: float = 10.0) -> None:
        """Block until `until()` holds (a guard on a hung stream, never a clock the test reads)."""
        with self.changed:
            if not self.changed.wait_for(until, timeout):
                raise AssertionError(f"the governance server waited {timeout}s for {until.__doc__ or until}")

    def live(self) -> list[Session]:
        with self.changed:
            return [s for s in self.sessions if s.open]

    def session_of(self, request_id: str) -> Session | None:
        """The newest open stream on which the request arrived."""
        with self.changed:
            for session in reversed(self.sessions):
                if session.open and any(r.metadata.request_id == request_id for r in session.received):
                    return session
        return None

    def answer(
        self, request_id: str, status: int = 3, *, witnesses: int = 1, session: Session | None = None
    ) -> Any:
        """Answer a signature request on the stream it came in on (status: SignatureStatus number)."""
        session = session or self.session_of(request_id)
        assert session is not None, f"no open stream carried {request_id}"
        response = messages()["StreamResponse"]()
        response.metadata.request_id = request_id
        response.metadata.status = 1
        response.signature_response.status = status
        for i in range(witnesses):
            response.signature_response.signatures.add(signature=f"{request_id}/{i}".encode())
        self._queue(session, response)
        return response

    def push_update(self, session: Session, effective_height: int, members: tuple[str, ...]) -> Any:
        response = messages()["StreamResponse"]()
        response.federation_update.update_type = 3  # CONFIG_CHANGE
        response.federation_update.effective_height = effective_height
        for member in members:
            response.federation_update.members.add(member_id=member, weight=1, active=True)
        self._queue(session, response)
        return response

    def release_held(self) -> int:
        """Send the heartbeat answers held back ("late"); how many."""
        with self.changed:
            held, self.held = self.held, []
        for session, response in held:
            self._queue(session, response)
        return len(held)

    def drop(self, session: Session) -> None:
        """End one stream with UNAVAILABLE."""
        session.outbox.put(_DROP)


def port_is_free(port: int) -> bool:
    """Whether nothing listens on the loopback port (SO_REUSEADDR: closed connections lingering in
    TIME_WAIT do not count, a listener does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def leaked_threads(before: set[int]) -> list[str]:
    """Python threads started since `before` (idents) that are still alive, after a bounded join."""
    left = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    for thread in left:
        thread.join(5.0)
    return sorted(t.name for t in left if t.is_alive())


@contextlib.contextmanager
def running_server(**script: Any) -> Iterator[GovernanceServer]:
    """A started GovernanceServer; on leaving, stopped, with nothing of it or its clients left behind.

    The caller closes its clients (their channels and reader threads) before leaving."""
    before = {t.ident for t in threading.enumerate() if t.ident is not None}
    server = GovernanceServer(**script)
    server.start()
    try:
        yield server
    finally:
        server.stop()
    problems = []
    if server.running:
        problems.append("the server is still running")
    if any(s.open for s in server.sessions):
        problems.append(f"streams still open: {[s.id for s in server.sessions if s.open]}")
    if leaked := leaked_threads(before):
        problems.append(f"threads left running: {leaked}")
    if not port_is_free(server.port):
        problems.append(f"port {server.port} is still bound")
    assert not problems, "the governance server leaked: " + "; ".join(problems)
