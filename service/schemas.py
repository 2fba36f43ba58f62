"""Request and response bodies of the API, declared once with pydantic."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: StrictStr = Field(description="the text so far; the next word is predicted")
    k: StrictInt = Field(default=5, ge=1, le=50, description="how many predictions")


class WordProbability(BaseModel):
    word: str
    probability: float


class PredictResponse(BaseModel):
    predictions: list[WordProbability]
    model: str
