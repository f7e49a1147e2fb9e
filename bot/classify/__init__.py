"""Sector classifier of citizen reports: Russian or English text -> sector id with confidence."""

from bot.classify.model import Classifier, Prediction, load_classifier

__all__ = ["Classifier", "Prediction", "load_classifier"]
