# The training sandbox: scenario controls and the trainee's score card (bot/sandbox/training/).

training-title = Operator training
training-scenario = Scenario
training-trainee-name = Trainee's name
training-btn-start = ▶️ Start the scenario
training-btn-finish = 🏁 Finish and show the score
training-btn-next-deadline = ⏭ to the next deadline
training-speed = Clock speed: ×{ $speed }
training-clock = Scenario time: { $time }
training-next-none = No deadlines ahead: every report is closed or not filed yet.
training-next-at = Next deadline: { $time }
training-citizen-waiting = waiting for their time
training-citizen-filing = writing the report
training-citizen-filed = report filed
training-citizen-failed = scenario failure

training-card-title = Score card: { $trainee }, scenario “{ $scenario }”
training-card-score = Total: { $score } of 100
training-card-reports = Reports: { $count }{ $waiting ->
    [0] {""}
   *[other] {" "}(not filed yet: { $waiting })
}
training-card-first = First reaction: on time — { $on_time }, late — { $late }
training-card-answer = Answer: on time — { $on_time }, late — { $late }
training-card-wrong-transfers = Transfers to a wrong sector: { $count }
training-card-unanswered = Citizens' clarifications left without reaction: { $count }
training-card-vague = Answers that say nothing: { $count }
training-card-ratings = Citizens' ratings: { $count }, average { $average }
training-card-solved = Citizen confirmed solved: { $solved }, not solved: { $not_solved }
training-card-escalations = Escalations to the block head and curator: { $count }

training-col-citizen = Citizen
training-col-number = No.
training-col-sector = Sector
training-col-first = First reaction, min (deadline)
training-col-answer = Answer, min (deadline)
training-col-transfers = Transfers
training-col-clarifications = Clarifications
training-col-vague = Answers that say nothing
training-col-rating = Rating
training-on-time = on time
training-late = late
training-pending = not due yet
training-solved-yes = solved
training-solved-no = not solved

training-rule-deadlines = Deadlines are those of the sector the report truly belongs to, on the working-day calendar from filing. First reaction: the first operator action (take, clarify, answer, transfer, reject, a message to the citizen); answer: the first answer or rejection.
training-rule-transfer = A wrong-sector transfer moves the report to a sector it does not belong to.
training-rule-unanswered = A clarification left without reaction: the citizen answered a clarification request and nothing was done with the report afterwards.
training-rule-vague = An answer that says nothing is shorter than { $words } words or names neither work done (or scheduled) nor a time: a date, an hour, a weekday, “today”, “by 15.12”, “within 3 days”. “Your report was reviewed, measures were taken” says nothing.
training-rule-score = Total: per report one point each for a first reaction on time, an answer on time and an answer that says something; minus one per wrong-sector transfer and per clarification left without reaction; as a share of the maximum.

training-report-empty = No scores yet ({ $path }).
training-report-trainee = { $name } — scenarios: { $count }
training-report-entry = { $when } · { $scenario }
