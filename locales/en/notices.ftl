# Notices from the ЦУР to citizens (информирование): how each kind is introduced.
notice-head-info = ℹ️ Information from the Sverdlovsk Oblast ЦУР
notice-head-outage = ⚠️ Planned outage
notice-head-emergency = 🚨 Emergency
notice-head-factcheck = 🔎 Fact check
notice-factcheck-claim = ❌ The claim being spread:
notice-factcheck-facts = ✅ The facts:
notice-factcheck-source = 📎 Source: { $source }
btn-notice-unsubscribe = 🔕 Unsubscribe
