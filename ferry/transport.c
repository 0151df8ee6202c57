/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Maps a channel endpoint such as "fifo:/run/isogate/inward" to its transport. */

#include <errno.h>
#include <string.h>

#include "ferry/transport.h"

static const struct transport_ops *const transports[] = {
	&fifo_transport_ops,
	&eth_transport_ops,
	&spool_transport_ops,
};

int
transport_open(const char *endpoint, enum transport_role role,
    struct transport **ret)
{
	const char	*colon;
	size_t		 i, n;

	if (endpoint == NULL || (colon = strchr(endpoint, ':')) == NULL ||
	    colon == endpoint || colon[1] == '\0')
		return -EINVAL;
	n = (size_t)(colon - endpoint);
	for (i = 0; i < sizeof(transports) / sizeof(transports[0]); i++) {
		if (strlen(transports[i]->scheme) == n &&
		    strncmp(transports[i]->scheme, endpoint, n) == 0)
			return transports[i]->open(colon + 1, role, ret);
	}
	return -EPROTONOSUPPORT;
}
