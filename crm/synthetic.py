"""A deterministic synthetic bank: customers of both kinds, their accounts and a year of
transactions, as the request bodies the customer API takes.

Made for the embedded run (`crm seed`) and the benchmarks. The same seed gives the same bank,
byte for byte; nothing depends on the wall clock but the ``end_date`` given. The year holds the
patterns the detector looks for: monthly salaries from one employer, occasional large deposits,
large transfers to other banks, withdrawals, customers who went dormant half a year ago and
customers whose money in dries up (attrition)."""

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from contracts.identifiers import InvalidIdentifier
from services.customer.identity.resident_id import validate_resident_id
from services.customer.identity.social_credit_code import validate_unified_social_credit_code

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华飞鹏辉玲丹萍红宇浩凯健俊帆"
COMPANY_WORDS = ["星河", "华信", "东方", "锦程", "瑞丰", "恒达", "中和", "盛世", "海川", "远景"]
COMPANY_KINDS = ["精密制造", "贸易", "科技", "物流", "食品", "医药", "建材", "电子"]
BRANCHES = ["BJ001", "BJ002", "SH001", "SH002", "GZ001", "SZ001", "CD001", "HZ001"]
REGIONS = ["110105", "110108", "310104", "310115", "440106", "440305", "510107", "330106"]
EMPLOYERS = ["华为技术有限公司", "中国石化", "国家电网", "腾讯科技", "上海汽车", "中国移动"]
OTHER_BANKS = ["ICBC", "CCB", "ABC", "BOC", "CMB", "SPDB"]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass
class SyntheticAccount:
    number: str
    product_type: str
    currency: str


@dataclass
class SyntheticCustomer:
    key: str
    kind: str
    body: dict[str, Any]
    accounts: list[SyntheticAccount] = field(default_factory=list)
    salary: Decimal | None = None
    employer: str | None = None
    dormant_from: date | None = None
    declining_from: date | None = None
    monthly_activity: float = 4.0


def _luhn_complete(prefix: str) -> str:
    for check in range(10):
        number = f"{prefix}{check}"
        total = 0
        for position, digit in enumerate(reversed(number)):
            value = int(digit)
            if position % 2 == 1:
                value = value * 2 - 9 if value > 4 else value * 2
            total += value
        if total % 10 == 0:
            return number
    raise AssertionError("unreachable: one check digit always fits")


class SyntheticBank:
    def __init__(self, *, seed: int, customers: int, transactions: int, end_date: date) -> None:
        self.seed = seed
        self.end_date = end_date
        self.start_date = end_date - timedelta(days=364)
        self.target_transactions = transactions
        self._random = random.Random(seed)
        self._used_ids: set[str] = set()
        self._customers = [self._customer(n) for n in range(customers)]
        # Salaries come on top of the activity: take them out of the target first.
        salaries = sum(12 for c in self._customers if c.salary is not None)
        total_rate = sum(c.monthly_activity for c in self._customers) * 12
        self._scale = max(transactions - salaries, 0) / total_rate if total_rate else 0.0

    # --- customers and accounts ---------------------------------------------------------

    def _resident_id(self, n: int) -> tuple[str, date]:
        r = self._random
        while True:  # draw again on a repeat: one ID number is one customer
            birth = date(1950, 1, 1) + timedelta(days=r.randrange(0, 18_000))
            base = f"{r.choice(REGIONS)}{birth:%Y%m%d}{r.randrange(1000):03d}"
            if base in self._used_ids:
                continue
            self._used_ids.add(base)
            for check in "0123456789X":
                try:
                    return validate_resident_id(base + check, today=self.end_date).number, birth
                except InvalidIdentifier:
                    continue
            raise AssertionError(f"no check character for {base}")

    def _credit_code(self, n: int) -> str:
        base = f"911{self.seed % 1000:03d}00{n % 100_000_000:08d}"
        for organisation_check in USCC_ALPHABET:
            for check in USCC_ALPHABET:
                try:
                    return validate_unified_social_credit_code(base + organisation_check + check)
                except InvalidIdentifier:
                    continue
        raise AssertionError(f"no check characters for {base}")

    def _customer(self, n: int) -> SyntheticCustomer:
        r = self._random
        key = f"SYN-{self.seed}-C{n:07d}"
        phone = f"1{r.choice('3456789')}{r.randrange(10**9):09d}"
        branch = r.choice(BRANCHES)
        if r.random() < 0.1:
            name = f"{r.choice(COMPANY_WORDS)}{r.choice(COMPANY_KINDS)}有限公司"
            body: dict[str, Any] = {
                "kind": "corporate",
                "name": name,
                "branch_code": branch,
                "profile": {
                    "social_credit_code": self._credit_code(n),
                    "industry_sector": r.choice(["secondary", "tertiary"]),
                    "industry_code": r.choice(["C3911", "F5171", "G5430", "I6510"]),
                    "size": r.choice(["large", "small_and_medium"]),
                    "ownership_type": r.choice(["private", "state_owned", "joint_venture"]),
                    "registered_capital": {
                        "amount": f"{r.randrange(1, 500)}000000.00",
                        "currency": "CNY",
                    },
                    "legal_representative": r.choice(SURNAMES) + r.choice(GIVEN),
                    "phones": [phone],
                },
            }
            customer = SyntheticCustomer(key, "corporate", body, monthly_activity=r.uniform(8, 30))
        else:
            number, _ = self._resident_id(n)
            body = {
                "kind": "individual",
                "name": r.choice(SURNAMES) + "".join(r.choices(GIVEN, k=r.choice((1, 2)))),
                "branch_code": branch,
                "preferred_channel": r.choice(["mobile", "web", "phone", "branch"]),
                "consent": {"phone": r.random() < 0.7, "sms": r.random() < 0.5},
                "profile": {
                    "id_type": "resident_id",
                    "id_number": number,
                    "phones": [phone],
                    "income_band": r.choice(["under_50k", "50k_200k", "200k_1m"]),
                },
            }
            customer = SyntheticCustomer(key, "individual", body, monthly_activity=r.uniform(1, 12))
            if r.random() < 0.6:
                customer.salary = Decimal(r.randrange(4000, 40000))
                customer.employer = r.choice(EMPLOYERS)
        roll = r.random()
        if roll < 0.10:
            customer.dormant_from = self.end_date - timedelta(days=r.randrange(185, 300))
        elif roll < 0.15:
            customer.declining_from = self.end_date - timedelta(days=r.randrange(60, 150))
        customer.accounts = self._accounts(n)
        return customer

    def _accounts(self, n: int) -> list[SyntheticAccount]:
        r = self._random
        accounts = [
            SyntheticAccount(
                f"6222{self.seed % 100:02d}{n:07d}01",
                "current",
                "USD" if r.random() < 0.05 else "CNY",
            )
        ]
        if r.random() < 0.3:
            accounts.append(
                SyntheticAccount(f"6222{self.seed % 100:02d}{n:07d}02", "term_deposit", "CNY")
            )
        if r.random() < 0.15:
            accounts.append(SyntheticAccount(f"6222{self.seed % 100:02d}{n:07d}03", "loan", "CNY"))
        if r.random() < 0.4:
            accounts.append(SyntheticAccount(f"6222{self.seed % 100:02d}{n:07d}04", "card", "CNY"))
        if r.random() < 0.1:
            accounts.append(
                SyntheticAccount(f"6222{self.seed % 100:02d}{n:07d}05", "wealth", "CNY")
            )
        return accounts

    @property
    def customer_count(self) -> int:
        return len(self._customers)

    @property
    def account_count(self) -> int:
        return sum(len(customer.accounts) for customer in self._customers)

    def customers(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for customer in self._customers:
            yield customer.key, customer.body

    def accounts(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(customer key, account body without ``customer_id``: the loader fills it in)."""
        r = random.Random(self.seed + 1)
        opened = self.start_date - timedelta(days=400)
        for customer in self._customers:
            for account in customer.accounts:
                body: dict[str, Any] = {
                    "account_number": account.number,
                    "product_type": account.product_type,
                    "product_code": account.product_type.upper(),
                    "currency": account.currency,
                    "opened_on": opened.isoformat(),
                }
                if account.product_type == "term_deposit":
                    # Some mature within weeks of the end of the year: maturity triggers.
                    days = r.choice([r.randrange(1, 30), r.randrange(30, 365)])
                    body["maturity_date"] = (self.end_date + timedelta(days=days)).isoformat()
                    body["opening_balance"] = f"{r.randrange(10, 500) * 1000}.00"
                elif account.product_type == "loan":
                    body["payoff_date"] = (
                        self.end_date + timedelta(days=r.randrange(30, 7000))
                    ).isoformat()
                    body["opening_balance"] = f"{r.randrange(50, 2000) * 1000}.00"
                elif account.product_type == "card":
                    body["card_number"] = _luhn_complete(f"62{r.randrange(10**13):013d}")
                elif account.product_type == "wealth":
                    body["opening_balance"] = f"{r.randrange(50, 3000) * 1000}.00"
                yield customer.key, body

    # --- transactions --------------------------------------------------------------------

    def transaction_batches(self, size: int = 1000) -> Iterator[list[dict[str, Any]]]:
        """A year of transactions in time order, month by month, in batches of ``size``."""
        counter = 0
        batch: list[dict[str, Any]] = []
        month_start = self.start_date.replace(day=1)
        while month_start <= self.end_date:
            next_month = (month_start + timedelta(days=32)).replace(day=1)
            r = random.Random(f"{self.seed}-{month_start:%Y%m}")
            month: list[tuple[datetime, dict[str, Any]]] = []
            for customer in self._customers:
                month += [
                    item
                    for item in self._month_of(customer, r, month_start, next_month)
                    if customer.dormant_from is None or item[0].date() < customer.dormant_from
                ]
            month.sort(key=lambda item: (item[0], item[1]["account_number"]))
            for booked_at, body in month:
                counter += 1
                body["transaction_id"] = f"SYN-{self.seed}-T{counter:09d}"
                body["booked_at"] = booked_at.isoformat()
                batch.append(body)
                if len(batch) == size:
                    yield batch
                    batch = []
            month_start = next_month
        if batch:
            yield batch

    def _day(self, r: random.Random, start: date, end: date) -> datetime:
        first = max(start, self.start_date)
        last = min(end - timedelta(days=1), self.end_date)
        day = first + timedelta(days=r.randrange(0, max((last - first).days, 0) + 1))
        return datetime.combine(
            day, time(r.randrange(8, 22), r.randrange(60), r.randrange(60)), tzinfo=UTC
        )

    def _month_of(
        self, customer: SyntheticCustomer, r: random.Random, start: date, end: date
    ) -> list[tuple[datetime, dict[str, Any]]]:
        if end <= self.start_date or start > self.end_date:
            return []
        if customer.dormant_from is not None and start >= customer.dormant_from:
            return []
        declining = customer.declining_from is not None and start >= customer.declining_from
        out = self._salary(customer, start, declining=declining)
        expected = customer.monthly_activity * self._scale * (0.3 if declining else 1.0)
        count = int(expected) + (1 if r.random() < expected - int(expected) else 0)
        for _ in range(count):
            at = self._day(r, start, end)
            out.append((at, _everyday(customer, r, declining=declining)))
        return out

    def _salary(
        self, customer: SyntheticCustomer, start: date, *, declining: bool
    ) -> list[tuple[datetime, dict[str, Any]]]:
        """The month's pay, on the 10th, from the one employer (none once money dries up)."""
        if customer.salary is None or declining or start.day != 1:
            return []
        pay_day = datetime.combine(max(start, self.start_date).replace(day=10), time(9), tzinfo=UTC)
        if not self.start_date <= pay_day.date() <= self.end_date:
            return []
        salary = _body(
            customer.accounts[0],
            "credit",
            customer.salary,
            "salary",
            counterparty_name=customer.employer,
            channel="batch",
        )
        return [(pay_day, salary)]


def _body(
    account: SyntheticAccount,
    direction: str,
    amount: Decimal,
    kind: str,
    *,
    channel: str = "core",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "account_number": account.number,
        "direction": direction,
        "amount": f"{amount:.2f}",
        "currency": account.currency,
        "kind": kind,
        "channel": channel,
        **extra,
    }


def _everyday(customer: SyntheticCustomer, r: random.Random, *, declining: bool) -> dict[str, Any]:
    """One of the month's ordinary transactions, drawn by a roll (the draws keep their order:
    the same seed gives the same bank)."""
    current = customer.accounts[0]
    roll = r.random()
    if roll < 0.45:
        card = next((a for a in customer.accounts if a.product_type == "card"), current)
        return _body(card, "debit", Decimal(r.randrange(10, 2000)), "card_spend", channel="pos")
    if roll < 0.70:
        amount = Decimal(r.randrange(50, 5000))
        return _body(current, "debit", amount, "payment", channel=r.choice(["mobile", "web"]))
    if roll < 0.85 and not declining:
        amount = Decimal(r.randrange(100, 8000))
        return _body(current, "credit", amount, "transfer_in", channel="mobile")
    if roll < 0.93:
        amount = Decimal(r.randrange(100, 3000))
        return _body(current, "debit", amount, "withdrawal", channel="atm")
    if roll < 0.96:
        amount = Decimal(r.randrange(20, 500) * 1000)
        bank = r.choice(OTHER_BANKS)
        return _body(
            current, "debit", amount, "transfer_out", channel="mobile", counterparty_bank=bank
        )
    if not declining:
        amount = Decimal(r.randrange(50, 2000) * 1000)
        return _body(current, "credit", amount, "deposit", channel="branch")
    return _body(current, "debit", Decimal(r.randrange(1, 30)), "fee")
