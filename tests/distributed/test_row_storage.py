"""New rows stored in PostgreSQL through COPY read back exactly as they were stored."""

from __future__ import annotations

import pytest

from hospital_bulk.store.engine import create_store_engine
from hospital_bulk.store.repository import JobRepository
from tests.store.test_row_storage import check_page_order, check_rows_round_trip

pytestmark = pytest.mark.distributed


def test_postgres_rows_round_trip(migrated_database: str) -> None:
    engine = create_store_engine(migrated_database)
    try:
        check_rows_round_trip(JobRepository(engine))
        check_page_order(JobRepository(engine))
    finally:
        engine.dispose()
