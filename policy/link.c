/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The `link` statement of the side blocks (the ferry link's settings) and the diode check. */

#include <sys/stat.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/parse.h"

/* `link [diode] [copies N] [parity K] [rate N/s] [seal N]
 * [timeout DURATION] [key "FILE"]`, in either side block: the ferry
 * link's settings (docs/ferry.md). */
void
parse_side_link(struct pstate *ps, const struct ploc *loc)
{
	struct side	*s = parse_side_current(ps);

	ps->link_dup = s->link.present;
	if (s->link.present) {
		pstate_error(ps, loc, "link given twice");
		return;
	}
	s->link.present = 1;
	s->link.copies = 1;
	s->link.timeout_ms = LINK_TIMEOUT_DEFAULT;
}

void
parse_link_opt(struct pstate *ps, enum link_opt opt, int64_t v, char *word,
    const struct ploc *loc)
{
	struct side	*s = parse_side_current(ps);
	uint32_t	 ms;

	if (!s->link.present || ps->link_dup)
		goto out;		/* "given twice" was reported */
	switch (opt) {
	case LINK_DIODE:
		s->link.diode = 1;
		break;
	case LINK_COPIES:
		if (v < 1 || v > LINK_COPIES_MAX)
			pstate_error(ps, loc, "link copies must be 1..%d",
			    LINK_COPIES_MAX);
		else
			s->link.copies = (uint32_t)v;
		break;
	case LINK_RATE:
		if (v < 1 || v > LINK_RATE_MAX)
			pstate_error(ps, loc, "link rate must be 1..%d/s",
			    LINK_RATE_MAX);
		else
			s->link.rate = (uint32_t)v;
		break;
	case LINK_PARITY:
		if (v < LINK_PARITY_MIN || v > LINK_PARITY_MAX)
			pstate_error(ps, loc, "link parity must be %d..%d "
			    "data packets", LINK_PARITY_MIN, LINK_PARITY_MAX);
		else
			s->link.parity = (uint32_t)v;
		break;
	case LINK_SEAL:
		if (v < 1 || v > LINK_SEAL_MAX)
			pstate_error(ps, loc, "link seal must be 1..%d frames",
			    LINK_SEAL_MAX);
		else
			s->link.seal = (uint32_t)v;
		break;
	case LINK_KEY:
		if (s->link.key != NULL)
			pstate_error(ps, loc, "link key given twice");
		else if (check_path(ps, loc, "link key", word,
		    &s->link.key) == 0)
			ps->linkkey_loc[ps->side_sel] = *loc;
		break;
	case LINK_TIMEOUT:
		if (check_duration(word, &ms) != 0 ||
		    ms > LINK_TIMEOUT_MAX)
			pstate_error(ps, loc, "invalid link timeout '%s' "
			    "(1ms..60s)", QUOTE(word));
		else
			s->link.timeout_ms = ms;
		break;
	}
 out:
	free(word);
}

/*
 * A diode link carries the inward channel only: nothing can come back, so
 * both sides must know (outer answers 202 without an ack, inner sends
 * nothing), and a message that waits for a reply could never get one.
 */
void
check_diode(struct pstate *ps)
{
	struct policy	*p = ps->p;
	struct ploc	 loc;
	size_t		 i;

	if (!p->outer.link.diode && !p->inner.link.diode)
		return;
	if (p->outer.present && p->inner.present &&
	    p->outer.link.diode != p->inner.link.diode) {
		loc.file = p->outer.link.diode ? p->outer.file : p->inner.file;
		loc.line = p->outer.link.diode ? p->outer.line : p->inner.line;
		pstate_error(ps, &loc, "link diode must be said in both the "
		    "outer and the inner block");
	}
	for (i = 0; i < p->nmessages; i++) {
		if (p->messages[i].oneway)
			continue;
		loc.file = p->messages[i].file;
		loc.line = p->messages[i].line;
		pstate_error(ps, &loc, "message %s expects a reply, but the "
		    "link is a diode (one-way messages only)",
		    p->messages[i].name);
	}
}

static int
is_eth(const char *endpoint)
{
	return endpoint != NULL && strncmp(endpoint, "eth:", 4) == 0;
}

/*
 * An eth: ferry crosses a link that others may reach: every link packet is
 * tagged with the link key, and a side without one could neither send
 * nor take a packet. Refused here rather than at the first packet. With
 * POLICY_CHECK_FILES, the key file is a secret of exactly the key's size.
 */
void
check_link_key(struct pstate *ps, int inner)
{
	struct side	*s = inner ? &ps->p->inner : &ps->p->outer;
	const struct ploc *loc = &ps->linkkey_loc[inner];
	struct stat	 st;
	size_t		 i;

	if (!s->present)
		return;
	if (s->link.key == NULL) {
		i = is_eth(s->inward) ? SIDE_INWARD : SIDE_OUTWARD;
		if (is_eth(s->inward) || is_eth(s->outward))
			pstate_error(ps, &ps->sideloc[inner][i], "an eth: "
			    "ferry needs a link key (link key \"FILE\"; "
			    "isogate keygen --link FILE)");
		return;
	}
	if (!(ps->flags & POLICY_CHECK_FILES))
		return;
	check_secret_file(ps, "link key", s->link.key, loc);
	if (stat(s->link.key, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size != LINK_KEY_LEN)
		pstate_error(ps, loc, "link key %s must hold exactly %d bytes "
		    "(isogate keygen --link FILE)", s->link.key,
		    LINK_KEY_LEN);
}
