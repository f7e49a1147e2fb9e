## Citizen dialogs, English.

welcome = Hello! This is the bot of the Regional Management Center (ЦУР) of Sverdlovsk oblast. Report a problem here — we will pass it to the responsible authority and tell you the outcome.
welcome-back = Welcome back! How can we help?
consent-text =
    To accept your report we need your consent to the processing of personal data (Russian Federal Law 152-FZ).
    We keep only what is needed to answer: your messenger id, language, the text and photos of your report, the place and — if you choose to give it — a phone number. Only the ЦУР and the responsible authority see them. You can delete your data at any time with /forget.
    Full policy: { $url } (command /policy).
btn-consent-yes = ✅ I agree
btn-consent-no = ❌ I do not agree
btn-lang-ru = 🇷🇺 Русский
btn-lang-en = 🇬🇧 English
consent-thanks = Thank you! Consent received.
consent-already = You have already given your consent.
consent-declined = Without consent we cannot accept a report, and nothing about you has been stored. If you change your mind, send /start. Help: /help. Emergencies: call 112.
policy-text = Personal data policy: { $url }. To delete your data, send /forget.

menu-title = Main menu. Choose an action:
btn-report = 📝 Report a problem
btn-my-reports = 📋 My reports
btn-language = 🌐 Язык / Language
btn-help = ❓ Help
btn-menu = 🏠 Menu
btn-resume = ▶️ Continue my draft
btn-back = ⬅️ Back
btn-cancel = ✖️ Cancel
btn-next = ➡️ Next
keyboard-closed = Got it.

help-text =
    I take reports about problems in Sverdlovsk oblast: roads, housing and utilities, healthcare, education, social protection, waste collection, transport, energy and more.
    Commands:
    /report — report a problem
    /my — my reports and their status
    /notices — notices about outages, emergencies and news: subscriptions and quiet hours
    /link — link your Telegram and VK accounts to see all your reports in both
    /language — change the language
    /cancel — cancel what you are doing
    /policy — personal data policy
    /forget — delete my data
    Answers from the authority arrive here. Edited messages are not forwarded — send a clarification as a new message.
    In an emergency call 112.
idle-hint = To report a problem, press the button below.
idle-unsupported = I can't read this kind of message yet. Please use the menu:
unknown-command = I don't know the command /{ $command }. See /help for the list.
button-outdated = That button is no longer active. Let's continue from the current step:
dialog-expired = Your unfinished report was left too long and has expired — it was not saved. Shall we start again?
dialog-cancelled = Cancelled. Nothing was sent.
nothing-to-cancel = There is nothing to cancel.
flood-warning = You are sending messages too fast. Please wait { $seconds } s and send again whatever got no answer.
language-prompt = Выберите язык / Choose your language:
language-set = Language changed: English.

forget-confirm = Delete your data? We will delete your account and the phone numbers in your reports. The reports stay with the authorities without any link to you, and you will get no answers to them.
btn-forget-yes = 🗑 Delete
btn-forget-no = Keep
forget-done = Your data has been deleted. Reports anonymised: { $reports }. To use the bot again, send /start.
forget-kept = OK, nothing was deleted.
forget-nothing = Nothing about you is stored.

## Intake
intake-draft-exists = You have an unfinished report — let's continue it. To start over, press "Cancel".
intake-text-prompt = Describe the problem in your own words: what happened, where, and since when. You can add photos at the next step.
intake-text-empty = The message is empty. Please describe the problem in text.
intake-text-too-short = That is too short — please describe it in more detail (at least { $min } characters and a few words) so the authority understands what to do.
intake-text-too-long = The text is too long (over { $max } characters). Please shorten it or split it into several reports.
intake-text-needed = { $media ->
    [sticker] A sticker won't do 🙂
    [voice] Voice messages are not accepted yet.
    [video] Videos are not accepted yet.
   *[other] This format is not accepted yet.
} Please describe the problem in text.
intake-photo-before-text = Photo saved ({ $count }). Now please describe the problem in text.
intake-photos-prompt = Attach photos of the problem — up to { $max } (an album is fine) — or press the button below. Attached now: { $count }.
btn-skip-photos = ➡️ No photos
intake-photos-full = The maximum number of photos is attached: { $max }.{ $dropped ->
    [0] {""}
   *[other] {" "}The extra ones ({ $dropped }) were not saved.
}
intake-text-appended = Added that to the description.
intake-photos-unsupported = Please send photos here (as images, not files) or press "Next".
intake-where-prompt = Where is it? Send a location pin (with the button below the input field, or paperclip → Location) or type the address: town, street, house.
btn-send-location = 📍 Send location
btn-place-unknown = 🤷 Not sure — let the ЦУР work it out
intake-where-outside = That point is outside Sverdlovsk oblast. Send another pin or type the address.
intake-where-unknown = I couldn't recognise the town in that address. Please name the town or village, e.g. "Nizhny Tagil, Lenina st. 5" (Russian names work best).
intake-where-needed = Send a location pin or type the address.
intake-where-found = 📍 Place: { $place }.
intake-where-received = 📍 Address received.
intake-where-left-to-tsur = OK, the ЦУР will work out the municipality from your description.
intake-muni-prompt = Please specify the municipality:
btn-none-of-these = None of these
intake-muni-type-it = Please type the name of the town or village.
intake-use-buttons = Please choose one of the buttons.
intake-sector-guess = This looks like: { $sector }. Right? If not, choose another topic.
intake-sector-unsure = Choose the topic of your report:
intake-sector-all = All topics:
btn-sector-yes = ✅ Yes, { $sector }
btn-sector = { $sector }
btn-sector-other = Other
btn-sector-all = All topics…
intake-phone-prompt = Leave a phone number for contact: type it (or share it with the button, if you have one) or skip this step. Only the staff of the authority handling your report will see it.
btn-share-phone = 📱 Share my number
btn-skip-phone = Skip
intake-phone-not-own = Please share your own number with the "📱 Share my number" button.
intake-phone-invalid = That doesn't look like a phone number. Example: +7 912 345-67-89. Or press "Skip".
intake-phone-needed = Type your phone number or press "Skip".
intake-phone-saved = 📱 Phone saved.
intake-phone-skipped = OK, no phone.
intake-summary-title = Please check your report:
intake-summary-length = (the full text — { $length } characters — will be stored whole)
intake-summary-photos = 📷 Photos: { $count }
intake-summary-place = 📍 Place: { $place }
intake-summary-place-unknown = 📍 Place: to be determined by the ЦУР
intake-summary-sector = 🏷 Topic: { $sector }
intake-summary-phone = 📱 Phone: { $phone }
intake-summary-no-phone = 📱 Phone: not given
intake-summary-confirm = Is everything right? Press "Send".
btn-confirm = ✅ Send
intake-filed =
    ✅ Report No. { $number } accepted.
    Sent to: { $body }.
    First reaction by { $first }, answer by { $due }.
    Follow its status in "My reports"; we will tell you here about any change.

## My reports
my-empty = You have no reports yet.
my-title = Your reports ({ $first }–{ $last } of { $total }). Tap one to open it:
my-item = No. { $number } · { $sector } · { $status } · { $date }
btn-newer = ⬅️ Newer
btn-older = Older ➡️
btn-back-to-list = ⬅️ Back to the list
my-not-found = Report not found.
my-report-head =
    Report No. { $number } of { $date }
    Topic: { $sector }
    Status: { $status }
    Place: { $place }
    Handled by: { $body }
    Answer due: { $due }
    Photos: { $photos }
my-history-title = History:
my-history-line = • { $at } — { $status }

status-new = created
status-routed = sent to the authority
status-in_progress = in progress
status-needs_info = clarification needed
status-answered = answered
status-closed = closed
status-transferred = transferred
status-rejected = rejected
service-unavailable = Sorry, we have a technical problem. Your draft is kept — please repeat your last message in a minute.

## Notifications about a filed report
notify-status = Report No. { $number }: status "{ $status ->
    [in_progress] in progress
    [needs_info] clarification needed
    [answered] answered
    [closed] closed
    [transferred] transferred
    [rejected] rejected
    [routed] sent to the authority
   *[other] { $status }
}". Handled by: { $body }.
notify-clarify = Report No. { $number }: { $body } asks you to clarify. Reply with a message in this chat:
notify-answer = Answer to report No. { $number } ({ $body }):
notify-rejected = Report No. { $number } has been rejected.
reject-reason-competence = Reason: the matter is outside this authority's competence.
reject-reason-spam = Reason: the message does not contain a report.
reject-reason-duplicate = Reason: it repeats another report, which will be answered.
ask-solved = Is the problem solved?
btn-solved-yes = ✅ Yes, solved
btn-solved-no = ❌ No, not solved
relay-sent = Your message has been passed to the authority.
relay-report-closed = That report is already closed — the message was not passed on. To report a new problem, press "Report a problem".
relay-pick = Which report is your message about?
relay-pick-item = No. { $number }
feedback-closed = Thank you! The report is closed.
feedback-reopened = The report goes back to the same authority. Write here what is still unsolved — we will pass it on.
rate-prompt = Please rate the work on report No. { $number } from 1 to 5:
rate-thanks = Thank you for the rating! If you like, write a comment in one message or press "Skip".
btn-skip-comment = Skip
rate-comment-saved = Comment saved. Thank you!
rate-done = Thank you!
