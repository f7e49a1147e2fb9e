## Repeated reports: the offer at intake, joining, merging (citizens)
intake-same-prompt = It looks like this has been reported already. If it is your problem, join in — the answer will reach you and everyone who reported it:
intake-same-line = No. { $number } · { $title } · { $reporters ->
    [one] { $reporters } person has reported it
   *[other] { $reporters } people have reported it
    } · { $status ->
    [in_progress] in progress
    [needs_info] clarification needed
   *[other] sent to the responsible body
    }
btn-same-mine = ✋ This is my problem (No. { $number })
btn-same-other = ➡️ No, something else
intake-same-chosen = All right, we will join your report to No. { $number }.
intake-joined =
    ✅ Your report No. { $number } has joined No. { $lead }: { $reporters } people reported this problem.
    Now: { $status ->
    [in_progress] in progress
    [needs_info] clarification needed
   *[other] sent to the responsible body
    }. All news and the answer will come here, and at the end we will ask whether it is solved.
notify-merged = Report No. { $number } has been joined with No. { $lead } — it is one problem. The answer will reach everyone who reported it.

## Operators
op-card-reporters = 👥 Reported by { $count } people (an answer in this topic goes to all of them)
op-card-follows = 🔗 Merged into No. { $lead }: work and answer in the topic of No. { $lead }.
op-card-duplicates = Looks like: { $numbers }
op-btn-merge = 🔗 Merge into No. { $number }
op-btn-split = ↩️ Split off
op-merged-done = Merged.
op-split-done = Split off: the report goes on by itself again.
op-incident-joined = ✋ Another resident joined this problem: No. { $number } ({ $platform ->
    [vk] VK
   *[tg] Telegram
    })
op-incident-merged = 🔗 Report No. { $number } was merged into No. { $lead }. It continues in the topic of No. { $lead }.
op-incident-split = ↩️ The resident of No. { $number } says the problem is not solved: the report was split off No. { $lead } and goes on by itself.
op-merge-not-possible = Cannot merge: the report is closed, answered or already merged into another.
op-merge-other-body = Only the ЦУР (from its chat) may merge reports of different bodies.
op-split-not-merged = This report is not merged with anything.
incident-unknown-sector = Unknown sector.
op-confirm-many = The message will go to { $count } residents. Send it?
op-confirm-four-eyes = The message will go to { $count } residents — a second person (not the author) must confirm.
op-btn-send-all = 📣 Send to all ({ $count })
op-confirm-own = Another staff member must confirm.
op-confirm-gone = Nothing to send: the message was sent or cancelled already.
op-sent-to-all = Sent to { $count } residents.
op-confirm-own-only = Only the author of the message may confirm it.
incident-usage =
    Open an incident: /incident <sector> <municipality> <title>
    For example: /incident energy ekaterinburg No power, Lenina st.
    Sectors: roads, housing, health, education, social, waste, transport, energy, other; municipality "-" when unknown.
incident-unknown-municipality = There is no such municipality in the directory (use its code, e.g. ekaterinburg).
incident-opened = Incident No. { $number } is open and sent to: { $body }. Reports of the same problem will be offered to residents to join, and operators can merge them into it.
