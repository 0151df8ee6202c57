/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* libFuzzer target: request and reply bodies through the schema checks. */

#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "policy/policy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	*status_values[] = { "test", "inventory", "active", "closed" };

/*
 * Fixed schemas, sorted by name: "a".."g" hold every field type once (the
 * names of seeds/types.json); the others take the shapes of the other seeds.
 */
static struct field all_fields[] = {
	{ .name = "a", .type = FIELD_STRING, .max_len = 8,
	    .pattern = "^[^x]*$" },
	{ .name = "b", .type = FIELD_INTEGER, .imin = -1000, .imax = 1000 },
	{ .name = "c", .type = FIELD_NUMBER, .nmin = -1e9, .nmax = 1e9 },
	{ .name = "d", .type = FIELD_BOOLEAN },
	{ .name = "e", .type = FIELD_ENUM, .values = status_values,
	    .nvalues = 4 },
	{ .name = "f", .type = FIELD_DATE },
	{ .name = "g", .type = FIELD_TIMESTAMP },
};
static struct field bill_fields[] = {
	{ .name = "customer_id", .type = FIELD_STRING, .max_len = 256,
	    .pattern = "^[0-9]{10}$" },
	{ .name = "month", .type = FIELD_STRING, .max_len = 7,
	    .pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$" },
};
static struct field usage_fields[] = {
	{ .name = "bytes_used", .type = FIELD_INTEGER, .imin = 0,
	    .imax = 1099511627776LL },
	{ .name = "day", .type = FIELD_DATE },
	{ .name = "iccid", .type = FIELD_STRING, .max_len = 256,
	    .pattern = "^[0-9]{19,20}$" },
	{ .name = "status", .type = FIELD_ENUM, .values = status_values,
	    .nvalues = 4 },
};
static struct field payment_fields[] = {
	{ .name = "amount_cents", .type = FIELD_INTEGER, .imin = 1,
	    .imax = 100000000000LL },
	{ .name = "customer_id", .type = FIELD_STRING, .max_len = 256,
	    .pattern = "^[0-9]{10}$" },
	{ .name = "paid_at", .type = FIELD_TIMESTAMP },
	{ .name = "payment_id", .type = FIELD_STRING, .max_len = 32 },
};
static struct field reply_fields[] = {
	{ .name = "amount_cents", .type = FIELD_INTEGER, .imin = 0,
	    .imax = 100000000000LL },
	{ .name = "kwh", .type = FIELD_NUMBER, .nmin = 0, .nmax = 1e8 },
	{ .name = "month", .type = FIELD_STRING, .max_len = 7,
	    .pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$" },
	{ .name = "paid", .type = FIELD_BOOLEAN },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static struct schema schemas[] = {
	{ all_fields, NELEM(all_fields) },
	{ bill_fields, NELEM(bill_fields) },
	{ usage_fields, NELEM(usage_fields) },
	{ payment_fields, NELEM(payment_fields) },
};
static struct message bill = {
	.name = "bill.query",
	.reply = { reply_fields, NELEM(reply_fields) },
	.reply_max_rows = 12,
};

static void
compile(struct field *f, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (f[i].pattern != NULL && regcomp(&f[i].re, f[i].pattern,
		    REG_EXTENDED | REG_NOSUB) != 0)
			abort();
	}
}

static int
printable(const char *s, size_t max)
{
	size_t	 i;

	for (i = 0; i < max && s[i] != '\0'; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	}
	return i < max;
}

/* A failure is -EINVAL or -ENOMEM, with an error fit to show a client. */
static void
check_error(int r, const struct schema_error *err)
{
	if (r != -EINVAL && r != -ENOMEM)
		abort();
	if (err->invalid_json != 0 && err->invalid_json != 1)
		abort();
	if (!printable(err->field, sizeof(err->field)) ||
	    !printable(err->message, sizeof(err->message)) ||
	    err->message[0] == '\0')
		abort();
	if (err->invalid_json && err->field[0] != '\0')
		abort();
}

static void
check_request(const struct schema *s, const uint8_t *data, size_t size)
{
	struct schema_error	 err;
	char			*canon = NULL, *again;
	size_t			 len = 0, alen;
	json_t			*obj = NULL;
	int			 r, r2;

	r = schema_request(s, data, size, &canon, &len, &err);
	if (r == 0) {
		if (canon == NULL || len > PAYLOAD_MAX || strlen(canon) != len)
			abort();
		/* inner accepts what outer built, byte for byte */
		if (schema_payload(s, canon, len, &obj, &err) != 0 ||
		    obj == NULL)
			abort();
		again = schema_canonical(obj, &alen);
		if (again == NULL || alen != len || memcmp(again, canon, len))
			abort();
		free(again);
		json_decref(obj);
	} else {
		if (canon != NULL)
			abort();
		check_error(r, &err);
	}
	/* what inner accepts is exactly what outer would have built */
	r2 = schema_payload(s, data, size, NULL, &err);
	if (r2 == 0 && (r != 0 || len != size || memcmp(canon, data, size)))
		abort();
	if (r2 != 0)
		check_error(r2, &err);
	free(canon);
}

static void
check_reply(const struct message *m, const uint8_t *data, size_t size)
{
	struct schema_error	 err;
	json_t			*obj, *rows, *row;
	char			*again;
	size_t			 i, alen;
	int			 r;

	r = schema_reply(m, data, size, &err);
	if (r < 0) {
		check_error(r, &err);
		return;
	}
	/* an accepted reply is canonical, bounded, and every row checks */
	if ((obj = json_loadb((const char *)data, size, 0, NULL)) == NULL)
		abort();
	again = schema_canonical(obj, &alen);
	if (again == NULL || alen != size || memcmp(again, data, size) != 0)
		abort();
	free(again);
	rows = json_object_get(obj, "rows");
	if (json_object_size(obj) != 1 || !json_is_array(rows) ||
	    json_array_size(rows) > m->reply_max_rows ||
	    json_array_size(rows) != (size_t)r)
		abort();
	json_array_foreach(rows, i, row) {
		if (schema_row(&m->reply, row, &err) != 0)
			abort();
	}
	json_decref(obj);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 ready;
	size_t		 i;

	if (!ready) {
		compile(all_fields, NELEM(all_fields));
		compile(bill_fields, NELEM(bill_fields));
		compile(usage_fields, NELEM(usage_fields));
		compile(payment_fields, NELEM(payment_fields));
		compile(reply_fields, NELEM(reply_fields));
		ready = 1;
	}
	for (i = 0; i < NELEM(schemas); i++)
		check_request(&schemas[i], data, size);
	check_reply(&bill, data, size);
	return 0;
}
