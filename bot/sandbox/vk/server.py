"""The local VK API server for one community: the aiohttp app on 127.0.0.1 (``/method/<name>``,
Bots Long Poll, photo upload and photo files), token, version and rate checks, and the group,
long poll and photo methods. Only the methods the bot calls are served.

vkbottle talks to it over HTTP::

    async with FakeVkServer() as server:
        api = API(server.token)
        api.API_URL = server.base_url           # "http://127.0.0.1:PORT/method/"
        citizen = server.user(7001)
        await citizen.send_text("Нет света")
        answer = await citizen.replies()
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from aiohttp import web

from bot.sandbox.vk.drivers import FakeVkUser
from bot.sandbox.vk.events import VkEvents
from bot.sandbox.vk.methods_messages import MessageMethods
from bot.sandbox.vk.records import (
    _IMAGE_MAGIC,
    _PHOTO_SIZES,
    _TINY_JPEG,
    DEFAULT_GROUP_ID,
    DEFAULT_TOKEN,
    LONG_POLL_MAX_WAIT,
    VkApiCall,
    _int_list,
    _int_param,
    _invalid,
    _VkError,
)


class FakeVkServer(MessageMethods, VkEvents):
    """A VK API server for one community on 127.0.0.1 that records every call and serves events."""

    def __init__(
        self,
        group_id: int = DEFAULT_GROUP_ID,
        token: str = DEFAULT_TOKEN,
        rate_limit: int = 20,
    ) -> None:
        """Create the server (``async with`` starts it). ``token`` is the only accepted token."""
        super().__init__(group_id, token, rate_limit)
        self._handlers.update(
            {
                name.lower(): handler
                for name, handler in {
                    "groups.getById": self._groups_get_by_id,
                    "groups.getLongPollServer": self._groups_get_long_poll_server,
                    "messages.send": self._messages_send,
                    "messages.sendMessageEventAnswer": self._messages_send_message_event_answer,
                    "photos.getMessagesUploadServer": self._photos_get_messages_upload_server,
                    "photos.saveMessagesPhoto": self._photos_save_messages_photo,
                }.items()
            }
        )

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/method/{name}", self._handle_method)
        app.router.add_route("*", "/lp/{group_id}", self._handle_long_poll)
        app.router.add_post("/upload/photo", self._handle_upload)
        app.router.add_get("/photos/{name}.jpg", self._handle_photo)

    def user(self, user_id: int, first_name: str = "Иван", lang_id: int = 0) -> FakeVkUser:
        """The scripted VK user with this id (created on first use; ``lang_id`` 0 ru, 3 en)."""
        if user_id <= 0:
            raise ValueError("VK user ids are positive")
        known = self._users.get(user_id)
        if isinstance(known, FakeVkUser):
            return known
        fake = FakeVkUser(self, user_id, first_name, lang_id)
        self._users[user_id] = fake
        return fake

    async def _params(self, request: web.Request) -> dict[str, str]:
        params: dict[str, str] = dict(request.query)
        if (
            request.method == "POST"
            and request.can_read_body
            and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, str):
                    params[key] = value
        return params

    async def _handle_method(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        try:
            params = await self._params(request)
        except ValueError:
            params = {}
        token = params.pop("access_token", None)
        auth = request.headers.get("Authorization", "")
        if token is None and auth.startswith("Bearer "):
            token = auth[len("Bearer ") :]
        now = time.monotonic()
        call = VkApiCall(method=name, params=params, at=now)
        self.requests.append(call)
        self._seen.append(now)
        while self._seen and self._seen[0] <= now - 1.0:
            self._seen.popleft()
        self.max_rps = max(self.max_rps, len(self._seen))
        self._in_flight += 1
        self._activity()
        body: dict[str, Any]
        try:
            result = await self._execute(name, params, token)
        except _VkError as error:
            call.error = error.code
            request_params = [
                {"key": "method", "value": name},
                {"key": "oauth", "value": "1"},
                *({"key": k, "value": v} for k, v in params.items()),
            ]
            body = {
                "error": {
                    "error_code": error.code,
                    "error_msg": error.message,
                    "request_params": request_params,
                    **error.extra,
                }
            }
        except Exception as exc:  # a bug in the fake itself: loud, but still in VK's shape
            call.error = 10
            body = {"error": {"error_code": 10, "error_msg": f"Internal server error: {exc!r}"}}
        else:
            call.result = result
            body = {"response": result}
        finally:
            call.done = True
            self._in_flight -= 1
            self._activity()
        return web.json_response(body, dumps=lambda obj: json.dumps(obj, ensure_ascii=False))

    def _activity(self) -> None:
        self._last_activity = asyncio.get_running_loop().time()
        self._changed.fire()

    async def _execute(self, name: str, params: dict[str, str], token: str | None) -> Any:
        handler = self._handlers.get(name.lower())
        if handler is None:
            raise _VkError(3)
        if token is None or not hmac.compare_digest(token, self.token):
            raise _VkError(5)
        version = params.get("v", "").strip()
        if not version:
            raise _VkError(8)
        try:
            if float(version) < 5.0:
                raise _VkError(8, "Invalid request: versions below 5.0 are no longer supported")
        except ValueError:
            raise _VkError(8, "Invalid request: invalid v (version) parameter") from None
        now = time.monotonic()
        while self._accepted and self._accepted[0] <= now - 1.0:
            self._accepted.popleft()
        if len(self._accepted) >= self.rate_limit:
            raise _VkError(6)
        self._accepted.append(now)
        self._inject_failure(name, params)
        return await handler(params)

    def _inject_failure(self, name: str, params: dict[str, str]) -> None:
        queue = self._failures.get(name.lower())
        if not queue:
            return
        peers: set[int] = set()
        for key in ("peer_id", "user_id"):
            with contextlib.suppress(_VkError):
                value = _int_param(params, key)
                if value is not None:
                    peers.add(value)
        for key in ("peer_ids", "user_ids"):
            with contextlib.suppress(_VkError):
                peers.update(_int_list(params, key))
        for index, failure in enumerate(queue):
            if failure.peer_id is None or failure.peer_id in peers:
                del queue[index]
                extra: dict[str, Any] = {}
                if failure.code == 14:
                    sid = secrets.token_hex(6)
                    extra = {"captcha_sid": sid, "captcha_img": f"{self.root_url}/captcha.php?sid={sid}"}
                raise _VkError(failure.code, **extra)

    async def _handle_long_poll(self, request: web.Request) -> web.Response:
        params = await self._params(request)
        if request.match_info["group_id"] != str(self.group_id) or params.get("key") not in self._lp_keys:
            return web.json_response({"failed": 2})
        if params.get("act") != "a_check":
            return web.json_response({"failed": 2})
        try:
            ts = int(params.get("ts", ""))
        except ValueError:
            return web.json_response({"failed": 1, "ts": str(self._current_ts)})
        if ts > self._current_ts or ts < self._ts_base:
            return web.json_response({"failed": 1, "ts": str(self._current_ts)})
        if ts > self._lp_acked_ts:
            self._lp_acked_ts = ts
            self._changed.fire()
        try:
            wait = min(max(int(params.get("wait", LONG_POLL_MAX_WAIT)), 0), LONG_POLL_MAX_WAIT)
        except ValueError:
            wait = LONG_POLL_MAX_WAIT
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while ts == self._current_ts and not self._closing and loop.time() < deadline:
            await self._lp_signal.wait(deadline - loop.time())
        updates = self._history[ts - self._ts_base :]
        for event in updates:
            self._fetched(event)
        if updates:
            self._changed.fire()
        return web.json_response(
            {"ts": str(self._current_ts), "updates": updates},
            dumps=lambda obj: json.dumps(obj, ensure_ascii=False),
        )

    async def _handle_upload(self, request: web.Request) -> web.Response:
        if request.query.get("sid") not in self._upload_sessions:
            return web.json_response({"error": "ERR_UPLOAD_BAD_SIGNATURE: upload url is invalid or expired"})
        data = b""
        if request.content_type == "multipart/form-data":
            form = await request.post()
            for key in ("photo", "file", "file1"):
                value = form.get(key)
                if isinstance(value, web.FileField):
                    data = value.file.read()
                    break
        if not data:
            return web.json_response({"error": "ERR_UPLOAD_FILE_NOT_UPLOADED: file not uploaded"})
        self.uploaded.append(data)
        photo = "[]"
        if data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
            token = secrets.token_hex(12)
            self._pending_uploads[token] = data
            photo = json.dumps(
                [
                    {
                        "markers_restarted": True,
                        "photo": f"{token}:w",
                        "sizes": [],
                        "latitude": 0,
                        "longitude": 0,
                    }
                ],
                separators=(",", ":"),
            )
        self._changed.fire()
        return web.json_response(
            {"server": self._upload_server, "photo": photo, "hash": self._upload_hash(photo)}
        )

    def _upload_hash(self, photo: str) -> str:
        message = f"{self._upload_server}:{photo}".encode()
        return hmac.new(self._upload_secret, message, hashlib.sha256).hexdigest()[:32]

    async def _handle_photo(self, request: web.Request) -> web.Response:
        data = self._photo_bytes.get(request.match_info["name"], _TINY_JPEG)
        return web.Response(body=data, content_type="image/jpeg")

    def _group_object(self, group_id: int) -> dict[str, Any]:
        own = group_id == self.group_id
        return {
            "id": group_id,
            "name": self.group_name if own else f"Сообщество {group_id}",
            "screen_name": self.screen_name if own else f"club{group_id}",
            "is_closed": 0,
            "type": "group",
        }

    async def _groups_get_by_id(self, params: dict[str, str]) -> Any:
        ids = _int_list(params, "group_ids") or _int_list(params, "group_id") or [self.group_id]
        return {"groups": [self._group_object(abs(i)) for i in ids], "profiles": []}

    async def _groups_get_long_poll_server(self, params: dict[str, str]) -> Any:
        group_id = _int_param(params, "group_id", required=True)
        if group_id != self.group_id:
            raise _VkError(15, "Access denied: no access to this group")
        key = secrets.token_hex(20)
        self._lp_keys.add(key)
        return {"key": key, "server": f"{self.root_url}/lp/{self.group_id}", "ts": str(self._current_ts)}

    async def _photos_get_messages_upload_server(self, params: dict[str, str]) -> Any:
        peer_id = _int_param(params, "peer_id")
        sid = secrets.token_hex(10)
        self._upload_sessions[sid] = peer_id
        return {
            "album_id": -3,
            "upload_url": f"{self.root_url}/upload/photo?act=do_add&aid=-3&gid={self.group_id}&sid={sid}",
            "user_id": 0,
            "group_id": self.group_id,
        }

    async def _photos_save_messages_photo(self, params: dict[str, str]) -> Any:
        photo = params.get("photo", "")
        server = _int_param(params, "server")
        if not photo or server != self._upload_server:
            raise _invalid("photo is undefined")
        if not hmac.compare_digest(params.get("hash", ""), self._upload_hash(photo)):
            raise _invalid("hash is invalid")
        try:
            items = json.loads(photo)
            token = str(items[0]["photo"]).split(":", 1)[0]
        except (ValueError, LookupError, TypeError):
            raise _invalid("photos_list is invalid") from None
        data = self._pending_uploads.pop(token, None)
        if data is None:
            raise _invalid("photos_list is invalid")
        owner_id = -self.group_id
        photo_id = next(self._photo_ids)
        access_key = secrets.token_hex(9)
        self._photos[(owner_id, photo_id)] = access_key
        sizes = []
        for t, w, h in _PHOTO_SIZES:
            name = f"g{self.group_id}_{photo_id}_{t}"
            self._photo_bytes[name] = data
            sizes.append({"height": h, "width": w, "type": t, "url": self.photo_url(name)})
        return [
            {
                "album_id": -3,
                "date": int(time.time()),
                "id": photo_id,
                "owner_id": owner_id,
                "access_key": access_key,
                "sizes": sizes,
                "text": "",
                "has_tags": False,
            }
        ]
