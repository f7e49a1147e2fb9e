"""The sandbox page in a real browser: `python -m bot sandbox` as a process, and a driver that uses
the page as a trainee does (clicks and typing in headless Chromium, through Playwright).

Debian's Chromium is used (`make test` installs it); Playwright never downloads a browser here.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

CHROMIUM = Path("/usr/bin/chromium")
# Answers travel bot → outbox → worker → fake server → event stream → page: seconds, not more.
WAIT_MS = 20_000
# The bot lets a citizen send 6 messages per 3 s (FLOOD_LIMIT / FLOOD_WINDOW_SECONDS); on VK every
# button is a message, and a test clicks faster than any person: keep a person's pace.
CITIZEN_GAP_SECONDS = 0.55


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def sandbox_process(cwd: Path, port: int, startup: float = 45.0) -> Iterator[str]:
    """`python -m bot sandbox --port PORT` run in `cwd` until /healthz answers 200; yields the page
    URL and stops the process with SIGINT (as Ctrl+C) on exit."""
    log = (cwd / "sandbox.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--port", str(port)],
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + startup
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the sandbox exited: {(cwd / 'sandbox.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}healthz", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"/healthz not 200 within {startup} s")
            time.sleep(0.2)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def _label(text: str, exact: bool) -> str | re.Pattern[str]:
    """A `has_text` matcher: the whole label, case and all, unless `exact` is False."""
    return re.compile(f"^{re.escape(text)}$") if exact else text


class SandboxPage:
    """The trainee at the page: the citizen's phone, a body's operator chat, the comms chat."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.citizen = page.get_by_test_id("citizen-pane")
        self.operator = page.get_by_test_id("operator-pane")
        self.comms = page.get_by_test_id("comms-pane")
        self._last_citizen_action = 0.0

    def _pace(self) -> None:
        wait = self._last_citizen_action + CITIZEN_GAP_SECONDS - time.monotonic()
        if wait > 0:
            self.page.wait_for_timeout(wait * 1000)
        self._last_citizen_action = time.monotonic()

    # ------------------------------------------------------------------ the citizen's phone

    def new_citizen(self, platform: str, name: str, language: str = "ru") -> None:
        """Create a citizen and open their phone."""
        form = self.citizen.locator("#new-citizen")
        form.locator("select[name=platform]").select_option(platform)
        form.locator("input[name=name]").fill(name)
        form.locator("select[name=language]").select_option(language)
        form.locator("button[type=submit]").click()
        expect(self.citizen.locator("#citizen-title")).to_contain_text(name, timeout=WAIT_MS)

    def citizen_last(self) -> Locator:
        """The newest message on the phone."""
        return self.citizen.locator("#citizen-messages > li").last

    def citizen_sees(self, text: str) -> None:
        """Wait until the phone's newest message shows `text`."""
        expect(self.citizen_last()).to_contain_text(text, timeout=WAIT_MS)

    def citizen_message(self, text: str) -> Locator:
        """The newest message on the phone showing `text`, once there is one."""
        message = self.citizen.locator("#citizen-messages > li", has_text=text).last
        expect(message).to_be_visible(timeout=WAIT_MS)
        return message

    def citizen_types(self, text: str) -> None:
        """Type and send a message."""
        compose = self.citizen.locator("#citizen-compose")
        compose.locator("input[name=text]").fill(text)
        self._pace()
        compose.locator("button[type=submit]").click()

    def citizen_presses(self, label: str, *, exact: bool = True) -> None:
        """Press the newest inline button labelled `label` (or containing it, when not `exact`)."""
        button = self.citizen.locator(".inline-button", has_text=_label(label, exact)).last
        expect(button).to_be_visible(timeout=WAIT_MS)
        self._pace()
        button.click()

    def citizen_taps(self, label: str, *, exact: bool = True) -> None:
        """Tap the button of the keyboard under the chat labelled `label` (or containing it)."""
        button = self.citizen.locator(".reply-button", has_text=_label(label, exact)).first
        expect(button).to_be_visible(timeout=WAIT_MS)
        self._pace()
        button.click()

    def _attachments(self) -> Locator:
        box = self.citizen.locator("#attachments")
        if box.is_hidden():
            self.citizen.locator("#attach-toggle").click()
        return box

    def citizen_sends_picture(self, name: str) -> None:
        """Attach one of the page's pictures."""
        picture = self._attachments().locator(f".picture[data-picture={name}]")
        self._pace()
        picture.click()

    def citizen_clicks_town(self, town: str) -> None:
        """Share a location by clicking a town's dot on the oblast drawing."""
        dot = self._attachments().locator(f'.town[data-name="{town}"] circle')
        self._pace()
        dot.click()

    def citizen_shares_contact(self, phone: str) -> None:
        """Share a phone number (a contact on Telegram, typed on VK)."""
        form = self._attachments().locator("#contact-form")
        form.locator("input[name=phone]").fill(phone)
        self._pace()
        form.locator("button[type=submit]").click()

    # ------------------------------------------------------------------ the operator chat

    def open_body(self, body_id: str) -> None:
        """Show the operator chat of `body_id`."""
        self.operator.locator("#body-pick").select_option(body_id)

    def open_topic(self, name: str) -> None:
        """Open the forum topic whose name contains `name`."""
        topic = self.operator.locator(".topic-item button", has_text=name).first
        expect(topic).to_be_visible(timeout=WAIT_MS)
        topic.click()
        expect(self.operator.locator(".topic-item.current")).to_contain_text(name, timeout=WAIT_MS)

    def operator_sees(self, text: str) -> None:
        """Wait until some message of the open topic shows `text`."""
        message = self.operator.locator("#operator-messages > li", has_text=text).last
        expect(message).to_be_visible(timeout=WAIT_MS)

    def operator_presses(self, label: str, *, exact: bool = True) -> None:
        """Press the newest button in the open topic labelled `label` (or containing it)."""
        button = self.operator.locator(".inline-button", has_text=_label(label, exact)).last
        expect(button).to_be_visible(timeout=WAIT_MS)
        button.click()

    def operator_types(self, text: str) -> None:
        """Write in the open topic."""
        compose = self.operator.locator("#operator-compose")
        compose.locator("input[name=text]").fill(text)
        compose.locator("button[type=submit]").click()

    def toast_says(self, text: str) -> None:
        """Wait until the toast (or alert) a button press popped up shows `text`."""
        expect(self.page.get_by_test_id("toast")).to_contain_text(text, timeout=WAIT_MS)

    # ------------------------------------------------------------------ the comms chat

    def comms_types(self, text: str) -> None:
        """Write in the comms chat as the trainee's comms member."""
        compose = self.comms.locator("#comms-compose")
        compose.locator("input[name=text]").fill(text)
        compose.locator("button[type=submit]").click()

    def screenshot(self, folder: Path, name: str) -> None:
        """Save the whole page and each pane as PNGs named after `name`."""
        folder.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(folder / f"{name}-page.png"), full_page=True)
        for pane, locator in (("citizen", self.citizen), ("operator", self.operator), ("comms", self.comms)):
            locator.screenshot(path=str(folder / f"{name}-{pane}.png"))
