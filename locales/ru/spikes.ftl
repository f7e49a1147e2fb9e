## Spike alerts (bot/services/incidents/spike_watch.py): the ЦУР operator chat and the comms chat read these.
# $count reports in the last $minutes minutes where $expected were expected; $p is the Poisson tail.
spike-alert =
    📈 Всплеск обращений: { $sector }, { $municipality }{ $place ->
        [none] {""}
       *[other] , { $place }
    }.
    За последние { $minutes } мин: { $count } (обычно { $expected }), p = { $p }.
spike-alert-pin = 📍 Карта: { $url }
spike-alert-texts = Типичные тексты:
spike-btn-incident = Создать инцидент
spike-btn-notify = Уведомить жителей
spike-btn-ignore = Игнорировать
spike-done-incident = Инцидент № { $incident } создан, обращения всплеска присоединены.
spike-done-notified = Запрос на уведомление передан в чат коммуникаций.
spike-done-ignored = Всплеск помечен как ложный.
spike-decided-note = { $decision ->
    [incident] ✅ Создан инцидент (№ { $incident }): { $by }.
    [notified] 📣 Запрошено уведомление жителей: { $by }.
   *[ignored] 🙈 Проигнорировано: { $by }.
}
spike-not-allowed = Решать по всплескам могут только операторы и администраторы ЦУР из реестра сотрудников.
spike-gone = Этого всплеска больше нет.
spike-decided = По этому всплеску уже принято решение.
spike-no-comms = Чат коммуникаций не подключён: уведомление некому подготовить.
spike-forged = Кнопка недействительна.
spike-expired = Кнопка устарела.
spike-notice-request = 📣 ЦУР просит уведомить жителей: { $sector }, { $municipality } ({ $count } обращений за час). Запросил: { $by }.
spike-notice-subscribers =
    Подписчикам муниципалитета и блока (подставьте свой ID и текст):
    python -m bot notice send --kind info --author ВАШ_ID --municipality { $municipality_id } --sector { $sector_id } --text "{ $sector }, { $municipality }: знаем о проблеме, работаем над решением."
spike-notice-reporters =
    Заявителям этого всплеска:
    python -m bot notice send --kind info --author ВАШ_ID { $reports } --text "{ $sector }, { $municipality }: знаем о проблеме, работаем над решением."
