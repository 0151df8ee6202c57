/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Bounded conversions, hex, clocks, randomness, hashing and careful file I/O. */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/common.h"

int
parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret)
{
	char		*end;
	long long	 v;

	if (s == NULL || *s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	char			*end;
	unsigned long long	 v;

	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

void
hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char	 digits[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hex_decode(const char *s, uint8_t *out, size_t n)
{
	size_t	 i;
	int	 hi, lo;

	if (strlen(s) != 2 * n)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if ((hi = hexval(s[2 * i])) < 0 || (lo = hexval(s[2 * i + 1])) < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int64_t	 now_offset;	/* ns; 0 but in test-hook daemons */

void
now_offset_set(int64_t ns)
{
	now_offset = ns;
}

uint64_t
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec +
	    (uint64_t)now_offset;
}

uint64_t
mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000ULL + (uint64_t)ts.tv_nsec / 1000000;
}

int
random_bytes(void *p, size_t n)
{
	if (n > INT_MAX || RAND_bytes(p, (int)n) != 1)
		return -EIO;
	return 0;
}

void
bucket_init(struct bucket *b, uint32_t burst, uint64_t now_ms)
{
	b->tokens = burst;
	b->last_ms = now_ms;
}

int
bucket_take(struct bucket *b, uint32_t rate, uint32_t burst, uint64_t now_ms)
{
	if (rate == 0)
		return 1;
	/* A clock read earlier by the caller may trail last_ms: no refill. */
	if (now_ms > b->last_ms)
		b->tokens += (double)(now_ms - b->last_ms) * rate / 1000.0;
	if (b->tokens > burst)
		b->tokens = burst;
	b->last_ms = now_ms > b->last_ms ? now_ms : b->last_ms;
	if (b->tokens < 1.0)
		return 0;
	b->tokens -= 1.0;
	return 1;
}

int
ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

int
sha256(const void *p, size_t n, uint8_t out[SHA256_LEN])
{
	uint8_t		 md[EVP_MAX_MD_SIZE];
	unsigned int	 len = 0;

	/* OpenSSL allocates inside; out is written only on success. */
	if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1 ||
	    len != SHA256_LEN)
		return -EIO;
	memcpy(out, md, SHA256_LEN);
	return 0;
}

static int
read_file_mode(const char *path, size_t max, int secret, char **ret,
    size_t *ret_len)
{
	struct stat	 st;
	char		*p = NULL;
	size_t		 got = 0;
	ssize_t		 n;
	int		 fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	if (fstat(fd, &st) == -1) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	/* Checked on the file opened, not on the name: no race. */
	if (secret && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		r = -EPERM;
		goto out;
	}
	if ((size_t)st.st_size > max) {
		r = -EFBIG;
		goto out;
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, p + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	p[got] = '\0';
	*ret = p;
	if (ret_len != NULL)
		*ret_len = got;
	p = NULL;
	r = 0;
 out:
	if (p != NULL && secret)
		OPENSSL_cleanse(p, got);
	free(p);
	close(fd);
	return r;
}

int
read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
	return read_file_mode(path, max, 0, ret, ret_len);
}

int
read_file_secret(const char *path, size_t max, char **ret, size_t *ret_len)
{
	return read_file_mode(path, max, 1, ret, ret_len);
}

int
fsync_dir_of(const char *path)
{
	char	 dir[PATH_MAX];
	char	*slash;
	int	 fd, r = 0;

	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	strcpy(dir, path);	/* length checked above */
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -errno;
	if (fsync(fd) == -1)
		r = -errno;
	close(fd);
	return r;
}

int
write_file_atomic(const char *path, const void *p, size_t n, mode_t mode)
{
	char		 tmp[PATH_MAX];
	const uint8_t	*q = p;
	ssize_t		 w;
	int		 fd, r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    mode)) == -1)
		return -errno;
	while (n > 0) {
		w = write(fd, q, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			r = -errno;
			goto fail;
		}
		q += w;
		n -= (size_t)w;
	}
	if (fsync(fd) == -1) {
		r = -errno;
		goto fail;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		r = -errno;
		unlink(tmp);
		return r;
	}
	return fsync_dir_of(path);
 fail:
	close(fd);
	unlink(tmp);
	return r;
}

int
mkdir_p(const char *path, mode_t mode)
{
	char	 p[PATH_MAX];
	char	*s;

	if (strlen(path) >= sizeof(p))
		return -ENAMETOOLONG;
	strcpy(p, path);	/* length checked above */
	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) == -1 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, mode) == -1 && errno != EEXIST)
		return -errno;
	return 0;
}
