"""The "says nothing" check of an operator's answer, kept deliberately simple so a trainee can predict it.

An answer says nothing when it is shorter than `MIN_WORDS` words, or when it names neither work that
was done or will be done (a verb of done work: «устранено», «отремонтируем», «вывезли», "repaired"…)
nor a time (a date, an hour, a weekday or month, «сегодня», «до 15.12», «в течение 3 дней»,
"tomorrow"…). «Ваше обращение рассмотрено, меры приняты» fails: it names no work and no time.
"""

from __future__ import annotations

import re

MIN_WORDS = 6


def _listed(text: str) -> list[str]:
    # Word lists are kept as running text: a long list of quoted stems is hard to proofread.
    return text.split()


# Stems, matched at the start of a word: past and future forms of the usual work of the bodies.
_WORK_STEMS = _listed(
    """
    выполн устран отремонт ремонт провед провел проведё направ замен вывез вывоз восстанов включ
    подключ убра убер убор очищ очист расчищ сдела установ засып залат заасфальт перерасч начисл
    выплач выплат перечисл назнач записа запиш выдан выдад исправ почин спил покос скос передал
    передан обследова провер выех выезж бригад откач промыл опломбир демонтир смонтир закры открыл
    вернул возобнов fix repair replac restor remov clear install sent schedul paid pay collect clean
    inspect switch reconnect book issu chang added
    """
)
_MONTHS = _listed(
    """
    январ феврал март апрел ма[йя] июн июл август сентябр октябр ноябр декабр january february march
    april june july august september october november december
    """
)
_WEEKDAYS = _listed(
    """
    понедельник вторник сред[ау] четверг пятниц суббот воскресень monday tuesday wednesday thursday
    friday saturday sunday
    """
)
_WHEN_WORDS = _listed(
    """
    сегодня завтра послезавтра вчера утр вечер today tomorrow yesterday tonight morning evening
    within until
    """
)
_WORD = re.compile(r"[\w-]+", re.UNICODE)
_WORK = re.compile(r"\b(?:" + "|".join(_WORK_STEMS) + r")", re.IGNORECASE)
_WHEN = re.compile(
    r"\d{1,2}[.:/]\d{2}"  # 15.12, 14:30, 12/05
    r"|\d+\s*(?:ч\b|час|дн|день|недел|мин|сут|hour|day|week|minute)"  # «за 2 часа», "3 days"
    r"|\b(?:до|к|by)\s+\d"  # «до 20-го», "by 5"
    r"|\bв\s+течение\b"
    r"|\b(?:" + "|".join([*_MONTHS, *_WEEKDAYS, *_WHEN_WORDS]) + r")",
    re.IGNORECASE,
)


def words(text: str) -> int:
    """How many words `text` has."""
    return len(_WORD.findall(text))


def says_nothing(text: str) -> bool:
    """True when the answer is under MIN_WORDS words or names neither done work nor a time."""
    if words(text) < MIN_WORDS:
        return True
    return _WORK.search(text) is None and _WHEN.search(text) is None
