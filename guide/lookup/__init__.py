"""Look up the guidance's own words: numbered paragraphs by reference, and glossary terms."""

from .content import (
    GlossaryTerm,
    GuidanceText,
    Paragraph,
    find_references,
    find_terms,
    load_guidance_text,
    normalise_reference,
)

__all__ = [
    "GlossaryTerm", "GuidanceText", "Paragraph", "find_references", "find_terms",
    "load_guidance_text", "normalise_reference",
]
