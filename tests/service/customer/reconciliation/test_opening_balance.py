"""The opening balance of accounts opened before it was kept: filled in by the migration as
the balance less what the account's transactions moved."""

import uuid
from decimal import Decimal

from sqlalchemy import text

from crm.infra.postgres import EmbeddedPostgres
from crm.registry import SERVICES
from services.customer.config import Settings
from shared.db import create_engine
from shared.migrations import upgrade

# A current account opened with 50.00: +100.00, -30.00, so 120.00 now. A loan of 1,000.00
# repaid by 200.00 (money in lowers what is owed), so 800.00 now. An account never posted to.
_HISTORY = """
INSERT INTO customers (id, kind, name, status, version, profile, consent, value_tier)
VALUES (:customer, 'individual', '张伟', 'active', 1, '{}', '{}', 'ordinary');
INSERT INTO accounts (account_number, customer_id, product_type, product_code, currency,
                      balance, status, opened_on)
VALUES ('62220000000000001', :customer, 'current', 'CUR', 'CNY', 120.00, 'open', '2025-01-01'),
       ('62220000000000002', :customer, 'loan', 'LN', 'CNY', 800.00, 'open', '2025-01-01'),
       ('62220000000000003', :customer, 'current', 'CUR', 'CNY', 33.00, 'open', '2025-01-01');
INSERT INTO transactions (transaction_id, customer_id, account_number, direction, amount,
                          currency, balance_after, kind, channel, booked_at)
VALUES ('T1', :customer, '62220000000000001', 'credit', 100.00, 'CNY', 150.00, 'deposit',
        'branch', '2025-02-01T10:00:00+08:00'),
       ('T2', :customer, '62220000000000001', 'debit', 30.00, 'CNY', 120.00, 'payment',
        'branch', '2025-02-02T10:00:00+08:00'),
       ('T3', :customer, '62220000000000002', 'credit', 200.00, 'CNY', 800.00,
        'loan_repayment', 'branch', '2025-02-03T10:00:00+08:00')
"""


async def test_opening_balances_are_worked_back_from_the_transactions(
    postgres_server: EmbeddedPostgres,
) -> None:
    postgres_server.ensure_database("crm_opening_balance_test")
    settings = Settings(database_url=postgres_server.url("crm_opening_balance_test"))
    migrations = SERVICES["customer"].migrations
    await upgrade(settings, migrations, "0009")
    engine = create_engine(settings)
    customer = uuid.uuid4()
    try:
        async with engine.begin() as connection:
            for statement in _HISTORY.split(";"):
                await connection.execute(text(statement), {"customer": customer})
        await upgrade(settings, migrations)
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT account_number, opening_balance FROM accounts ORDER BY 1")
            )
            opening = {row.account_number[-1]: row.opening_balance for row in rows}
    finally:
        await engine.dispose()

    assert opening == {"1": Decimal("50.00"), "2": Decimal("1000.00"), "3": Decimal("33.00")}
