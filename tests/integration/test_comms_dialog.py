"""The comms composer's rules with no messenger: the draft, the audience filters, the typed input."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from bot.app.wiring import App
from bot.core.messages import Inbound, InboundKind, Text, View
from bot.services.geo import MunicipalityDirectory
from bot.services.notices.content import Audience, NoticeKind
from bot.services.staff.roles import Principal
from dialogs.comms.draft import (
    AUDIENCE,
    CLAIM,
    KIND,
    PREVIEW,
    TEXT,
    Draft,
    draft_key,
    toggle_everyone,
    toggle_platform,
    toggle_sector,
    with_municipalities,
    with_reports,
)
from dialogs.comms.parsing import SEND_AGAIN, resolve_municipalities, resolve_reports
from dialogs.comms.registry import NOT_COMPOSER, build_comms_dialogs
from dialogs.comms.screens import SCOPE
from dialogs.engine import DialogRunner, Reply
from storage.state import MemoryStateStore
from tests.harness.seeds import seed_subscribers


@pytest.fixture(scope="module")
def directory() -> MunicipalityDirectory:
    return MunicipalityDirectory.load()


def test_draft_round_trips_and_ignores_unknown_fields() -> None:
    draft = Draft.new(thread=7)
    assert draft.step == KIND and draft.thread == 7 and 0 < draft.serial < 1_000_000_000
    draft.set_audience(Audience(municipalities=("ekaterinburg",)))
    again = Draft.from_json({**draft.to_json(), "from_an_older_deploy": 1})
    assert again == draft
    assert again.get_audience().municipalities == ("ekaterinburg",)
    assert draft_key(-100, 5) == "comms:-100:5"


def test_choosing_a_kind_starts_the_text_over() -> None:
    draft = Draft.new(None)
    draft.text, draft.photo = "old", "photo-1"
    draft.choose_kind(NoticeKind.FACTCHECK)
    assert draft.step == CLAIM and draft.text is None and draft.photo is None
    draft.choose_kind(NoticeKind.INFO)
    assert draft.step == TEXT and draft.kind == "info"


def test_everyone_clears_the_narrower_filters_but_not_platforms() -> None:
    chosen = Audience(municipalities=("ekaterinburg",), sectors=("roads",), platforms=("vk",))
    everyone = toggle_everyone(chosen)
    assert everyone == Audience(everyone=True, platforms=("vk",))
    assert toggle_everyone(everyone) == Audience(platforms=("vk",))


def test_sectors_and_platforms_toggle_in_order() -> None:
    audience = toggle_sector(Audience(everyone=True, reports=("26-000001",)), "roads")
    assert audience == Audience(sectors=("roads",))
    audience = toggle_sector(toggle_sector(audience, "housing"), "roads")
    assert audience.sectors == ("housing",)
    audience = toggle_platform(toggle_platform(audience, "tg"), "vk")
    assert audience.platforms == ("tg", "vk")
    assert toggle_platform(audience, "tg").platforms == ("vk",)


def test_reports_and_municipalities_exclude_each_other() -> None:
    base = Audience(everyone=True, municipalities=("ekaterinburg",), sectors=("roads",), platforms=("tg",))
    reports = with_reports(base, ["26-000042"])
    assert reports == Audience(reports=("26-000042",), platforms=("tg",))
    places = with_municipalities(reports, ["nizhny-tagil"])
    assert places == Audience(municipalities=("nizhny-tagil",), platforms=("tg",))


def test_municipalities_by_name_or_id_without_repeats(directory: MunicipalityDirectory) -> None:
    found, problems = resolve_municipalities("Екатеринбург, ekaterinburg; Нижний Тагил.", directory)
    assert problems == ()
    assert found == ["ekaterinburg", "nizhny-tagil"]


def test_unknown_municipalities_are_named_and_nothing_is_taken(directory: MunicipalityDirectory) -> None:
    found, problems = resolve_municipalities("Екатеринбург, Атлантида", directory)
    assert found == []
    assert problems[0] == Text("comms-municipalities-unknown", {"list": "Атлантида"})
    assert problems[-1] == SEND_AGAIN
    assert resolve_municipalities(" , ;", directory) == ([], (SEND_AGAIN,))


def test_report_numbers_are_normalised_by_shape_only() -> None:
    assert resolve_reports("26-42 №26-000042, #25-7\n26-43") == (["26-000042", "25-000007", "26-000043"], ())


def test_malformed_report_numbers_refuse_the_whole_list() -> None:
    found, problems = resolve_reports("26-42 abc 2026-1")
    assert found == []
    assert problems == (Text("comms-reports-malformed", {"list": "abc, 2026-1"}), SEND_AGAIN)
    assert resolve_reports("  ")[1][0] == Text("comms-reports-malformed", {"list": "—"})


# ------------------------------------------------------------------------------ on the dialog engine

CHAT = -100_900
WATER = "24 ноября с 10:00 до 18:00 в Кировском районе не будет горячей воды: ремонт теплотрассы."


@dataclass
class Member:
    """A comms chat member talking to the composer's runner, with no messenger."""

    app: App
    runner: DialogRunner
    user_id: int = 701
    replies: list[Reply] = field(default_factory=list)

    async def send(self, **fields: Any) -> list[View]:
        inbound = Inbound(
            platform="tg",
            user_id=str(self.user_id),
            conversation=draft_key(CHAT, self.user_id),
            sender_name="Борис",
            **fields,
        )
        reply = await self.runner.handle(inbound)
        self.replies.append(reply)
        return reply.views

    async def say(self, text: str) -> list[View]:
        if text.startswith("/"):
            return await self.send(kind=InboundKind.COMMAND, command=text[1:], text=text)
        return await self.send(kind=InboundKind.TEXT, text=text)

    async def press(self, action: str, text: str = "") -> list[View]:
        draft = await self.draft()
        serial = draft.serial if draft else 1
        return await self.send(kind=InboundKind.BUTTON, button=f"{SCOPE}:{action}:{serial}", text=text)

    def text(self, views: list[View]) -> str:
        translator = self.app.services.translator
        return "\n".join(translator.text("ru", line.key, line.args) for view in views for line in view.lines)

    @staticmethod
    def actions(view: View) -> list[str]:
        """The actions of a view's buttons, without the draft's serial."""
        return [b.id.split(":")[1] for b in view.all_buttons()]

    async def draft(self) -> Draft | None:
        state = await self.runner.services.state.get(draft_key(CHAT, self.user_id))
        return Draft.from_json(state["data"]) if state else None


@pytest.fixture
async def member(sqlite_url: str, app_factory: Any) -> Member:
    app: App = await app_factory(sqlite_url)
    await app.staff.add(Principal.shell(), "701", "comms")
    services = replace(app.services, notices=app.notices, state=MemoryStateStore())
    return Member(app, DialogRunner(services, build_comms_dialogs()))


async def test_a_draft_goes_from_kind_to_text_to_audience(member: Member) -> None:
    views = await member.say("/notice")
    assert "Выберите тип" in member.text(views)
    assert member.actions(views[0])[-1] == "x"
    views = await member.press("k-info")
    assert views[0].edit and "Тип: ℹ️ Информация" in member.text(views[:1])
    assert "Напишите текст" in member.text(views[1:])
    views = await member.say(WATER)
    assert "Кому отправить" in member.text(views)
    draft = await member.draft()
    assert draft is not None and draft.step == AUDIENCE and draft.text == WATER

    # A typed label is chat, not a press; an old step's button is stale.
    assert await member.say("✅ Готово") == []
    views = await member.press("k-info")
    assert views[0].alert and views[0].lines[0].key == "comms-stale"
    views = await member.press("a-done")
    assert views[0].alert  # nothing chosen yet

    views = await member.press("a-mun")
    assert views[0].edit and not views[0].lines
    views = await member.say("Екатеринбург, Атлантида")
    assert "Атлантида" in member.text(views)
    views = await member.say("Екатеринбург")
    assert "муниципалитеты: Екатеринбург" in member.text(views)
    views = await member.press("a-plat")
    assert views[0].edit and member.actions(views[0])[:2] == ["p-tg", "p-vk"]
    views = await member.press("p-vk")
    assert "мессенджер: ВКонтакте" in member.text(views)
    assert "✓ ВКонтакте" in [b.label.args.get("text") for b in views[0].all_buttons()]
    draft = await member.draft()
    assert draft is not None and draft.get_audience() == Audience(
        municipalities=("ekaterinburg",), platforms=("vk",)
    )


async def test_a_fact_check_asks_claim_facts_source_and_keeps_the_photo(member: Member) -> None:
    await member.say("/notice")
    views = await member.press("k-factcheck")
    assert "утверждение" in member.text(views)
    await member.send(kind=InboundKind.PHOTOS, photos=("small", "big"), text="Автобусы отменяют.")
    views = await member.say("Автобусы ходят по расписанию.")
    assert "источник" in member.text(views).lower()
    views = await member.say("x" * 501)
    assert "501" in member.text(views)
    views = await member.say("Департамент транспорта")
    assert "Кому отправить" in member.text(views)
    draft = await member.draft()
    assert draft is not None and (draft.claim, draft.photo, draft.source) == (
        "Автобусы отменяют.",
        "big",
        "Департамент транспорта",
    )


async def test_the_registry_is_asked_on_every_update(member: Member) -> None:
    await member.say("/notice")
    await member.press("k-info")
    await member.app.staff.revoke(Principal.shell(), "701")
    views = await member.say(WATER)
    assert views[0].lines[0].key == NOT_COMPOSER and not views[0].alert
    views = await member.press("x")
    assert views[0].alert and views[0].lines[0].key == NOT_COMPOSER
    # /cancel needs no role: the draft goes.
    views = await member.say("/cancel")
    assert "Черновик удалён" in member.text(views)
    assert await member.draft() is None
    assert (await member.say("/notice"))[0].lines[0].key == NOT_COMPOSER


async def test_anonymous_senders_are_refused(member: Member) -> None:
    views = await member.send(kind=InboundKind.COMMAND, command="notice", anonymous=True)
    assert views[0].lines[0].key == "comms-anonymous"
    assert await member.draft() is None


async def to_preview(member: Member) -> list[View]:
    await member.say("/notice")
    await member.press("k-info")
    await member.say(WATER)
    await member.press("a-mun")
    await member.say("Екатеринбург")
    return await member.press("a-done")


async def test_preview_then_send_small_notice(member: Member) -> None:
    await seed_subscribers(member.app.db, 3)
    views = await to_preview(member)
    assert views[0].edit and not views[0].lines
    text = member.text(views)
    assert "Предпросмотр" in text and WATER in text and "Получателей: 3" in text
    assert "одобрение" not in text
    citizen_buttons = [a for v in views[2:-1] for a in member.actions(v)]
    assert citizen_buttons and set(citizen_buttons) == {"pv"}
    assert (await member.press("pv"))[0].alert

    views = await member.press("ed")
    assert views[0].edit and "Что изменить" in member.text(views)
    views = await member.press("pv-back")
    assert "Получателей: 3" in member.text(views)

    views = await member.press("ok", text="📋 сводка")
    assert views[0].edit and member.text(views[:1]).startswith(
        "📋 сводка\n\n🚀 Отправка начата: получателей 3"
    )
    assert views[1].notice is not None and not views[1].edit
    assert await member.draft() is None
    notice = await member.app.notices.get(views[1].notice)
    assert notice is not None and notice.recipients == 3


async def test_a_big_notice_waits_and_an_edit_withdraws_it(member: Member) -> None:
    await seed_subscribers(member.app.db, 1001)
    views = await to_preview(member)
    assert "Перед отправкой нужно одобрение второго сотрудника" in member.text(views)
    views = await member.press("ok", text="📋 сводка")
    assert "Ждёт одобрения" in member.text(views[:1])
    assert member.actions(views[0]) == ["ed", "x"]
    notice_id = views[1].notice
    draft = await member.draft()
    assert draft is not None and draft.notice_id == notice_id and draft.step == PREVIEW
    assert (await member.press("ok"))[0].lines[0].key == "comms-awaiting-already"

    await member.press("ed")
    views = await member.press("e-aud")
    assert views[0] == View((), edit=True, notice=notice_id)
    assert "Кому отправить" in member.text(views)
    assert notice_id is not None
    stored = await member.app.notices.get(notice_id)
    assert stored is not None and stored.status == "cancelled"
    draft = await member.draft()
    assert draft is not None and draft.notice_id is None and draft.step == AUDIENCE


async def test_a_press_of_an_older_draft_is_stale(member: Member) -> None:
    await member.say("/notice")
    old = await member.draft()
    await member.say("/notice")
    assert old is not None
    views = await member.send(kind=InboundKind.BUTTON, button=f"cm:x:{old.serial}")
    assert views[0].alert and views[0].lines[0].key == "comms-stale"
    assert await member.draft() is not None
