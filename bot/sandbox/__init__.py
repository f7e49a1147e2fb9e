"""Local stand-ins for the Telegram Bot API and the VK API, served over HTTP on 127.0.0.1.

The end-to-end tests run the real aiogram and vkbottle code against them; a later step ships
them as the offline sandbox. They speak HTTP only (aiohttp and the standard library) and serve
just the methods the bot calls. Updates reach the bot by getUpdates / Long Poll or, as the
platforms do it, by webhook / Callback API POSTs redelivered until accepted (``pusher.py``).
"""
