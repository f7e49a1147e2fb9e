"""One answer in an incident's topic reaches every reporter through the real aiogram code, within
Telegram's rates (counted at the local Bot API server); above the confirmation threshold the
author confirms first, and above the notices' four-eyes threshold another person approves."""

from __future__ import annotations

from typing import Any

from bot.app.wiring import App
from bot.sandbox.telegram import FakeTelegramServer
from tests.harness.filing import file_directly
from tests.harness.incidents import answered, crowd, operator_side
from tests.harness.pipeline import eventually
from tests.harness.telegram import deliver_all

ANSWER = "Освещение восстановлено по всей улице"


def busiest_second(times: list[float]) -> int:
    """The most calls within any one-second window."""
    times = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_sixty_reporters_one_confirmed_answer_within_rate_limits(
    database_url: str, app_factory: Any
) -> None:
    app: App = await app_factory(database_url, incident_confirm_reporters=50, notice_approval_threshold=1000)
    async with FakeTelegramServer() as tg:
        colleague = tg.user(901, first_name="Пётр")
        async with operator_side(app, tg, citizen_rates=True, members=(colleague,)) as side:
            ops, author = side.ops, side.admin
            lead_id, _ = await file_directly(app, "4999", "Не горят фонари на улице Ленина, темно")
            users = await crowd(app, lead_id, 59)
            for user_id in [*users, 4999]:
                tg.user(user_id)
            # The worker runs by itself; the joins' words trickle into the topic at the chat's rate.
            await eventually(lambda: bool(ops.topics()), within=20.0)
            thread = next(iter(ops.topics()))

            await ops.press(author, "✅ Ответить", message_thread_id=thread)
            await ops.replies()
            await ops.send_text(author, ANSWER, message_thread_id=thread)
            await tg.wait_for(
                lambda c: c.method == "sendMessage" and "уйдёт 60 жителям" in str(c.params.get("text"))
            )
            assert not [
                c for c in tg.calls if c.method == "sendMessage" and ANSWER in str(c.params.get("text"))
            ]

            await ops.press(colleague, "Отправить всем", contains=True, message_thread_id=thread)
            await answered(tg, "только автор")
            await ops.press(author, "Отправить всем", contains=True, message_thread_id=thread)
            await answered(tg, "Отправлено 60 жителям")

            def answers() -> list[float]:
                return [
                    c.at
                    for c in tg.calls
                    if c.method == "sendMessage" and ANSWER in str(c.params.get("text")) and c.ok
                ]

            await eventually(lambda: len(answers()) >= 60, within=30.0)
            sent = [
                c for c in tg.calls if c.method == "sendMessage" and c.ok and int(c.params["chat_id"]) > 0
            ]
    recipients = {int(c.params["chat_id"]) for c in sent if ANSWER in str(c.params.get("text"))}
    assert recipients == set(users) | {4999}
    assert len(answers()) == 60  # once each, whatever was pressed twice
    # Counted at the server: the overall rate plus its small burst (a tenth of it, see
    # TelegramMessenger._pace), and never more than the chat burst to one citizen.
    rate = app.settings.telegram_rate
    assert busiest_second([c.at for c in sent]) <= rate + max(1.0, rate / 10)
    per_chat: dict[int, list[float]] = {}
    for call in sent:
        per_chat.setdefault(int(call.params["chat_id"]), []).append(call.at)
    assert max(busiest_second(times) for times in per_chat.values()) <= 3


async def test_above_the_notice_threshold_a_second_person_approves(
    database_url: str, app_factory: Any
) -> None:
    app: App = await app_factory(database_url, incident_confirm_reporters=3, notice_approval_threshold=4)
    async with FakeTelegramServer() as tg:
        colleague = tg.user(901, first_name="Пётр")
        async with operator_side(app, tg, members=(colleague,)) as side:
            ops, author, worker = side.ops, side.admin, side.worker
            lead_id, _ = await file_directly(app, "4999", "Не горят фонари на улице Ленина, темно")
            for user_id in [*await crowd(app, lead_id, 4), 4999]:
                tg.user(user_id)
            await deliver_all(worker)
            thread = next(iter(ops.topics()))
            await ops.send_text(author, "Бригада выехала на место", message_thread_id=thread)
            assert "нужно подтверждение второго сотрудника" in "\n".join(
                m.text or "" for m in await ops.replies()
            )
            await ops.press(author, "Отправить всем", contains=True, message_thread_id=thread)
            await answered(tg, "другой сотрудник")
            await ops.press(colleague, "Отправить всем", contains=True, message_thread_id=thread)
            await answered(tg, "Отправлено 5 жителям")

            def relayed() -> list[object]:
                return [
                    c
                    for c in tg.calls
                    if c.method == "sendMessage" and "Бригада выехала" in str(c.params.get("text"))
                ]

            # The press is answered before the update's transaction commits (PostgreSQL pipeline):
            # the messages are delivered a moment later.
            await eventually(lambda: len(relayed()) >= 5, within=15.0)
            await deliver_all(worker)
    assert len(relayed()) == 5
