## The weekly digest of repeated reports (issue #16): the ЦУР chat and block heads read these.
# A repeat is a report of the same sector about the same place filed within $days days after an
# earlier one there was closed. $start and $end are local dates (dd.mm.yyyy), $week is "2026-W49".
digest-title-all = 🔁 Повторные обращения за неделю { $week } ({ $start } — { $end }), все блоки
digest-title-sector = 🔁 Повторные обращения за неделю { $week } ({ $start } — { $end }), блок «{ $sector }»
digest-empty = За неделю повторных обращений нет: ни одна закрытая проблема не вернулась в течение { $days } дней.
digest-municipality = 📍 { $name }
# $kind: street (with $street, $house), crossroads ($street), pin ($lat, $lon), area ($settlement).
digest-problem = { $rank }. { $sector }: { $kind ->
        [street] { $street }{ $house ->
            [none] {""}
           *[other] , { $house }
        }
        [crossroads] перекрёсток { $street }
        [pin] по метке { $lat }, { $lon }
       *[area] { $settlement ->
            [none] весь муниципалитет
           *[other] { $settlement }
        }
    } — обращений: { $reports }, из них повторных: { $repeats }
digest-report = • № { $number }
digest-report-link = • № { $number }: { $link }
digest-more-reports = • и ещё { $count } обращ. по этому месту
digest-more-municipalities = …и ещё муниципалитетов с повторными обращениями: { $count }
digest-footer = Повторным считается обращение того же блока о том же месте в течение { $days } дней после закрытия предыдущего. Проверьте, решена ли проблема по существу.
