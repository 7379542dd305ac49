/*
 * irc_account.h: what irc_account.c exports: accounts as SASL, REGISTER
 * and NickServ share them (credentials, creation, login state).
 */
#ifndef IRC_ACCOUNT_H
#define IRC_ACCOUNT_H

#include <stdbool.h>
#include <stdint.h>

#include "irc_state.h"

struct store_account;
struct store_ban;
struct store_settings;

#define AUTH_FAIL_MAX		5	/* failed logins per window ... */
#define AUTH_FAIL_WINDOW_MS	60000	/* ... per IP and per account */
#define ACCOUNT_SALTLEN		16
#define REG_PASS_MAX		300	/* bytes: the spec's safe limit */

void	 irc_account_init(void);		/* its hook */
/* The clients logged in to account id: the first, then ->acnext. */
struct client *irc_account_sessions(int64_t id);
/* SCRAM-SHA-256 StoredKey and ServerKey (RFC 5802) of pw, a's salt and
 * iterations; creds makes a fresh salt first (conf's iterations). */
void	 irc_account_scram_keys(const struct store_account *a,
	    const char *pw, unsigned char stored[32],
	    unsigned char server[32]);
void	 irc_account_creds(struct store_account *a, const char *pw);
/* pw against a's credentials, in constant time. */
bool	 irc_account_password_ok(const struct store_account *a,
	    const char *pw);
/* After a login with pw: new credentials if a's iterations are stale. */
void	 irc_account_rehash(const struct client *c, struct store_account *a,
	    const char *pw);
/* Too many recent failures for c's IP or the account (folded)? */
bool	 irc_auth_throttled(const struct client *, const char *folded);
void	 irc_auth_failed(const struct client *, const char *folded);
/* The same for OPER: by address and by oper name. */
bool	 irc_oper_throttled(const struct client *, const char *name);
void	 irc_oper_failed(const struct client *, const char *name);
/* Logs c in (900, +r) or out (901, -r); account-notify tells peers. */
void	 irc_account_login(struct client *, const struct store_account *);
/* The same in two steps: 900 and account-notify, then user mode +r. */
void	 irc_account_login_quiet(struct client *,
	    const struct store_account *);
void	 irc_account_login_mode(struct client *);
void	 irc_account_logout(struct client *);
/* Logs a restored always-on user in without a word: 0, -1 (ENOMEM). */
int	 irc_account_restore(struct client *, int64_t id, const char *name,
	    const struct store_settings *);
/* Whether an account with this SET ALWAYS-ON / AUTO-AWAY (SET_*) is
 * always-on / auto-away under the config (accounts.multiclient). */
bool	 irc_account_always_on(int setting);
bool	 irc_account_auto_away(int setting);
/* Where an account with this SET DM-HISTORY (DMH_*) keeps its direct
 * messages under the config: DMH_OFF, DMH_EPHEMERAL or DMH_ON. */
int	 irc_account_dm_history(int setting);
/* Ends every user of account id (always-on ones too): QUIT and ERROR
 * say reason. For oper SUSPEND and SADROP. */
void	 irc_account_end_users(int64_t id, const char *reason);
/*
 * Suspension (a ban of kind 'a'): whether a's is in force (no login by
 * any means); suspend stores one (secs 0: indefinitely) and ends the
 * account's users, always-on ones too, with its text (Ergo's "Account
 * NAME suspended at TIME. Duration: D. Reason: R"): 0 or -1
 * (store_error()); unsuspend: 0, 1 if there was none, -1.
 */
bool	 irc_account_suspended(const struct store_account *a);
int	 irc_account_suspend(const struct client *by,
	    const struct store_account *a, long long secs, const char *reason);
int	 irc_account_unsuspend(const struct store_account *a);
void	 irc_account_suspension_text(char *dst, size_t sz, const char *name,
	    const struct store_ban *b);
/* Whether name may be a new account's: a nick, not a service's or a
 * GuestNNNNN (what nick enforcement renames to). */
bool	 irc_account_name_ok(const char *name);
/* Why pw cannot be the password of account name: NULL if it can;
 * *weak tells a weak password from an unacceptable one. */
const char *irc_account_password_bad(const char *name, const char *pw,
	    bool *weak);
/*
 * Creates account name (a valid nick) for c with password pw and email
 * ("" for none) into *a, counted against c's IP: REG_OK once committed
 * (the caller logs c in), REG_EXISTS if the name is owned, REG_THROTTLED
 * if c's IP registered too many lately, REG_DEFCON at DEFCON 4 or
 * lower, REG_FAILED (store_error()).
 */
enum { REG_OK, REG_EXISTS, REG_THROTTLED, REG_FAILED, REG_DEFCON };
/* Its checks before the row, counted against c's IP: REG_OK if the
 * casefolded name fz may be registered now (irc_mail.c's pending). */
int	 irc_account_reg_admit(struct client *, const char *fz);
int	 irc_account_register(struct client *, const char *name,
	    const char *email, const char *pw, struct store_account *a);

#endif
