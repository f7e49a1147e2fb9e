## Staff commands (handlers/telegram/binding.py, staff_commands.py) and the binding service (bot/chats.py).

# Refusals (reasons of bot.staff.NotAllowed and the commands that only admins run).
staff-not-allowed = ⛔ У вас нет на это права: права дают только роли в реестре сотрудников ЦУР.
staff-admins-only = ⛔ Это может сделать только администратор ЦУР (роль в реестре сотрудников; права администратора чата здесь ничего не дают).
staff-anonymous = ⛔ Команды сотрудников принимаются только от имени человека. Отправьте команду от своего имени, не анонимно (выключите «Анонимность» в своих правах администратора) и не от имени канала.
staff-invite-invalid = ⛔ Код приглашения недействителен: он уже использован, истёк или набран с ошибкой. Попросите у администратора ЦУР новый.

# Binding an operator chat to a body.
bind-usage = Укажите id органа: /bind <id>. Список органов: python -m bot bodies
bind-done = ✅ Чат привязан к органу: { $body }. Новые обращения будут появляться здесь отдельными темами.
bind-done-moved = Очередь органа перенесена из прежнего чата; тот чат уведомлён, кнопки на его карточках больше не действуют.
bind-done-lost = Этот чат больше не работает с обращениями органа «{ $body }».
bind-unchanged = Чат уже привязан к органу: { $body }.
bind-moved-away = ℹ️ Этот чат больше не работает с обращениями органа «{ $body }»: администратор ЦУР изменил привязку. Кнопки на прежних карточках больше не действуют.
bind-confirm = ⚠️ Привязка изменит то, что уже работает. Перенести?
bind-confirm-body = • Орган «{ $body }» сейчас обслуживает другой чат (id { $chat }): его очередь перейдёт сюда, тот чат будет уведомлён.
bind-confirm-chat = • Этот чат сейчас работает с органом «{ $body }»: он перестанет получать его обращения.
bind-btn-yes = Да, перенести
bind-btn-no = Отмена
bind-cancelled = Отменено: ничего не изменилось.
bind-not-yours = Подтвердить или отменить может только администратор, который отправил команду.
bind-stale = Этот запрос устарел: отправьте команду ещё раз.
bind-forged = Эта кнопка недействительна в этом чате.

# Unbinding.
unbind-confirm = ⚠️ Отвязать чат от органа «{ $body }»? Новые обращения органа перестанут приходить сюда (их будет получать чат ЦУР), кнопки на карточках перестанут действовать.
unbind-btn-yes = Да, отвязать
unbind-done = Чат отвязан от органа «{ $body }»: новые обращения органа сюда больше не приходят, кнопки на карточках больше не действуют.
unbind-not-bound = Этот чат не привязан ни к одному органу.

# Comms chats.
chat-comms-bound = ✅ Этот чат — чат информирования. Составлять сообщения для граждан (/notice) могут сотрудники с ролью comms в реестре.
chat-comms-unbound = Этот чат больше не чат информирования.
chat-comms-already = Этот чат уже чат информирования.
chat-comms-not-bound = Этот чат и так не чат информирования.

# Strict mode.
strict-usage = Строгий режим: /strict on — действуют только зарегистрированные операторы органа; /strict off — любой участник чата.
strict-on = 🔒 Строгий режим включён: по обращениям органа «{ $body }» действуют только его зарегистрированные операторы и администраторы ЦУР.
strict-off = 🔓 Строгий режим выключен: по обращениям органа «{ $body }» действует любой участник чата.
strict-unchanged = Уже так: ничего не изменилось.
strict-tsur-always = Чат ЦУР всегда в строгом режиме: в нём действуют только администраторы и операторы ЦУР.

# The registry in a private chat with the bot.
staff-private-only = Эта команда работает только в личном чате с ботом.
staff-invite-usage = Как пригласить: /invite РОЛЬ [ОБЛАСТЬ], например /invite operator adm-ekaterinburg, /invite comms, /invite head housing, /invite mcu ekaterinburg. Роли: admin, operator (орган), head и curator (отраслевой блок), comms, mcu (муниципалитет).
staff-invite-bad = Не получилось: { $error }
staff-invite-created = 🎟 Приглашение: { $grant }. Одноразовое, действует 24 часа.
    Ссылка: { $link }
    Или в личном чате с ботом: /join { $code }
    Передайте его человеку по надёжному каналу.
staff-joined = ✅ Теперь вы — { $grant }. Роль записана в реестр сотрудников ЦУР.
staff-join-usage = Отправьте код приглашения так: /join КОД
staff-revoke-usage = Как отозвать: /revoke USER_ID [РОЛЬ]
staff-revoked = Отозвано ролей у { $user }: { $count }.
staff-revoke-last-admin = Последнего администратора отозвать нельзя: сначала добавьте другого.
staff-list-head = 👥 Реестр сотрудников ЦУР:
staff-list-line = { $user } · { $name } — { $roles }
staff-list-empty = В реестре пока никого нет.
staff-whoami = Ваш Telegram id: { $user }
    Роли: { $roles }
staff-whoami-none = нет (вы не в реестре сотрудников)

# Roles as people read them; a scope follows in «…».
staff-role-admin = администратор ЦУР
staff-role-operator = оператор органа
staff-role-head = руководитель отраслевого блока
staff-role-curator = ответственный за отраслевой блок
staff-role-comms = сотрудник информирования
staff-role-mcu = МЦУ муниципалитета
staff-role-scoped = { $role } «{ $scope }»

# The municipal centre (МЦУ): /municipality in a private chat (handlers/telegram/municipal.py).
mcu-usage = Укажите муниципалитет: /municipality <id> (например, /municipality ekaterinburg). Список открыт МЦУ этого муниципалитета и администраторам ЦУР.
mcu-head = 🏙 { $municipality }: открытых обращений — { $count } (показаны последние 50).
mcu-line = № { $number } · { $sector } · { $status } · срок ответа { $due }
    Адрес: { $address }
    { $text }
