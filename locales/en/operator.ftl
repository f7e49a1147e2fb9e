## Operator chats
op-card =
    📨 Report No. { $number } · { $status }
    Topic: { $sector } (classifier: { $confidence })
    Municipality: { $municipality }
    Address: { $address }
    Photos: { $photos } · Messenger: { $platform ->
        [vk] VK
       *[tg] Telegram
    }
    First reaction by { $first }; answer by { $due }
    Citizen's rating: { $rating }
op-btn-take = 🙋 Take
op-btn-clarify = ❓ Ask to clarify
op-btn-answer = ✅ Answer
op-btn-reject = ⛔ Reject
op-forged = This button is not valid in this chat.
op-taken = The report is yours now.
op-write-clarify = Write your question to the citizen as the next message in this topic.
op-write-answer = Write your answer to the citizen as the next message in this topic.
op-choose-reason = Reason for rejecting:
op-reason-competence = Not our competence
op-reason-spam = Spam / not a report
op-reason-duplicate = Duplicate
op-rejected = The report has been rejected.
op-sent-to-citizen = Sent to the citizen.
op-chat-not-bound = This chat is not bound to a body: /bind <body id>.
op-not-your-report = This report belongs to another body.
op-illegal-transition = This action is not available in the current status.
op-already-yours = The report is already yours.
op-report-closed = The report is closed — the message was not sent.
op-citizen-says = 💬 The citizen ({ $platform ->
    [vk] VK
   *[tg] Telegram
}) about report No. { $number }:
report-not-found = Report not found.
feedback-not-expected = No feedback is expected for this report now.
notify-message = Message about report No. { $number } ({ $body }):
op-citizen-unreachable = ⚠️ The citizen of report No. { $number } cannot be reached: the bot is blocked or the chat deleted. Messages to them are not delivered.
op-btn-transfer = ⇄ Transfer to another sector
op-choose-sector = Which sector should it go to? The report will be routed again by the routing rules.
op-transfer-done = The report has been transferred.
op-transferred = ⇄ Transferred to: { $body }. It is handled there from now on.
op-btn-phone = 📞 Show phone
op-phone = 📞 The citizen's phone: { $phone }
    Shown to you only; this view is recorded in the audit trail.
op-no-phone = The citizen left no phone number.
op-phone-closed = The report is closed: its phone is no longer shown.
op-phone-elsewhere = The phone is shown only in the chat of the body responsible for the report.
op-not-registered = Only registered operators of the body act in this chat. Ask a ЦУР administrator.
op-anonymous = Actions on behalf of the chat are not accepted: write as yourself (turn off anonymous admin).
op-buttons-expired = The buttons had expired — the card has been refreshed, press again.
