## Deadlines and escalation (decree item 8). Operators, block heads and curators read these.
# $due is local time (Asia/Yekaterinburg) as dd.mm.yyyy HH:MM.
sla-remind-first = ⏰ Обращение № { $number }: первая реакция нужна до { $due }. Возьмите его в работу или запросите уточнение.
sla-remind-answer = ⏰ Обращение № { $number }: ответ гражданину нужен до { $due }.
sla-overdue-first = 🚨 Обращение № { $number }: срок первой реакции ({ $due }) истёк.
sla-overdue-answer = 🚨 Обращение № { $number }: срок ответа ({ $due }) истёк.
sla-head-notified = ⬆️ Просрочка по обращению № { $number } передана руководителю блока: { $name }.
sla-curator-notified = ⬆️ Обращение № { $number } всё ещё просрочено; уведомлено лицо, ответственное за блок: { $name }.
sla-no-contact = ⚠️ Для блока «{ $sector }» не указан { $level ->
    [curator] ответственный за блок
   *[head] руководитель блока
}: просрочку по обращению № { $number } разбирает ЦУР.
sla-direct-head =
    🚨 Просрочено обращение № { $number } ({ $what ->
        [first] нет первой реакции
       *[answer] нет ответа
    }, срок { $due }).
    Блок: { $sector }. Исполнитель: { $body }.
sla-direct-curator =
    🚨 Обращение № { $number } остаётся просроченным после уведомления руководителя блока ({ $what ->
        [first] нет первой реакции
       *[answer] нет ответа
    }, срок { $due }).
    Блок: { $sector }. Исполнитель: { $body }.
notify-autoclosed = Обращение № { $number } ({ $body }) закрыто: после ответа вы не сообщили, что проблема не решена. Если она осталась, сообщите о ней снова.
