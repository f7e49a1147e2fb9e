## The command menus Telegram shows: citizens in private chats, operators and the comms team in groups.

cmd-report = Report a problem
cmd-my = My reports
cmd-notices = Notices and subscriptions
cmd-link = Link Telegram and VK
cmd-language = Language / Язык
cmd-help = Help
cmd-policy = How we handle personal data
cmd-forget = Delete my data
cmd-cancel = Cancel

cmd-group-notice = New notice (in the comms chat)
cmd-group-cancel = Cancel the notice draft
cmd-group-bind = Bind this chat to a body (ЦУР administrators)
cmd-group-unbind = Unbind this chat from its body (ЦУР administrators)
cmd-group-comms = Make this chat the comms chat (ЦУР administrators)
cmd-group-strict = Strict mode: on / off (ЦУР administrators)
