## Spike alerts (bot/services/incidents/spike_watch.py): the ЦУР operator chat and the comms chat read these.
# $count reports in the last $minutes minutes where $expected were expected; $p is the Poisson tail.
spike-alert =
    📈 Report spike: { $sector }, { $municipality }{ $place ->
        [none] {""}
       *[other] , { $place }
    }.
    Last { $minutes } min: { $count } (usually { $expected }), p = { $p }.
spike-alert-pin = 📍 Map: { $url }
spike-alert-texts = Typical texts:
spike-btn-incident = Open an incident
spike-btn-notify = Notify residents
spike-btn-ignore = Ignore
spike-done-incident = Incident { $incident } opened with the spike's reports.
spike-done-notified = The notice request went to the comms chat.
spike-done-ignored = The spike is marked as a false alarm.
spike-decided-note = { $decision ->
    [incident] ✅ Incident opened ({ $incident }): { $by }.
    [notified] 📣 Residents' notice requested: { $by }.
   *[ignored] 🙈 Ignored: { $by }.
}
spike-not-allowed = Only ЦУР operators and admins in the staff registry decide on spikes.
spike-gone = This spike no longer exists.
spike-decided = This spike has been decided already.
spike-no-comms = No comms chat is bound: nobody could prepare the notice.
spike-forged = This button is not valid.
spike-expired = This button has expired.
spike-notice-request = 📣 The ЦУР asks to notify residents: { $sector }, { $municipality } ({ $count } reports in an hour). Asked by: { $by }.
spike-notice-subscribers =
    To subscribers of the municipality and sector (put in your ID and the text):
    python -m bot notice send --kind info --author YOUR_ID --municipality { $municipality_id } --sector { $sector_id } --text "{ $sector }, { $municipality }: we know about the problem and are working on it."
spike-notice-reporters =
    To the reporters of this spike:
    python -m bot notice send --kind info --author YOUR_ID { $reports } --text "{ $sector }, { $municipality }: we know about the problem and are working on it."
