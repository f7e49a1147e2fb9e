## The comms team's chat (handlers/telegram/comms*.py): composing notices, four-eyes approval, progress.
comms-not-comms-chat = Этот чат не чат информирования. Администратор ЦУР может включить его командой /comms.
comms-forged = Эта кнопка недействительна в этом чате.
comms-stale = Эта кнопка от другого черновика: черновик уже отправлен, отменён или принадлежит другому участнику.
comms-cancelled = ✖️ Черновик удалён, ничего не отправлено.

comms-choose-kind = 📣 Новое информирование. Выберите тип:
comms-kind-chosen = 📣 Тип: { $kind }
comms-kind-info = ℹ️ Информация
comms-kind-outage = ⚠️ Плановое отключение
comms-kind-emergency = 🚨 Экстренное
comms-kind-factcheck = 🔎 Проверка фактов
comms-ask-claim = Напишите утверждение, которое распространяется (что опровергаем).
comms-ask-facts = Теперь напишите факты — как на самом деле. Можно прислать фото с подписью.
comms-ask-text = Напишите текст сообщения. Можно прислать фото с подписью.
comms-ask-source = Укажите источник фактов: ссылку или название документа.
comms-photo-added = 📷 Фото добавлено. Теперь пришлите текст.
comms-text-empty = Пришлите текст обычным сообщением.
comms-text-too-long = Слишком длинный текст: { $length } символов, можно не больше { $limit }.

comms-audience = 👥 Кому отправить? Условия можно сочетать, затем нажмите «Готово».
    { $chosen }
comms-audience-nothing = Пока ничего не выбрано.
comms-aud-everyone = • все подписчики
comms-aud-municipalities = • муниципалитеты: { $list }
comms-aud-sectors = • темы: { $list }
comms-aud-platforms = • мессенджер: { $list }
comms-aud-reports = • авторы обращений: { $list }
comms-btn-everyone = 👥 Все подписчики
comms-btn-municipalities = 🏙 Муниципалитеты
comms-btn-sectors = 🏷 Темы
comms-btn-platforms = 💬 Мессенджер
comms-btn-reports = 📨 Авторы обращений
comms-btn-clear = 🧹 Сбросить
comms-btn-done = ✅ Готово
comms-btn-back = ⬅️ Назад
comms-btn-cancel = ✖️ Отмена
comms-ask-municipalities = Напишите муниципалитеты через запятую — названия или id (например: Екатеринбург, Нижний Тагил).
comms-municipalities-unknown = Не нашёл: { $list }.
comms-municipalities-ambiguous = «{ $text }» — уточните: { $options }.
comms-send-again = Исправьте и пришлите список ещё раз (или /cancel).
comms-choose-sectors = Выберите темы (нажатие включает и выключает), затем «Назад».
comms-choose-platforms = Выберите мессенджер (нажатие включает и выключает), затем «Назад».
comms-platform-tg = Telegram
comms-platform-vk = ВКонтакте
comms-ask-reports = Напишите номера обращений через запятую или пробел (например: 26-000042, 26-000043). Сообщение получат их авторы.
comms-reports-malformed = Не похоже на номер обращения: { $list }.
comms-audience-empty = Выберите, кому отправить: мессенджер сам по себе получателей не выбирает.

comms-preview-head = 👀 Предпросмотр — так сообщение увидят граждане:
comms-preview-button = Это предпросмотр: у граждан эта кнопка отписывает от уведомлений.
comms-summary =
    📋 Тип: { $kind }
    👥 Кому: { $audience }
    Получателей: { $count }
    { $timing }
comms-timing-urgent = 🚨 Экстренное: уходит сразу, в том числе в тихие часы получателей.
comms-timing-quiet = 🌙 У кого сейчас тихие часы, получат сообщение после их окончания.
comms-btn-send = ✅ Отправить
comms-btn-edit = ✏️ Изменить
comms-edit-what = ✏️ Что изменить?
comms-btn-edit-text = 📝 Тип и текст
comms-btn-edit-audience = 👥 Получателей
comms-no-recipients = Под эти условия не подходит ни один получатель — измените условия.
comms-started = 🚀 Отправка начата: получателей { $count }. Ход рассылки — в сообщении ниже.

comms-progress =
    📣 Информирование № { $id } · { $kind } · { $status }
    Получателей: { $total }
    ✅ Отправлено: { $sent }
    ⏳ Ожидают: { $waiting }
    ⏸ На паузе: { $paused }
    ❌ Ошибки: { $failed }
    🚫 Недоступны: { $unreachable }
    Скорость: { $rate } в минуту · осталось { $eta }
comms-progress-done =
    🏁 Информирование № { $id } · { $kind } — завершено.
    Получателей: { $total }
    ✅ Доставлено: { $sent }
    ❌ Ошибки: { $failed }
    🚫 Недоступны (заблокировали бота или удалили чат): { $unreachable }
comms-progress-cancelled =
    ⛔ Информирование № { $id } · { $kind } — отменено.
    Получателей: { $total }
    ✅ Доставлено до отмены: { $sent }
    ✖️ Не отправлено: { $cancelled }
    ❌ Ошибки: { $failed }
    🚫 Недоступны (заблокировали бота или удалили чат): { $unreachable }
comms-status-sending = отправляется
comms-status-paused = на паузе
comms-eta-unknown = —
comms-eta-seconds = ≈ { $n } с
comms-eta-minutes = ≈ { $n } мин
comms-eta-hours = ≈ { $h } ч { $m } мин
comms-btn-pause = ⏸ Пауза
comms-btn-resume = ▶️ Продолжить
comms-btn-stop = ⛔ Отменить
comms-btn-stop-confirm = ⛔ Да, отменить рассылку
comms-btn-stop-back = ↩️ Не отменять
comms-stop-ask = Точно отменить? Уже отправленное останется у граждан.
comms-paused = Рассылка на паузе.
comms-resumed = Рассылка продолжается.
comms-stopped = Рассылка отменена.
comms-not-possible = Сейчас это недоступно: рассылка уже { $status }.
comms-state-done = завершена
comms-state-cancelled = отменена
comms-state-sending = идёт
comms-state-paused = на паузе
comms-state-draft = не начата
comms-state-awaiting = ждёт одобрения
comms-preview-language = Так его увидят те, кто читает бота на языке «{ $language }» (получателей: { $count }) — текст ваш, подписи бота на их языке:
comms-language-en = английский
comms-language-ru = русский

## Who may act (the staff registry) and four-eyes approval.
comms-not-comms-staff = Составлять информирование могут только сотрудники с ролью «информирование» (comms) в реестре сотрудников. Быть участником этого чата недостаточно.
comms-anonymous = Бот не знает, кто вы: команды от имени группы или канала не принимаются. Напишите от своего имени.
comms-steer-not-allowed = Управлять рассылкой могут сотрудники информирования и администраторы ЦУР.
comms-approve-not-allowed = Одобрять информирование могут сотрудники информирования и администраторы ЦУР.
comms-self-approval = Своё информирование одобрить нельзя: нужен второй сотрудник.
comms-preview-approval = 🛂 Перед отправкой нужно одобрение второго сотрудника: { $reason }.
comms-awaiting-reason-everyone = сообщение всем подписчикам
comms-awaiting-reason-many = получателей { $count }, больше { $threshold }
comms-awaiting = ⏳ Ждёт одобрения второго сотрудника ({ $reason }). Запрос — в сообщении ниже; после одобрения рассылка начнётся сама. Любая правка отменяет запрос.
comms-awaiting-already = Информирование уже ждёт одобрения второго сотрудника.
comms-approval =
    🛂 Информирование № { $id } ждёт одобрения
    ✍️ Автор: { $author }
    📋 Тип: { $kind }
    👥 Кому: { $audience }
    Получателей: { $count } ({ $reason })
    Одобрить может другой сотрудник информирования или администратор ЦУР; после одобрения рассылка начнётся сразу. Текст, который получат граждане:
comms-approval-photo = 📷 С фото (показано в предпросмотре выше).
comms-btn-approve = ✅ Одобрить
comms-btn-reject = ✖️ Отклонить
comms-approved = Одобрено: рассылка начата.
comms-rejected = Отклонено: информирование не отправлено.
comms-approval-changed = Информирование изменилось после запроса — одобрять нечего.
comms-approval-closed = ✖️ Информирование № { $id } · { $kind } не отправлено: запрос на одобрение отклонён или отозван автором.
comms-approved-by = 🛂 Одобрено: { $name }
