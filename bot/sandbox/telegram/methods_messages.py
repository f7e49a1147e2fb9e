"""Bot API methods that send messages and media, and getFile."""

from __future__ import annotations

from typing import Any

from bot.sandbox.telegram.errors import MAX_DOWNLOAD, _bad
from bot.sandbox.telegram.markup import check_caption, check_text, validate_markup
from bot.sandbox.telegram.records import ApiCall
from bot.sandbox.telegram.state import TelegramState


class MessageMethods(TelegramState):
    """Bot API methods that send messages and media, and getFile."""

    async def _send_message(self, call: ApiCall) -> Any:
        params = call.params
        chat = self._resolve_chat(params.get("chat_id"))
        thread_id = self._resolve_thread(chat, params.get("message_thread_id"))
        markup = validate_markup(params.get("reply_markup"), private=chat.is_private)
        visible = check_text(params)
        reply_to = self._resolve_reply(chat, params)
        return self._bot_message(
            call,
            chat,
            {"text": visible},
            thread_id=thread_id,
            markup=markup,
            reply_to=reply_to,
            text=visible,
            sent_text=str(params["text"]),
        )

    async def _send_file_message(self, call: ApiCall, kind: str) -> Any:
        params = call.params
        chat = self._resolve_chat(params.get("chat_id"))
        thread_id = self._resolve_thread(chat, params.get("message_thread_id"))
        markup = validate_markup(params.get("reply_markup"), private=chat.is_private)
        caption = check_caption(params.get("caption"), params.get("parse_mode"))
        if params.get(kind) is None:
            raise _bad(f"there is no {kind} in the request")
        stored = self._resolve_file(call, params[kind], kind)
        reply_to = self._resolve_reply(chat, params)
        content = self._media_content(kind, stored)
        if caption is not None:
            content["caption"] = caption
        return self._bot_message(
            call,
            chat,
            content,
            thread_id=thread_id,
            markup=markup,
            reply_to=reply_to,
            text=caption,
            sent_text=params.get("caption"),
        )

    async def _send_photo(self, call: ApiCall) -> Any:
        return await self._send_file_message(call, "photo")

    async def _send_document(self, call: ApiCall) -> Any:
        # The bot relays operators' documents (answers with an attached PDF) to citizens.
        return await self._send_file_message(call, "document")

    async def _send_media_group(self, call: ApiCall) -> Any:
        params = call.params
        chat = self._resolve_chat(params.get("chat_id"))
        thread_id = self._resolve_thread(chat, params.get("message_thread_id"))
        media = params.get("media")
        if not isinstance(media, list) or len(media) < 2:
            raise _bad("too few media in the album: a media group must contain 2-10 items")
        if len(media) > 10:
            raise _bad("too many messages to send as an album")
        kinds = {str(item.get("type")) for item in media if isinstance(item, dict)}
        for exclusive in ("document", "audio"):
            if exclusive in kinds and len(kinds) > 1:
                raise _bad(f"{exclusive} can't be mixed with other media types")
        prepared = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in ("photo", "video", "document", "audio"):
                raise _bad("wrong type of the media specified")
            kind = str(item["type"])
            caption = check_caption(item.get("caption"), item.get("parse_mode"))
            prepared.append((kind, self._resolve_file(call, item.get("media"), kind), caption, item))
        reply_to = self._resolve_reply(chat, params)
        group_id = str(13_000_000_000_000_000 + next(self._counter))
        results = []
        for kind, stored, caption, item in prepared:
            content = {**self._media_content(kind, stored), "media_group_id": group_id}
            if caption is not None:
                content["caption"] = caption
            results.append(
                self._bot_message(
                    call,
                    chat,
                    content,
                    thread_id=thread_id,
                    markup=None,
                    reply_to=reply_to,
                    text=caption,
                    sent_text=item.get("caption"),
                )
            )
        return results

    async def _send_location(self, call: ApiCall) -> Any:
        params = call.params
        chat = self._resolve_chat(params.get("chat_id"))
        thread_id = self._resolve_thread(chat, params.get("message_thread_id"))
        markup = validate_markup(params.get("reply_markup"), private=chat.is_private)
        try:
            lat, lon = float(params["latitude"]), float(params["longitude"])
        except (KeyError, TypeError, ValueError) as exc:
            raise _bad("wrong latitude or longitude specified") from exc
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise _bad("wrong latitude or longitude specified")
        reply_to = self._resolve_reply(chat, params)
        return self._bot_message(
            call,
            chat,
            {"location": {"latitude": lat, "longitude": lon}},
            thread_id=thread_id,
            markup=markup,
            reply_to=reply_to,
        )

    async def _get_file(self, call: ApiCall) -> Any:
        stored = self._files.get(str(call.params.get("file_id", "")))
        if stored is None:
            raise _bad("invalid file_id")
        if stored.size > MAX_DOWNLOAD:
            raise _bad("file is too big")
        if stored.file_path is None:
            folder, ext = {
                "photo": ("photos", "jpg"),
                "voice": ("voice", "oga"),
                "sticker": ("stickers", "webp"),
                "video": ("videos", "mp4"),
            }.get(stored.kind, ("documents", "bin"))
            stored.file_path = f"{folder}/file_{next(self._counter)}.{ext}"
            self._paths[stored.file_path] = stored
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }
