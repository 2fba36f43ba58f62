"""Request and response bodies of the API, declared once with pydantic.

These models validate every request (service/api.py) and are the OpenAPI document's schemas
(service/openapi.py): the documentation cannot drift from what the service accepts.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from model import GREEDY_BELOW_TEMPERATURE

MAX_PROMPT_CHARS = 20_000  # about 4,000 words: a long history, still answered in tens of ms
MAX_PREFIX_CHARS = 50
MAX_BATCH = 64
MAX_K = 50
MAX_GENERATE_WORDS = 200
MAX_STATE_CHARS = 200_000
MAX_TEMPERATURE = 10
MAX_EXCLUDE = 50  # words a typist passed over while typing one word: 3 a letter for 16 letters, and more


def _encodable(text: str) -> str:
    # JSON may carry a lone surrogate ("\ud800"); it is not text and cannot be tokenized.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode (lone surrogate)") from None
    return text


# No NUL characters: they are never text a user typed, and some tooling truncates at them.
Prompt = Annotated[
    StrictStr,
    Field(max_length=MAX_PROMPT_CHARS, pattern=r"^[^\x00]*$",
          description=f"the text so far, at most {MAX_PROMPT_CHARS:,} characters"),
    AfterValidator(_encodable),
]
# What the tokenizer needs to read a word: one character that is neither space nor NUL. Only
# documented in the schema: the check itself is the tokenizer's, answered as "empty_prompt".
HAS_A_WORD = r"^[^\x00]*[^\s\x00][^\x00]*$"
WordPrompt = Annotated[Prompt, Field(json_schema_extra={"pattern": HAS_A_WORD})]
# A prompt may be empty only when a state token says where to continue from.
PROMPT_OR_STATE = {"anyOf": [
    {"required": ["state"], "properties": {"state": {"type": "string"}}},
    {"properties": {"prompt": {"pattern": HAS_A_WORD}}},
]}
K = Annotated[StrictInt, Field(ge=1, le=MAX_K, description="how many predictions")]
StateToken = Annotated[
    StrictStr,
    Field(min_length=1, max_length=MAX_STATE_CHARS, pattern=r"^[A-Za-z0-9_-]+$",
          description="the `state` of an earlier response: continue from there; `prompt` then holds only the new words"),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PredictRequest(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra=PROMPT_OR_STATE)

    prompt: Prompt
    k: K = 5
    prefix: Annotated[
        StrictStr,
        Field(max_length=MAX_PREFIX_CHARS, pattern=r"^[^\s\x00]*$",
              description="the start of the word being typed: only words beginning with it, renormalised"),
        AfterValidator(_encodable),
    ] | None = None
    state: StateToken | None = None
    exclude: Annotated[
        list[Annotated[StrictStr, Field(min_length=1, max_length=MAX_PREFIX_CHARS, pattern=r"^[^\s\x00]+$")]],
        Field(max_length=MAX_EXCLUDE, description=(
            "words not to predict, any case: those already shown for the word being typed and passed over "
            "(the user typed another letter instead), so that the next suggestions are new ones")),
    ] = []
    cache: StrictBool = Field(True, description=(
        "mix in the document cache (GET /v1/models `cache`): words of this text, copied ones included, gain "
        "probability; the state token then carries what any worker needs to rebuild it. false: the model alone"))


class BatchPredictRequest(Strict):
    prompts: Annotated[list[WordPrompt], Field(min_length=1, max_length=MAX_BATCH,
                                           description=f"up to {MAX_BATCH} prompts, answered in order")]
    k: K = 5


class GenerateRequest(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra=PROMPT_OR_STATE)

    prompt: Prompt
    max_words: Annotated[StrictInt, Field(ge=1, le=MAX_GENERATE_WORDS,
                                          description="tokens to generate (punctuation and line breaks count)")] = 20
    temperature: Annotated[StrictFloat | StrictInt, Field(
        gt=0, le=MAX_TEMPERATURE,
        description=f"below 1: safer words; above 1: more varied. Any value below {GREEDY_BELOW_TEMPERATURE:g} "
                    "(down to the smallest positive number) is greedy: the likeliest token every time, "
                    "as the temperature tends to 0; `top_k` then makes no difference")] = 1.0
    top_k: Annotated[StrictInt, Field(ge=1, le=100_000, description="sample among the k likeliest tokens only")] | None = None
    seed: Annotated[StrictInt, Field(ge=0, le=2**31 - 1,
                                     description="same seed, same text; omitted: random, returned")] | None = None
    state: StateToken | None = None


class WordProbability(BaseModel):
    word: str
    probability: float


class PredictResponse(BaseModel):
    predictions: list[WordProbability]
    state: str = Field(description="send this back with the next words to continue without resending the text")
    model: str = Field(description="the model version that computed this response")


class BatchItem(BaseModel):
    predictions: list[WordProbability]
    state: str


class BatchPredictResponse(BaseModel):
    results: list[BatchItem]
    model: str


class GenerateResponse(BaseModel):
    text: str
    words: list[str] = Field(description="the generated tokens: words, punctuation and line breaks (\"\\n\")")
    seed: int
    model: str


class ModelInfo(BaseModel):
    model: str = Field(description="the version served by the worker that answered")
    config: dict = Field(description="architecture: cell, sizes, vocabulary, softmax")
    training: dict = Field(description="the training command's settings, without local paths (no corpus_dir, "
                                       "models_dir or any other folder or file of the training machine)")
    metrics: dict = Field(description="training figures: perplexities, tokens, time, validation curve")
    available: list[str] = Field(description="complete versions on disk, oldest first")
    cache: CacheInfo = Field(description="the served version's document cache settings (off for versions without)")


class CacheInfo(BaseModel):
    enabled: bool = Field(description="whether /v1/predict mixes in the document cache by default")
    weight: float = Field(description="λ: the cache's share of the mixture")
    flatness: float = Field(description="θ: how sharply the closest earlier contexts are preferred")
    window: int = Field(description="W: the last W words of the text are remembered")
    copy_unknown: bool = Field(description="words outside the vocabulary are offered as written in the text")
    entropy_scale: float = Field(description="S: the cache's share is λ·min(1, H/S), H the model's entropy in nats; "
                                             "0: always λ")
    skip_latest: bool = Field(description="the pair of the word just read is left out of the cache (it could only "
                                          "suggest that word again)")
    ramp_pairs: int = Field(description="N: the share is also scaled by min(1, n/N), n the pairs the cache holds "
                                        "for this text; 0: not scaled")
    ngram_weight: float = Field(description="μ: the version's n-gram model's share of the model's probabilities, its "
                                            "context the text's last words (0: the recurrent model alone)")


class Health(BaseModel):
    status: Literal["ok"]
    model: str | None


class ReloadResponse(BaseModel):
    model: str
    changed: bool
    previous: str | None


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorDetail
