"""The moderators' service over real file stores and the fixture engine, shared by the tests of this folder."""

import pytest

from bot.faq.service import FaqService
from bot.storage.factory import open_storage
from bot.workers import Workers


@pytest.fixture
async def service(tmp_path, fixture_engine):
    faq, records = await open_storage(tmp_path / "data", None, lambda: fixture_engine.kb)
    await faq.load_all()
    workers = Workers()

    async def reload_curated():
        return []

    yield FaqService(lambda: fixture_engine, faq, records, workers, reload_curated)
    await workers.drain()
    await faq.close()
    await records.close()
    workers.close()
