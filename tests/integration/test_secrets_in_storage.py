"""Secrets and storage: an SQL error logs no parameter, and the outbox stores its errors without
the token."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.app.wiring import App
from bot.core.messages import Text, View
from bot.delivery.outbox import Kind, enqueue, envelope
from bot.delivery.ports import Delivery, Failed, Outcome, Unreachable
from storage.models import OutboxMessage, Report
from tests.harness.secrets import PHONE, TG_TOKEN, install, log
from tests.harness.settings import START


async def test_sql_error_logs_no_parameters(
    database_url: str, app_factory: Any, caplog: pytest.LogCaptureFixture, scrubbed_logs: io.StringIO
) -> None:
    install(scrubbed_logs)
    app: App = await app_factory(database_url)
    body = app.services.catalog.route("housing", "ekaterinburg")

    def report() -> Report:
        return Report(
            intake_key="draft-ivan-petrov",
            platform="tg",
            text="Нет света, звоните Ивану Петрову",
            sector_id="housing",
            body_id=body,
            status="routed",
            phone=PHONE,
            language="ru",
            first_reaction_due=START,
            answer_due=START + timedelta(days=7),
        )

    async with app.db.session() as session:
        session.add(report())
    with pytest.raises(IntegrityError):
        try:
            async with app.db.session() as session:
                session.add(report())
        except IntegrityError:
            log.exception("filing failed")
            raise
    for text in (caplog.text, scrubbed_logs.getvalue()):
        assert "filing failed" in text and "IntegrityError" in text
        for value in (PHONE, "79120000001", "draft-ivan-petrov", "Ивану Петрову"):
            assert value not in text, text


class FailingMessenger:
    """Telegram answering like a broken network: the error text holds the file URL with the token."""

    platform = "tg"

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome

    async def deliver(self, delivery: Delivery) -> Outcome:
        return self.outcome


@pytest.mark.parametrize(
    "outcome",
    [
        Failed(f"ClientResponseError: 404, url='https://api.telegram.org/file/bot{TG_TOKEN}/photos/1.jpg'"),
        Unreachable(f"Forbidden at https://api.telegram.org/bot{TG_TOKEN}/sendMessage"),
    ],
)
async def test_outbox_stores_errors_without_tokens(
    sqlite_url: str, app_factory: Any, outcome: Outcome
) -> None:
    app: App = await app_factory(sqlite_url)
    async with app.db.session() as session:
        await enqueue(
            session,
            key="k1",
            platform="tg",
            kind=Kind.DIRECT,
            target="700",
            payload=envelope([View((Text("op-card"),))], "ru"),
            now=app.services.clock.now(),
        )
    await app.outbox_worker({"tg": FailingMessenger(outcome)}).run_once()
    async with app.db.session() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None and row.last_error is not None
    assert TG_TOKEN not in row.last_error and "123456789:***" in row.last_error
