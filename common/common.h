/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Small shared helpers with no boundary meaning: bounded buffers, logging, utilities. */

#ifndef ISOGATE_COMMON_H
#define ISOGATE_COMMON_H

#include <sys/types.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define ID_LEN		16	/* exchange id, bytes */
#define ID_HEXLEN	32	/* its text form, lowercase hex, without NUL */
#define SHA256_LEN	32

/*
 * buf.c: a growable byte buffer with a hard maximum. Writers append; growth
 * past max fails with -ENOBUFS and leaves the buffer unchanged.
 */
struct buf {
	uint8_t		*data;
	size_t		 len;
	size_t		 cap;
	size_t		 max;
};

void	 buf_init(struct buf *, size_t max);
void	 buf_free(struct buf *);		/* wipes nothing; see buf_wipe */
void	 buf_wipe(struct buf *);		/* cleanse contents, then free */
void	 buf_reset(struct buf *);		/* len = 0, keeps memory */
int	 buf_reserve(struct buf *, size_t n);	/* room for n more bytes */
int	 buf_put(struct buf *, const void *, size_t);
int	 buf_put_u8(struct buf *, uint8_t);
int	 buf_put_u16(struct buf *, uint16_t);	/* little-endian */
int	 buf_put_u32(struct buf *, uint32_t);
int	 buf_put_u64(struct buf *, uint64_t);
int	 buf_putf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 buf_put_str(struct buf *, const char *);
int	 buf_put_dec(struct buf *, int64_t);	/* decimal text, no printf */
void	 buf_consume(struct buf *, size_t n);	/* drop n bytes from the front */

/*
 * buf.c: a read cursor over bytes that came from outside. Every getter checks
 * the bytes present; on failure (-EBADMSG) the cursor does not move and
 * output parameters are not written.
 */
struct reader {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
};

void	 reader_init(struct reader *, const void *, size_t);
size_t	 reader_left(const struct reader *);
int	 reader_get_u8(struct reader *, uint8_t *);
int	 reader_get_u16(struct reader *, uint16_t *);	/* little-endian */
int	 reader_get_u32(struct reader *, uint32_t *);
int	 reader_get_u64(struct reader *, uint64_t *);
int	 reader_get_bytes(struct reader *, size_t, const uint8_t **);
int	 reader_copy(struct reader *, void *, size_t);

/* log.c: daemons and tools only; libraries never log. */
void	 log_init(const char *progname, int debug);
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* util.c: a token bucket of rate tokens per second, holding at most
 * burst; rate 0 means unlimited. */
struct bucket {
	double		 tokens;
	uint64_t	 last_ms;	/* mono_ms() of the last refill */
};
void	 bucket_init(struct bucket *, uint32_t burst, uint64_t now_ms);
/* Refills for the time passed, then takes one token: 1, or 0 if empty. */
int	 bucket_take(struct bucket *, uint32_t rate, uint32_t burst,
	    uint64_t now_ms);

/* util.c */
/* strtonum-style: whole string, base 10, within [min, max]; -EINVAL/-ERANGE. */
int	 parse_i64(const char *, int64_t min, int64_t max, int64_t *ret);
int	 parse_u64(const char *, uint64_t min, uint64_t max, uint64_t *ret);
void	 hex_encode(const uint8_t *, size_t, char *out);	/* out: 2n+1 */
int	 hex_decode(const char *, uint8_t *out, size_t n);	/* exactly 2n chars */
uint64_t now_ns(void);		/* CLOCK_REALTIME, unix ns */
/* Shifts what now_ns() answers: the test-hook daemons play a side whose
 * clock is off with it (tests/e2e/spool.sh, clock skew). */
void	 now_offset_set(int64_t ns);
uint64_t mono_ms(void);		/* CLOCK_MONOTONIC, ms */
int	 random_bytes(void *, size_t);		/* OpenSSL RAND_bytes */
int	 ct_equal(const void *, const void *, size_t);	/* 1 if equal */
int	 sha256(const void *, size_t, uint8_t out[SHA256_LEN]);	/* 0, -EIO */
/* Reads a regular file of at most max bytes; *ret is NUL-terminated. */
int	 read_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* The same for a secret: -EPERM if group or others have any access to the
 * file; the caller wipes and frees *ret. */
int	 read_file_secret(const char *path, size_t max, char **ret,
	    size_t *ret_len);
/* fsync(2) of the directory holding path: makes a rename or create durable. */
int	 fsync_dir_of(const char *path);
/* Writes via temp file, fsync, rename, fsync of the directory. */
int	 write_file_atomic(const char *path, const void *, size_t, mode_t);
/* mkdir -p with mode for each created component. */
int	 mkdir_p(const char *path, mode_t);

/*
 * sandbox.c: confinement for the daemons, in this order once everything
 * privileged is open: sandbox_drop, then sandbox_seccomp. All return 0 or
 * -errno (or libseccomp's negative code).
 */
enum sandbox_role { SANDBOX_OUTER, SANDBOX_INNER, SANDBOX_GUARD };
/* Closes every descriptor above stderr: call first thing in main. */
int	 sandbox_close_inherited(void);
/* uid and primary gid of a user; -ENOENT if unknown, -EPERM for uid 0. */
int	 sandbox_lookup_user(const char *name, uid_t *ret_uid, gid_t *ret_gid);
/*
 * Clears the capability bounding set, switches to uid/gid (supplementary
 * groups = gid only) when change_id, checks there is no way back, clears
 * every capability but keep_cap (a CAP_… number, or -1 for none) and sets
 * no_new_privs.
 */
int	 sandbox_drop(int change_id, uid_t uid, gid_t gid, int keep_cap);
/* Installs role's allow-list; anything else kills the process (SIGSYS). */
int	 sandbox_seccomp(enum sandbox_role role);
/*
 * A daemon's steady state, all of the above once start-up is done: first
 * what would otherwise open files behind the filter (jansson's hash seed,
 * OpenSSL's DRBG), then user (NULL: stay this uid) looked up, privileges
 * dropped, role's filter installed. 0, or -errno with *ret_step the step
 * that failed ("user", "privileges", "seccomp", "random").
 */
int	 sandbox_confine(const char *user, enum sandbox_role role,
	    const char **ret_step);

#endif
