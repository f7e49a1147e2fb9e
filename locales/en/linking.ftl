## Linking one person's Telegram and VK accounts (dialogs/linking.py).

btn-link = 🔗 Link Telegram and VK
btn-link-enter = ⌨️ Enter a code from the other messenger
btn-link-unlink = ✂️ Unlink this account
btn-link-unlink-yes = ✂️ Unlink
btn-link-unlink-no = Keep linked

link-status-unlinked = If you write to us both in Telegram and in VK, link the two accounts: then "My reports" in either messenger shows all your reports. This account ({ $here }) is not linked to any other yet.
link-status-linked = This account ({ $here }) is linked with: { $accounts }. "My reports" shows the reports of all linked accounts.
link-code =
    Your code: { $code }
    Send "/link { $code }" to the bot in the other messenger within { $minutes } { $minutes ->
        [one] minute
       *[other] minutes
    }. The code works once — do not share it with anyone.
    If you already have a code from the other messenger, press "Enter a code".
link-enter-prompt = Send the code the bot showed you in the other messenger (8 characters, for example ABCD2345).
link-code-needed = Please send the code as a text message.
link-done = ✅ Done! Accounts linked: { $accounts }. "My reports" now shows the reports sent from any of them. Updates on a report still arrive in the messenger it was sent from.
link-already = These accounts are already linked.
link-invalid = That code did not work: it is wrong, expired or already used. Please check it or get a new code in the other messenger.
link-same-account = That is this account's own code. Send it to the bot in the other messenger.
link-same-platform = That code was issued in this same messenger. Only accounts of different messengers — Telegram and VK — can be linked.
link-too-many = Too many wrong codes. Please try again in an hour.
link-draft-exists = Please finish or cancel the report you started first. You can also send the code right away: /link followed by the code.
link-not-linked = This account is not linked to any other.
link-unlink-confirm = Unlink this account from: { $accounts }? Reports sent from there will no longer show here. The reports themselves stay and will be dealt with.
link-unlinked = Account unlinked. Only the reports sent from this messenger show here now.
link-unlink-kept = OK, the accounts stay linked.
