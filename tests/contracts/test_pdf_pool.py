"""Large lots render in a pool of processes; results keep their order and failures surface."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from lap_market.contracts import pdf
from tests.contracts.test_rules import _context


def test_a_large_batch_renders_in_parallel_in_order() -> None:
    contexts = [_context(f"Specification number {n}") for n in range(pdf.PARALLEL_MIN_DOCUMENTS + 1)]
    for n, context in enumerate(contexts):
        context["reference"] = f"LAP-2026-0007-L2-C{n + 1:02d}"
    seen: list[tuple[int, int]] = []
    documents = pdf.render_many(contexts, lambda done, total: seen.append((done, total)))
    assert len(documents) == len(contexts)
    for n, document in enumerate(documents):
        text = PdfReader(io.BytesIO(document)).pages[0].extract_text()
        assert f"LAP-2026-0007-L2-C{n + 1:02d}" in text
    assert seen == [(done, len(contexts)) for done in range(1, len(contexts) + 1)]


def test_a_failure_in_a_worker_is_raised() -> None:
    contexts = [_context("fine") for _ in range(pdf.PARALLEL_MIN_DOCUMENTS + 1)]
    del contexts[3]["buyer"]  # the template's StrictUndefined refuses a missing party
    with pytest.raises(Exception, match="buyer"):
        pdf.render_many(contexts)
