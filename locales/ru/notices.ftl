# Notices from the ЦУР to citizens (информирование): how each kind is introduced.
notice-head-info = ℹ️ Информация ЦУР Свердловской области
notice-head-outage = ⚠️ Плановое отключение
notice-head-emergency = 🚨 Экстренное сообщение
notice-head-factcheck = 🔎 Проверка фактов
notice-factcheck-claim = ❌ Утверждение, которое распространяется:
notice-factcheck-facts = ✅ Факты:
notice-factcheck-source = 📎 Источник: { $source }
btn-notice-unsubscribe = 🔕 Отписаться
