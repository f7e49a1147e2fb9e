"""The sandbox page's routes, mounted on the bot's own HTTP server (127.0.0.1 only): the page,
its static files and pictures, a JSON snapshot of the panes, a server-sent event stream saying
"something changed", and the POST actions (actions.py) that act through the messengers' drivers."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.core.i18n import SUPPORTED_LANGUAGES, Translator
from bot.sandbox.world import SandboxWorld
from bot.web.sandbox.actions import ACTIONS, ActionError
from bot.web.sandbox.oblast import HEIGHT, WIDTH, outline_points, projection, towns
from bot.web.sandbox.pictures import PICTURES, picture
from bot.web.sandbox.snapshot import snapshot
from bot.web.sandbox.training import TRAINING_ACTIONS, training_state
from bot.web.server import Mount

HERE = Path(__file__).parent
STATIC_PREFIX = "/sandbox/static"
# How often the event stream looks for changes, and how long it stays silent before a keep-alive.
CHANGE_POLL_SECONDS = 0.15
KEEPALIVE_SECONDS = 15.0
SPEEDS = (1, 10, 60, 600, 3600)
# Texts the script shows itself (everything else is rendered into the page).
SCRIPT_TEXTS = (
    "sandbox-bot",
    "sandbox-you",
    "sandbox-photo",
    "sandbox-location",
    "sandbox-contact",
    "sandbox-edited",
    "sandbox-no-citizen",
    "sandbox-no-topics",
    "sandbox-topic-general",
    "sandbox-topic-closed",
    "sandbox-error",
    "sandbox-general",
    "sandbox-approver-press",
    "sandbox-score",
    "sandbox-score-empty",
    "sandbox-card-first",
    "sandbox-card-answers",
    "sandbox-card-rating",
    "sandbox-card-escalations",
    "sandbox-card-waiting",
    "sandbox-no-deadline",
    "sandbox-deadline-moved",
)


def _own_hosts(request: web.Request) -> set[str]:
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    port = sockname[1] if isinstance(sockname, tuple) and len(sockname) >= 2 else None
    return {f"127.0.0.1:{port}", f"localhost:{port}"}


def refuse_foreign(request: web.Request, *, write: bool) -> None:
    """Refuse requests not made by the page itself.

    The sandbox listens on loopback only and its state is generated, but any other page the
    trainee's browser has open (another local dev server, a hostile site) can still send requests
    to 127.0.0.1: a Host header naming another name means DNS rebinding, and a POST whose Origin is
    not the page's own is cross-site request forgery. Demanding JSON too keeps out plain HTML
    forms, which cannot send it without a CORS preflight that this server never grants.
    """
    if request.host not in _own_hosts(request):
        raise web.HTTPMisdirectedRequest(text="the sandbox answers only to 127.0.0.1 and localhost")
    if write:
        if request.headers.get("Origin") != f"http://{request.host}":
            raise web.HTTPForbidden(text="cross-origin request refused")
        if request.content_type != "application/json":
            raise web.HTTPUnsupportedMediaType(text="JSON only")


def _image_type(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"GIF8"):
        return "image/gif"
    return "image/jpeg"


class SandboxPage:
    """The page of one world: templates, translations and a change counter for the stream."""

    def __init__(self, world: SandboxWorld) -> None:
        self.world = world
        self.translator = Translator()
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html", "j2"])
        )
        self.version = 0
        self.closing = asyncio.Event()

    def fingerprint(self) -> tuple[int, ...]:
        """Changes whenever a messenger got a call or an event, or the page acted."""
        telegram, vk = self.world.telegram, self.world.vk
        return (
            self.version,
            len(telegram.calls),
            sum(1 for call in telegram.calls[-32:] if call.done),
            len(vk.requests),
            sum(1 for call in vk.requests[-32:] if call.done),
            len(vk.events),
        )

    async def index(self, request: web.Request) -> web.Response:
        refuse_foreign(request, write=False)
        lang = request.query.get("lang", "ru")
        lang = lang if lang in SUPPORTED_LANGUAGES else "ru"

        def t(key: str, **args: Any) -> str:
            return self.translator.text(lang, key, args)

        html = self.templates.get_template("index.html.j2").render(
            t=t,
            lang=lang,
            other_lang="en" if lang == "ru" else "ru",
            static=STATIC_PREFIX,
            bodies=[(b.body_id, b.title) for b in self.world.body_chats.values()],
            towns=towns(),
            outline=outline_points(),
            projection=json.dumps(projection()),
            width=WIDTH,
            height=HEIGHT,
            pictures=list(PICTURES),
            speeds=SPEEDS,
            texts={key: t(key) for key in SCRIPT_TEXTS},
        )
        return web.Response(text=html, content_type="text/html")

    async def state(self, request: web.Request) -> web.Response:
        refuse_foreign(request, write=False)
        thread_raw = request.query.get("thread", "")
        thread = int(thread_raw) if thread_raw.lstrip("-").isdigit() else None
        body = snapshot(self.world, request.query.get("citizen"), request.query.get("body"), thread)
        body["training"] = await training_state(self.world, request.query.get("lang", "ru"))
        return web.json_response(body, dumps=lambda value: json.dumps(value, ensure_ascii=False))

    async def events(self, request: web.Request) -> web.StreamResponse:
        refuse_foreign(request, write=False)
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        loop = asyncio.get_running_loop()
        last: tuple[int, ...] | None = None
        quiet_since = loop.time()
        with contextlib.suppress(ConnectionResetError, asyncio.CancelledError):
            while not self.closing.is_set():
                mark = self.fingerprint()
                if mark != last:
                    last, quiet_since = mark, loop.time()
                    await response.write(f"event: change\ndata: {sum(mark)}\n\n".encode())
                elif loop.time() - quiet_since > KEEPALIVE_SECONDS:
                    quiet_since = loop.time()
                    await response.write(b": keep-alive\n\n")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.closing.wait(), CHANGE_POLL_SECONDS)
        return response

    async def act(self, request: web.Request) -> web.Response:
        refuse_foreign(request, write=True)
        name = request.match_info["action"]
        action = ACTIONS.get(name) or TRAINING_ACTIONS.get(name)
        if action is None:
            raise web.HTTPNotFound(text="no such action")
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="the body is not JSON") from None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="the body must be a JSON object")
        try:
            result = await action(self.world, body)
        except ActionError as error:
            return web.json_response({"error": str(error)}, status=422)
        finally:
            self.version += 1
        return web.json_response({"ok": True, **result})

    async def media(self, request: web.Request) -> web.Response:
        refuse_foreign(request, write=False)
        platform, ref = request.match_info["platform"], request.match_info["ref"]
        world = self.world
        data = world.telegram.file_data(ref) if platform == "tg" else world.vk.photo_data(ref)
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type=_image_type(data))

    async def picture(self, request: web.Request) -> web.Response:
        refuse_foreign(request, write=False)
        name = request.match_info["name"]
        if name not in PICTURES:
            raise web.HTTPNotFound()
        return web.Response(body=picture(name), content_type="image/png")

    async def on_shutdown(self, _app: web.Application) -> None:
        # Open event streams would otherwise hold the server's shutdown for its whole grace period.
        self.closing.set()


def sandbox_page(world: SandboxWorld) -> Mount:
    """Routes of the sandbox page for `world`."""
    page = SandboxPage(world)

    def mount(app: web.Application) -> None:
        app.router.add_get("/", page.index)
        app.router.add_get("/sandbox/state", page.state)
        app.router.add_get("/sandbox/events", page.events)
        app.router.add_post("/sandbox/api/{action:.+}", page.act)
        app.router.add_get("/sandbox/media/{platform:tg|vk}/{ref}", page.media)
        app.router.add_get("/sandbox/pictures/{name}.png", page.picture)
        app.router.add_static(STATIC_PREFIX, HERE / "static")
        app.on_shutdown.append(page.on_shutdown)

    return mount
