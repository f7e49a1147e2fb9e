# Texts only some messengers need, because of what their platform can and cannot show.

# VK shows at most 10 buttons under a message: the rest of a long list follows in more messages.
vk-more-options = More options:
