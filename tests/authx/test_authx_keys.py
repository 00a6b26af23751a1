"""The ALB key fetch: bounded by one deadline (3 s), retries and backoff included."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from authx_support import ENV, AwsCalls, World, login

from authx import keys
from authx.errors import KeyUnavailable, KeyUnknown
from devstack.alb import SigningKey, mint

KID = "d3b07384-d113-4ec8-98c4-b0f1b23c6e4e"


class FakeClock:
    """`keys`' clock and sleep: time passes only when a fetch attempt or a backoff spends it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(keys, "_clock", fake.monotonic)
    monkeypatch.setattr(keys, "_sleep", fake.sleep)
    return fake


def test_a_stalled_key_service_is_given_three_seconds_in_all(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    allowed: list[float] = []

    def stalled(url: str, stop_at: float) -> bytes:
        allowed.append(stop_at - clock.now)
        clock.now = stop_at  # waits as long as it is allowed to, then times out
        raise TimeoutError("timed out")

    monkeypatch.setattr(keys, "_get", stalled)
    started = clock.now

    with pytest.raises(KeyUnavailable):
        keys.public_key("https://public-keys.example", KID)

    assert clock.now - started <= keys.FETCH_DEADLINE_SECONDS == 3.0
    assert allowed == [2.0, pytest.approx(0.9)]  # the retry gets what is left after backoff
    assert clock.slept == [0.1]


def test_quick_failures_are_retried_within_the_deadline(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[float] = []

    def refused(url: str, stop_at: float) -> bytes:
        attempts.append(clock.now)
        clock.now += 0.01
        raise ConnectionRefusedError("refused")

    monkeypatch.setattr(keys, "_get", refused)

    with pytest.raises(KeyUnavailable):
        keys.public_key("https://public-keys.example", KID)

    assert len(attempts) == keys.ATTEMPTS
    assert clock.slept == [0.1, 0.2]


@pytest.mark.parametrize(
    ("status", "error", "attempts"),
    [
        (403, KeyUnknown, 1),  # no key for this kid: not a token the ALB signed, not retried
        (404, KeyUnknown, 1),
        (503, KeyUnavailable, keys.ATTEMPTS),  # the service failing: retried, then a 502
        (302, KeyUnavailable, 1),  # a redirect is refused, not followed nor retried
    ],
)
def test_what_the_key_service_answers_decides_the_refusal(
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    error: type[Exception],
    attempts: int,
) -> None:
    calls: list[str] = []

    def answering(url: str, stop_at: float) -> bytes:
        calls.append(url)
        raise keys._Status(status)

    monkeypatch.setattr(keys, "_get", answering)

    with pytest.raises(error):
        keys.public_key("https://public-keys.example", KID)

    assert calls == [f"https://public-keys.example/{KID}"] * attempts


@pytest.fixture
def stalled_server() -> Iterator[tuple[str, list[socket.socket]]]:
    """A TCP server that accepts connections and never answers (nor closes them)."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_stalled_key_service_ends_the_login_at_the_deadline(
    world: World,
    signing_key: SigningKey,
    aws_calls: AwsCalls,
    monkeypatch: pytest.MonkeyPatch,
    stalled_server: tuple[str, list[socket.socket]],
) -> None:
    # Real sockets, a short deadline: the one attempt that connects waits until the deadline
    # (not a timeout per read), and no retry starts after it.
    url, accepted = stalled_server
    monkeypatch.setenv("ALB_PUBLIC_KEY_URL", url)
    monkeypatch.setattr(keys, "FETCH_DEADLINE_SECONDS", 0.3)
    world.grant("user#alice@example.com", ENV, "Admin")

    attempts_before = keys.fetch_count()

    response = login(mint(signing_key))

    assert response["statusCode"] == 502  # the token cannot be checked now: not the user's fault
    assert "token_key_unavailable" in response["body"]
    assert aws_calls.calls == []
    assert keys.fetch_count() - attempts_before == 1  # one attempt, ended by the deadline
    assert len(accepted) <= 1  # (the server thread may not have been scheduled to accept yet)


def test_key_answer_over_the_size_limit_is_refused(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keys, "_get", lambda url, stop_at: b"x" * (keys.MAX_KEY_BYTES + 1))

    response = login(mint(signing_key))

    assert response["statusCode"] == 502
    assert "token_key_unavailable" in response["body"]
    assert aws_calls.calls == []
