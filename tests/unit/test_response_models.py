"""aiogram's parsed-response classes survive garbage collection once the bot has used a method."""

from __future__ import annotations

import gc
import weakref
from typing import Any

from aiogram.methods import Response, SendMessage, SendPhoto
from aiogram.types import Message

from handlers.telegram.response_models import ResponseModelsKept


async def _answered(_bot: Any, _method: Any) -> Any:
    return Response[Message](ok=True, result=None)


async def test_a_used_methods_response_class_is_built_once_and_survives_collection() -> None:
    kept = ResponseModelsKept()
    await kept(_answered, None, SendMessage(chat_id=1, text="Здравствуйте"))  # type: ignore[arg-type]
    pinned = weakref.ref(Response[Message])
    gc.collect()
    assert pinned() is not None and Response[Message] is pinned()
    assert kept.kept == 1
    # SendPhoto returns a Message too: one more method type, the same class.
    await kept(_answered, None, SendPhoto(chat_id=1, photo="AgAC"))  # type: ignore[arg-type]
    assert kept.kept == 2


def test_without_it_pydantic_builds_the_class_again_after_a_collection() -> None:
    # The reason the middleware exists: the parametrised class is cached weakly only.
    built = weakref.ref(Response[list[int]])
    gc.collect()
    assert built() is None
