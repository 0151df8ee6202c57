/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Process confinement: inherited descriptors, privilege drop, and the per-daemon seccomp allow-lists. */

#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cap-ng.h>
#include <jansson.h>
#include <seccomp.h>

#include "common/common.h"

/*
 * What every daemon's steady state needs: its event loop (epoll), memory,
 * time, descriptors it already holds (the eth: ferry's packet socket too),
 * files it reopens (the FIFO ferry
 * reopens its FIFO when the writer leaves; SQLite opens its journal), the
 * state files written with write_file_atomic, and exit. Nothing here makes
 * a socket, connects, binds, listens, executes or traces.
 */
static const int sandbox_common[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(lseek),
	SCMP_SYS(close), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(statx), SCMP_SYS(stat), SCMP_SYS(lstat),
	SCMP_SYS(openat), SCMP_SYS(open), SCMP_SYS(fcntl),
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(ftruncate),
	SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(renameat2),
	SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(mkdir),
	SCMP_SYS(mkdirat),
	SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(faccessat2),
	SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(getcwd),
	SCMP_SYS(fchown), SCMP_SYS(fchmod), SCMP_SYS(umask),
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(mprotect), SCMP_SYS(brk), SCMP_SYS(madvise),
	SCMP_SYS(futex), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
	SCMP_SYS(epoll_pwait2), SCMP_SYS(epoll_ctl), SCMP_SYS(poll),
	SCMP_SYS(ppoll), SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(getrandom), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
	SCMP_SYS(getegid), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigaction), SCMP_SYS(sigaltstack),
	SCMP_SYS(sched_yield), SCMP_SYS(restart_syscall),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
	/* eth: the receiver's reorder timer (its pcap socket, epoll and
	 * timerfd are made before the filter). */
	SCMP_SYS(timerfd_settime),
	/* The spool ferry lists its directory (ferry/spool.c). */
	SCMP_SYS(getdents64),
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
	/*
	 * Sanitizer builds only (tests): LeakSanitizer stops the world at
	 * exit with a traced helper thread, and reports read /proc. Plain
	 * builds never allow these.
	 */
	SCMP_SYS(clone), SCMP_SYS(clone3), SCMP_SYS(ptrace), SCMP_SYS(wait4),
	SCMP_SYS(prctl), SCMP_SYS(getppid), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(getdents),
	SCMP_SYS(set_tid_address), SCMP_SYS(tgkill), SCMP_SYS(kill),
	SCMP_SYS(pipe2), SCMP_SYS(dup2), SCMP_SYS(dup3),
	SCMP_SYS(getrlimit), SCMP_SYS(prlimit64), SCMP_SYS(sysinfo),
#endif
};

/* outer: serves accepted connections and its NFQUEUE netlink socket. It
 * may accept() on the listener it holds, but makes no socket of its own. */
static const int sandbox_outer[] = {
	SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(setsockopt),
	SCMP_SYS(getsockopt), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	SCMP_SYS(shutdown), SCMP_SYS(recvfrom), SCMP_SYS(recvmsg),
	SCMP_SYS(sendto), SCMP_SYS(sendmsg),
	SCMP_SYS(sendmmsg),	/* the eth: sender's batches of link packets */
};

/* outer's guard process: its netlink socket and a socket to outer. */
static const int sandbox_guard[] = {
	SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(sendto),
	SCMP_SYS(sendmsg),
};

/* inner: its database and the ferry ends only: no listening, no accept.
 * sendto serves the audit's syslog copy on the datagram socket it holds,
 * sendmmsg the eth: sender's batches (two-way) on its packet socket; with
 * no socket(2), it reaches nothing else. */
static const int sandbox_inner[] = {
	SCMP_SYS(flock), SCMP_SYS(sendto), SCMP_SYS(sendmmsg),
};

int
sandbox_close_inherited(void)
{
	/* Everything this process opens itself is O_CLOEXEC; what came from
	 * the parent beyond stdio is not ours to hold. */
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == -1)
		return -errno;
	return 0;
}

int
sandbox_lookup_user(const char *name, uid_t *ret_uid, gid_t *ret_gid)
{
	struct passwd	 pw, *res = NULL;
	char		 tmp[4096];
	int		 r;

	if ((r = getpwnam_r(name, &pw, tmp, sizeof(tmp), &res)) != 0)
		return -r;
	if (res == NULL)
		return -ENOENT;
	if (pw.pw_uid == 0)
		return -EPERM;		/* "dropping" to root is no drop */
	*ret_uid = pw.pw_uid;
	*ret_gid = pw.pw_gid;
	return 0;
}

int
sandbox_drop(int change_id, uid_t uid, gid_t gid, int keep_cap)
{
	uid_t	 ru, eu, su;
	gid_t	 rg, eg, sg;
	int	 want;

	/* The bounding set first, while CAP_SETPCAP is still held. */
	if (geteuid() == 0) {
		capng_clear(CAPNG_SELECT_BOUNDS);
		if (keep_cap >= 0 && capng_update(CAPNG_ADD,
		    CAPNG_BOUNDING_SET, (unsigned)keep_cap) != 0)
			return -EINVAL;
		if (capng_apply(CAPNG_SELECT_BOUNDS) != 0)
			return -EPERM;
	}
	if (change_id) {
		if (keep_cap >= 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1)
			return -errno;
		if (setgroups(1, &gid) == -1 ||
		    setresgid(gid, gid, gid) == -1 ||
		    setresuid(uid, uid, uid) == -1)
			return -errno;
		if (keep_cap >= 0 && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1)
			return -errno;
		if (getresuid(&ru, &eu, &su) == -1 ||
		    getresgid(&rg, &eg, &sg) == -1)
			return -errno;
		if (ru != uid || eu != uid || su != uid || rg != gid ||
		    eg != gid || sg != gid)
			return -EPERM;
		/* There must be no way back. */
		if (setuid(0) == 0 || seteuid(0) == 0)
			return -EPERM;
	}
	/* Effective, permitted, inheritable (and ambient): none, or keep_cap
	 * alone in effective and permitted. */
	capng_clear(CAPNG_SELECT_CAPS);
	if (keep_cap >= 0 && capng_update(CAPNG_ADD, CAPNG_EFFECTIVE |
	    CAPNG_PERMITTED, (unsigned)keep_cap) != 0)
		return -EINVAL;
	if (capng_apply(CAPNG_SELECT_CAPS) != 0)
		return -EPERM;
	want = keep_cap >= 0 ? CAPNG_PARTIAL : CAPNG_NONE;
	if (capng_get_caps_process() != 0 ||
	    capng_have_capabilities(CAPNG_SELECT_CAPS) != want ||
	    (keep_cap >= 0 && !capng_have_capability(CAPNG_EFFECTIVE,
	    (unsigned)keep_cap)))
		return -EPERM;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -errno;
	return 0;
}

static int
add_list(scmp_filter_ctx ctx, const int *list, size_t n)
{
	size_t	 i;
	int	 r;

	for (i = 0; i < n; i++) {
		/* A syscall this architecture lacks is simply not there. */
		if (list[i] < 0)
			continue;
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, list[i], 0)) !=
		    0)
			return r;
	}
	return 0;
}

int
sandbox_seccomp(enum sandbox_role role)
{
	scmp_filter_ctx	 ctx;
	int		 r;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		return -ENOMEM;
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) != 0 ||
	    (r = add_list(ctx, sandbox_common, sizeof(sandbox_common) /
	    sizeof(sandbox_common[0]))) != 0)
		goto out;
	/* mkfifo(3) for a ferry FIFO that went missing, and nothing else. */
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mknodat), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFIFO))) != 0)
		goto out;
	/* libevent asks how much a socket or pipe holds before reading;
	 * libpcap asks whether the eth: link is up when it went down. */
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, FIONREAD))) != 0 ||
	    (r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, SIOCGIFFLAGS))) != 0)
		goto out;
	switch (role) {
	case SANDBOX_OUTER:
		r = add_list(ctx, sandbox_outer, sizeof(sandbox_outer) /
		    sizeof(sandbox_outer[0]));
		break;
	case SANDBOX_GUARD:
		r = add_list(ctx, sandbox_guard, sizeof(sandbox_guard) /
		    sizeof(sandbox_guard[0]));
		break;
	case SANDBOX_INNER:
		r = add_list(ctx, sandbox_inner, sizeof(sandbox_inner) /
		    sizeof(sandbox_inner[0]));
		/* pcap_close() takes down the eth: ferry's packet ring, and
		 * libpcap asks the socket's error and name when the link goes
		 * down; no other socket option. */
		if (r == 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
			    SCMP_SYS(getsockname), 0);
		if (r == 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
			    SCMP_SYS(setsockopt), 1,
			    SCMP_A1(SCMP_CMP_EQ, SOL_PACKET));
		if (r == 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
			    SCMP_SYS(getsockopt), 1,
			    SCMP_A1(SCMP_CMP_EQ, SOL_PACKET));
		if (r == 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
			    SCMP_SYS(getsockopt), 2,
			    SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
			    SCMP_A2(SCMP_CMP_EQ, SO_ERROR));
		break;
	default:
		r = -EINVAL;
	}
	if (r == 0)
		r = seccomp_load(ctx);
 out:
	seccomp_release(ctx);
	return r;
}

int
sandbox_confine(const char *user, enum sandbox_role role,
    const char **ret_step)
{
	uint8_t	 b;
	uid_t	 uid = 0;
	gid_t	 gid = 0;
	int	 r;

	json_object_seed(0);
	*ret_step = "random";
	if ((r = random_bytes(&b, 1)) != 0)
		return r;
	*ret_step = "user";
	if (user != NULL && (r = sandbox_lookup_user(user, &uid, &gid)) != 0)
		return r;
	*ret_step = "privileges";
	if ((r = sandbox_drop(user != NULL, uid, gid, -1)) != 0)
		return r;
	*ret_step = "seccomp";
	return sandbox_seccomp(role);
}
