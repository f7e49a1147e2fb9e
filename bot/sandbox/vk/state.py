"""The VK sandbox's world: peers, sent messages, events (long poll history or Callback API
delivery), photos, and the scripting and inspection entry points (no HTTP routing here)."""

from __future__ import annotations

import itertools
import re
import secrets
from collections import deque
from typing import Any

from bot.sandbox.loopback import LoopbackServer
from bot.sandbox.signal import Signal
from bot.sandbox.vk.records import (
    DEFAULT_GROUP_ID,
    DEFAULT_TOKEN,
    MAX_UPLOAD,
    VkApiCall,
    VkPerson,
    VkSentMessage,
    _Failure,
    _Handler,
    _Peer,
    _PendingAnswer,
)

_PHOTO_ATTACHMENT = re.compile(r"^photo(?P<owner>-?\d+)_(?P<id>\d+)(?:_[A-Za-z0-9]+)?$")


class VkState(LoopbackServer):
    """The state every part of the VK sandbox works on."""

    max_body = MAX_UPLOAD + 1024 * 1024

    def __init__(
        self,
        group_id: int = DEFAULT_GROUP_ID,
        token: str = DEFAULT_TOKEN,
        rate_limit: int = 20,
    ) -> None:
        """Create the server (``async with`` starts it). ``token`` is the only accepted token."""
        self.group_id = group_id
        self.token = token
        self.rate_limit = rate_limit
        self.group_name = "ЦУР Свердловской области"
        self.screen_name = f"club{group_id}"
        self.require_permission = False
        """When True, messages.send to a user who never wrote to the community fails with 901."""
        self.sent: list[VkSentMessage] = []
        self.requests: list[VkApiCall] = []
        self.uploaded: list[bytes] = []
        self.events: list[dict[str, Any]] = []
        """Every event scripted users made (by long poll or callback), in order (raw ones aside)."""
        self.callback_responses: list[tuple[int, str]] = []
        self.max_rps = 0
        super().__init__()
        self._users: dict[int, VkPerson] = {}
        self._peers: dict[int, _Peer] = {}
        self._message_ids = itertools.count(101)
        self._touch_seq = 0
        self._dedup: dict[tuple[int, int], VkSentMessage] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._answers: dict[str, _PendingAnswer] = {}
        # Long poll: every event since ts = _ts_base; keys handed out by getLongPollServer.
        self._history: list[Any] = []
        self._ts_base = 100
        self._lp_keys: set[str] = set()
        self._lp_signal = Signal()
        # The highest ts a long-poll request asked for: every event before it was fetched.
        self._lp_acked_ts = self._ts_base
        # Event id -> index into `requests` when the bot first got the event (poll or POST).
        self._fetched_at: dict[str, int] = {}
        # Photos: upload sessions, uploaded-not-saved files, saved photos, served bytes.
        self._upload_sessions: dict[str, int | None] = {}
        self._upload_server = 851_234
        self._upload_secret = secrets.token_bytes(16)
        self._pending_uploads: dict[str, bytes] = {}
        self._photos: dict[tuple[int, int], str] = {}
        self._photo_ids = itertools.count(457_239_017)
        self._photo_bytes: dict[str, bytes] = {}
        # Rate accounting: accepted calls (for error 6) and all calls (for max_rps).
        self._accepted: deque[float] = deque()
        self._seen: deque[float] = deque()
        self._in_flight = 0
        self._last_activity = 0.0
        self._changed = Signal()
        self._versions = itertools.count(10_000_001)
        self._handlers: dict[str, _Handler] = {}

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/method/`` — assign to vkbottle's ``API.API_URL``."""
        return f"{self.root_url}/method/"

    def _wake_waiters(self) -> None:
        self._lp_signal.fire()

    def fail_next(self, method: str, code: int, times: int = 1, peer_id: int | None = None) -> None:
        """Answer the next ``times`` calls of ``method`` with VK error ``code`` (nothing is done).

        With ``peer_id``, only calls addressed to that peer (peer_id/user_id/peer_ids) fail.
        Typical codes: 9 flood control, 10 internal error, 6 too many requests, 901/902 can't send.
        """
        queue = self._failures.setdefault(method.lower(), [])
        queue.extend(_Failure(code, peer_id) for _ in range(times))

    def block(self, peer_id: int) -> None:
        """The user forbade messages from the community: every later send to them fails with 901."""
        self._peer(peer_id).blocked = True

    def unblock(self, peer_id: int) -> None:
        """The user allowed messages again."""
        self._peer(peer_id).blocked = False

    def photo_url(self, name: str) -> str:
        """URL of a photo served by the fake (uploaded bytes for saved photos, else a tiny JPEG)."""
        return f"{self.root_url}/photos/{name}.jpg"

    def messages_to(self, peer_id: int) -> list[VkSentMessage]:
        """Messages the bot sent to that peer (latest content), in order."""
        peer = self._peers.get(peer_id)
        return list(peer.messages) if peer else []

    def keyboard_of(self, peer_id: int) -> dict[str, Any] | None:
        """The persistent keyboard the peer currently sees (None if none)."""
        peer = self._peers.get(peer_id)
        return peer.keyboard if peer else None

    def user_messages(self, user_id: int) -> list[dict[str, Any]]:
        """The messages ``user_id`` wrote to the community (the "message" of their message_new
        events), oldest first; ids share one sequence with the bot's, so they interleave by id."""
        return [
            event["object"]["message"]
            for event in self.events
            if event.get("type") == "message_new" and event["object"]["message"].get("from_id") == user_id
        ]

    def photo_data(self, attachment: str) -> bytes | None:
        """Bytes of a photo by its attachment string (``photo<owner>_<id>[_key]``) or by the size
        URL name it is served under; None when the fake holds no real bytes for it."""
        match = _PHOTO_ATTACHMENT.match(attachment)
        if match:
            owner, photo_id = int(match["owner"]), match["id"]
            prefix = f"g{-owner}" if owner < 0 else f"u{owner}"
            attachment = f"{prefix}_{photo_id}_x"
        return self._photo_bytes.get(attachment)

    def unanswered_events(self) -> list[str]:
        """Ids of message_event presses the bot never answered with sendMessageEventAnswer."""
        return [event_id for event_id, pending in self._answers.items() if not pending.answered]

    def event_answer(self, event_id: str) -> dict[str, Any] | None:
        """The ``event_data`` the bot answered a message_event with (None if none or unanswered)."""
        pending = self._answers.get(event_id)
        return pending.event_data if pending else None

    def calls_of(self, method: str) -> list[VkApiCall]:
        """All calls of ``method`` (case-insensitive), in order."""
        return [c for c in self.requests if c.method.lower() == method.lower()]

    def _enqueue(self, event: Any) -> None:
        self._history.append(event)
        self._lp_signal.fire()
        self._changed.fire()

    def _fetched(self, event: Any) -> None:
        event_id = event.get("event_id") if isinstance(event, dict) else None
        if isinstance(event_id, str):
            self._fetched_at.setdefault(event_id, len(self.requests))

    @property
    def _current_ts(self) -> int:
        return self._ts_base + len(self._history)

    def _peer(self, peer_id: int) -> _Peer:
        if peer_id not in self._peers:
            self._peers[peer_id] = _Peer(peer_id)
        return self._peers[peer_id]

    def _touch(self, message: VkSentMessage) -> None:
        self._touch_seq += 1
        message.touched = self._touch_seq
        self._changed.fire()
