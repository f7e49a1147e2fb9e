## Deadlines and escalation (decree item 8). Operators, block heads and curators read these.
# $due is local time (Asia/Yekaterinburg) as dd.mm.yyyy HH:MM.
sla-remind-first = ⏰ Report No. { $number }: the first reaction is due by { $due }. Take it or ask the citizen to clarify.
sla-remind-answer = ⏰ Report No. { $number }: the answer to the citizen is due by { $due }.
sla-overdue-first = 🚨 Report No. { $number }: the first reaction deadline ({ $due }) has passed.
sla-overdue-answer = 🚨 Report No. { $number }: the answer deadline ({ $due }) has passed.
sla-head-notified = ⬆️ Report No. { $number } is overdue; the block head has been notified: { $name }.
sla-curator-notified = ⬆️ Report No. { $number } is still overdue; the block curator has been notified: { $name }.
sla-no-contact = ⚠️ Sector block "{ $sector }" has no { $level ->
    [curator] curator
   *[head] head
}: the ЦУР handles the overdue report No. { $number }.
sla-direct-head =
    🚨 Report No. { $number } is overdue ({ $what ->
        [first] no first reaction
       *[answer] no answer
    }, due { $due }).
    Block: { $sector }. Body: { $body }.
sla-direct-curator =
    🚨 Report No. { $number } is still overdue after the block head was notified ({ $what ->
        [first] no first reaction
       *[answer] no answer
    }, due { $due }).
    Block: { $sector }. Body: { $body }.
notify-autoclosed = Report No. { $number } ({ $body }) has been closed: after the answer you did not tell us the problem remains. If it does, please report it again.
