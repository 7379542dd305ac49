# ergo: `make` builds ./ergo and nothing else.
# POSIX make: no GNU or BSD extensions, so GNU make and bmake both work
# (tests/test_install.py builds with bmake). Honours CC, CFLAGS, LDFLAGS,
# LDLIBS, PREFIX and DESTDIR. Targets: all run test unit asan install clean deps.

.POSIX:

CC	= cc
AR	= ar
PYTHON	= python3
CFLAGS	= -Wall -Wextra -Wpedantic -O2 -g
LDFLAGS	=
LDLIBS	= -lbearssl -lsqlite3
PREFIX	= /usr/local
SYSCONFDIR = /etc
MANDIR	= $(PREFIX)/share/man
DESTDIR	=

# Hardening for the normal build (not the sanitizer one): stack
# protector, fortified libc calls, a position-independent executable with
# read-only relocations. `make HARDEN_CFLAGS= HARDEN_LDFLAGS=` drops them.
HARDEN_CFLAGS = -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
HARDEN_LDFLAGS = -pie -Wl,-z,relro,-z,now

# The language and the API ergo is written to: always applied, even when
# CFLAGS is overridden (so `make CFLAGS=-O0` still builds C11 + POSIX).
ERGO_CPPFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L

# Sanitizer build: separate binary and object directory.
ASAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -O1 -g \
	-DERGO_DV_CHECK
ASAN_ENV = ERGO_BIN=./ergo-asan \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

HDRS	= ergo.h log.h conf.h util.h pool.h net.h net_conn.h net_int.h net_tls.h net_tls_int.h net_proxy.h net_ws.h store.h ergo_priv.h ergo_check.h ergo_wait.h \
	  irc.h irc_cap.h irc_util.h irc_state.h irc_out.h irc_num.h irc_user.h \
	  irc_account.h irc_alwayson.h irc_bans.h irc_chan.h irc_chan_int.h irc_chghost.h \
	  irc_cloak.h irc_help.h irc_hist.h irc_link.h irc_link_int.h \
	  irc_markread.h irc_metadata.h irc_monitor.h irc_multiline.h \
	  irc_oper.h irc_persistence.h irc_precis.h irc_precis_tab.h irc_precis_nfc.h \
	  irc_query.h irc_redact.h irc_register.h irc_mail.h irc_rename.h irc_sasl.h \
	  irc_sasl_parse.h irc_scram.h irc_serv.h irc_serv_int.h irc_chanserv.h irc_hostserv.h irc_histserv.h irc_nsadmin.h irc_throttle.h irc_userinput.h irc_webirc.h pwhash.h \
	  json.h ergo_import.h conf_yaml.h conf_int.h store_int.h store_ckpt.h irc_hist_int.h
# Everything but main(): the unit tests and fuzz targets link against
# these (libergo.a). A new .c file goes here; ergo.c stays apart.
LIBSRCS	= net.c net_out.c net_line.c net_pre.c pool.c net_listen.c net_proxy.c net_ws.c irc.c irc_cap.c irc_util.c irc_chan.c irc_chan_mode.c irc_query.c conf.c conf_value.c conf_apply.c conf_keys.c conf_text.c \
	  irc_monitor.c irc_hist.c irc_chathistory.c irc_multiline.c irc_precis.c irc_redact.c irc_rename.c \
	  irc_chghost.c irc_link.c irc_link_user.c irc_link_chan.c irc_link_msg.c \
	  irc_link_ban.c irc_link_svc.c \
	  conf_passwd.c log.c store.c store_account.c store_chan.c store_hist.c store_ckpt.c net_tls.c net_tls_cred.c net_mkcert.c irc_sasl.c \
	  irc_sasl_parse.c irc_scram.c irc_serv.c irc_nsadmin.c irc_chanserv.c irc_hostserv.c irc_histserv.c irc_bans.c ergo_priv.c ergo_check.c ergo_wait.c \
	  irc_cloak.c \
	  irc_userinput.c irc_markread.c irc_metadata.c irc_register.c irc_mail.c irc_throttle.c \
	  irc_webirc.c net_addr.c util.c irc_out.c irc_state.c irc_user.c \
	  irc_account.c irc_alwayson.c irc_persistence.c pwhash.c json.c \
	  ergo_import.c conf_yaml.c irc_oper.c irc_help.c
SRCS	= ergo.c $(LIBSRCS)
LIBOBJS	= $(LIBSRCS:.c=.o)
OBJS	= ergo.o $(LIBOBJS)

all: ergo

ergo: $(OBJS)
	$(CC) $(HARDEN_LDFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

$(OBJS): $(HDRS)

.SUFFIXES: .c .o
.c.o:
	$(CC) $(ERGO_CPPFLAGS) $(HARDEN_CFLAGS) $(CFLAGS) -c $<

libergo.a: $(LIBOBJS)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJS)

deps:
	sh scripts/deps.sh

# ./ergo-static: musl, BearSSL and SQLite built from Debian's sources (or
# Alpine's static libraries); see scripts/static.sh.
static:
	sh scripts/static.sh

# As root (a container, a sandbox) it passes --allow-root: ergo run
# refuses root without server { user } otherwise.
run:
	@sh scripts/deps.sh
	@$(MAKE) ergo
	./ergo run `[ "$$(id -u)" = 0 ] && echo --allow-root`

# Builds each tests/unit_X.c into tests/unit_X (no POSIX make wildcard, so
# a shell loop; they are small and rebuilt every time, so a change to
# tests/unit.h, which they all include, is always picked up).
unit-build: libergo.a
	@for f in tests/unit_*.c; do \
		[ -f "$$f" ] || continue; \
		echo "$(CC) ... -o $${f%.c} $$f libergo.a"; \
		$(CC) $(ERGO_CPPFLAGS) $(CFLAGS) -I. $(LDFLAGS) -o "$${f%.c}" \
		    "$$f" libergo.a $(LDLIBS) || exit 1; \
	done

unit: unit-build fuzz-replay-build
	@$(PYTHON) tests/run.py --unit-only --unit `ls tests/unit_*.c 2>/dev/null | sed 's/\.c$$//'` $(FUZZ_REPLAYS)

test:
	@sh scripts/deps.sh test
	@$(MAKE) ergo unit-build fuzz-replay-build
	@$(PYTHON) tests/run.py --unit `ls tests/unit_*.c 2>/dev/null | sed 's/\.c$$//'` $(FUZZ_REPLAYS)

# Fuzzing (tests/fuzz/). Each target also builds, with $(CC) and
# tests/fuzz/driver.c, into a replay program that runs its corpus (seeds
# and every crash once found) as a unit test of `make test`/`make asan`.
# `make fuzz` builds the libFuzzer targets (clang) into .fuzz/;
# `make fuzz-run FUZZ_SECONDS=N` runs each for N seconds.
FUZZ_TARGETS = parse conf b64 match tls sasl scram store json yaml dispatch \
	  proxy ws
FUZZ_REPLAYS = tests/fuzz/replay_parse tests/fuzz/replay_conf \
	  tests/fuzz/replay_b64 tests/fuzz/replay_match tests/fuzz/replay_tls \
	  tests/fuzz/replay_sasl tests/fuzz/replay_scram \
	  tests/fuzz/replay_store tests/fuzz/replay_json \
	  tests/fuzz/replay_yaml tests/fuzz/replay_dispatch \
	  tests/fuzz/replay_proxy tests/fuzz/replay_ws
FUZZ_CC	= clang
FUZZ_SECONDS = 30
FUZZ_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -O1 -g

fuzz-replay-build: libergo.a
	@for t in $(FUZZ_TARGETS); do \
		echo "$(CC) ... -o tests/fuzz/replay_$$t"; \
		$(CC) $(ERGO_CPPFLAGS) $(CFLAGS) -I. \
		    -DFUZZ_NAME="\"fuzz_$$t\"" \
		    -DFUZZ_CORPUS="\"tests/fuzz/corpus/$$t\"" \
		    -o tests/fuzz/replay_$$t tests/fuzz/fuzz_$$t.c \
		    tests/fuzz/stubs.c tests/fuzz/driver.c libergo.a $(LDLIBS) \
		    || exit 1; \
	done

fuzz:
	@mkdir -p .fuzz
	@for s in $(SRCS); do \
		echo "$(FUZZ_CC) -fsanitize=fuzzer-no-link,... -c $$s"; \
		$(FUZZ_CC) $(ERGO_CPPFLAGS) $(FUZZ_FLAGS) \
		    -fsanitize=fuzzer-no-link -c "$$s" \
		    -o ".fuzz/$${s%.c}.o" || exit 1; \
	done
	rm -f .fuzz/libergo.a
	cd .fuzz && $(AR) rcs libergo.a $(LIBOBJS)
	@for t in $(FUZZ_TARGETS); do \
		echo "$(FUZZ_CC) -fsanitize=fuzzer,... -o .fuzz/fuzz_$$t"; \
		$(FUZZ_CC) $(ERGO_CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer \
		    -I. -o .fuzz/fuzz_$$t tests/fuzz/fuzz_$$t.c \
		    tests/fuzz/stubs.c .fuzz/libergo.a $(LDLIBS) || exit 1; \
	done

# New inputs go to .fuzz/corpus/T; a crash is left as .fuzz/crash-T-*
# (copy it into tests/fuzz/corpus/T/ once fixed: it becomes a test).
# tests/fuzz/T.dict, if there is one, is the target's libFuzzer dictionary.
fuzz-run: fuzz
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p .fuzz/corpus/$$t; \
		echo "fuzz_$$t for $(FUZZ_SECONDS)s"; \
		dict=; if [ -f tests/fuzz/$$t.dict ]; then \
		    dict=-dict=tests/fuzz/$$t.dict; fi; \
		.fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
		    -print_final_stats=1 -artifact_prefix=.fuzz/crash-$$t- \
		    $$dict .fuzz/corpus/$$t tests/fuzz/corpus/$$t \
		    >.fuzz/fuzz_$$t.log 2>&1 || \
		    { tail -n 60 .fuzz/fuzz_$$t.log; exit 1; }; \
		grep -E '^stat::number_of_executed_units|^Done' \
		    .fuzz/fuzz_$$t.log; \
	done

# The integration tests against ./ergo under valgrind's memcheck: any
# invalid access or definite/indirect leak in a server's log fails its
# test (tests/ergotest.py). On demand; slow (deadlines x ERGO_SLOW).
VALGRIND_TESTS = tests/test_registration.py tests/test_channels.py \
	  tests/test_messaging.py tests/test_modes.py tests/test_queries.py \
	  tests/test_oper.py tests/test_badinput.py tests/test_logging.py \
	  tests/test_rehash.py tests/test_tls.py tests/test_sasl.py \
	  tests/test_ircv3_multiline.py tests/test_ircv3_redaction.py \
	  tests/test_account_registration.py tests/test_read_marker.py \
	  tests/test_history_persist.py tests/test_chghost.py \
	  tests/test_ircv3_preaway.py
valgrind: ergo
	@printf '#!/bin/sh\nexec valgrind -q --leak-check=full %s %s "$$@"\n' \
	    '--show-leak-kinds=definite,indirect --track-fds=no' \
	    "$$(pwd)/ergo" >.valgrind-ergo && chmod +x .valgrind-ergo
	ERGO_BIN=./.valgrind-ergo ERGO_SLOW=6 ERGO_TEST_TIMEOUT=600 \
	    $(PYTHON) tests/run.py $(VALGRIND_TESTS)

# Objects go to .asan/ and binaries get an -asan suffix, so a sanitizer
# run never clobbers the normal build.
ergo-asan: $(SRCS) $(HDRS)
	@mkdir -p .asan
	@for s in $(SRCS); do \
		echo "$(CC) $(ASAN_FLAGS) -c $$s"; \
		$(CC) $(ERGO_CPPFLAGS) $(CFLAGS) $(ASAN_FLAGS) -c "$$s" \
		    -o ".asan/$${s%.c}.o" || exit 1; \
	done
	rm -f .asan/libergo.a
	cd .asan && $(AR) rcs libergo.a $(LIBOBJS)
	$(CC) $(ASAN_FLAGS) $(LDFLAGS) -o $@ .asan/ergo.o .asan/libergo.a \
	    $(LDLIBS)

asan:
	@sh scripts/deps.sh test
	@$(MAKE) ergo-asan
	@units=; for f in tests/unit_*.c; do \
		[ -f "$$f" ] || continue; \
		echo "$(CC) $(ASAN_FLAGS) -o $${f%.c}-asan $$f"; \
		$(CC) $(ERGO_CPPFLAGS) $(CFLAGS) $(ASAN_FLAGS) -I. $(LDFLAGS) \
		    -o "$${f%.c}-asan" "$$f" .asan/libergo.a $(LDLIBS) || exit 1; \
		units="$$units $${f%.c}-asan"; \
	done; \
	for t in $(FUZZ_TARGETS); do \
		echo "$(CC) $(ASAN_FLAGS) -o tests/fuzz/replay_$$t-asan"; \
		$(CC) $(ERGO_CPPFLAGS) $(CFLAGS) $(ASAN_FLAGS) -I. $(LDFLAGS) \
		    -DFUZZ_NAME="\"fuzz_$$t\"" \
		    -DFUZZ_CORPUS="\"tests/fuzz/corpus/$$t\"" \
		    -o tests/fuzz/replay_$$t-asan tests/fuzz/fuzz_$$t.c \
		    tests/fuzz/stubs.c tests/fuzz/driver.c .asan/libergo.a \
		    $(LDLIBS) || exit 1; \
		units="$$units tests/fuzz/replay_$$t-asan"; \
	done; \
	$(ASAN_ENV) $(PYTHON) tests/run.py --unit $$units

# bench: the side-by-side benchmark of issue 7 (bench/run.sh; BENCH_QUICK,
# BENCH_RUNS, BENCH_INSTALL as in bench/README.md; results in
# bench/RESULTS.md). On demand, never part of test.
bench: ergo bench/load
	bash bench/run.sh

# the load generator alone (make's builtin rule would leave out its TLS)
bench/load: bench/load.c bench/load_tls.c bench/load_tls.h
	$(CC) $(ERGO_CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o bench/load bench/load.c \
	    bench/load_tls.c -lbearssl

# install: the binary (stripped: INSTALL_STRIP=no keeps its symbols),
# the man pages, ergo.conf (the shipped copy of `ergo defaultconfig`,
# kept equal to it by tests/test_config.py) only if no config is there
# yet, ergo.conf.example (a deployable one: TLS listener, file log, user)
# beside it, and the service files of INIT (openrc, sysvinit, systemd,
# runit, s6 or none; empty: detected on this host; a packager names it)
# with the logrotate file (scripts/install-service.sh). An edited config,
# conf.d or runit/s6 conf file is never overwritten. Each file is
# written beside its target and renamed into place, so a running ergo
# never sees half a binary.
INIT	=
INSTALL_STRIP = yes
STRIP	= strip
install: ergo
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SYSCONFDIR)/ergo \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5
	cp ergo $(DESTDIR)$(PREFIX)/bin/ergo.new
	@if [ "$(INSTALL_STRIP)" != no ]; then \
		echo "$(STRIP) $(DESTDIR)$(PREFIX)/bin/ergo.new"; \
		$(STRIP) $(DESTDIR)$(PREFIX)/bin/ergo.new || exit 1; \
	fi
	chmod 755 $(DESTDIR)$(PREFIX)/bin/ergo.new
	mv -f $(DESTDIR)$(PREFIX)/bin/ergo.new $(DESTDIR)$(PREFIX)/bin/ergo
	cp ergo.8 $(DESTDIR)$(MANDIR)/man8/ergo.8.new
	chmod 644 $(DESTDIR)$(MANDIR)/man8/ergo.8.new
	mv -f $(DESTDIR)$(MANDIR)/man8/ergo.8.new $(DESTDIR)$(MANDIR)/man8/ergo.8
	cp ergo.conf.5 $(DESTDIR)$(MANDIR)/man5/ergo.conf.5.new
	chmod 644 $(DESTDIR)$(MANDIR)/man5/ergo.conf.5.new
	mv -f $(DESTDIR)$(MANDIR)/man5/ergo.conf.5.new \
	    $(DESTDIR)$(MANDIR)/man5/ergo.conf.5
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/ergo/ergo.conf ]; then \
		echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/ergo/ergo.conf"; \
	else \
		echo "cp ergo.conf $(DESTDIR)$(SYSCONFDIR)/ergo/ergo.conf"; \
		cp ergo.conf $(DESTDIR)$(SYSCONFDIR)/ergo/ergo.conf.new && \
		chmod 644 $(DESTDIR)$(SYSCONFDIR)/ergo/ergo.conf.new && \
		mv $(DESTDIR)$(SYSCONFDIR)/ergo/ergo.conf.new \
		    $(DESTDIR)$(SYSCONFDIR)/ergo/ergo.conf || exit 1; \
	fi
	@if [ -f distrib/ergo.conf.example ]; then \
		f=$(DESTDIR)$(SYSCONFDIR)/ergo/ergo.conf.example; \
		echo "cp distrib/ergo.conf.example $$f"; \
		cp distrib/ergo.conf.example "$$f.new" && \
		chmod 644 "$$f.new" && mv -f "$$f.new" "$$f" || exit 1; \
	fi
	@if [ -f scripts/install-service.sh ]; then \
		sh scripts/install-service.sh "$(INIT)" "$(DESTDIR)" \
		    "$(PREFIX)" "$(SYSCONFDIR)" || exit 1; \
	fi

# uninstall: what install put there, except the config files (ergo.conf,
# conf.d/ergo, logrotate.d/ergo, runit's and s6's service directories),
# which hold the operator's edits.
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/ergo
	rm -f $(DESTDIR)$(MANDIR)/man8/ergo.8 $(DESTDIR)$(MANDIR)/man5/ergo.conf.5
	rm -f $(DESTDIR)$(SYSCONFDIR)/init.d/ergo
	rm -f $(DESTDIR)$(SYSCONFDIR)/ergo/ergo.conf.example
	rm -f $(DESTDIR)$(PREFIX)/lib/systemd/system/ergo.service
	@for f in $(DESTDIR)$(SYSCONFDIR)/ergo/ergo.conf \
	    $(DESTDIR)$(SYSCONFDIR)/conf.d/ergo \
	    $(DESTDIR)$(SYSCONFDIR)/logrotate.d/ergo \
	    $(DESTDIR)$(SYSCONFDIR)/sv/ergo $(DESTDIR)$(SYSCONFDIR)/s6/sv/ergo; do \
		[ -e "$$f" ] && echo "keeping $$f"; \
	done; true

# lint-man: both man pages through mandoc's linter and groff's warnings
# (whichever is installed; both when both are), any warning an error.
lint-man:
	@found=; \
	if command -v mandoc >/dev/null 2>&1; then \
		found=1; \
		echo "mandoc -T lint -W warning ergo.8 ergo.conf.5"; \
		mandoc -T lint -W warning ergo.8 ergo.conf.5 || exit 1; \
	fi; \
	if command -v groff >/dev/null 2>&1; then \
		found=1; \
		for f in ergo.8 ergo.conf.5; do \
			echo "groff -mdoc -Tutf8 -ww -z $$f"; \
			out=`groff -mdoc -Tutf8 -ww -z $$f 2>&1`; \
			[ -z "$$out" ] || { echo "$$out"; exit 1; }; \
		done; \
	fi; \
	[ -n "$$found" ] || { echo "lint-man: needs mandoc or groff" >&2; \
	    exit 1; }
.PHONY: lint-man

clean:
	rm -f ergo ergo-asan $(OBJS) libergo.a
	rm -rf .asan .fuzz .valgrind-ergo
	rm -f tests/fuzz/replay_*
	@for f in tests/unit_*.c; do \
		[ -f "$$f" ] && rm -f "$${f%.c}" "$${f%.c}-asan"; \
	done; true
	rm -rf tests/__pycache__

.PHONY: all deps static run unit-build unit test asan valgrind fuzz fuzz-run fuzz-replay-build install uninstall clean bench
