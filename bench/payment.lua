-- SPDX-License-Identifier: ISC
-- Copyright (c) 2026 The isogate authors
-- wrk script: POST /v1/payment.record with a payment_id unique per run, thread and request.
-- Usage: wrk ... -s bench/payment.lua URL -- RUNTAG   (RUNTAG: up to 8 of [A-Z0-9])

local threads = 0

function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end

local tag = "RUN"
local n = 0

function init(args)
	tag = string.upper(args[1] or "RUN"):gsub("[^A-Z0-9]", ""):sub(1, 8)
	math.randomseed(os.time() * 100 + (tid or 0))
end

local headers = { ["Content-Type"] = "application/json" }

function request()
	n = n + 1
	local body = string.format(
	    '{"payment_id":"B%s%03d%012d","customer_id":"%010d","amount_cents":%d,"paid_at":"2026-03-15T10:00:00Z"}',
	    tag, tid or 0, n, math.random(1, 1000), math.random(1, 1000000))
	return wrk.format("POST", "/v1/payment.record", headers, body)
end
