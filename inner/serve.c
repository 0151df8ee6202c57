/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Inner's checks on each inward frame, and its audited reply, ack or reject. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "inner/inner.h"

uint64_t
inner_now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

static void
inner_send(struct inner *in, uint8_t kind, const uint8_t *id,
    const char *peer, const char *type, const void *payload, size_t len)
{
	char	 idhex[ID_HEXLEN + 1];
	int	 r;

	if ((r = in->send(in->send_arg, kind, id, peer, type, payload,
	    len)) == 0)
		return;
	in->nunanswered++;
	hex_encode(id, ID_LEN, idhex);
	log_debug("%s for %s not sent: %s", frame_kind_name(kind), idhex,
	    strerror(-r));
}

/*
 * Tells outer at once why a request or one-way was refused, so its client
 * gets a 502 rather than waiting for the timeout.
 */
static void
inner_reject(struct inner *in, const uint8_t *id, const char *peer,
    const char *type, const char *reason, const char *field,
    const char *message)
{
	json_t	*o;
	char	*payload = NULL;
	size_t	 len;

	if ((o = json_object()) == NULL ||
	    json_object_set_new(o, "reason", json_string(reason)) == -1 ||
	    json_object_set_new(o, "message", json_string(message)) == -1 ||
	    (field != NULL && *field != '\0' &&
	    json_object_set_new(o, "field", json_string(field)) == -1) ||
	    (payload = schema_canonical(o, &len)) == NULL) {
		log_warnx("reject: out of memory");
		in->nunanswered++;
		goto out;
	}
	inner_send(in, FRAME_REJECT, id, peer, type, payload, len);
 out:
	free(payload);
	json_decref(o);
}

/* Invariant 5: nothing is answered unless its record is written. */
int
inner_audit(struct inner *in, const struct audit_record *rec)
{
	int	 r;

	if (strcmp(rec->decision, "allow") == 0)
		in->nallow++;
	else
		in->ndeny++;
	if ((r = audit_append(in->audit, rec)) != 0) {
		log_warnx("audit: %s; %s %s left unanswered", strerror(-r),
		    rec->type != NULL ? rec->type : "frame",
		    rec->decision);
		in->nunanswered++;
	}
	return r;
}

static void
record_init(struct audit_record *rec, const char *event, const char *reason,
    const struct frame *f, const uint8_t *digest, uint64_t start_us)
{
	memset(rec, 0, sizeof(*rec));
	rec->event = event;
	rec->decision = reason == NULL ? "allow" : "deny";
	rec->reason = reason;
	rec->size = rec->rows = -1;
	rec->latency_us = (int64_t)(inner_now_us() - start_us);
	if (f == NULL)
		return;
	rec->id = f->id;
	rec->peer = f->peer[0] != '\0' ? f->peer : NULL;
	rec->type = f->type[0] != '\0' ? f->type : NULL;
	rec->digest = digest;
	rec->size = f->payload_len;
}

/* A frame refused before execution: audit, then reject if it asked. */
static void
inner_refuse(struct inner *in, const struct frame *f, const uint8_t *digest,
    uint64_t start_us, const char *event, const char *reason,
    const char *field, const char *message)
{
	struct audit_record	 rec;

	record_init(&rec, event, reason, f, digest, start_us);
	if (field != NULL && *field != '\0')
		rec.field = field;
	if (inner_audit(in, &rec) != 0)
		return;
	if (f != NULL && (f->kind == FRAME_REQUEST || f->kind == FRAME_ONEWAY))
		inner_reject(in, f->id, f->peer, f->type, reason, field,
		    message);
}

/* Outer's heartbeat: its time for our next echo, and the clock skew
 * (audited when it starts and when it ends). */
static void
inner_heartbeat(struct inner *in, const struct frame *f)
{
	struct audit_record	 rec;
	struct beat		 b;
	uint64_t		 t4 = now_ns();
	int64_t			 offset, delay;
	int			 sk;

	if (beat_decode(f->payload, f->payload_len, &b) != 0) {
		record_init(&rec, "frame", "bad_heartbeat", f, NULL,
		    inner_now_us());
		(void)inner_audit(in, &rec);
		return;
	}
	in->beat_echo_time = f->time_ns;
	in->beat_echo_rx = t4;
	/* Only an echo of one of our own last heartbeats measures: not one
	 * that a previous inner sent, with its own clock. */
	sk = -EAGAIN;
	if (beat_sent_has(&in->beat_sent, b.echo_time))
		sk = beat_skew(&b, f->time_ns, t4,
		    (uint64_t)in->skew_ms * 1000000, &offset, &delay);
	if ((sk == 1 && in->skewed != 1) || (sk == 0 && in->skewed == 1)) {
		if (sk == 1)
			log_warnx("clock skew: outer's clock is %+lld ms from "
			    "ours (tolerance %u ms, round trip %lld ms)",
			    (long long)(offset / 1000000), in->skew_ms,
			    (long long)(delay / 1000000));
		else
			log_info("clock skew: back within %u ms", in->skew_ms);
		record_init(&rec, "clock", sk == 1 ? "clock_skew" : NULL,
		    NULL, NULL, inner_now_us());
		if (sk == 0)
			rec.reason = "clock_ok";
		(void)inner_audit(in, &rec);
	}
	if (sk == 0 || sk == 1)
		in->skewed = sk;
}

void
inner_frame(void *arg, const struct frame *f, int verdict)
{
	struct inner		*in = arg;
	const struct message	*m;
	struct schema_error	 serr;
	struct exec_job		 job;
	uint8_t			 digest[SHA256_LEN], *dg = NULL;
	uint64_t		 start_us = inner_now_us();
	char			 msg[200];
	json_t			*req = NULL;
	int			 oneway;

	if (f != NULL && sha256(f->payload, f->payload_len, digest) == 0)
		dg = digest;
	if (verdict != CHAN_OK || f == NULL) {
		if (verdict == CHAN_OK)		/* the ferry's promise broken */
			verdict = CHAN_MALFORMED;
		if (verdict != CHAN_GAP)	/* a gap is in another unit */
			in->unit_bad = 1;
		snprintf(msg, sizeof(msg), "frame refused by inner: %s",
		    chan_verdict_name(verdict));
		inner_refuse(in, f, dg, start_us, "frame",
		    chan_verdict_name(verdict), NULL, msg);
		return;
	}
	/* Any authentic frame shows outer is there (under load its
	 * heartbeats queue behind the data); after a silence, answer at
	 * once, so that outer does not wait for a slow beat. */
	if (mono_ms() - in->beat_heard_ms >
	    (uint64_t)INNER_SILENT_BEATS * in->beat_ms)
		in->beat_now = 1;
	in->beat_heard_ms = mono_ms();
	if (f->kind == FRAME_HEARTBEAT) {
		inner_heartbeat(in, f);
		return;
	}
	if (f->kind != FRAME_REQUEST && f->kind != FRAME_ONEWAY) {
		inner_refuse(in, f, dg, start_us, "frame", "unexpected_kind",
		    NULL, "unexpected frame kind");
		return;
	}
	oneway = f->kind == FRAME_ONEWAY;
	/* Outer checked all of this too; inner trusts none of it. */
	if ((m = policy_message(in->pol, f->type)) == NULL) {
		inner_refuse(in, f, dg, start_us, "execute", "unknown_type",
		    NULL, "no such message type");
		return;
	}
	if (m->oneway != oneway) {
		inner_refuse(in, f, dg, start_us, "execute", "kind_mismatch",
		    NULL, m->oneway ? "message is one-way" :
		    "message expects a reply");
		return;
	}
	if (policy_peer(in->pol, f->peer) == NULL ||
	    !message_allows(m, f->peer)) {
		inner_refuse(in, f, dg, start_us, "execute", "forbidden",
		    NULL, "peer not allowed for this message");
		return;
	}
	if (schema_payload(&m->request, f->payload, f->payload_len, &req,
	    &serr) != 0) {
		inner_refuse(in, f, dg, start_us, "execute", "schema",
		    serr.field, serr.message);
		return;
	}

	memset(&job, 0, sizeof(job));
	job.msg = m;
	memcpy(job.id, f->id, ID_LEN);
	/* Both names passed the frame decoder's charset and length checks. */
	memcpy(job.peer, f->peer, sizeof(job.peer));
	memcpy(job.type, f->type, sizeof(job.type));
	memcpy(job.digest, digest, SHA256_LEN);
	job.size = f->payload_len;
	job.start_us = start_us;
	job.req = req;
	exec_run(in->exec, &job);
	json_decref(req);
}

void
inner_done(void *arg, const struct exec_job *job,
    const struct exec_result *res)
{
	struct inner		*in = arg;
	struct audit_record	 rec;
	char			 idhex[ID_HEXLEN + 1], *content = NULL;

	memset(&rec, 0, sizeof(rec));
	rec.event = "execute";
	rec.id = job->id;
	rec.peer = job->peer;
	rec.type = job->type;
	rec.decision = res->reason == NULL ? "allow" : "deny";
	/* A repeat is acked again, and on record as one: applied once. */
	rec.reason = res->reason == NULL && res->duplicate ? "duplicate" :
	    res->reason;
	rec.field = res->field[0] != '\0' ? res->field : NULL;
	rec.digest = job->digest;
	rec.size = (int64_t)job->size;
	rec.rows = res->rows;
	rec.latency_us = (int64_t)(inner_now_us() - job->start_us);
	if (res->detail[0] != '\0') {
		hex_encode(job->id, ID_LEN, idhex);
		log_warnx("%s %s: %s", job->type, idhex, res->detail);
	}
	/* "audit content": the payload itself, the same canonical bytes as
	 * the frame's (the schema check required them canonical). Without
	 * it the record is incomplete: like a failed record, unanswered. */
	if (job->msg->audit_content && (rec.content =
	    content = schema_canonical(job->req, &rec.content_len)) == NULL) {
		log_warnx("audit: cannot render the %s payload; left "
		    "unanswered", job->type);
		in->nunanswered++;
		return;
	}
	if (inner_audit(in, &rec) == 0) {
		if (res->reason != NULL)
			inner_reject(in, job->id, job->peer, job->type,
			    res->reason, res->field, res->message);
		else {
			/* A repeat: its earlier ack was lost, maybe with a
			 * seal that took others down; this one goes alone. */
			if (res->duplicate && in->seal != NULL)
				(void)in->seal(in->send_arg);
			inner_send(in, job->msg->oneway ? FRAME_ACK :
			    FRAME_REPLY, job->id, job->peer, job->type,
			    res->payload, res->len);
			if (res->duplicate && in->seal != NULL)
				(void)in->seal(in->send_arg);
		}
	}
	free(content);
}
