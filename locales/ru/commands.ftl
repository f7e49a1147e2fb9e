## The command menus Telegram shows: citizens in private chats, operators and the comms team in groups.

cmd-report = Сообщить о проблеме
cmd-my = Мои обращения
cmd-notices = Уведомления и подписки
cmd-link = Связать Telegram и ВКонтакте
cmd-language = Язык / Language
cmd-help = Помощь
cmd-policy = Как мы обращаемся с личными данными
cmd-forget = Удалить мои данные
cmd-cancel = Отменить

cmd-group-notice = Новое информирование (в чате информирования)
cmd-group-cancel = Отменить черновик информирования
cmd-group-bind = Привязать чат к органу (администраторы ЦУР)
cmd-group-unbind = Отвязать чат от органа (администраторы ЦУР)
cmd-group-comms = Сделать чат чатом информирования (администраторы ЦУР)
cmd-group-strict = Строгий режим: on / off (администраторы ЦУР)
