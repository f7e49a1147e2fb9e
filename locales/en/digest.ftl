## The weekly digest of repeated reports (issue #16): the ЦУР chat and block heads read these.
# A repeat is a report of the same sector about the same place filed within $days days after an
# earlier one there was closed. $start and $end are local dates (dd.mm.yyyy), $week is "2026-W49".
digest-title-all = 🔁 Repeated reports of week { $week } ({ $start } — { $end }), all sectors
digest-title-sector = 🔁 Repeated reports of week { $week } ({ $start } — { $end }), sector “{ $sector }”
digest-empty = No repeated reports this week: no closed problem came back within { $days } days.
digest-municipality = 📍 { $name }
# $kind: street (with $street, $house), crossroads ($street), pin ($lat, $lon), area ($settlement).
digest-problem = { $rank }. { $sector }: { $kind ->
        [street] { $street }{ $house ->
            [none] {""}
           *[other] , { $house }
        }
        [crossroads] crossroads { $street }
        [pin] at the pin { $lat }, { $lon }
       *[area] { $settlement ->
            [none] the whole municipality
           *[other] { $settlement }
        }
    } — reports: { $reports }, repeats among them: { $repeats }
digest-report = • No. { $number }
digest-report-link = • No. { $number }: { $link }
digest-more-reports = • and { $count } more report(s) about this place
digest-more-municipalities = …and { $count } more municipalities with repeated reports
digest-footer = A repeat is a report of the same sector about the same place within { $days } days after the previous one was closed. Check whether the problem was really solved.
