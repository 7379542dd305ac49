/*
 * fuzz_tls.c: the TLS record path. Random bytes arrive on a socket of a
 * fresh server engine (a P-256 certificate made by mkcerts at start);
 * whatever they are, the engine reads, answers or closes, and net_tls.c
 * neither crashes nor loops.
 */
#include <sys/socket.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "../../net.h"
#include "../../net_tls.h"

static struct tls_cred *cred;

static void
cred_init(void)
{
	char dir[] = "/tmp/ergo-fuzz-tls.XXXXXX", cert[64], key[64];
	char err[600];

	int out;

	err[0] = '\0';
	if (mkdtemp(dir) == NULL)
		abort();
	/* mkcerts reports what it wrote on stdout: not part of a test */
	fflush(stdout);
	out = dup(STDOUT_FILENO);
	if (freopen("/dev/null", "w", stdout) == NULL)
		abort();
	snprintf(cert, sizeof(cert), "%s/c.pem", dir);
	snprintf(key, sizeof(key), "%s/k.pem", dir);
	if (net_mkcert_write(cert, key, "localhost") != 0 ||
	    (cred = tls_cred_load(cert, key, err, sizeof(err))) == NULL) {
		fflush(stdout);
		dup2(out, STDOUT_FILENO);
		fprintf(stderr, "fuzz_tls: %s\n", err);
		abort();
	}
	fflush(stdout);
	dup2(out, STDOUT_FILENO);
	close(out);
	unlink(cert);
	unlink(key);
	rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct tls_conn *t;
	char out[16384], err[200], sink[4096];
	const char *why;
	int sv[2], i;
	ssize_t n;

	fuzz_init();
	if (cred == NULL)
		cred_init();
	if (len > 65536)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	if ((t = tls_conn_new(cred, 0x0301, err, sizeof(err))) == NULL)
		abort();
	(void)write(sv[1], data, len);
	shutdown(sv[1], SHUT_WR);
	/* Bounded: each round reads at most one record or ends. */
	for (i = 0; i < 64; i++) {
		n = tls_conn_read(t, sv[0], out, sizeof(out), &why);
		if (tls_conn_want_write(t) &&
		    tls_conn_write(t, sv[0], NULL, 0, &why) == -1)
			break;
		while (read(sv[1], sink, sizeof(sink)) > 0)
			;
		if (n == -1)
			break;
	}
	tls_conn_close(t, sv[0]);
	tls_conn_free(t);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
