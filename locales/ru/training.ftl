# The training sandbox: scenario controls and the trainee's score card (bot/sandbox/training/).

training-title = Тренировка оператора
training-scenario = Сценарий
training-trainee-name = Имя стажёра
training-btn-start = ▶️ Начать сценарий
training-btn-finish = 🏁 Завершить и показать оценку
training-btn-next-deadline = ⏭ к следующему сроку
training-speed = Скорость времени: ×{ $speed }
training-clock = Время сценария: { $time }
training-next-none = Ближайших сроков нет: все обращения закрыты или ещё не поданы.
training-next-at = Следующий срок: { $time }
training-citizen-waiting = ждёт своего часа
training-citizen-filing = пишет обращение
training-citizen-filed = обращение подано
training-citizen-failed = сбой сценария

training-card-title = Оценка: { $trainee }, сценарий «{ $scenario }»
training-card-score = Итог: { $score } из 100
training-card-reports = Обращений: { $count }{ $waiting ->
    [0] {""}
   *[other] {" "}(ещё не подано: { $waiting })
}
training-card-first = Первая реакция: в срок — { $on_time }, с опозданием — { $late }
training-card-answer = Ответ: в срок — { $on_time }, с опозданием — { $late }
training-card-wrong-transfers = Передачи не в ту отрасль: { $count }
training-card-unanswered = Уточнения граждан без реакции: { $count }
training-card-vague = Ответы ни о чём: { $count }
training-card-ratings = Оценки граждан: { $count }, средняя — { $average }
training-card-solved = Гражданин подтвердил решение: { $solved }, не решено: { $not_solved }
training-card-escalations = Эскалации руководителю и куратору: { $count }

training-col-citizen = Гражданин
training-col-number = №
training-col-sector = Отрасль
training-col-first = Первая реакция, мин (срок)
training-col-answer = Ответ, мин (срок)
training-col-transfers = Передачи
training-col-clarifications = Уточнения
training-col-vague = Ответы ни о чём
training-col-rating = Оценка
training-on-time = в срок
training-late = опоздание
training-pending = ещё не срок
training-solved-yes = решено
training-solved-no = не решено

training-rule-deadlines = Сроки — те, что положены отрасли, к которой обращение относится на самом деле, по производственному календарю с момента подачи. Первая реакция — первое действие оператора (взять в работу, уточнение, ответ, передача, отклонение, сообщение гражданину); ответ — первый ответ или отклонение.
training-rule-transfer = Передача не в ту отрасль — передача в отрасль, к которой обращение не относится.
training-rule-unanswered = Уточнение без реакции — гражданин ответил на запрос уточнения, а с обращением после этого ничего не сделали.
training-rule-vague = Ответ ни о чём — короче { $words } слов или не называет ни сделанной (или назначенной) работы, ни срока: даты, часа, дня недели, «сегодня», «до 15.12», «в течение 3 дней». «Обращение рассмотрено, меры приняты» — ответ ни о чём.
training-rule-score = Итог: за каждое обращение по баллу за первую реакцию в срок, ответ в срок и содержательный ответ; минус балл за каждую передачу не в ту отрасль и каждое уточнение без реакции; в процентах от возможного.

training-report-empty = Оценок пока нет ({ $path }).
training-report-trainee = { $name } — сценариев: { $count }
training-report-entry = { $when } · { $scenario }
