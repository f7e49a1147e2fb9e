## Staff commands (handlers/telegram/binding.py, staff_commands.py) and the binding service (bot/chats.py).

# Refusals (reasons of bot.staff.NotAllowed and the commands that only admins run).
staff-not-allowed = ⛔ You have no right to do this: only roles in the ЦУР staff registry grant rights.
staff-admins-only = ⛔ Only a ЦУР administrator can do this (a role in the staff registry; being an administrator of this chat grants nothing here).
staff-anonymous = ⛔ Staff commands are accepted only from a person. Send the command as yourself, not anonymously (turn off "Remain anonymous" in your admin rights) and not on behalf of a channel.
staff-invite-invalid = ⛔ This invite code is not valid: it was used already, has expired or was mistyped. Ask a ЦУР administrator for a new one.

# Binding an operator chat to a body.
bind-usage = Give the body id: /bind <id>. List of bodies: python -m bot bodies
bind-done = ✅ This chat is now bound to: { $body }. New reports will appear here as separate topics.
bind-done-moved = The body's queue was moved from its previous chat; that chat has been told, and the buttons on its cards no longer work.
bind-done-lost = This chat no longer works the reports of «{ $body }».
bind-unchanged = This chat is already bound to: { $body }.
bind-moved-away = ℹ️ This chat no longer works the reports of «{ $body }»: a ЦУР administrator changed the binding. Buttons on the earlier cards no longer work.
bind-confirm = ⚠️ This binding changes what already works. Move it?
bind-confirm-body = • «{ $body }» is served by another chat now (id { $chat }): its queue will move here, and that chat will be told.
bind-confirm-chat = • This chat works the reports of «{ $body }» now: it will stop receiving them.
bind-btn-yes = Yes, move it
bind-btn-no = Cancel
bind-cancelled = Cancelled: nothing changed.
bind-not-yours = Only the administrator who sent the command can confirm or cancel it.
bind-stale = This request is out of date: send the command again.
bind-forged = This button is not valid in this chat.

# Unbinding.
unbind-confirm = ⚠️ Unbind this chat from «{ $body }»? The body's new reports will no longer come here (the ЦУР chat gets them), and the buttons on the cards will stop working.
unbind-btn-yes = Yes, unbind
unbind-done = This chat is unbound from «{ $body }»: the body's new reports no longer come here, and the buttons on the cards no longer work.
unbind-not-bound = This chat is not bound to any body.

# Comms chats.
chat-comms-bound = ✅ This chat is now a comms chat. Staff holding the comms role in the registry can compose notices for citizens here (/notice).
chat-comms-unbound = This chat is no longer a comms chat.
chat-comms-already = This chat is a comms chat already.
chat-comms-not-bound = This chat is not a comms chat anyway.

# Strict mode.
strict-usage = Strict mode: /strict on — only the body's registered operators act; /strict off — any member of the chat.
strict-on = 🔒 Strict mode is on: only registered operators of «{ $body }» and ЦУР administrators act on its reports.
strict-off = 🔓 Strict mode is off: any member of the chat acts on the reports of «{ $body }».
strict-unchanged = It is so already: nothing changed.
strict-tsur-always = The ЦУР chat is always strict: only ЦУР administrators and operators act there.

# The registry in a private chat with the bot.
staff-private-only = This command works only in a private chat with the bot.
staff-invite-usage = To invite: /invite ROLE [SCOPE], e.g. /invite operator adm-ekaterinburg, /invite comms, /invite head housing, /invite mcu ekaterinburg. Roles: admin, operator (a body), head and curator (a sector block), comms, mcu (a municipality).
staff-invite-bad = That did not work: { $error }
staff-invite-created = 🎟 Invite: { $grant }. Single use, valid for 24 hours.
    Link: { $link }
    Or in a private chat with the bot: /join { $code }
    Pass it to the person by a channel you trust.
staff-joined = ✅ You are now { $grant }. The role is recorded in the ЦУР staff registry.
staff-join-usage = Send the invite code like this: /join CODE
staff-revoke-usage = To revoke: /revoke USER_ID [ROLE]
staff-revoked = Roles revoked from { $user }: { $count }.
staff-revoke-last-admin = The last administrator cannot be revoked: add another one first.
staff-list-head = 👥 The ЦУР staff registry:
staff-list-line = { $user } · { $name } — { $roles }
staff-list-empty = Nobody is in the registry yet.
staff-whoami = Your Telegram id: { $user }
    Roles: { $roles }
staff-whoami-none = none (you are not in the staff registry)

# Roles as people read them; a scope follows in «…».
staff-role-admin = a ЦУР administrator
staff-role-operator = an operator of
staff-role-head = the block head of
staff-role-curator = the block curator of
staff-role-comms = a comms team member
staff-role-mcu = the municipal centre of
staff-role-scoped = { $role } «{ $scope }»

# The municipal centre (МЦУ): /municipality in a private chat (handlers/telegram/municipal.py).
mcu-usage = Name the municipality: /municipality <id> (for example, /municipality ekaterinburg). The list is open to that municipality's centre (МЦУ) and to ЦУР administrators.
mcu-head = 🏙 { $municipality }: { $count } open reports (the latest 50 shown).
mcu-line = No. { $number } · { $sector } · { $status } · answer due { $due }
    Address: { $address }
    { $text }
