/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The eth: link key: its file, and the HMAC-SHA256 tag that authenticates each link packet before reassembly. */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "ferry/ferry.h"
#include "ferry/transport.h"

struct linkmac {
	EVP_MAC		*mac;
	EVP_MAC_CTX	*ctx;		/* keyed once; re-initialised per tag */
	uint8_t		 dir;		/* enum ferry_dir, first byte hashed */
};

int
linkkey_load(const char *path, uint8_t ret[FERRY_LINK_KEY_LEN])
{
	char	*text = NULL;
	size_t	 len = 0;
	int	 r;

	/* Regular file, not group/world accessible (-EPERM), checked on
	 * the descriptor read. */
	if ((r = read_file_secret(path, FERRY_LINK_KEY_LEN + 1, &text,
	    &len)) != 0) {
		if (r == -EFBIG)
			r = -EINVAL;
		goto out;
	}
	if (len != FERRY_LINK_KEY_LEN) {
		r = -EINVAL;
		goto out;
	}
	memcpy(ret, text, FERRY_LINK_KEY_LEN);
 out:
	if (text != NULL)
		OPENSSL_cleanse(text, len);
	free(text);
	return r;
}

int
linkkey_generate(const char *path)
{
	uint8_t	 key[FERRY_LINK_KEY_LEN];
	ssize_t	 w;
	int	 fd = -1, r;

	if ((r = random_bytes(key, sizeof(key))) != 0)
		goto out;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		r = -errno;
		goto out;
	}
	/* The umask may only have narrowed it; make it exact. */
	if (fchmod(fd, 0600) == -1) {
		r = -errno;
		goto fail;
	}
	do
		w = write(fd, key, sizeof(key));
	while (w == -1 && errno == EINTR);
	if (w != (ssize_t)sizeof(key)) {
		r = w == -1 ? -errno : -EIO;
		goto fail;
	}
	if (fsync(fd) == -1) {
		r = -errno;
		goto fail;
	}
	r = 0;
	goto out;
 fail:
	unlink(path);		/* no half-written key */
 out:
	if (fd != -1)
		close(fd);
	OPENSSL_cleanse(key, sizeof(key));
	return r;
}

int
linkmac_new(const uint8_t key[FERRY_LINK_KEY_LEN], enum ferry_dir dir,
    struct linkmac **ret)
{
	struct linkmac	*m;
	OSSL_PARAM	 params[2];
	int		 r = -EIO;

	if (dir != FERRY_INWARD && dir != FERRY_OUTWARD)
		return -EINVAL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -ENOMEM;
	m->dir = (uint8_t)dir;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((m->mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (m->ctx = EVP_MAC_CTX_new(m->mac)) == NULL ||
	    EVP_MAC_init(m->ctx, key, FERRY_LINK_KEY_LEN, params) != 1)
		goto out;
	*ret = m;
	m = NULL;
	r = 0;
 out:
	ERR_clear_error();
	linkmac_free(m);
	return r;
}

void
linkmac_free(struct linkmac *m)
{
	if (m == NULL)
		return;
	EVP_MAC_CTX_free(m->ctx);	/* cleanses the key schedule */
	EVP_MAC_free(m->mac);
	free(m);
}

/* HMAC-SHA256(key, dir || hdr[0..LINK_TAG_OFF) || data), first
 * LINK_TAG_LEN bytes. The key schedule stays in the context: a NULL key
 * re-initialises it without hashing the key again. */
static int
linkmac_compute(struct linkmac *m, const uint8_t *hdr, const uint8_t *data,
    size_t data_len, uint8_t out[LINK_TAG_LEN])
{
	uint8_t	 full[32];
	size_t	 n = 0;
	int	 r = -EIO;

	if (EVP_MAC_init(m->ctx, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(m->ctx, &m->dir, 1) != 1 ||
	    EVP_MAC_update(m->ctx, hdr, LINK_TAG_OFF) != 1 ||
	    (data_len > 0 && EVP_MAC_update(m->ctx, data, data_len) != 1) ||
	    EVP_MAC_final(m->ctx, full, &n, sizeof(full)) != 1 ||
	    n != sizeof(full))
		goto out;
	memcpy(out, full, LINK_TAG_LEN);
	r = 0;
 out:
	ERR_clear_error();
	return r;
}

int
linkmac_tag(struct linkmac *m, uint8_t *pkt, size_t data_len)
{
	return linkmac_tag_parts(m, pkt, pkt + FRAG_HDR_LEN, data_len);
}

int
linkmac_tag_parts(struct linkmac *m, uint8_t hdr[FRAG_HDR_LEN],
    const uint8_t *data, size_t data_len)
{
	return linkmac_compute(m, hdr, data, data_len, hdr + LINK_TAG_OFF);
}

int
linkmac_verify(struct linkmac *m, const uint8_t *untrusted, size_t len)
{
	uint8_t		 want[LINK_TAG_LEN];
	uint16_t	 untrusted_data_len;
	int		 r;

	/* Only as much shape as the tag needs: the header, and the data
	 * length inside the bytes present (Ethernet pads after it). The
	 * rest is checked once the packet is known authentic. */
	if (len < FRAG_HDR_LEN || memcmp(untrusted, FRAG_MAGIC, 4) != 0 ||
	    untrusted[4] != FRAG_VERSION)
		return -EBADMSG;
	untrusted_data_len = (uint16_t)(untrusted[FRAG_DATA_LEN_OFF] |
	    untrusted[FRAG_DATA_LEN_OFF + 1] << 8);
	if (untrusted_data_len > len - FRAG_HDR_LEN)
		return -EBADMSG;
	if (m == NULL)
		return -EKEYREJECTED;	/* no key: nothing is authentic */
	if ((r = linkmac_compute(m, untrusted, untrusted + FRAG_HDR_LEN,
	    untrusted_data_len, want)) != 0)
		return r;
	if (CRYPTO_memcmp(want, untrusted + LINK_TAG_OFF, LINK_TAG_LEN) != 0)
		return -EKEYREJECTED;
	return 0;
}
