"""The offline, rule-based intent extractor."""

from adapters.llm.offline.extractor import OfflineExtractor

__all__ = ["OfflineExtractor"]
