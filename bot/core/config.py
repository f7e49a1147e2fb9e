"""Settings, read from the environment or `.env` only (secrets never live in code or logs)."""

from __future__ import annotations

import hmac
import re
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Bot API tokens look like "123456789:AA...". Checked up front so a typo fails at start, not on the
# first update.
TELEGRAM_TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,60}$")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Reference data shipped with the package (sectors, bodies, routing, municipalities, block contacts).
REFERENCE_DATA_DIR = PROJECT_ROOT / "bot" / "data"


class Settings(BaseSettings):
    """Everything configurable about one deployment of the bot."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = Field(default=None, description="Bot token from @BotFather")
    telegram_api_url: str | None = Field(
        default=None, description="Another Bot API server (self-hosted or a test one)"
    )
    telegram_rate: float = Field(default=30.0, gt=0, description="Telegram messages per second overall")
    telegram_chat_rate: float = Field(default=1.0, gt=0, description="Telegram messages per second per chat")
    telegram_paid_broadcast: bool = Field(
        default=False, description="Send notices as paid broadcasts (Telegram Stars; up to 1000/s)"
    )
    vk_bot_token: SecretStr | None = Field(
        default=None, description="VK community token (messages, photos); enables the VK bot"
    )
    vk_group_id: int | None = Field(
        default=None, description="VK community id (found from the token if unset)"
    )
    vk_api_url: str | None = Field(
        default=None, description="Another VK API base, e.g. http://127.0.0.1:8081/method/ (tests)"
    )
    vk_callback_secret: SecretStr | None = Field(
        default=None, description="Secret key of the VK Callback API server (required with --webhook)"
    )
    vk_confirmation_code: str | None = Field(
        default=None, description="String VK expects back on the Callback API confirmation request"
    )
    vk_callback_path: str = Field(default="/webhook/vk", description="Path of the VK Callback API endpoint")
    vk_rate: float = Field(default=20.0, gt=0, description="VK API requests per second (community limit 20)")
    vk_state_dir: str = Field(
        default=".vkbottle", description="Where VK Long Poll keeps its position between restarts"
    )
    database_url: str = Field(
        default="sqlite+aiosqlite:///tsur.sqlite3", description="SQLAlchemy async URL of the database"
    )
    redis_url: str | None = Field(default=None, description="Redis for dialog state and flood control")
    database_pool_size: int | None = Field(
        default=None,
        ge=1,
        description="Database connections each process keeps open (default 35 PostgreSQL, 5 SQLite)",
    )
    database_pool_overflow: int | None = Field(
        default=None,
        ge=0,
        description="Extra connections a process may open past the pool (default 5 PostgreSQL, 10 SQLite)",
    )
    database_pool_timeout: float = Field(
        default=10.0, gt=0, description="Seconds a session waits for a free connection before failing"
    )
    redis_connections: int = Field(default=64, ge=1, description="Redis connections each process may open")
    redis_wait_seconds: float = Field(
        default=10.0, gt=0, description="Seconds a command waits for a free Redis connection"
    )
    inbound_concurrency: int = Field(
        default=16, ge=1, description="Updates one process works on at once (the rest wait, stored)"
    )
    inbound_backlog_limit: int = Field(
        default=20000,
        ge=1,
        description="Updates waiting to be processed past which webhooks answer 503 (redelivered later)",
    )
    reference_refresh_seconds: float = Field(
        default=5.0, gt=0, description="How often each process checks for edited reference data (routing)"
    )
    model_path: Path | None = Field(
        default=None,
        description="Where `python -m bot classify retrain` writes an accepted model; every process uses it "
        "instead of the committed seed model and reloads it within MODEL_REFRESH_SECONDS of a change",
    )
    model_refresh_seconds: float = Field(
        default=30.0, gt=0, description="How often each process checks MODEL_PATH for a retrained model"
    )
    default_language: str = Field(default="ru", description="Language before a citizen chooses one")
    dialog_ttl_minutes: int = Field(default=120, ge=1, description="An idle dialog expires after this")
    privacy_policy_url: str = Field(
        default="https://example.gov.ru/tsur/privacy", description="Full personal-data policy"
    )
    webhook_base_url: str | None = Field(default=None, description="Public HTTPS base for the webhook")
    webhook_path: str = Field(default="/webhook/telegram", description="Path of the Telegram webhook")
    webhook_secret: SecretStr | None = Field(
        default=None, description="Secret token Telegram sends in each webhook request"
    )
    web_host: str = Field(default="0.0.0.0", description="Address of the HTTP server")
    web_port: int = Field(default=8080, description="Port of the HTTP server")
    flood_limit: int = Field(default=6, ge=1, description="Messages a citizen may send per flood window")
    flood_window_seconds: float = Field(default=3.0, gt=0, description="Flood window length")
    album_wait_seconds: float = Field(default=0.8, gt=0, description="How long to gather an album")
    timezone: str = Field(default="Asia/Yekaterinburg", description="Local time zone of the oblast")
    notice_approval_threshold: int = Field(
        default=1000,
        ge=0,
        description="A notice to more recipients than this (or to everyone) needs a second person's approval",
    )
    incident_confirm_reporters: int = Field(
        default=50,
        ge=1,
        description="An operator's message in an incident's topic to more reporters than this is sent only "
        "after they confirm it (and after a second person's approval above notice_approval_threshold)",
    )
    log_level: str = Field(default="INFO", description="Logging level")
    # Retention (personal data is kept no longer than needed, 152-ФЗ art. 5): the running bot purges
    # older rows hourly; `python -m bot purge` does it once.
    retention_drafts_days: int = Field(
        default=30, ge=1, description="Unfinished dialog drafts (SQL state store) are kept this long"
    )
    retention_updates_days: int = Field(
        default=14,
        ge=7,
        description="Seen update ids are kept this long (at least 7: platforms redeliver for a day)",
    )
    retention_outbox_days: int = Field(
        default=90, ge=1, description="Sent, dead and cancelled outbox messages are kept this long"
    )
    retention_examples_days: int = Field(
        default=365,
        ge=1,
        description="Classifier examples learnt from operators' transfers and closures are kept this long",
    )

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        # People paste plain URLs from their hosting panel; map them to the async drivers we ship.
        if value.startswith("postgres://"):
            value = "postgresql://" + value[len("postgres://") :]
        if value.startswith("postgresql://"):
            value = "postgresql+asyncpg://" + value[len("postgresql://") :]
        if value.startswith("sqlite:///"):
            value = "sqlite+aiosqlite:///" + value[len("sqlite:///") :]
        return value


class ConfigError(Exception):
    """A setting is missing or malformed; the message says what to set."""


VK_TOKEN_RE = re.compile(r"^[A-Za-z0-9._-]{20,400}$")


def vk_token(settings: Settings) -> str | None:
    """The VK community token if one is set; ConfigError when it is malformed."""
    if settings.vk_bot_token is None or not settings.vk_bot_token.get_secret_value().strip():
        return None
    token = settings.vk_bot_token.get_secret_value().strip()
    if not VK_TOKEN_RE.match(token):
        raise ConfigError("VK_BOT_TOKEN is malformed: paste the community access key from Manage → API usage")
    return token


def telegram_token(settings: Settings) -> str | None:
    """The Telegram token if one is set; ConfigError when it is malformed."""
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value().strip():
        return None
    return require_telegram_token(settings)


# Telegram's rule for setWebhook's secret_token; VK's Callback API secret key is Latin letters and
# digits, up to 50. Both are at least 16 here: a short secret can be guessed by trying.
WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
VK_CALLBACK_SECRET_RE = re.compile(r"^[A-Za-z0-9]{16,50}$")
MIN_SECRET_LENGTH = 16


def webhook_secret(settings: Settings) -> str:
    """The Telegram webhook secret token; ConfigError when it is missing, short or malformed."""
    value = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if len(value) < MIN_SECRET_LENGTH:
        raise ConfigError(
            "WEBHOOK_SECRET is not set or too short: webhook mode needs 16-256 characters of A-Z a-z 0-9 _ -"
        )
    if not WEBHOOK_SECRET_RE.match(value):
        raise ConfigError("WEBHOOK_SECRET is malformed: use 16-256 characters of A-Z a-z 0-9 _ - only")
    return value


def vk_callback_secret(settings: Settings) -> str:
    """The VK Callback API secret key; ConfigError when it is missing, short or malformed."""
    value = settings.vk_callback_secret.get_secret_value() if settings.vk_callback_secret else ""
    if len(value) < MIN_SECRET_LENGTH:
        raise ConfigError(
            "VK_CALLBACK_SECRET is not set or too short: give the Callback API server 16-50 Latin "
            "letters and digits as its secret key"
        )
    if not VK_CALLBACK_SECRET_RE.match(value):
        raise ConfigError("VK_CALLBACK_SECRET is malformed: use 16-50 Latin letters and digits only")
    return value


def secret_matches(presented: str, expected: str) -> bool:
    """Constant-time comparison of a secret a request presented with ours.

    On bytes: `secrets.compare_digest` refuses a str with non-ASCII characters (TypeError, a 500),
    and whatever a stranger sends must be a plain "no". surrogatepass encodes any str, including
    the surrogates aiohttp uses for undecodable header bytes.
    """
    return hmac.compare_digest(
        presented.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def require_telegram_token(settings: Settings) -> str:
    """Return the bot token or raise ConfigError with a one-line hint."""
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value().strip():
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN is not set: put the token from @BotFather into the environment or .env"
        )
    token = settings.telegram_bot_token.get_secret_value().strip()
    if not TELEGRAM_TOKEN_RE.match(token):
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN is malformed: expected '<digits>:<35 characters>' as given by @BotFather"
        )
    return token
