-- SPDX-License-Identifier: ISC
-- Copyright (c) 2026 The isogate authors
-- The demo intranet database: schema and a deterministic seed shared by tools/demo.sh and tests/e2e.
--
-- Bills: customers 0000000001..0000001000, months 2026-01..2026-12 (12,000 rows).
-- For customer number c and month number m (1..12):
--	kwh          = 100 + (37 * c + 101 * m) % 900
--	amount_cents = 61 * kwh + c % 97
--	paid         = 0 when (c + m) % 5 = 0, else 1
-- tests/e2e/lib.sh (bill_expected) computes the same values; change both together.

BEGIN;

CREATE TABLE bills (
	customer_id	TEXT NOT NULL,
	month		TEXT NOT NULL,
	kwh		INTEGER NOT NULL,
	amount_cents	INTEGER NOT NULL,
	paid		INTEGER NOT NULL,
	PRIMARY KEY (customer_id, month)
);

CREATE TABLE payments (
	payment_id	TEXT PRIMARY KEY,
	customer_id	TEXT NOT NULL,
	amount_cents	INTEGER NOT NULL,
	paid_at		TEXT NOT NULL
);

CREATE TABLE card_usage (
	iccid		TEXT NOT NULL,
	day		TEXT NOT NULL,
	bytes_used	INTEGER NOT NULL,
	status		TEXT NOT NULL,
	PRIMARY KEY (iccid, day)
);

INSERT INTO bills (customer_id, month, kwh, amount_cents, paid)
WITH RECURSIVE
	c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000),
	m(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM m WHERE k < 12),
	b(n, k, kwh) AS (SELECT n, k, 100 + (37 * n + 101 * k) % 900 FROM c, m)
SELECT printf('%010d', n), printf('2026-%02d', k), kwh, 61 * kwh + n % 97,
    CASE WHEN (n + k) % 5 = 0 THEN 0 ELSE 1 END
FROM b;

COMMIT;
