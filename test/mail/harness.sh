#!/usr/bin/env bash
# Loopback mail harness for integration tests: Postfix (submission, SASL via Dovecot) -> LMTP ->
# Dovecot (IMAP). All configuration and state live under $ROOT; nothing in /etc is touched.
# Based on shared/notes/mailserver.md (section 7).
#
# Usage: ROOT=/some/tmp/dir bash test/mail/harness.sh SUBCOMMAND
#   setup          wipe + regenerate config, CA/certs, users under $ROOT
#   start | stop   both daemons (stop: SIGTERM to each process group, SIGKILL after 10 s)
#   start-dovecot | stop-dovecot | start-postfix | stop-postfix   one daemon (failure tests)
#   ready [secs]   wait until every port answers (default 15 s)
#   status         running/stopped per daemon
#   flush          ask Postfix to retry its deferred queue now (e.g. after start-dovecot)
#   queued         print how many messages Postfix still holds (0: nothing more is on its way)
# Needs root and: scripts/install-test-deps.sh (postfix dovecot-imapd dovecot-lmtpd openssl).
#
# Ports (env, defaults from the recipe). Everything listens on loopback only:
#   MAIL_IMAP_PORT 1143 (STARTTLS required)     MAIL_IMAPS_PORT 1993 (implicit TLS)
#   MAIL_SUBMISSION_PORT 1587 (STARTTLS req.)   MAIL_SUBMISSIONS_PORT 1465 (implicit TLS)
#   MAIL_LMTP_PORT 2424 (Dovecot LMTP over TCP)
#   Plaintext-only endpoints for negative tests (no STARTTLS offered, plaintext AUTH/LOGIN accepted,
#   so a refusal there can only come from the client):
#   MAIL_PLAIN_SMTP_PORT 1588 on 127.0.0.1      MAIL_PLAIN_IMAP_HOST 127.0.0.2 : MAIL_PLAIN_IMAP_PORT 1144
set -euo pipefail
ROOT=${ROOT:?ROOT must be set to the harness directory (e.g. ROOT=\$(mktemp -d))}
export PATH="$PATH:/usr/sbin:/sbin"      # postfix/dovecot live in /usr/sbin, absent from some PATHs
VMAIL_UID=${VMAIL_UID:-5000}             # numeric mail uid/gid, no /etc/passwd entry needed
IMAP_PORT=${MAIL_IMAP_PORT:-1143}
IMAPS_PORT=${MAIL_IMAPS_PORT:-1993}
SUBMISSION_PORT=${MAIL_SUBMISSION_PORT:-1587}
SUBMISSIONS_PORT=${MAIL_SUBMISSIONS_PORT:-1465}
LMTP_PORT=${MAIL_LMTP_PORT:-2424}
PLAIN_SMTP_PORT=${MAIL_PLAIN_SMTP_PORT:-1588}
PLAIN_IMAP_HOST=${MAIL_PLAIN_IMAP_HOST:-127.0.0.2}
PLAIN_IMAP_PORT=${MAIL_PLAIN_IMAP_PORT:-1144}
USERS="police townhall archive prefecture"
DOMAIN=harness.test

DOVECOT_CONF=$ROOT/etc/dovecot.conf
POSTFIX_DIR=$ROOT/etc/postfix
DOVECOT_PID=$ROOT/run/dovecot/master.pid
POSTFIX_PID=$ROOT/var/spool/postfix/pid/master.pid
# readiness probes "host|port|greeting-regex" (no regex: TCP accept is enough, e.g. TLS ports)
DOVECOT_PROBES=("127.0.0.1|$IMAP_PORT|^\\* OK" "127.0.0.1|$IMAPS_PORT|" "127.0.0.1|$LMTP_PORT|^220 "
                "$PLAIN_IMAP_HOST|$PLAIN_IMAP_PORT|^\\* OK")
POSTFIX_PROBES=("127.0.0.1|$SUBMISSION_PORT|^220 " "127.0.0.1|$SUBMISSIONS_PORT|"
                "127.0.0.1|$PLAIN_SMTP_PORT|^220 ")

log() { echo "[harness] $*" >&2; }

need_root() {  # dovecot must switch to the mail uid, postfix to its own user
  [ "$(id -u)" -eq 0 ] || { log "must run as root"; exit 1; }
}

setup() {
  need_root
  local u
  for u in postfix dovecot doveadm doveconf openssl; do
    command -v "$u" >/dev/null || { log "$u not found: run scripts/install-test-deps.sh as root"; exit 1; }
  done
  # wipe generated state, keep anything else in $ROOT
  rm -rf "${ROOT:?}"/{etc,pki,run,var,mail,log}
  mkdir -p "$ROOT"/{etc/postfix,pki,run,var/spool/postfix,var/lib/postfix,var/dovecot,mail,log}
  chmod 0755 "$ROOT"   # mktemp -d gives 0700: dovecot/postfix/uid 5000 must traverse it
  chown postfix:postfix "$ROOT/var/lib/postfix"          # data_directory must be owned by mail_owner
  chown "$VMAIL_UID:$VMAIL_UID" "$ROOT/mail"; chmod 0700 "$ROOT/mail"

  # --- throwaway CA + server cert for localhost / 127.0.0.1 (ECDSA P-256, 30 days)
  ( cd "$ROOT/pki"
    openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
      -keyout ca.key -out ca.crt -days 30 -subj "/CN=mailharness throwaway CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
      -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
    printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' \
      'extendedKeyUsage=serverAuth' 'subjectAltName=DNS:localhost,IP:127.0.0.1' > server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
      -out server.crt -days 30 -extfile server.ext 2>/dev/null
    chmod 0600 ca.key server.key
    chmod 0644 ca.crt )   # daemons read the key as root before dropping privileges; tests read ca.crt

  # --- users (login = full address). Passwords are test-only: <user>-secret.
  : > "$ROOT/etc/passwd"
  for u in $USERS; do
    echo "$u@$DOMAIN:$(doveadm pw -s SHA512-CRYPT -p "$u-secret")" >> "$ROOT/etc/passwd"
  done
  # Keys of the deny-passdb below: plaintext IMAP on the TLS-required address is refused.
  printf 'imap-127.0.0.1:\n' > "$ROOT/etc/deny-non-tls"
  chown root:dovecot "$ROOT/etc/passwd" "$ROOT/etc/deny-non-tls"   # auth process runs as "dovecot"
  chmod 0640 "$ROOT/etc/passwd" "$ROOT/etc/deny-non-tls"

  cat > "$DOVECOT_CONF" <<EOF
# Dovecot 2.3 test instance: everything under $ROOT, loopback only.
instance_name = mailharness
base_dir  = $ROOT/run/dovecot
state_dir = $ROOT/var/dovecot
protocols = imap lmtp
listen = 127.0.0.1
log_path = $ROOT/log/dovecot.log
info_log_path = $ROOT/log/dovecot.log
hostname = mail.$DOMAIN
postmaster_address = postmaster@$DOMAIN

# --- TLS: STARTTLS on $IMAP_PORT, implicit TLS on $IMAPS_PORT
ssl = required
ssl_cert = <$ROOT/pki/server.crt
ssl_key  = <$ROOT/pki/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
# default 2 secs: every wrong-password test (IMAP, and SMTP AUTH via Dovecot SASL) would sleep 2 s
auth_failure_delay = 0

# Dovecot treats a connection whose remote IP == local IP (127.0.0.1 -> 127.0.0.1) as
# "secured" and then allows plaintext LOGIN even with ssl=required. This deny-passdb refuses
# non-TLS IMAP logins on 127.0.0.1: the key is "tls" for TLS connections, "<service>-<local ip>"
# otherwise; the file lists only "imap-127.0.0.1". Not listed, so allowed: Postfix SASL (smtp-*)
# and the deliberately plaintext IMAP endpoint on $PLAIN_IMAP_HOST (imap-$PLAIN_IMAP_HOST).
passdb {
  driver = passwd-file
  args = username_format=%{if;%{secured};eq;TLS;tls;%s-%l} $ROOT/etc/deny-non-tls
  deny = yes
}
passdb {
  driver = passwd-file
  args = scheme=SHA512-CRYPT username_format=%Lu $ROOT/etc/passwd
}
userdb {
  driver = static
  args = uid=$VMAIL_UID gid=$VMAIL_UID home=$ROOT/mail/%Ld/%Ln
}
first_valid_uid = $VMAIL_UID
last_valid_uid = $VMAIL_UID
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = /
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
  inet_listener imap_plain {    # negative tests: see "local $PLAIN_IMAP_HOST" below
    address = $PLAIN_IMAP_HOST
    port = $PLAIN_IMAP_PORT
  }
}
# Plaintext-only IMAP: no STARTTLS in CAPABILITY, LOGIN accepted in clear text. Login settings
# are looked up per local IP, so this only affects connections to $PLAIN_IMAP_HOST.
local $PLAIN_IMAP_HOST {
  protocol imap {
    ssl = no
    disable_plaintext_auth = no
  }
}
service lmtp {
  unix_listener lmtp {          # Postfix's lmtp client (runs as user postfix)
    mode = 0600
    user = postfix
    group = postfix
  }
  inet_listener lmtp {          # TCP LMTP (direct injection without Postfix)
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
# Auth penalty: after a failed login from an IP, EVERY later auth from that IP (127.0.0.1 =
# all tests, incl. Postfix SASL) is delayed 2, 4, 8 .. 15 s. Make its anvil socket unusable
# so the auth process disables the penalty.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service auth {
  unix_listener auth-postfix {  # Postfix smtpd_sasl_type = dovecot
    mode = 0660
    user = postfix
    group = postfix
  }
}
protocol lmtp {
  auth_username_format = %Lu    # RCPT TO is the full address = passwd-file key
}
EOF

  cat > "$POSTFIX_DIR/main.cf" <<EOF
# Postfix 3.7 test instance: everything under $ROOT, loopback only.
compatibility_level = 3.6
queue_directory = $ROOT/var/spool/postfix
data_directory  = $ROOT/var/lib/postfix
# No syslog in containers/CI: log to a file via postlogd (needs "postlog" in master.cf).
maillog_file = $ROOT/log/postfix.log
maillog_file_prefixes = $ROOT/log

myhostname = mail.$DOMAIN
mydomain = $DOMAIN
myorigin = \$mydomain
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
smtputf8_enable = no

# Nothing ever leaves the machine.
default_transport = error:outbound mail disabled in test harness
relay_transport = error:outbound mail disabled in test harness

# Virtual mailboxes, handed to Dovecot over LMTP (unix socket).
virtual_mailbox_domains = $DOMAIN
virtual_mailbox_maps = texthash:$POSTFIX_DIR/vmailbox
virtual_transport = lmtp:unix:$ROOT/run/dovecot/lmtp
# A 10 MB attachment is ~13.7 MB after base64; the default limit is 10240000 bytes.
message_size_limit = 52428800

# TLS (server side)
smtpd_tls_chain_files = $ROOT/pki/server.key, $ROOT/pki/server.crt
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtpd_tls_loglevel = 1

# SASL through Dovecot's auth socket (absolute path works because nothing is chrooted).
smtpd_sasl_type = dovecot
smtpd_sasl_path = $ROOT/run/dovecot/auth-postfix
smtpd_sasl_auth_enable = no
smtpd_sasl_security_options = noanonymous

# Functional mailboxes may only send as themselves.
smtpd_sender_login_maps = texthash:$POSTFIX_DIR/sender_login

smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
EOF

  cat > "$POSTFIX_DIR/master.cf" <<EOF
# service  type  private unpriv chroot wakeup maxproc command + args
# chroot is "n" everywhere: no copies of /etc files into the spool needed.
# Submission, STARTTLS mandatory, SASL AUTH
127.0.0.1:$SUBMISSION_PORT inet n    -      n      -      -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_sender_restrictions=reject_sender_login_mismatch
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
# Submission, implicit TLS, SASL AUTH
127.0.0.1:$SUBMISSIONS_PORT inet n    -      n      -      -       smtpd
  -o syslog_name=postfix/submissions
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_sender_restrictions=reject_sender_login_mismatch
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
# Plaintext-only submission for negative tests: no STARTTLS offered, AUTH accepted in clear,
# so a client that refuses to talk here proves its own TLS requirement.
127.0.0.1:$PLAIN_SMTP_PORT inet n    -      n      -      -       smtpd
  -o syslog_name=postfix/plain
  -o smtpd_tls_security_level=none
  -o smtpd_tls_auth_only=no
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_sender_restrictions=reject_sender_login_mismatch
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
  for u in $USERS; do echo "$u@$DOMAIN OK"; done > "$POSTFIX_DIR/vmailbox"
  for u in $USERS; do echo "$u@$DOMAIN $u@$DOMAIN"; done > "$POSTFIX_DIR/sender_login"

  doveconf -c "$DOVECOT_CONF" -n > /dev/null               # syntax check
  postfix -c "$POSTFIX_DIR" check                           # also creates the queue subdirectories
  log "setup done in $ROOT"
}

# probe HOST PORT [REGEX]: the port accepts a TCP connection and, if REGEX, greets with it
probe() {
  { exec 3<>"/dev/tcp/$1/$2"; } 2>/dev/null || return 1
  if [ -n "${3:-}" ]; then
    local line=''
    IFS= read -r -t 2 line <&3 || { exec 3<&- 3>&-; return 1; }
    [[ $line =~ $3 ]] || { exec 3<&- 3>&-; return 1; }
  fi
  exec 3<&- 3>&-
}
ready_once() {  # ready_once PROBE... (each "host|port|regex")
  local p host port re
  for p in "$@"; do
    IFS='|' read -r host port re <<<"$p"
    probe "$host" "$port" "$re" || return 1
  done
}
wait_ready() {  # wait_ready TIMEOUT_S PROBE...
  local deadline=$(( $(date +%s%N) + $1 * 1000000000 )); shift
  until ready_once "$@"; do
    [ "$(date +%s%N)" -lt "$deadline" ] || { log "not ready"; return 1; }
    sleep 0.05
  done
}
ready() { wait_ready "${1:-15}" "${DOVECOT_PROBES[@]}" "${POSTFIX_PROBES[@]}"; }

pid_of() { [ -s "$1" ] && awk 'NR==1{print $1}' "$1"; }
running() { local p; p=$(pid_of "$1") && kill -0 -- "-$p" 2>/dev/null; }

start_dovecot_bg() {
  if running "$DOVECOT_PID"; then log "dovecot already running"; return 0; fi
  # Daemonizes and calls setsid(): pgid == the pid in its pid file. Its master keeps the
  # inherited stderr open for its whole life: redirect it, or a caller that waits for EOF on
  # our output (CI log capture, "| tee", Node execFile) hangs.
  dovecot -c "$DOVECOT_CONF" </dev/null >/dev/null 2>>"$ROOT/log/dovecot.stderr"
}
start_postfix_bg() {
  if running "$POSTFIX_PID"; then log "postfix already running"; return 0; fi
  rm -f "$POSTFIX_PID"   # stale pid file from a SIGTERMed master
  postfix -c "$POSTFIX_DIR" start </dev/null >/dev/null 2>>"$ROOT/log/postfix.stderr"  # "master -w": returns after init
}
start() {
  need_root
  start_dovecot_bg   # Dovecot first: Postfix needs its auth and lmtp sockets
  start_postfix_bg
  ready 15
  log "ready: dovecot pid $(pid_of "$DOVECOT_PID"), postfix pid $(pid_of "$POSTFIX_PID")"
}
start-dovecot() { need_root; start_dovecot_bg; wait_ready 15 "${DOVECOT_PROBES[@]}"; log "dovecot ready"; }
start-postfix() { need_root; start_postfix_bg; wait_ready 15 "${POSTFIX_PROBES[@]}"; log "postfix ready"; }

term_group() {  # term_group NAME PIDFILE -> SIGTERM to the whole process group, prints the pgid
  local pid; pid=$(pid_of "$2") || { log "$1: no pid file"; return 0; }
  kill -0 -- "-$pid" 2>/dev/null || { log "$1: not running"; return 0; }
  kill -TERM -- "-$pid" && echo "$pid"
}
wait_group() {  # wait_group NAME PGID -> wait up to 10 s, then SIGKILL
  local i
  for i in $(seq 1 200); do kill -0 -- "-$2" 2>/dev/null || { log "$1 stopped"; return 0; }; sleep 0.05; done
  log "$1: still running after 10 s, SIGKILL"; kill -KILL -- "-$2" 2>/dev/null || true
}

# SIGTERM each daemon's whole process group (pgid = pid in its pid file). SIGTERM to Dovecot's
# master alone leaves anvil/log/stats/auth (and running imap processes) alive for a while.
stop() {
  local pf dv
  pf=$(term_group postfix "$POSTFIX_PID"); dv=$(term_group dovecot "$DOVECOT_PID")   # both at once: ~2 s each
  [ -z "$pf" ] || wait_group postfix "$pf"
  [ -z "$dv" ] || wait_group dovecot "$dv"
  rm -f "$POSTFIX_PID"    # postfix leaves its (stale) pid file behind
}
stop-dovecot() { local dv; dv=$(term_group dovecot "$DOVECOT_PID"); [ -z "$dv" ] || wait_group dovecot "$dv"; }
stop-postfix() {
  local pf; pf=$(term_group postfix "$POSTFIX_PID"); [ -z "$pf" ] || wait_group postfix "$pf"
  rm -f "$POSTFIX_PID"
}

status() {
  local f
  for f in "$DOVECOT_PID" "$POSTFIX_PID"; do
    if running "$f"; then echo "running: pgid $(pid_of "$f") ($f)"; else echo "stopped: $f"; fi
  done
}

flush() { postqueue -c "$POSTFIX_DIR" -f; }
# One JSON line per message in any of Postfix's queues (incoming, active, deferred, hold).
queued() { postqueue -c "$POSTFIX_DIR" -j | grep -c . || true; }

case ${1:-} in
  setup|start|stop|status|ready|flush|queued|start-dovecot|stop-dovecot|start-postfix|stop-postfix) "$@" ;;
  *) echo "usage: ROOT=dir $0 setup|start|stop|status|ready [secs]|flush|queued|start-dovecot|stop-dovecot|start-postfix|stop-postfix" >&2; exit 2 ;;
esac
