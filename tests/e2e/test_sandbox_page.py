"""The sandbox page in real headless Chromium: `python -m bot sandbox` runs as a process (the real
bot against the local Telegram and VK servers), and the test uses the page as a trainee does — a
Telegram and then a VK citizen file a report with a photo and a town through the bot's intake
dialog, the body's operator takes and answers it in its topic, the citizen rates the answer.

Screenshots of every pane go to artifacts/sandbox/."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from bot.core.config import PROJECT_ROOT
from tests.harness.browser import CHROMIUM, WAIT_MS, SandboxPage, free_port, sandbox_process

ARTIFACTS = PROJECT_ROOT / "artifacts" / "sandbox"
POTHOLE = "На улице Ленина огромная яма на дороге, машины бьют колёса, нужен ремонт асфальта"
ANSWER = "Яму заделали, асфальт уложен"
NOTE = "! внутреннее: проверить подрядчика"

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} is missing (make test installs it)", allow_module_level=True)


@pytest.fixture(scope="module")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with sandbox_process(tmp_path_factory.mktemp("sandbox"), free_port()) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as driver:
        # Debian's Chromium, never a downloaded build; root in a container needs --no-sandbox.
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def trainee(browser: Browser, sandbox_url: str) -> Iterator[SandboxPage]:
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(sandbox_url)
    yield SandboxPage(page)
    page.close()


def file_a_pothole(trainee: SandboxPage, name: str) -> tuple[str, str]:
    """The whole intake from the phone; returns the report's number and the body it went to."""
    trainee.citizen_types("/start")
    trainee.citizen_presses("✅ Согласен(на)")
    trainee.citizen_sees("Главное меню")
    trainee.citizen_presses("📝 Сообщить о проблеме")
    trainee.citizen_sees("Опишите проблему")
    trainee.citizen_types(POTHOLE)
    trainee.citizen_sees("Приложите фото")
    trainee.citizen_sends_picture("pothole")
    trainee.citizen_sees("Сейчас приложено: 1")
    trainee.citizen_presses("➡️ Далее")
    trainee.citizen_sees("Где это?")
    trainee.citizen_clicks_town("Екатеринбург")
    trainee.citizen_sees("Похоже, это: Дороги")
    trainee.citizen_presses("Дороги", exact=False)
    trainee.citizen_sees("телефон")
    trainee.citizen_shares_contact("+79120000001")
    trainee.citizen_sees("Проверьте обращение")
    expect(trainee.citizen_last()).to_contain_text("Фото: 1")
    trainee.citizen_presses("✅ Отправить")
    # VK shows the main menu's keyboard after it in a message of its own.
    accepted = trainee.citizen_message("принято").inner_text()
    number = re.search(r"№ (\S+) принято", accepted)
    body = re.search(r"Направлено: (.+?)\.\n", accepted)
    assert number and body, accepted
    # The photo the citizen sent is the page's picture itself, shown in their chat.
    expect(trainee.citizen.locator("img.photo").first).to_be_visible()
    return number.group(1), body.group(1)


def answer_in_the_topic(trainee: SandboxPage, number: str, body: str) -> None:
    """The body's operator takes the report in its topic, writes a note and the answer."""
    trainee.operator.locator("#body-pick").select_option(label=body)
    trainee.open_topic(f"№{number}")
    trainee.operator_sees(POTHOLE[:40])
    trainee.operator_presses("🙋 Взять в работу")
    trainee.toast_says("взято в работу")
    trainee.operator_sees("· в работе")
    trainee.citizen_sees("в работе")
    trainee.operator_types(NOTE)
    trainee.operator_sees(NOTE)
    trainee.operator_presses("✅ Ответить")
    trainee.operator_sees("Напишите ответ")
    trainee.operator_types(ANSWER)
    trainee.operator_sees("Отправлено гражданину")


def confirm_and_rate(trainee: SandboxPage) -> None:
    """The citizen sees the answer and "Solved?", says yes and rates it."""
    messages = trainee.citizen.locator("#citizen-messages")
    expect(messages).to_contain_text(ANSWER, timeout=WAIT_MS)
    trainee.citizen_presses("✅ Да, решена")
    trainee.citizen_message("закрыто")
    trainee.citizen_presses("5 ⭐")
    trainee.citizen_message("комментарий")
    trainee.citizen_presses("Пропустить")
    expect(messages).not_to_contain_text("проверить подрядчика")


@pytest.mark.parametrize(("platform", "name"), [("tg", "Анна"), ("vk", "Пётр")])
def test_a_report_from_the_phone_to_the_operator_and_back(
    trainee: SandboxPage, platform: str, name: str
) -> None:
    trainee.new_citizen(platform, name)
    number, body = file_a_pothole(trainee, name)
    trainee.screenshot(ARTIFACTS, f"{platform}-filed")
    answer_in_the_topic(trainee, number, body)
    confirm_and_rate(trainee)
    trainee.operator_sees("Оценка гражданина: 5/5")
    trainee.screenshot(ARTIFACTS, f"{platform}-rated")
    # The forum's general topic holds what belongs to no report; the report's card is not there.
    trainee.open_topic("# Общий")
    expect(trainee.operator.locator("#operator-messages")).not_to_contain_text(POTHOLE[:40])
    trainee.open_topic(f"№{number}")


def test_the_page_refuses_other_origins(sandbox_url: str, trainee: SandboxPage) -> None:
    forged = trainee.page.request.post(
        f"{sandbox_url}sandbox/api/citizen/new",
        data={"platform": "tg", "name": "Злоумышленник", "language": "ru"},
        headers={"Origin": "http://evil.example"},
    )
    assert forged.status == 403
    own = trainee.page.request.post(
        f"{sandbox_url}sandbox/api/clock/speed",
        data={"speed": 60},
        headers={"Origin": sandbox_url.rstrip("/")},
    )
    assert own.status == 200
    expect(trainee.page.locator("#speed")).to_have_value("60", timeout=WAIT_MS)
    trainee.screenshot(ARTIFACTS, "clock")
    # English is complete: the page renders no bare message ids.
    trainee.page.goto(f"{sandbox_url}?lang=en")
    expect(trainee.page.locator("h1")).to_have_text("ЦУР trainer — offline sandbox")
    expect(trainee.page.locator("body")).not_to_contain_text("sandbox-")


def test_the_comms_chat_answers_notice(trainee: SandboxPage) -> None:
    trainee.comms_types("/notice")
    expect(trainee.comms.locator("#comms-messages > li").last).not_to_contain_text("/notice", timeout=WAIT_MS)
    expect(
        trainee.comms.locator("#comms-messages > li.in").last.locator(".inline-button").first
    ).to_be_visible(timeout=WAIT_MS)
    trainee.screenshot(ARTIFACTS, "comms")


def test_training_controls_start_a_scenario_and_show_its_score(trainee: SandboxPage) -> None:
    # Last in the module: the scenario's scripted citizens keep writing once it started.
    picker = trainee.page.locator("#scenario")
    expect(picker).to_be_enabled(timeout=WAIT_MS)
    scenarios = picker.locator("option[value]:not([value=''])")
    expect(scenarios.first).to_be_attached(timeout=WAIT_MS)
    picker.select_option(scenarios.first.get_attribute("value"))
    trainee.page.locator("#trainee").fill("Стажёр Тест")
    trainee.page.locator("#scenario-start").click()
    expect(trainee.page.get_by_test_id("score")).to_contain_text("Счёт", timeout=WAIT_MS)
    trainee.page.locator("#next-deadline").click()
    expect(trainee.page.get_by_test_id("toast")).to_contain_text("срок", timeout=WAIT_MS)
    trainee.page.locator("#scenario-finish").click()
    expect(trainee.page.locator("#scenario-finish")).to_be_disabled(timeout=WAIT_MS)
    trainee.screenshot(ARTIFACTS, "training")
