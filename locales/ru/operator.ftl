## Operator chats (operators work in Russian)
op-card =
    📨 Обращение № { $number } · { $status }
    Тема: { $sector } (классификатор: { $confidence })
    Муниципалитет: { $municipality }
    Адрес: { $address }
    Фото: { $photos } · Мессенджер: { $platform ->
        [vk] ВКонтакте
       *[tg] Telegram
    } · Телефон: { $phone }
    Первая реакция до { $first }; ответ до { $due }
    Оценка гражданина: { $rating }
op-btn-take = 🙋 Взять в работу
op-btn-clarify = ❓ Запросить уточнение
op-btn-answer = ✅ Ответить
op-btn-reject = ⛔ Отклонить
op-forged = Эта кнопка недействительна в этом чате.
op-taken = Обращение взято в работу.
op-write-clarify = Напишите вопрос гражданину следующим сообщением в этой теме.
op-write-answer = Напишите ответ гражданину следующим сообщением в этой теме.
op-choose-reason = Причина отклонения:
op-reason-competence = Не наша компетенция
op-reason-spam = Спам / не обращение
op-reason-duplicate = Дубликат
op-rejected = Обращение отклонено.
op-sent-to-citizen = Отправлено гражданину.
op-chat-not-bound = Этот чат не привязан к органу: /bind <id органа>.
op-not-your-report = Это обращение другого органа.
op-illegal-transition = В текущем статусе это действие недоступно.
op-already-yours = Обращение уже у вас в работе.
op-report-closed = Обращение закрыто — сообщение не отправлено.
op-citizen-says = 💬 Гражданин ({ $platform ->
    [vk] ВКонтакте
   *[tg] Telegram
}) по обращению № { $number }:
report-not-found = Обращение не найдено.
feedback-not-expected = Оценка для этого обращения сейчас не ожидается.
notify-message = Сообщение по обращению № { $number } ({ $body }):
op-citizen-unreachable = ⚠️ Гражданин по обращению № { $number } недоступен: бот заблокирован или чат удалён. Сообщения ему не доставляются.
op-bind-admins-only = Привязать чат к органу может только администратор чата.
op-bind-usage = Укажите id органа: /bind <id>. Список органов: python -m bot bodies
op-bound = Чат привязан к органу: { $body }. Новые обращения будут появляться здесь отдельными темами.
op-btn-transfer = ⇄ Передать в другую отрасль
op-choose-sector = В какую отрасль передать? Обращение будет направлено заново по правилам маршрутизации.
op-transfer-done = Обращение передано.
op-transferred = ⇄ Обращение передано: { $body }. Дальше с ним работают там.
