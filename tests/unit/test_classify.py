"""Tests of the sector classifier: messy real-style texts (Russian and English), confidence, CLI and
build determinism."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml

from bot.classify import Classifier, Prediction, load_classifier
from bot.classify.build import build_model, dumps_model
from bot.classify.cli import run_classify_cli
from bot.classify.corpus import SECTORS_FILE, inputs_digest, read_sectors
from bot.classify.model import FALLBACK_SECTOR
from bot.classify.words import lemma, tokenize

# Written for these tests; none of them is in the seed corpus.
MESSY_TEXTS: dict[str, list[str]] = {
    "roads": [
        "ул.Титова д.20 Екатеринбург ЯМЫ НА ДОРОГЕ глубиной сантиметров 30 каждый день кто то бьет машину",
        "Здравствуйте!<br>Почему на Восточной улице не восстановили асфальт после раскопок? Уже весна, "
        "вместо дороги щебень&nbsp;и грязь",
        "во дворах по ул сибирка снег не чистят дорогу, трактор был один раз за зиму, машины вязнут",
        "светофор на перекрестке у рынка Нижний Тагил висит криво и не горит зелёный для пешеходов",
    ],
    "housing": [
        "в кв холодина батареи чуть тёплые а УК говорит что всё по нормативу.. Каменск-Уральский пр. Победы",
        "ПРОТЕКАЕТ КРОВЛЯ над 9 этажом, в подьезде лужи на лестнице и вздулась штукатурка",
        "Третий день без горячей воды в доме на ул. Народной воли, управляйка трубку не берёт",
        "прошу ускорить капремонт лифтов в нашем доме, лифт 1978 года, застреваем через день",
    ],
    "health": [
        "к педиатру не записатся, талонов нет на месяц, а у дочки кашель две недели. "
        "Первоуральск детская поликлинника",
        "Скорая ехала к дедушке больше часа, у него был приступ, фельдшер сказал что бригад не хватает",
        "Почему в аптеке нет бесплатных лекарств по рецепту для диабетиков? уже третий месяц",
        "врач-терапевт на приеме даже не осмотрела, выписала таблетки за 2 минуты и выгнала",
    ],
    "education": [
        "садик №88 отказались брать ребенка хотя путевка на руках, говорят группа переполнена",
        "В школе требуют сдать по 5000 на шторы и ремонт класса, классная руководительница пишет в чат",
        "Учитель физики не объясняет тему, ставит двойки всему классу, ученики готовятся к огэ сами",
        "студентам колледжа не выплатили стипендию за два месяца, в бухгалтерии молчат",
    ],
    "social": [
        "назначте пожалуйста единое пособие, отказали из-за алиментов которые я даже не получаю",
        "Мама инвалид 2 группы, ИПРА выдали, а кресло-коляску от Соцфонда ждем больше года",
        "Как оформить удостоверение многодетной семьи? В УСП Серова дают противоречивые ответы",
        "пенсионерке 84 года нужна помощь соцработника на дому, одна живет, ходит с трудом",
    ],
    "waste": [
        "баки возле дома на ул. Бажова переполнены уже 5 дней, мусор не вывозят, вонища",
        "Регоператор насчитал долг за вывоз ТКО по дому в котором никто не прописан",
        "За гаражами образовалась огромная свалка строительных отходов, кто её ликвидирует??",
        "мусоровоз не приехал опять, контейнерная площадка завалена пакетами, собаки растаскивают",
    ],
    "transport": [
        "автобус 23 опять не пришел по расписанию, стояли на остановке 50 минут в мороз",
        "Маршрутка из Среднеуральска до Екатеринбурга ходит переполненная, водитель сажает стоя",
        "ТРАМВАЙ 10 НЕ ХОДИТ ТРЕТИЙ ДЕНЬ, НИКАКОЙ ИНФОРМАЦИИ НА ОСТАНОВКАХ",
        "Почему подорожал проезд в электричке до Первоуральска, а поезда все такие же старые?",
    ],
    "energy": [
        "нет электричества на всей улице с утра, звонили в Россети Урал никто не знает когда дадут свет",
        "Напряжение в сети скачет, лампочки мигают и сгорел холодильник, Россети не реагируют",
        "Провод на столбе оборвался и висит над тротуаром, искрит в дождь!!!",
        "газ в дом подвели к границе участка, а подключить не могут уже год, газификация стоит",
    ],
    "other": [
        "Соседи по ночам орут и слушают музыку, участковый на вызовы не приходит",
        "На улице бегает стая бездомных собак, кидаются на детей, отловом никто не занимается",
        "Интернет от провайдера пропадает каждый вечер, техподдержка отвечает что проблем нет",
        "Завод выбрасывает черный дым по ночам, в Красноуральске дышать невозможно",
    ],
}

# English reports from foreigners, written for these tests; none of them is in the seed corpus.
ENGLISH_TEXTS: dict[str, list[str]] = {
    "roads": [
        "There is a huge pothole on the road near the bus stop",
        "The asphalt on Shcherbakova street is destroyed, deep holes everywhere and cars break their wheels",
        "nobody clears the snow and ice from the sidewalk near the metro, people fall every day",
        "The traffic light at the crossing by the market has been broken for a week, cars do not let "
        "pedestrians pass",
    ],
    "housing": [
        "No hot water in our building for a week, the management company ignores us",
        "The radiators in our flat are cold and the management company says the heating is normal",
        "Water is dripping from the ceiling of the top floor because the roof leaks, the stairwell is wet",
        "The lift in our building has been out of order for two weeks, elderly people cannot go outside",
    ],
    "health": [
        "I have been trying to see a doctor at the polyclinic for three weeks but there are no appointments",
        "We called an ambulance for my father and it arrived only after an hour and a half",
        "The hospital refused to admit my pregnant wife without a local insurance policy",
        "The pharmacy has had no free insulin for diabetics since last month",
    ],
    "education": [
        "My son was not given a place in a kindergarten near our home, the waiting list is endless",
        "The school demands money from parents for new windows in the classroom",
        "International students in the dormitory were told to leave their rooms in the middle of "
        "the semester",
        "The teacher shouts at the children during lessons and the principal does nothing",
    ],
    "social": [
        "My disabled mother has not received her pension for two months",
        "The social protection office refused to give us the benefit for a large family",
        "My grandfather lives alone and needs a social worker, he cannot buy food himself",
        "We applied for the child allowance three months ago and still no payment",
    ],
    "waste": [
        "The trash containers in our yard have not been emptied for ten days, it stinks",
        "Someone dumped a pile of construction rubbish next to the playground",
        "The garbage truck skips our street every week, the bins are overflowing",
        "The regional operator sends me bills for garbage removal for a house I sold last year",
    ],
    "transport": [
        "Bus 61 is always late, we wait at the stop for forty minutes in the cold",
        "The tram driver closed the doors on an old woman and drove off",
        "There are too few buses in the morning, they are so crowded that nobody can get in",
        "The new transport card is not accepted by the conductors on the trolleybus",
    ],
    "energy": [
        "The voltage in our house jumps every evening and the lamps flicker, two fridges burned out",
        "We have had no electricity since yesterday evening and the power company does not answer",
        "A broken power cable is hanging low over the pavement, it is very dangerous",
        "Our house still has no gas connection although we paid for gasification two years ago",
    ],
    "other": [
        "The neighbours upstairs party and scream every night, the police do not react",
        "Stray dogs bite people near the shopping center, please catch them",
        "My home internet is down every day and the provider does nothing",
        "The migration service has not returned my passport for two months",
    ],
}


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load()


@pytest.mark.parametrize(
    ("expected", "text"), [(sector, text) for sector, texts in MESSY_TEXTS.items() for text in texts]
)
def test_messy_texts_classify_right(classifier: Classifier, expected: str, text: str) -> None:
    prediction = classifier.predict(text)
    assert prediction.sector == expected, prediction.ranked[:3]


@pytest.mark.parametrize(
    ("expected", "text"), [(sector, text) for sector, texts in ENGLISH_TEXTS.items() for text in texts]
)
def test_english_texts_classify_right(classifier: Classifier, expected: str, text: str) -> None:
    prediction = classifier.predict(text)
    assert prediction.sector == expected, prediction.ranked[:3]
    assert prediction.confidence > 0.4, prediction.ranked[:3]


@pytest.mark.parametrize(
    ("expected", "text"),
    [
        ("housing", "Здравствуйте, on Lenina street у нас no street lights, фонари не горят уже неделю"),
        ("housing", "Нет горячей воды пятый день, the management company ignores us"),
        ("transport", "Bus 27 опять не пришел, ждали на остановке 40 минут, the schedule is a joke"),
    ],
)
def test_mixed_russian_english_texts(classifier: Classifier, expected: str, text: str) -> None:
    prediction = classifier.predict(text)
    assert prediction.sector == expected, prediction.ranked[:3]
    assert prediction.confidence > 0.6


def test_lemmatiser_is_chosen_per_token_by_script() -> None:
    # A Latin "o" inside a Russian word and a Cyrillic "е" inside an English one are look-alikes.
    assert tokenize("дорoга strеet don't") == ["дорога", "street", "dont"]
    assert lemma("lights") == "light"
    assert lemma("potholes") == "pothol"
    assert lemma("фонари") == "фонарь"
    assert lemma("дороги") == lemma("дорога") == "дорога"
    assert lemma("ёлки") == "елка"


def test_committed_model_was_built_from_the_files_in_the_repository(classifier: Classifier) -> None:
    # The model stores a hash of its inputs: editing a seed, lexicon or the build without
    # `make model` fails here, in seconds, without training.
    assert classifier.inputs == inputs_digest(), "bot/classify/model.json is stale: run `make model`"


def test_english_texts_are_not_in_the_seed_corpus() -> None:
    seed_dir = Path(__file__).resolve().parents[2] / "bot" / "classify" / "data" / "seed"
    seeds = {
        line.strip().lower()
        for path in seed_dir.glob("*.txt")
        for line in path.read_text("utf-8").splitlines()
    }
    for texts in ENGLISH_TEXTS.values():
        for text in texts:
            assert text.lower() not in seeds


def test_every_sector_from_sectors_yaml_is_covered(classifier: Classifier) -> None:
    assert classifier.sectors == read_sectors()
    assert set(MESSY_TEXTS) == set(classifier.sectors)
    assert set(ENGLISH_TEXTS) == set(classifier.sectors)


def test_prediction_shape(classifier: Classifier) -> None:
    prediction = classifier.predict("Нет горячей воды в подъезде, УК не отвечает")
    assert isinstance(prediction, Prediction)
    assert prediction.ranked[0][0] == prediction.sector
    assert sorted(s for s, _ in prediction.ranked) == sorted(classifier.sectors)
    probabilities = [p for _, p in prediction.ranked]
    assert probabilities == sorted(probabilities, reverse=True)
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-9)
    assert prediction.confidence == probabilities[0]
    assert prediction.top(3) == [s for s, _ in prediction.ranked[:3]]
    assert prediction.top(0) == []


def test_clear_text_is_more_confident_than_mixed_one(classifier: Classifier) -> None:
    clear = classifier.predict("Автобус 27 не ходит по расписанию, на остановке ждем по часу")
    mixed = classifier.predict("Во дворе яма на дороге, мусор не вывозят и автобус не ходит")
    vague = classifier.predict("Когда это закончится? Сколько можно терпеть, никто ничего не делает")
    assert clear.confidence > 0.8
    assert clear.confidence > mixed.confidence
    assert clear.confidence > vague.confidence
    assert vague.confidence < 0.7


def test_mixed_topics_keep_both_in_top3(classifier: Classifier) -> None:
    prediction = classifier.predict(
        "Мусорные контейнеры во дворе переполнены неделю, а еще в подъезде течет крыша и не работает лифт"
    )
    assert {"waste", "housing"} <= set(prediction.top(3))


@pytest.mark.parametrize(
    "text", ["", "   ", "12345 !!! ???", "🙂🙂🙂", "<br>&nbsp;<p></p>", "qwerty asdf", "\x00\ufeff"]
)
def test_garbage_input_goes_to_other_with_low_confidence(classifier: Classifier, text: str) -> None:
    prediction = classifier.predict(text)
    assert prediction.sector == "other"
    assert prediction.confidence < 0.5
    assert len(prediction.ranked) == len(classifier.sectors)


def test_long_text_does_not_raise(classifier: Classifier) -> None:
    text = "Нет света на улице Ленина. " * 2000
    assert classifier.predict(text).sector == "energy"


def test_load_classifier_is_cached() -> None:
    assert load_classifier() is load_classifier()


def test_cli_stdin_output_format() -> None:
    stdin = io.StringIO("нет света третий день на ул. Мира\n\nавтобус 50 не пришел по расписанию\n")
    stdout = io.StringIO()
    assert run_classify_cli([], stdin, stdout) == 0
    lines = stdout.getvalue().splitlines()
    assert len(lines) == 3
    for line in lines:
        sector, confidence, top3 = line.split("\t")
        assert len(confidence) == 4 and 0.0 <= float(confidence) <= 1.0
        assert top3.split(",")[0] == sector
        assert len(top3.split(",")) == 3
    assert lines[0].startswith("energy\t")
    assert lines[1].startswith("other\t")
    assert lines[2].startswith("transport\t")


def test_cli_csv(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text('id,body\n1,"Мусор не вывозят, баки переполнены"\n2,\n', encoding="utf-8")
    stdout = io.StringIO()
    assert run_classify_cli(["--csv", str(path), "--column", "body"], io.StringIO(), stdout) == 0
    lines = stdout.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("waste\t")
    assert lines[1].startswith("other\t")


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "in.csv"
    path.write_text("id,body\n1,текст\n", encoding="utf-8")
    stdout = io.StringIO()
    assert run_classify_cli(["--csv", str(path)], io.StringIO(), stdout) == 2
    assert "text" in capsys.readouterr().err
    assert run_classify_cli(["--csv", str(tmp_path / "missing.csv")], io.StringIO(), stdout) == 2
    assert "missing.csv" in capsys.readouterr().err
    assert run_classify_cli(["--no-such-flag"], io.StringIO(), stdout) == 2
    assert capsys.readouterr().err
    assert stdout.getvalue() == ""


def test_dumps_model_is_canonical() -> None:
    model = {"format": 2, "b": [1.5], "a": "x", "features": {"w:b": [1.0, 0.5], "w:a": [2.0, -0.25]}}
    text = dumps_model(model)
    assert json.loads(text) == model
    assert text.index('"a"') < text.index('"b"') < text.index('"features"') < text.index('"format"')
    assert text.index('"w:a"') < text.index('"w:b"')
    # One feature per line, so a retrained model's diff reads feature by feature.
    assert '\n"w:a":[2.0,-0.25],\n"w:b":[1.0,0.5]\n' in text


def test_a_sectors_file_without_the_fallback_sector_is_refused(tmp_path: Path) -> None:
    sectors = tmp_path / "sectors.yaml"
    text = SECTORS_FILE.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["sectors"] = [s for s in data["sectors"] if s["id"] != FALLBACK_SECTOR]
    sectors.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match="fallback sector 'other' is missing"):
        build_model(sectors_file=sectors)


@pytest.mark.parametrize(
    ("first", "second", "text"),
    [
        (
            "transport",
            "roads",
            "Автобус 12 не ходит второй день, а на остановке ещё и яма на дороге огромная",
        ),
        (
            "health",
            "education",
            "В поликлинике нет записи к терапевту, и ещё в школе у сына не кормят нормально",
        ),
        ("waste", "housing", "Мусорные контейнеры переполнены, а ещё во дворе не горит фонарь"),
    ],
)
def test_a_second_topic_is_the_first_alternative(
    classifier: Classifier, first: str, second: str, text: str
) -> None:
    assert classifier.predict(text).top(2) == [first, second]
