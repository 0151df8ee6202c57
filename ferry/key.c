/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Ed25519 key files: generation, and loading with mode and algorithm checks. */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "ferry/ferry.h"

#define KEY_FILE_MAX	(16 * 1024)	/* a PEM Ed25519 key is ~120 bytes */

/* Never prompt for a passphrase: encrypted keys are refused. */
static int
key_no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

static int
key_path(char *dst, size_t size, const char *prefix, const char *suffix)
{
	int	 n;

	n = snprintf(dst, size, "%s%s", prefix, suffix);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

static int
key_write_all(int fd, const void *p, size_t n)
{
	const uint8_t	*q = p;
	ssize_t		 w;

	while (n > 0) {
		w = write(fd, q, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -errno;
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Renders a key as PEM into b: the private PKCS#8 form or the public SPKI. */
static int
key_pem(EVP_PKEY *pkey, int private, struct buf *b)
{
	BIO	*bio = NULL;
	char	*data;
	long	 n;
	int	 r = -EIO, ok;

	if ((bio = BIO_new(BIO_s_secmem())) == NULL)
		goto out;
	ok = private ?
	    PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) :
	    PEM_write_bio_PUBKEY(bio, pkey);
	if (ok != 1)
		goto out;
	if ((n = BIO_get_mem_data(bio, &data)) <= 0)
		goto out;
	r = buf_put(b, data, (size_t)n);
 out:
	ERR_clear_error();
	BIO_free(bio);
	return r;
}

int
key_generate(const char *prefix)
{
	char		 kpath[PATH_MAX], ppath[PATH_MAX];
	EVP_PKEY	*pkey = NULL;
	struct buf	 priv, pub;
	int		 fd = -1, created = 0, r;

	buf_init(&priv, KEY_FILE_MAX);
	buf_init(&pub, KEY_FILE_MAX);
	if ((r = key_path(kpath, sizeof(kpath), prefix, ".key")) != 0 ||
	    (r = key_path(ppath, sizeof(ppath), prefix, ".pub")) != 0)
		goto out;
	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL) {
		ERR_clear_error();
		r = -EIO;
		goto out;
	}
	if ((r = key_pem(pkey, 1, &priv)) != 0 ||
	    (r = key_pem(pkey, 0, &pub)) != 0)
		goto out;

	if ((fd = open(kpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		r = -errno;
		goto out;
	}
	created = 1;
	/* The umask may only have narrowed it; make it exact. */
	if (fchmod(fd, 0600) == -1) {
		r = -errno;
		goto out;
	}
	if ((r = key_write_all(fd, priv.data, priv.len)) != 0)
		goto out;
	if (fsync(fd) == -1) {
		r = -errno;
		goto out;
	}
	if ((r = write_file_atomic(ppath, pub.data, pub.len, 0644)) != 0)
		goto out;
	created = 0;
	r = 0;
 out:
	if (fd != -1)
		close(fd);
	if (created)
		unlink(kpath);	/* no private key without its public half */
	buf_wipe(&priv);
	buf_free(&pub);
	EVP_PKEY_free(pkey);
	return r;
}

static int
key_load(const char *path, int private, EVP_PKEY **ret)
{
	BIO		*bio = NULL;
	EVP_PKEY	*pkey = NULL;
	char		*text = NULL;
	size_t		 len = 0;
	int		 r;

	r = private ? read_file_secret(path, KEY_FILE_MAX, &text, &len) :
	    read_file(path, KEY_FILE_MAX, &text, &len);
	if (r != 0)
		goto out;
	r = -EINVAL;
	if (len == 0 || (bio = BIO_new_mem_buf(text, (int)len)) == NULL)
		goto out;
	pkey = private ?
	    PEM_read_bio_PrivateKey(bio, NULL, key_no_passphrase, NULL) :
	    PEM_read_bio_PUBKEY(bio, NULL, key_no_passphrase, NULL);
	if (pkey == NULL || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519)
		goto out;
	*ret = pkey;
	pkey = NULL;
	r = 0;
 out:
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	if (text != NULL)
		OPENSSL_cleanse(text, len);
	free(text);
	return r;
}

int
key_load_private(const char *path, EVP_PKEY **ret)
{
	return key_load(path, 1, ret);
}

int
key_load_public(const char *path, EVP_PKEY **ret)
{
	return key_load(path, 0, ret);
}
