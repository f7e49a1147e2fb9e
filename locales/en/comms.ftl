## The comms team's chat (handlers/telegram/comms*.py): composing notices, four-eyes approval, progress.
comms-not-comms-chat = This chat is not a comms chat. A ЦУР administrator can turn it on with /comms.
comms-forged = This button is not valid in this chat.
comms-stale = This button belongs to another draft: it was sent, cancelled, or is another member's.
comms-cancelled = ✖️ Draft deleted, nothing was sent.

comms-choose-kind = 📣 New notice. Choose its kind:
comms-kind-chosen = 📣 Kind: { $kind }
comms-kind-info = ℹ️ Information
comms-kind-outage = ⚠️ Planned outage
comms-kind-emergency = 🚨 Emergency
comms-kind-factcheck = 🔎 Fact check
comms-ask-claim = Write the claim being spread (what we refute).
comms-ask-facts = Now write the facts: what is actually true. A photo with a caption is fine too.
comms-ask-text = Write the text of the notice. A photo with a caption is fine too.
comms-ask-source = Give the source of the facts: a link or the name of a document.
comms-photo-added = 📷 Photo added. Now send the text.
comms-text-empty = Send the text as an ordinary message.
comms-text-too-long = The text is too long: { $length } characters, at most { $limit }.

comms-audience = 👥 Who gets it? Filters can be combined; then press "Done".
    { $chosen }
comms-audience-nothing = Nothing chosen yet.
comms-aud-everyone = • every subscriber
comms-aud-municipalities = • municipalities: { $list }
comms-aud-sectors = • topics: { $list }
comms-aud-platforms = • messenger: { $list }
comms-aud-reports = • authors of reports: { $list }
comms-btn-everyone = 👥 Every subscriber
comms-btn-municipalities = 🏙 Municipalities
comms-btn-sectors = 🏷 Topics
comms-btn-platforms = 💬 Messenger
comms-btn-reports = 📨 Authors of reports
comms-btn-clear = 🧹 Reset
comms-btn-done = ✅ Done
comms-btn-back = ⬅️ Back
comms-btn-cancel = ✖️ Cancel
comms-ask-municipalities = Write municipalities separated by commas: names or ids (e.g. Ekaterinburg, Nizhny Tagil).
comms-municipalities-unknown = Not found: { $list }.
comms-municipalities-ambiguous = "{ $text }": which one? { $options }.
comms-send-again = Correct it and send the list again (or /cancel).
comms-choose-sectors = Choose topics (a press turns one on or off), then "Back".
comms-choose-platforms = Choose the messenger (a press turns it on or off), then "Back".
comms-platform-tg = Telegram
comms-platform-vk = VK
comms-ask-reports = Write report numbers separated by commas or spaces (e.g. 26-000042, 26-000043). Their authors get the notice.
comms-reports-malformed = Not a report number: { $list }.
comms-audience-empty = Choose who gets it: a messenger alone chooses nobody.

comms-preview-head = 👀 Preview: this is what citizens will see:
comms-preview-button = This is a preview: for citizens this button unsubscribes from notices.
comms-summary =
    📋 Kind: { $kind }
    👥 To: { $audience }
    Recipients: { $count }
    { $timing }
comms-timing-urgent = 🚨 Emergency: goes out at once, quiet hours included.
comms-timing-quiet = 🌙 Recipients in their quiet hours get it when those end.
comms-btn-send = ✅ Send
comms-btn-edit = ✏️ Edit
comms-edit-what = ✏️ What to change?
comms-btn-edit-text = 📝 Kind and text
comms-btn-edit-audience = 👥 Recipients
comms-no-recipients = Nobody matches these filters: change them.
comms-started = 🚀 Sending started: { $count } recipients. Progress is in the message below.

comms-progress =
    📣 Notice No. { $id } · { $kind } · { $status }
    Recipients: { $total }
    ✅ Sent: { $sent }
    ⏳ Waiting: { $waiting }
    ⏸ Paused: { $paused }
    ❌ Failed: { $failed }
    🚫 Unreachable: { $unreachable }
    Rate: { $rate } a minute · left { $eta }
comms-progress-done =
    🏁 Notice No. { $id } · { $kind }: finished.
    Recipients: { $total }
    ✅ Delivered: { $sent }
    ❌ Failed: { $failed }
    🚫 Unreachable (blocked the bot or deleted the chat): { $unreachable }
comms-progress-cancelled =
    ⛔ Notice No. { $id } · { $kind }: cancelled.
    Recipients: { $total }
    ✅ Delivered before cancelling: { $sent }
    ✖️ Not sent: { $cancelled }
    ❌ Failed: { $failed }
    🚫 Unreachable (blocked the bot or deleted the chat): { $unreachable }
comms-status-sending = sending
comms-status-paused = paused
comms-eta-unknown = —
comms-eta-seconds = ≈ { $n } s
comms-eta-minutes = ≈ { $n } min
comms-eta-hours = ≈ { $h } h { $m } min
comms-btn-pause = ⏸ Pause
comms-btn-resume = ▶️ Resume
comms-btn-stop = ⛔ Cancel
comms-btn-stop-confirm = ⛔ Yes, cancel sending
comms-btn-stop-back = ↩️ Keep sending
comms-stop-ask = Cancel for sure? What was sent stays with citizens.
comms-paused = Sending paused.
comms-resumed = Sending resumed.
comms-stopped = Sending cancelled.
comms-not-possible = Not possible now: the notice is already { $status }.
comms-state-done = finished
comms-state-cancelled = cancelled
comms-state-sending = sending
comms-state-paused = paused
comms-state-draft = not started
comms-state-awaiting = awaiting approval
comms-preview-language = This is how those reading the bot in { $language } see it ({ $count } recipients): your text, the bot's labels in their language:
comms-language-en = English
comms-language-ru = Russian

## Who may act (the staff registry) and four-eyes approval.
comms-not-comms-staff = Only staff holding the comms role in the staff registry can compose notices. Being a member of this chat is not enough.
comms-anonymous = The bot does not know who you are: commands sent on behalf of a group or channel are not accepted. Write as yourself.
comms-steer-not-allowed = Only comms staff and ЦУР administrators can steer a notice.
comms-approve-not-allowed = Only comms staff and ЦУР administrators can approve notices.
comms-self-approval = You cannot approve your own notice: a second person must.
comms-preview-approval = 🛂 A second person must approve it before it goes out: { $reason }.
comms-awaiting-reason-everyone = a notice to every subscriber
comms-awaiting-reason-many = { $count } recipients, more than { $threshold }
comms-awaiting = ⏳ Awaiting a second person's approval ({ $reason }). The request is in the message below; once approved, sending starts by itself. Any edit withdraws the request.
comms-awaiting-already = This notice is already awaiting a second person's approval.
comms-approval =
    🛂 Notice No. { $id } awaits approval
    ✍️ Author: { $author }
    📋 Kind: { $kind }
    👥 To: { $audience }
    Recipients: { $count } ({ $reason })
    Another comms staff member or a ЦУР administrator can approve it; sending starts at once. The text citizens will get:
comms-approval-photo = 📷 With a photo (shown in the preview above).
comms-btn-approve = ✅ Approve
comms-btn-reject = ✖️ Reject
comms-approved = Approved: sending started.
comms-rejected = Rejected: the notice was not sent.
comms-approval-changed = The notice changed after approval was asked: there is nothing to approve.
comms-approval-closed = ✖️ Notice No. { $id } · { $kind } was not sent: the approval request was rejected or withdrawn by its author.
comms-approved-by = 🛂 Approved by: { $name }
