"""Who may send a notice: only comms staff compose and confirm; to everyone or above the threshold a
second person (comms or admin, never the composer) approves what exactly goes out; the CLI names
both people; every step is audited."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.__main__ import main
from bot.app.wiring import App
from bot.services.notices.content import Audience, NoticeDraft, NoticeKind, notice_hash
from bot.services.notices.service import NoticeStateError
from bot.services.staff.audit import AuditQuery, audit_events
from bot.services.staff.roles import NotAllowed, Principal
from storage.db import Database
from storage.models import Notice, OutboxMessage
from tests.harness.seeds import seed_subscribers

SHELL = Principal.shell()
BORIS = Principal.telegram(701, "Борис")  # comms: composes
VERA = Principal.telegram(702, "Вера")  # comms: the second pair of eyes
ANNA = Principal.telegram(703, "Анна")  # admin
OLEG = Principal.telegram(704, "Олег")  # an operator of a body: no right here
EKB = Audience(municipalities=("ekaterinburg",))
WATER = "24 ноября с 10:00 до 18:00 не будет горячей воды."


async def registry(app: App) -> None:
    await app.staff.add(SHELL, "701", "comms", name="Борис")
    await app.staff.add(SHELL, "702", "comms", name="Вера")
    await app.staff.add(SHELL, "703", "admin", name="Анна")
    body = next(iter(app.services.catalog.staff_scopes()["body"]))
    await app.staff.add(SHELL, "704", "operator", body, name="Олег")


async def rows_of(app: App, notice_id: int) -> int:
    async with app.db.session() as session:
        count = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.notice_id == notice_id)
        )
    return int(count or 0)


async def notice_audit(app: App) -> list[tuple[str, str, str | None]]:
    events = await audit_events(app.db, AuditQuery())
    return [
        (e.action, e.actor, e.role) for e in events if e.action.startswith("notice") or e.action == "refused"
    ]


async def test_a_5000_recipient_notice_waits_for_a_second_approver(
    database_url: str, app_factory: Any
) -> None:
    app: App = await app_factory(database_url)
    await registry(app)
    await seed_subscribers(app.db, 5000)
    notice_id = await app.notices.create(NoticeDraft(NoticeKind.OUTAGE, WATER, EKB), BORIS, chat_id=-100900)

    # The composer's "send": more than 1,000 recipients, so it waits. Nothing is queued yet.
    confirmation = await app.notices.confirm(notice_id, BORIS, chat_id=-100900)
    assert (confirmation.status, confirmation.recipients, confirmation.requested) == ("awaiting", 5000, True)
    assert await rows_of(app, notice_id) == 0
    again = await app.notices.confirm(notice_id, BORIS)  # a double tap asks nothing new
    assert (again.status, again.requested) == ("awaiting", False)

    # A single comms member cannot send it alone; nor can anyone without comms or admin.
    with pytest.raises(NotAllowed) as refused:
        await app.notices.approve(notice_id, BORIS, chat_id=-100900)
    assert refused.value.reason == "comms-self-approval"
    for outsider in (OLEG, Principal.telegram(705), Principal.telegram(702, anonymous=True), SHELL):
        with pytest.raises(NotAllowed):
            await app.notices.approve(notice_id, outsider)
    assert await rows_of(app, notice_id) == 0

    # A second comms member approves: it goes out at once, to everyone counted now.
    sent = await app.notices.approve(notice_id, VERA, chat_id=-100900)
    assert (sent.status, sent.recipients) == ("sending", 5000)
    assert await rows_of(app, notice_id) == 5000
    notice = await app.notices.get(notice_id)
    assert notice is not None and notice.approved_by == "tg:702 Вера" and notice.approved_at is not None
    assert notice.approval_hash == notice_hash(notice)
    with pytest.raises(NoticeStateError):
        await app.notices.approve(notice_id, VERA)

    assert await notice_audit(app) == [
        ("notice_composed", "tg:701", "comms"),
        ("refused", "tg:701", None),
        ("refused", "tg:704", None),
        ("refused", "tg:705", None),
        ("refused", "tg:702", None),
        ("refused", "cli", None),
        ("notice_approved", "tg:702", "comms"),
        ("notice_sent", "tg:702", "comms"),
    ]
    # The trail says who did what to which notice; the text stays in the notice row.
    assert all(WATER not in str(event.detail) for event in await audit_events(app.db, AuditQuery()))
    [approved] = await audit_events(app.db, AuditQuery(action="notice_approved"))
    assert approved.subject == f"notice:{notice_id}" and approved.chat_id == -100900
    [self_approval] = [
        e for e in await audit_events(app.db, AuditQuery(action="refused")) if e.actor == "tg:701"
    ]
    assert self_approval.detail["reason"] == "comms-self-approval"


async def test_everyone_needs_approval_however_few_and_an_admin_may_give_it(
    sqlite_url: str, app_factory: Any
) -> None:
    app: App = await app_factory(sqlite_url)
    await registry(app)
    await seed_subscribers(app.db, 2)
    notice_id = await app.notices.create(NoticeDraft(NoticeKind.INFO, WATER, Audience(everyone=True)), BORIS)
    assert (await app.notices.confirm(notice_id, BORIS)).awaiting
    assert (await app.notices.approve(notice_id, ANNA)).recipients == 2
    notice = await app.notices.get(notice_id)
    assert notice is not None and notice.approved_by == "tg:703 Анна"
    assert ("notice_approved", "tg:703", "admin") in await notice_audit(app)


async def test_below_the_threshold_the_composer_sends_alone(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url, notice_approval_threshold=3)
    await registry(app)
    await seed_subscribers(app.db, 3)
    notice_id = await app.notices.create(NoticeDraft(NoticeKind.INFO, WATER, EKB), BORIS)
    confirmation = await app.notices.confirm(notice_id, BORIS)
    assert (confirmation.status, confirmation.recipients) == ("sending", 3)
    notice = await app.notices.get(notice_id)
    assert notice is not None and notice.approved_by is None
    # The threshold is counted when it goes out: one more subscriber and the next one waits.
    await seed_subscribers(app.db, 1, first=910_000)
    second = await app.notices.create(NoticeDraft(NoticeKind.INFO, WATER, EKB), BORIS)
    assert (await app.notices.confirm(second, BORIS)).awaiting
    assert await notice_audit(app) == [
        ("notice_composed", "tg:701", "comms"),
        ("notice_sent", "tg:701", "comms"),
        ("notice_composed", "tg:701", "comms"),
    ]


async def test_an_edited_notice_loses_its_approval(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    await registry(app)
    await seed_subscribers(app.db, 2)
    everyone = Audience(everyone=True)
    notice_id = await app.notices.create(NoticeDraft(NoticeKind.INFO, "Черновик", everyone), BORIS)
    assert (await app.notices.confirm(notice_id, BORIS)).awaiting
    asked = (await app.notices.get(notice_id)).approval_hash  # type: ignore[union-attr]
    # The same content again changes nothing; a new text voids the request: a draft again.
    assert (
        await app.notices.update(notice_id, NoticeDraft(NoticeKind.INFO, "Черновик", everyone), BORIS)
        == "awaiting"
    )
    assert (
        await app.notices.update(notice_id, NoticeDraft(NoticeKind.INFO, WATER, everyone), BORIS) == "draft"
    )
    notice = await app.notices.get(notice_id)
    assert notice is not None and notice.approval_hash is None and notice.text == WATER
    with pytest.raises(NoticeStateError) as state:
        await app.notices.approve(notice_id, VERA)
    assert state.value.status == "draft"
    # Asked anew, for the new content.
    assert (await app.notices.confirm(notice_id, BORIS)).requested
    notice = await app.notices.get(notice_id)
    assert notice is not None and notice.approval_hash not in (None, asked)
    # Changed behind the service's back while awaiting: the hash no longer matches, nothing goes out.
    async with app.db.session() as session:
        await session.execute(update(Notice).where(Notice.id == notice_id).values(photo="AgACSwapped"))
    with pytest.raises(NoticeStateError) as state:
        await app.notices.approve(notice_id, VERA)
    assert state.value.status == "changed"
    assert await rows_of(app, notice_id) == 0
    # Only its composer edits it.
    with pytest.raises(NotAllowed):
        await app.notices.update(notice_id, NoticeDraft(NoticeKind.INFO, "x", everyone), VERA)


async def test_only_comms_staff_compose_and_only_the_composer_confirms(
    sqlite_url: str, app_factory: Any
) -> None:
    app: App = await app_factory(sqlite_url)
    await registry(app)
    await seed_subscribers(app.db, 2)
    draft = NoticeDraft(NoticeKind.INFO, WATER, EKB)
    for outsider in (ANNA, OLEG, Principal.telegram(705), SHELL):
        with pytest.raises(NotAllowed):
            await app.notices.create(draft, outsider)
    with pytest.raises(NotAllowed) as anonymous:
        await app.notices.create(draft, Principal.telegram(701, anonymous=True))
    assert anonymous.value.reason == "staff-anonymous"
    notice_id = await app.notices.create(draft, BORIS)
    with pytest.raises(NotAllowed):
        await app.notices.confirm(notice_id, VERA)
    # A revoked role is no role: Boris can neither confirm nor compose any more.
    await app.staff.revoke(SHELL, "701", "comms")
    with pytest.raises(NotAllowed):
        await app.notices.confirm(notice_id, BORIS)
    with pytest.raises(NotAllowed):
        await app.notices.require_composer(BORIS)
    async with app.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Notice)) == 1
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


async def test_steering_is_for_comms_admins_and_the_shell(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    await registry(app)
    await seed_subscribers(app.db, 2)
    notice_id = await app.notices.create(NoticeDraft(NoticeKind.INFO, WATER, EKB), BORIS)
    await app.notices.confirm(notice_id, BORIS)
    for outsider in (OLEG, Principal.telegram(705)):
        with pytest.raises(NotAllowed):
            await app.notices.pause(notice_id, outsider)
        with pytest.raises(NotAllowed):
            await app.notices.cancel(notice_id, outsider)
    assert await app.notices.pause(notice_id, VERA)
    assert await app.notices.resume(notice_id, ANNA)
    assert await app.notices.cancel(notice_id, SHELL)
    assert not await app.notices.cancel(notice_id, ANNA)
    [cancelled] = await audit_events(app.db, AuditQuery(action="notice_cancelled"))
    assert (cancelled.actor, cancelled.role, cancelled.detail) == ("cli", "shell", {"reason": "cancelled"})


def test_cli_names_two_registry_members_above_the_threshold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("NOTICE_APPROVAL_THRESHOLD", "2")

    def cli(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    def send(*args: str) -> tuple[int, str, str]:
        return cli("notice", "send", "--text", WATER, *args)

    assert cli("migrate")[0] == 0
    db = Database(url)
    asyncio.run(seed_subscribers(db, 3))
    asyncio.run(db.dispose())
    for user, role in (("701", "comms"), ("702", "comms"), ("703", "admin")):
        assert cli("staff", "add", user, "--role", role)[0] == 0

    # Counting needs nobody.
    assert send("--municipality", "ekaterinburg", "--dry-run")[:2] == (0, "recipients: 3\n")
    refusals = [
        (("--municipality", "ekaterinburg"), "--author"),
        (("--municipality", "ekaterinburg", "--author", "701"), "--approved-by"),
        (("--everyone", "--author", "701"), "--approved-by"),
        (("--everyone", "--author", "701", "--approved-by", "701"), "two different people"),
        (("--everyone", "--author", "799", "--approved-by", "702"), "799"),
        (("--everyone", "--author", "703", "--approved-by", "702"), "703"),  # an admin composes nothing
        (("--everyone", "--author", "701", "--approved-by", "799"), "799"),
        (("--everyone", "--author", "cli", "--approved-by", "702"), "cli"),
    ]
    for args, reason in refusals:
        code, _, err = send(*args)
        assert code == 2 and reason in err, (args, err)
    assert asyncio.run(_count(url, Notice)) == 0

    code, out, _ = send("--everyone", "--author", "701", "--approved-by", "702")
    assert code == 0 and out.endswith("approved by 702\nnotice 1: 3 recipients queued\n"), out
    code, out, _ = send("--municipality", "ekaterinburg", "--author", "702", "--approved-by", "703")
    assert code == 0 and out.endswith("notice 2: 3 recipients queued\n"), out
    assert asyncio.run(_count(url, OutboxMessage)) == 6
    code, out, _ = cli("audit", "--action", "notice_approved")
    assert code == 0 and "tg:702\tcomms" in out and "tg:703\tadmin" in out and "via=cli" in out
    assert cli("notice", "cancel", "2")[0] == 0
    assert "cli\tshell" in cli("audit", "--action", "notice_cancelled")[1]


async def _count(url: str, model: Any) -> int:
    db = Database(url)
    try:
        async with db.session() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        await db.dispose()
