-- SPDX-License-Identifier: ISC
-- Copyright (c) 2026 The isogate authors
-- wrk script: POST /v1/bill.query for a random seeded customer and month per request.

local threads = 0

function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end

function init(args)
	math.randomseed(os.time() * 100 + (tid or 0))
end

local headers = { ["Content-Type"] = "application/json" }

function request()
	local body = string.format('{"customer_id":"%010d","month":"2026-%02d"}',
	    math.random(1, 1000), math.random(1, 12))
	return wrk.format("POST", "/v1/bill.query", headers, body)
end
