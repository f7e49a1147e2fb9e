## Subscriptions to notices (dialogs/notices_menu.py): municipalities, topics, quiet hours.

btn-notices = 🔔 Notices
btn-subs-municipalities = 🏙 Municipalities
btn-subs-sectors = 🗂 Topics
btn-subs-quiet = 🌙 Quiet hours
btn-subs-off = 🔕 Unsubscribe from all
btn-subs-again = 🔔 Subscribe again
btn-subs-region = { $mark }🌐 The whole oblast
btn-subs-all-sectors = { $mark }All topics
btn-subs-prev = ◀️ { $page }
btn-subs-next = { $page } ▶️
btn-subs-to-list = ⬅️ Back to the list
btn-subs-quiet-hours = { $mark }{ $hours }
btn-subs-quiet-off = { $mark }🔔 No quiet hours
btn-subs-offer-yes = ✅ Yes
btn-subs-offer-no = No, thanks

subs-title-on = 🔔 You are subscribed to ЦУР notices: planned outages, emergencies, news.
subs-title-off = 🔕 You are not subscribed to notices yet. Choose municipalities or topics, and we will send you planned outages, emergencies and news.
subs-line-municipalities = 🏙 Municipalities: { $names }
subs-line-sectors = 🗂 Topics: { $names }
subs-line-quiet = 🌙 Quiet hours: { $hours } (local time) — only emergency notices arrive then.
subs-line-quiet-off = 🌙 Quiet hours: off — notices arrive at any time.
subs-all-region = the whole oblast
subs-all-sectors = all topics
subs-nothing = nothing yet
subs-and-more = and { $count } more
subs-chosen = Chosen: { $names }

subs-muni-title = 🏙 Municipalities (page { $page } of { $pages }). Tick the ones you want notices about. If you tick none but choose topics, you get notices for the whole oblast.
subs-muni-search-hint = 🔎 You can also just type the name of a town or district.
subs-muni-added = ✅ Subscribed: { $place }.
subs-muni-not-found = I could not find a municipality called "{ $text }". Check the name or pick one from the list.
subs-muni-pick = Which one did you mean by "{ $text }"? Tap to tick it:

subs-sectors-title = 🗂 Topics. Tick the ones you want notices about. If you tick none but choose municipalities, you get notices on all topics.

subs-quiet-title = 🌙 Quiet hours (local time): ordinary notices wait until morning, emergency ones arrive at once. Choose the hours:
subs-quiet-set = Quiet hours: { $hours }.
subs-quiet-off = Quiet hours are off: notices will arrive at any time.

subs-unsubscribed = 🔕 You are unsubscribed from notices. We will not send them any more. Answers about your reports will keep coming as before.

subs-offer = Would you like notices about planned outages, emergencies and news in { $place }?
subs-offer-anywhere = Would you like notices about planned outages, emergencies and news in your municipality? You can pick it from a list.
subs-offer-accepted = ✅ Done! You are subscribed to notices: { $place }, all topics. Change it any time with /notices.
subs-offer-declined = All right, we won't. You can subscribe any time: /notices or "🔔 Notices" in the menu.
