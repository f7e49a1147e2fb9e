## Repeated reports: the offer at intake, joining, merging (citizens)
intake-same-prompt = Похоже, об этом уже сообщили. Если это ваша проблема, присоединитесь — ответ придёт и вам, и всем, кто сообщил:
intake-same-line = № { $number } · { $title } · { $reporters ->
    [one] { $reporters } человек уже сообщил
    [few] { $reporters } человека уже сообщили
   *[other] { $reporters } человек уже сообщили
    } · { $status ->
    [in_progress] в работе
    [needs_info] нужно уточнение
   *[other] направлено в орган
    }
btn-same-mine = ✋ Это моя проблема (№ { $number })
btn-same-other = ➡️ Нет, другое
intake-same-chosen = Хорошо, присоединим ваше сообщение к № { $number }.
intake-joined =
    ✅ Ваше обращение № { $number } присоединено к № { $lead }: об этой проблеме сообщили { $reporters } чел.
    Сейчас: { $status ->
    [in_progress] в работе
    [needs_info] нужно уточнение
   *[other] направлено в орган
    }. Все новости и ответ придут вам сюда, а в конце мы спросим, решена ли проблема.
notify-merged = Обращение № { $number } объединено с № { $lead } — это одна проблема. Ответ придёт всем, кто о ней сообщил.

## Operators
op-card-reporters = 👥 Сообщили: { $count } чел. (ответ в этой теме уйдёт всем)
op-card-follows = 🔗 Объединено с № { $lead }: работа и ответ — в теме № { $lead }.
op-card-duplicates = Похоже на: { $numbers }
op-btn-merge = 🔗 Объединить с № { $number }
op-btn-split = ↩️ Отделить
op-merged-done = Объединено.
op-split-done = Отделено: обращение снова ведётся само по себе.
op-incident-joined = ✋ К проблеме присоединился ещё один житель: № { $number } ({ $platform ->
    [vk] ВКонтакте
   *[tg] Telegram
    })
op-incident-merged = 🔗 Обращение № { $number } объединено с № { $lead }. Продолжение — в теме № { $lead }.
op-incident-split = ↩️ Житель по № { $number } ответил, что проблема не решена: обращение отделено от № { $lead } и ведётся отдельно.
op-merge-not-possible = Объединить нельзя: обращение уже закрыто, отвечено или само объединено с другим.
op-merge-other-body = Объединять обращения разных органов может только ЦУР (из чата ЦУР).
op-split-not-merged = Это обращение ни с чем не объединено.
incident-unknown-sector = Неизвестный блок.
op-confirm-many = Сообщение уйдёт { $count } жителям. Отправить?
op-confirm-four-eyes = Сообщение уйдёт { $count } жителям — нужно подтверждение второго сотрудника (не автора).
op-btn-send-all = 📣 Отправить всем ({ $count })
op-confirm-own = Подтвердить должен другой сотрудник.
op-confirm-gone = Нечего отправлять: сообщение уже отправлено или отменено.
op-sent-to-all = Отправлено { $count } жителям.
op-confirm-own-only = Подтвердить может только автор сообщения.
incident-usage =
    Открыть инцидент: /incident <блок> <муниципалитет> <название>
    Например: /incident energy ekaterinburg Нет света, ул. Ленина
    Блоки: roads, housing, health, education, social, waste, transport, energy, other; муниципалитет «-» — если неизвестен.
incident-unknown-municipality = Такого муниципалитета нет в справочнике (нужен его код, например ekaterinburg).
incident-opened = Инцидент № { $number } открыт и направлен: { $body }. Обращения о том же будут предлагаться жителям, а операторы смогут объединять их с ним.
