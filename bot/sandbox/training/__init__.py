"""Training scenarios for the sandbox: scripted citizens, the clock jump to the next deadline, and the
trainee's score card, kept per trainee (see trainer.Trainer)."""

from bot.sandbox.training.scorecard import ReportScore, ScoreCard
from bot.sandbox.training.store import ScoreStore
from bot.sandbox.training.trainer import ScenarioInfo, Trainer

__all__ = ["ReportScore", "ScenarioInfo", "ScoreCard", "ScoreStore", "Trainer"]
