/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Sandbox tests: each allow-list in a child process, what it lets through and what kills; the privilege drop. */

#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <cap-ng.h>
#include <cmocka.h>

#include "common/common.h"

/* Runs fn in a child after installing role's filter (role -1: none);
 * returns the child's wait status. fn returns the exit code. */
static int
in_child(int role, int (*fn)(void))
{
	pid_t	 pid;
	int	 st;

	fflush(NULL);
	if ((pid = fork()) == 0) {
		if (role >= 0 && sandbox_seccomp((enum sandbox_role)role) != 0)
			_exit(100);
		_exit(fn());
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void
assert_sigsys(int st)
{
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static void
assert_exit0(int st)
{
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static int
do_socket(void)
{
	(void)socket(AF_INET, SOCK_STREAM, 0);
	return 1;
}

static int
do_execve(void)
{
	execl("/bin/true", "true", (char *)NULL);
	return 1;
}

/* Allowed in the outer filter: on a bad descriptor it says EBADF. */
static int
do_accept(void)
{
	return accept4(-1, NULL, NULL, SOCK_CLOEXEC) == -1 && errno == EBADF ?
	    0 : 1;
}

/* The eth: sender's batches: allowed to outer and inner (EBADF on a bad
 * descriptor), not to the guard. */
static int
do_sendmmsg(void)
{
	struct mmsghdr	 mh;

	memset(&mh, 0, sizeof(mh));
	return sendmmsg(-1, &mh, 1, 0) == -1 && errno == EBADF ? 0 : 1;
}

static int
do_files(void)
{
	char	 path[] = "/tmp/isogate-test-sandbox.XXXXXX", fifo[64];
	int	 fd, n = 0;

	/* What steady state needs: open, write, fsync, rename, unlink,
	 * FIONREAD, a FIFO made again. */
	if ((fd = mkstemp(path)) == -1 || write(fd, "x", 1) != 1 ||
	    fsync(fd) != 0 || ioctl(fd, FIONREAD, &n) != 0 || close(fd) != 0)
		return 2;
	snprintf(fifo, sizeof(fifo), "%s.fifo", path);
	if (mkfifo(fifo, 0600) != 0 || unlink(fifo) != 0 ||
	    rename(path, fifo) != 0 || unlink(fifo) != 0)
		return 3;
	if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		return 4;
	close(fd);
	return 0;
}

static int
do_ioctl_other(void)
{
	struct winsize	 ws;

	(void)ioctl(0, TIOCGWINSZ, &ws);
	return 1;
}

static int
do_mknod_chr(void)
{
	(void)mknod("/tmp/isogate-test-sandbox-chr", S_IFCHR | 0600,
	    makedev(1, 3));
	return 1;
}

static int
do_setuid(void)
{
	(void)setuid(0);
	return 1;
}

static void
test_outer_filter(void **state)
{
	(void)state;
	assert_sigsys(in_child(SANDBOX_OUTER, do_socket));
	assert_sigsys(in_child(SANDBOX_OUTER, do_execve));
	assert_exit0(in_child(SANDBOX_OUTER, do_accept));
	assert_exit0(in_child(SANDBOX_OUTER, do_sendmmsg));
	assert_exit0(in_child(SANDBOX_OUTER, do_files));
	assert_sigsys(in_child(SANDBOX_OUTER, do_ioctl_other));
	assert_sigsys(in_child(SANDBOX_OUTER, do_mknod_chr));
	assert_sigsys(in_child(SANDBOX_OUTER, do_setuid));
}

static void
test_inner_filter(void **state)
{
	(void)state;
	assert_sigsys(in_child(SANDBOX_INNER, do_socket));
	assert_sigsys(in_child(SANDBOX_INNER, do_execve));
	/* inner accepts nothing, not even on a descriptor it holds. */
	assert_sigsys(in_child(SANDBOX_INNER, do_accept));
	assert_exit0(in_child(SANDBOX_INNER, do_sendmmsg));
	assert_exit0(in_child(SANDBOX_INNER, do_files));
}

static void
test_guard_filter(void **state)
{
	(void)state;
	assert_sigsys(in_child(SANDBOX_GUARD, do_socket));
	assert_sigsys(in_child(SANDBOX_GUARD, do_execve));
	assert_sigsys(in_child(SANDBOX_GUARD, do_accept));
	assert_sigsys(in_child(SANDBOX_GUARD, do_sendmmsg));
	/* Without a filter the same calls do not kill. */
	assert_true(WIFEXITED(in_child(-1, do_socket)));
}

static int
bad_role(void)
{
	return sandbox_seccomp((enum sandbox_role)42) == -EINVAL ? 0 : 1;
}

static void
test_bad_role(void **state)
{
	(void)state;
	assert_exit0(in_child(-1, bad_role));
}

static void
test_lookup(void **state)
{
	uid_t	 uid = 1;
	gid_t	 gid = 1;

	(void)state;
	assert_int_equal(sandbox_lookup_user("root", &uid, &gid), -EPERM);
	assert_int_equal(sandbox_lookup_user("isogate-no-such-user", &uid,
	    &gid), -ENOENT);
	assert_int_equal(uid, 1);		/* untouched on failure */
	assert_int_equal(sandbox_lookup_user("nobody", &uid, &gid), 0);
	assert_int_not_equal(uid, 0);
}

/* In the child: dropped to nobody with nothing (or keep alone) left. */
static int
check_dropped(int keep)
{
	uid_t	 uid;
	gid_t	 gid, groups[4];

	if (sandbox_lookup_user("nobody", &uid, &gid) != 0)
		return 10;
	if (sandbox_drop(1, uid, gid, keep) != 0)
		return 11;
	if (getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getgroups(4, groups) != 1 || groups[0] != gid)
		return 12;
	if (setuid(0) == 0 || prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 13;
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_get_caps_process() != 0)
		return 14;
	if (keep < 0 && (capng_have_capabilities(CAPNG_SELECT_BOTH) !=
	    CAPNG_NONE))
		return 15;
	if (keep >= 0 && (!capng_have_capability(CAPNG_EFFECTIVE,
	    (unsigned)keep) || capng_have_capability(CAPNG_EFFECTIVE,
	    CAP_SYS_ADMIN) || capng_have_capability(CAPNG_EFFECTIVE,
	    CAP_SETUID)))
		return 16;
	return 0;
}

static int drop_none(void) { return check_dropped(-1); }
static int drop_keep(void) { return check_dropped(CAP_NET_ADMIN); }

/* Staying uid 0 (no user in the policy) still leaves no capability. */
static int
drop_root(void)
{
	if (sandbox_drop(0, 0, 0, -1) != 0)
		return 10;
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_get_caps_process() != 0 ||
	    capng_have_capabilities(CAPNG_SELECT_BOTH) != CAPNG_NONE)
		return 11;
	return 0;
}

static void
test_drop(void **state)
{
	(void)state;
	if (geteuid() != 0)
		fail_msg("test_sandbox needs root (CI runs as root)");
	assert_exit0(in_child(-1, drop_none));
	assert_exit0(in_child(-1, drop_keep));
	assert_exit0(in_child(-1, drop_root));
}

static int
close_check(void)
{
	int	 fd;

	if ((fd = open("/dev/null", O_RDONLY)) == -1 || dup2(fd, 40) != 40)
		return 2;
	if (sandbox_close_inherited() != 0)
		return 3;
	if (fcntl(fd, F_GETFD) != -1 || fcntl(40, F_GETFD) != -1 ||
	    fcntl(2, F_GETFD) == -1)
		return 4;
	return 0;
}

static void
test_close_inherited(void **state)
{
	(void)state;
	assert_exit0(in_child(-1, close_check));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outer_filter),
		cmocka_unit_test(test_inner_filter),
		cmocka_unit_test(test_guard_filter),
		cmocka_unit_test(test_bad_role),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_drop),
		cmocka_unit_test(test_close_inherited),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
