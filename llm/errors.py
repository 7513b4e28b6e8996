"""Errors of the model runtime."""

from __future__ import annotations


class LLMError(Exception):
    code = "llm_error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ModelMissing(LLMError):
    code = "model_missing"


class ModelLoadFailed(LLMError):
    code = "model_load_failed"


class GenerationFailed(LLMError):
    code = "generation_failed"


class Cancelled(LLMError):
    code = "cancelled"


class IntegrityError(LLMError):
    """A model file whose hash or header is not what the catalogue says."""

    code = "model_corrupt"
