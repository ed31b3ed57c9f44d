# Shared by scripts/run and scripts/test: installing what is missing and starting local services.
# Every function is safe to call twice.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${RENDEZVOUS_STATE:-/var/tmp/rendezvous-$(id -un)}"
mkdir -p "$STATE"

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

_apt_updated=""
# apt_install PACKAGE...: installs the Debian packages that are not installed yet.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "apt-get not found; install ${missing[*]} by hand"
  if [ -z "$_apt_updated" ]; then
    log "apt-get update"
    $SUDO apt-get update -qq >/dev/null || die "apt-get update failed"
    _apt_updated=1
  fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

# install_test_packages: every Debian package the test services need, in one go, before any of them starts. Order
# matters: xandikos pulls in python3-tz, and a Radicale process already running when python3-tz arrives can no longer
# store events whose TZID it resolves itself (docs/CALDAV.md); a Radicale started after the install is fine.
install_test_packages() {
  apt_install radicale apache2-utils curl xandikos cyrus-common cyrus-caldav sasl2-bin python3-aiosmtpd openssl \
    chromium chromium-driver fonts-dejavu-core
  install_dovecot
}

ensure_dotnet() {
  command -v dotnet >/dev/null || die "the .NET 10 SDK is required (dotnet on PATH)"
  dotnet --list-sdks | grep -q '^10\.' || die "the .NET 10 SDK is required; found: $(dotnet --list-sdks | tr '\n' ' ')"
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
}

# ensure_dotnet_tools: the local tools pinned in .config/dotnet-tools.json (dotnet-ef).
ensure_dotnet_tools() {
  (cd "$ROOT" && dotnet tool restore >/dev/null) || die "dotnet tool restore failed (see .config/dotnet-tools.json)"
}

pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/pg_ctl" ] && echo "$d"
}

# as_pg CMD...: runs a PostgreSQL server command as a non-root user (initdb and postgres refuse root).
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# ensure_postgres NAME PORT [fast]: a private cluster in $STATE/NAME listening on 127.0.0.1:PORT.
# Exports PG_ADMIN_CS, a connection string to its postgres database. "fast" turns off fsync (tests only).
ensure_postgres() {
  local name="$1" port="$2" mode="${3:-}"
  local bin; bin=$(pg_bindir)
  if [ -z "$bin" ]; then
    apt_install postgresql postgresql-contrib
    bin=$(pg_bindir) || die "PostgreSQL binaries not found after install"
  fi
  # btree_gist (for the no-double-booking constraint) ships with the server package on Debian; contrib elsewhere.
  [ -f "/usr/share/postgresql/$(basename "$(dirname "$bin")")/extension/btree_gist.control" ] || apt_install postgresql-contrib
  local dir="$STATE/$name"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    mkdir -p "$dir"; chown postgres:postgres "$dir"; chmod 700 "$dir"
    chmod o+x "$STATE"
  else
    mkdir -p "$dir"; chmod 700 "$dir"
  fi
  if [ ! -f "$dir/PG_VERSION" ]; then
    log "initialising PostgreSQL cluster in $dir"
    as_pg "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --no-locale >"$STATE/$name-initdb.log" 2>&1 \
      || { cat "$STATE/$name-initdb.log" >&2; die "initdb failed"; }
  fi
  if ! as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    log "starting PostgreSQL ($name) on 127.0.0.1:$port"
    local opts="-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300"
    [ "$mode" = fast ] && opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    as_pg "$bin/pg_ctl" -D "$dir" -o "$opts" -l "$dir/server.log" -w -t 60 start >/dev/null \
      || { tail -n 30 "$dir/server.log" >&2; die "PostgreSQL did not start"; }
  fi
  export PG_ADMIN_CS="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
  export PG_PSQL="$bin/psql -h 127.0.0.1 -p $port -U postgres -v ON_ERROR_STOP=1 -q"
}

# ensure_database NAME: creates the database in the cluster of the last ensure_postgres, if missing.
ensure_database() {
  local db="$1"
  if ! $PG_PSQL -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    $PG_PSQL -d postgres -c "CREATE DATABASE \"$db\"" >/dev/null
  fi
}

# radicale_status URL USER PASSWORD: the HTTP status of a PROPFIND on the user's principal, 000 when nothing answers.
radicale_status() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 -u "$2:$3" -X PROPFIND -H 'Depth: 0' "$1$2/" 2>/dev/null || true
}

# wait_until_up NAME PID LOGFILE CHECK...: waits up to 30 s for the command CHECK... to succeed while the process PID
# (just started, writing LOGFILE) lives; dies with the log's tail when it exits or never answers.
wait_until_up() {
  local name="$1" pid="$2" logfile="$3" i; shift 3
  for i in $(seq 1 60); do
    "$@" && return 0
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$logfile" >&2; die "$name exited at start (log: $logfile)"; }
    sleep 0.5
  done
  tail -n 30 "$logfile" >&2
  die "$name did not answer (log: $logfile)"
}

# dav_answers URL USER PASSWORD: true when a PROPFIND on the user's principal answers 207.
dav_answers() { [ "$(radicale_status "$1" "$2" "$3")" = 207 ]; }

# ensure_radicale [PORT]: a private Radicale CalDAV server on 127.0.0.1:PORT (default 5232) with htpasswd auth,
# owner-only rights and its collections in $STATE/radicale. Exports RENDEZVOUS_TEST_CALDAV_URL, _USER and _PASSWORD.
# Debian's /usr/bin/radicale runs (not whichever python3 is first on PATH), as the calling user.
ensure_radicale() {
  local port="${1:-5232}"
  apt_install radicale apache2-utils curl
  local cmd=(/usr/bin/radicale)
  if ! /usr/bin/radicale --version >/dev/null 2>&1; then
    /usr/bin/python3 -m radicale --version >/dev/null 2>&1 || die "Radicale is installed but does not run (/usr/bin/radicale --version failed)"
    cmd=(/usr/bin/python3 -m radicale)
  fi
  local dir="$STATE/radicale" user="rendezvous-test" pidfile="$STATE/radicale.pid" logfile="$STATE/radicale.log"
  mkdir -p "$dir/collections"; chmod 700 "$dir"
  # The password is made once and kept, so a server left running and a second run agree on it.
  if [ ! -s "$dir/password" ]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=\n' >"$dir/password")
  fi
  local password; password=$(cat "$dir/password")
  [ -f "$dir/users" ] || (umask 077; : >"$dir/users")
  htpasswd -b -m "$dir/users" "$user" "$password" >/dev/null 2>&1 || die "htpasswd could not write $dir/users"
  cat >"$dir/config.tmp" <<CONF
[server]
hosts = 127.0.0.1:$port
max_connections = 20
timeout = 30
[auth]
type = htpasswd
htpasswd_filename = $dir/users
htpasswd_encryption = md5
delay = 0.2
[rights]
type = owner_only
[storage]
filesystem_folder = $dir/collections
[web]
type = none
[logging]
level = warning
CONF
  local restart=""
  cmp -s "$dir/config.tmp" "$dir/config" || restart=1
  mv -f "$dir/config.tmp" "$dir/config"
  local url="http://127.0.0.1:$port/" status pid=""
  [ -s "$pidfile" ] && pid=$(cat "$pidfile")
  # Only a process started here (its command line names our config) is ever stopped.
  if [ -n "$pid" ] && ! cat "/proc/$pid/cmdline" 2>/dev/null | tr '\0' ' ' | grep -qF -- "-C $dir/config"; then pid=""; fi
  status=$(radicale_status "$url" "$user" "$password")
  if [ -n "$pid" ] && { [ -n "$restart" ] || [ "$status" != 207 ]; }; then
    log "restarting Radicale (pid $pid)"
    kill "$pid" 2>/dev/null || true
    local i; for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    status=$(radicale_status "$url" "$user" "$password")
  fi
  if [ "$status" != 207 ]; then
    [ "$status" = 000 ] || die "something else answers on 127.0.0.1:$port (HTTP $status to PROPFIND); stop it or pass ensure_radicale another port"
    log "starting Radicale on 127.0.0.1:$port"
    setsid "${cmd[@]}" -C "$dir/config" >>"$logfile" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$pidfile"
    wait_until_up Radicale "$pid" "$logfile" dav_answers "$url" "$user" "$password"
  fi
  export RENDEZVOUS_TEST_CALDAV_URL="$url"
  export RENDEZVOUS_TEST_CALDAV_USER="$user"
  export RENDEZVOUS_TEST_CALDAV_PASSWORD="$password"
}

# ensure_xandikos [PORT]: a private Xandikos CalDAV server (Debian package, RFC 6578 sync kept in git) on
# 127.0.0.1:PORT (default 5233), its collections in $STATE/xandikos. Xandikos has no authentication of its own (it
# expects a proxy in front); it ignores the Basic credentials the client sends, and listens on loopback only.
# Exports RENDEZVOUS_TEST_XANDIKOS_URL, _USER and _PASSWORD.
ensure_xandikos() {
  local port="${1:-5233}" user="rendezvous-test"
  apt_install xandikos curl
  local dir="$STATE/xandikos" pidfile="$STATE/xandikos.pid" logfile="$STATE/xandikos.log" pid="" status
  mkdir -p "$dir/data"; chmod 700 "$dir"
  local url="http://127.0.0.1:$port/"
  [ -s "$pidfile" ] && pid=$(cat "$pidfile")
  # Only a process started here (its command line names our folder) is ever stopped.
  if [ -n "$pid" ] && ! cat "/proc/$pid/cmdline" 2>/dev/null | tr '\0' ' ' | grep -qF -- "-d $dir/data"; then pid=""; fi
  status=$(radicale_status "$url" "$user" "unused")
  if [ -n "$pid" ] && [ "$status" != 207 ]; then
    log "restarting Xandikos (pid $pid)"
    kill "$pid" 2>/dev/null || true
    local i; for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    status=$(radicale_status "$url" "$user" "unused")
  fi
  if [ "$status" != 207 ]; then
    [ "$status" = 000 ] || die "something else answers on 127.0.0.1:$port (HTTP $status to PROPFIND); stop it or pass ensure_xandikos another port"
    log "starting Xandikos on 127.0.0.1:$port"
    setsid /usr/bin/xandikos -d "$dir/data" -l 127.0.0.1 -p "$port" --current-user-principal "/$user/" --autocreate \
      >>"$logfile" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$pidfile"
    wait_until_up Xandikos "$pid" "$logfile" dav_answers "$url" "$user" "unused"
  fi
  export RENDEZVOUS_TEST_XANDIKOS_URL="$url"
  export RENDEZVOUS_TEST_XANDIKOS_USER="$user"
  export RENDEZVOUS_TEST_XANDIKOS_PASSWORD="unused"
}

# cyrus_status URL USER PASSWORD: the HTTP status of a PROPFIND on the user's calendar home, 000 when nothing answers.
cyrus_status() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 -u "$2:$3" -X PROPFIND -H 'Depth: 0' "${1}dav/calendars/user/$2/" 2>/dev/null || true
}

# ensure_cyrus [PORT]: a private Cyrus CalDAV server on 127.0.0.1:PORT (default 5234), from cyrus-common and cyrus-caldav
# only (cyrus-imapd would remove dovecot-imapd: both provide imap-server), run by its own master process from a config
# under $STATE/cyrus, users in a private sasldb, scheduling (iTIP, iMIP mail) off. Cyrus makes a user's mailbox, which
# every DAV collection lives under, on the first delivery (autocreate_post), so one local LMTP delivery provisions the
# test users. Exports RENDEZVOUS_TEST_CYRUS_URL, _USER, _PASSWORD, _USER2 and _PASSWORD2. Needs root (the master drops to the cyrus user).
ensure_cyrus() {
  local port="${1:-5234}" user="rendezvous-test" user2="rendezvous-test2"
  # A second user holds the other member of a panel: Cyrus keeps a scheduling object's UID unique across all calendars
  # of one user (unique-scheduling-object-resource).
  start_cyrus "Cyrus" cyrus "$port" off 0 20 "$user" "$user2"
  export RENDEZVOUS_TEST_CYRUS_URL="$CYRUS_URL"
  export RENDEZVOUS_TEST_CYRUS_USER="$user"
  export RENDEZVOUS_TEST_CYRUS_PASSWORD="$CYRUS_PASSWORD"
  export RENDEZVOUS_TEST_CYRUS_USER2="$user2"
  export RENDEZVOUS_TEST_CYRUS_PASSWORD2="$CYRUS_PASSWORD"
}

# start_cyrus LABEL NAME PORT SCHEDULING PREFORK MAXCHILD USER...: one private Cyrus CalDAV instance under $STATE/NAME on
# 127.0.0.1:PORT (caldav_allowscheduling SCHEDULING), its users sharing one generated password, restarted only when its
# configuration changed. Sets CYRUS_URL and CYRUS_PASSWORD. Needs root (the master drops to the cyrus user).
start_cyrus() {
  local label="$1" name="$2" port="$3" scheduling="$4" prefork="$5" maxchild="$6"; shift 6
  apt_install cyrus-common cyrus-caldav sasl2-bin curl
  [ -x /usr/sbin/cyrmaster ] || die "cyrus-common is installed but /usr/sbin/cyrmaster is missing"
  id cyrus >/dev/null 2>&1 || die "the cyrus user is missing (cyrus-common makes it)"
  local dir="$STATE/$name" pidfile="$STATE/$name/master.pid" logfile="$STATE/$name.log" pid="" status
  $SUDO mkdir -p "$dir/conf" "$dir/spool" "$dir/run/socket" "$dir/run/proc" "$dir/run/lock"
  local d; for d in db log msg proc ptclient quota sieve socket user lock; do $SUDO mkdir -p "$dir/conf/$d"; done
  if [ ! -s "$dir/password" ]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=\n' | $SUDO tee "$dir/password" >/dev/null)
  fi
  local password; password=$($SUDO cat "$dir/password")
  $SUDO tee "$dir/imapd.conf.tmp" >/dev/null <<CONF
configdirectory: $dir/conf
partition-default: $dir/spool
servername: localhost
defaultdomain: localhost
admins: cyrusadmin
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $dir/sasldb2
sasl_mech_list: PLAIN LOGIN
httpmodules: caldav
httpallowcompress: no
caldav_allowscheduling: $scheduling
sendmail: /bin/true
autocreate_quota: 0
autocreate_post: 1
lmtpsocket: $dir/run/socket/lmtp
idlesocket: $dir/run/socket/idle
notifysocket: $dir/run/socket/notify
proc_path: $dir/run/proc
mboxname_lockpath: $dir/run/lock
CONF
  $SUDO tee "$dir/cyrus.conf.tmp" >/dev/null <<CONF
START {
  recover cmd="ctl_cyrusdb -r -C $dir/imapd.conf"
}
SERVICES {
  http cmd="httpd -C $dir/imapd.conf" listen="127.0.0.1:$port" prefork=$prefork maxchild=$maxchild
  lmtpunix cmd="lmtpd -C $dir/imapd.conf" listen="$dir/run/socket/lmtp" prefork=0 maxchild=4
}
EVENTS {
}
CONF
  local restart=""
  $SUDO cmp -s "$dir/imapd.conf.tmp" "$dir/imapd.conf" || restart=1
  $SUDO cmp -s "$dir/cyrus.conf.tmp" "$dir/cyrus.conf" || restart=1
  $SUDO mv -f "$dir/imapd.conf.tmp" "$dir/imapd.conf"; $SUDO mv -f "$dir/cyrus.conf.tmp" "$dir/cyrus.conf"
  # The realm must be the server name, or logins are refused.
  local u
  for u in "$@"; do
    printf '%s' "$password" | $SUDO saslpasswd2 -p -c -f "$dir/sasldb2" -u localhost "$u" || die "saslpasswd2 could not write $dir/sasldb2"
  done
  $SUDO chown -R cyrus:mail "$dir"; $SUDO chmod 700 "$dir"
  local url="http://127.0.0.1:$port/"
  [ -s "$pidfile" ] && pid=$($SUDO cat "$pidfile" | head -n 1)
  # Only a master started here (its command line names our config) is ever stopped.
  if [ -n "$pid" ] && ! cat "/proc/$pid/cmdline" 2>/dev/null | tr '\0' ' ' | grep -qF -- "-C $dir/imapd.conf"; then pid=""; fi
  if [ -n "$pid" ] && [ -n "$restart" ]; then
    log "restarting $label (pid $pid)"
    $SUDO kill "$pid" 2>/dev/null || true
    local i; for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    pid=""
  fi
  if [ -z "$pid" ]; then
    status=$(cyrus_status "$url" "$1" "$password")
    [ "$status" = 000 ] || die "something else answers on 127.0.0.1:$port (HTTP $status to PROPFIND); stop it or pass another port"
    log "starting $label on 127.0.0.1:$port"
    $SUDO setsid /usr/sbin/cyrmaster -C "$dir/imapd.conf" -M "$dir/cyrus.conf" -p "$pidfile" -D >>"$logfile" 2>&1 </dev/null &
  fi
  # A user is local (gets iTIP inside the server rather than mail) only once its INBOX exists and it has used DAV once:
  # one LMTP delivery makes the mailbox, the PROPFIND below is the DAV login.
  local i
  for u in "$@"; do
    for i in $(seq 1 60); do
      status=$(cyrus_status "$url" "$u" "$password")
      [ "$status" = 207 ] && break
      if [ "$status" != 000 ] && [ -S "$dir/run/socket/lmtp" ]; then
        printf 'From: setup@localhost\r\nTo: %s\r\nSubject: provisioning\r\n\r\nmakes the mailbox\r\n' "$u" \
          | $SUDO runuser -u cyrus -- /usr/lib/cyrus/bin/deliver -C "$dir/imapd.conf" "$u" >/dev/null 2>&1 || true
      fi
      sleep 0.5
    done
    [ "$status" = 207 ] || { tail -n 30 "$logfile" >&2; die "$label did not answer on $url for $u (last status $status; it logs to syslog only)"; }
  done
  CYRUS_URL="$url"
  CYRUS_PASSWORD="$password"
}

# ensure_cyrus_scheduling [PORT]: a second private Cyrus CalDAV server on 127.0.0.1:PORT (default 5235) with RFC 6638
# scheduling ON, for the spaces tests (docs/SPACES.md): an organizer and a few room users, each an ordinary calendar user
# (Cyrus has no room type and no auto-accept; Rendezvous answers for the room). It is a separate instance from
# ensure_cyrus so the sync tests there keep running without scheduling. iMIP mail to external attendees goes nowhere
# (sendmail: /bin/true). Exports RENDEZVOUS_TEST_CYRUS_SCHED_URL, _PASSWORD (every user's), _ORGANIZER and _ROOMS
# (space-separated user names; a user's calendar-user address is mailto:USER@localhost).
ensure_cyrus_scheduling() {
  local port="${1:-5235}" organizer="rdv-organizer"
  local rooms="rdv-room1 rdv-room2 rdv-room3 rdv-room4 rdv-room5 rdv-room6 rdv-room7 rdv-room8 rdv-bench"
  # shellcheck disable=SC2086 # the room names are words
  start_cyrus "the scheduling Cyrus" cyrus-sched "$port" on 1 40 "$organizer" $rooms
  export RENDEZVOUS_TEST_CYRUS_SCHED_URL="$CYRUS_URL"
  export RENDEZVOUS_TEST_CYRUS_SCHED_PASSWORD="$CYRUS_PASSWORD"
  export RENDEZVOUS_TEST_CYRUS_SCHED_ORGANIZER="$organizer"
  export RENDEZVOUS_TEST_CYRUS_SCHED_ROOMS="$rooms"
}

# ensure_dovecot [PORT]: a private Dovecot IMAP server (Debian's dovecot-imapd) on 127.0.0.1:PORT (default 1143) from
# its own config under $STATE/dovecot, for the spaces' iMIP tests: passwd-file users (one mailbox per room), plain
# authentication allowed on loopback only, Maildir storage, run as the calling user's mail owner. Not the system
# service: that one is never started or touched. Exports RENDEZVOUS_TEST_IMAP_HOST, _PORT, _PASSWORD and _USERS.
# (dovecot-imapd and cyrus-imapd both provide imap-server; only cyrus-common + cyrus-caldav are ever installed here.)
ensure_dovecot() {
  local port="${1:-1143}" users="room1 room2 room3 room4 room5 room6 room7 room8 bench"
  install_dovecot
  [ -x /usr/sbin/dovecot ] || die "dovecot-imapd is installed but /usr/sbin/dovecot is missing"
  local dir="$STATE/dovecot" logfile="$STATE/dovecot.log" pid=""
  mkdir -p "$dir/mail" "$dir/run"
  if [ ! -s "$dir/password" ]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=\n' >"$dir/password")
  fi
  local password; password=$(cat "$dir/password")
  local owner; owner=$(id -un)
  local uid gid; uid=$(id -u dovenull 2>/dev/null || id -u); gid=$(id -g)
  # Mail is owned by a non-root user (dovecot refuses uid 0 for mail): dovenull's uid when we are root.
  if [ "$(id -u)" -eq 0 ]; then uid=$(id -u dovenull); gid=$(id -g dovenull); chown -R dovenull:dovenull "$dir/mail"; fi
  : >"$dir/users.tmp"
  local u hash
  hash=$(doveadm pw -s SHA512-CRYPT -p "$password" 2>/dev/null) || die "doveadm pw failed"
  for u in $users; do
    printf '%s:%s:%s:%s::%s/mail/%s::\n' "$u" "$hash" "$uid" "$gid" "$dir" "$u" >>"$dir/users.tmp"
  done
  # The hash is salted: keep the old file when the users are the same, so the config stays unchanged.
  if [ -s "$dir/users" ] && [ "$(cut -d: -f1 "$dir/users" | tr '\n' ' ')" = "$(cut -d: -f1 "$dir/users.tmp" | tr '\n' ' ')" ] \
     && doveadm pw -t "$(cut -d: -f2 "$dir/users" | head -n 1)" -p "$password" >/dev/null 2>&1; then
    rm -f "$dir/users.tmp"
  else
    mv -f "$dir/users.tmp" "$dir/users"
  fi
  chmod 644 "$dir/users"
  cat >"$dir/dovecot.conf" <<CONF
base_dir = $dir/run
state_dir = $dir/run/state
instance_name = rendezvous-test-dovecot
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = $logfile
mail_location = maildir:~/Maildir
default_login_user = dovenull
default_internal_user = dovecot
default_internal_group = dovecot
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=SHA512-CRYPT $dir/users
}
userdb {
  driver = passwd-file
  args = $dir/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
CONF
  local pidfile="$dir/run/master.pid"
  [ -s "$pidfile" ] && pid=$(cat "$pidfile")
  if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then pid=""; fi
  if [ -n "$pid" ]; then
    # Picks up a changed config without a restart.
    /usr/sbin/dovecot -c "$dir/dovecot.conf" reload >/dev/null 2>&1 || true
  else
    if imap_greets "$port"; then die "something else answers IMAP on 127.0.0.1:$port; stop it or pass ensure_dovecot another port"; fi
    log "starting Dovecot on 127.0.0.1:$port"
    /usr/sbin/dovecot -c "$dir/dovecot.conf" >>"$logfile" 2>&1 || { tail -n 30 "$logfile" >&2; die "Dovecot did not start (log: $logfile)"; }
  fi
  local i; for i in $(seq 1 40); do imap_greets "$port" && break; sleep 0.25; done
  imap_greets "$port" || { tail -n 30 "$logfile" >&2; die "Dovecot does not answer on 127.0.0.1:$port (log: $logfile)"; }
  export RENDEZVOUS_TEST_IMAP_HOST=127.0.0.1
  export RENDEZVOUS_TEST_IMAP_PORT="$port"
  export RENDEZVOUS_TEST_IMAP_PASSWORD="$password"
  export RENDEZVOUS_TEST_IMAP_USERS="$users"
}

# install_dovecot: Debian's dovecot-imapd without starting its system service (which would listen on every address):
# a policy-rc.d that refuses service starts is in place only while the package installs, and only if none was there.
install_dovecot() {
  dpkg-query -W -f='${Status}' dovecot-imapd 2>/dev/null | grep -q "install ok installed" && return 0
  local policy=/usr/sbin/policy-rc.d placed=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod 755 "$policy" && placed=1
  fi
  apt_install dovecot-imapd
  [ -n "$placed" ] && $SUDO rm -f "$policy"
  return 0
}

# imap_greets PORT: true when 127.0.0.1:PORT answers with an IMAP "* OK" greeting within 3 seconds.
imap_greets() {
  local line
  line=$(timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && head -n 1 <&3 && printf 'a LOGOUT\r\n' >&3" 2>/dev/null) || return 1
  [ "${line:0:4}" = "* OK" ]
}

# smtp_greets HOST PORT: true when something on HOST:PORT answers with an SMTP 220 greeting within 3 seconds.
smtp_greets() {
  local line
  line=$(timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2 && head -n 1 <&3 && printf 'QUIT\r\n' >&3" 2>/dev/null) || return 1
  [ "${line:0:3}" = 220 ]
}

# ensure_smtp [PORT]: a local SMTP server (Debian's python3-aiosmtpd) on 127.0.0.1:PORT (default 2525) that writes every
# message it accepts into the Maildir $STATE/maildir. Exports RENDEZVOUS_TEST_SMTP_HOST, _PORT and RENDEZVOUS_TEST_MAILDIR.
# Debian's /usr/bin/python3 runs it (not whichever python3 is first on PATH). Messages older than a day are pruned.
ensure_smtp() {
  local port="${1:-2525}"
  apt_install python3-aiosmtpd
  /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || die "python3-aiosmtpd is installed but /usr/bin/python3 cannot import it"
  local dir="$STATE/maildir" pidfile="$STATE/smtp.pid" logfile="$STATE/smtp.log" pid=""
  # aiosmtpd wants the Maildir either absent or complete.
  mkdir -p "$dir/tmp" "$dir/new" "$dir/cur"
  find "$dir/new" "$dir/cur" "$dir/tmp" -type f -mmin +1440 -delete 2>/dev/null || true
  [ -s "$pidfile" ] && pid=$(cat "$pidfile")
  # Only a process started here (its command line names our Maildir) is ever stopped or trusted.
  if [ -n "$pid" ] && ! cat "/proc/$pid/cmdline" 2>/dev/null | tr '\0' ' ' | grep -qF -- "aiosmtpd.handlers.Mailbox $dir"; then pid=""; fi
  if smtp_greets 127.0.0.1 "$port"; then
    [ -n "$pid" ] || die "something else answers SMTP on 127.0.0.1:$port; stop it or pass ensure_smtp another port"
  else
    if [ -n "$pid" ]; then
      log "restarting the SMTP server (pid $pid does not answer)"
      kill "$pid" 2>/dev/null || true
      local i; for i in $(seq 1 25); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    fi
    log "starting the SMTP server (aiosmtpd) on 127.0.0.1:$port, Maildir $dir"
    setsid /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$dir" >>"$logfile" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$pidfile"
    wait_until_up "the SMTP server on 127.0.0.1:$port" "$pid" "$logfile" smtp_greets 127.0.0.1 "$port"
  fi
  export RENDEZVOUS_TEST_SMTP_HOST=127.0.0.1
  export RENDEZVOUS_TEST_SMTP_PORT="$port"
  export RENDEZVOUS_TEST_MAILDIR="$dir"
}

# smtp_local_greets PORT: smtp_greets on 127.0.0.1.
smtp_local_greets() { smtp_greets 127.0.0.1 "$1"; }

# smtp_tls_greets PORT: true when 127.0.0.1:PORT answers a TLS handshake (any certificate) with an SMTP 220 greeting.
smtp_tls_greets() {
  /usr/bin/python3 - "$1" <<'PY' 2>/dev/null
import socket, ssl, sys
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3) as raw:
    with context.wrap_socket(raw) as tls:
        sys.exit(0 if tls.recv(512).startswith(b"220") else 1)
PY
}

# ensure_smtp_tls [STARTTLS_PORT] [SMTPS_PORT]: two more aiosmtpd listeners delivering into the Maildir of ensure_smtp
# (call that first): one that requires STARTTLS (default 2526) and one that speaks TLS from the first byte, as port 465
# does (default 2465). Both present a self-signed certificate for localhost and 127.0.0.1, made here once with openssl.
# Exports RENDEZVOUS_TEST_SMTP_STARTTLS_PORT, RENDEZVOUS_TEST_SMTPS_PORT and RENDEZVOUS_TEST_SMTP_CERT (the PEM).
ensure_smtp_tls() {
  local starttls_port="${1:-2526}" smtps_port="${2:-2465}"
  [ -n "${RENDEZVOUS_TEST_MAILDIR:-}" ] || die "ensure_smtp_tls needs ensure_smtp first"
  apt_install openssl
  local dir="$RENDEZVOUS_TEST_MAILDIR" tls="$STATE/smtp-tls"
  mkdir -p "$tls"
  if [ ! -s "$tls/cert.pem" ] || [ ! -s "$tls/key.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$tls/key.pem" -out "$tls/cert.pem" >/dev/null 2>&1 \
      || die "openssl could not make the test SMTP certificate"
  fi
  _aiosmtpd_tls starttls "$starttls_port" smtp_local_greets --tlscert "$tls/cert.pem" --tlskey "$tls/key.pem"
  _aiosmtpd_tls smtps "$smtps_port" smtp_tls_greets --smtpscert "$tls/cert.pem" --smtpskey "$tls/key.pem"
  export RENDEZVOUS_TEST_SMTP_STARTTLS_PORT="$starttls_port"
  export RENDEZVOUS_TEST_SMTPS_PORT="$smtps_port"
  export RENDEZVOUS_TEST_SMTP_CERT="$tls/cert.pem"
}

# _aiosmtpd_tls NAME PORT CHECK ARGS...: starts (or keeps) one aiosmtpd listener on 127.0.0.1:PORT with the TLS ARGS.
_aiosmtpd_tls() {
  local name="$1" port="$2" check="$3"; shift 3
  local dir="$RENDEZVOUS_TEST_MAILDIR" pidfile="$STATE/smtp-$name.pid" logfile="$STATE/smtp-$name.log" pid=""
  [ -s "$pidfile" ] && pid=$(cat "$pidfile")
  # Only a process started here (its command line names this port and our Maildir) is ever stopped or trusted.
  if [ -n "$pid" ] && ! cat "/proc/$pid/cmdline" 2>/dev/null | tr '\0' ' ' | grep -qF -- "127.0.0.1:$port"; then pid=""; fi
  if "$check" "$port"; then
    [ -n "$pid" ] || die "something else answers on 127.0.0.1:$port; stop it or pass ensure_smtp_tls other ports"
    return 0
  fi
  if [ -n "$pid" ]; then
    log "restarting the $name SMTP server (pid $pid does not answer)"
    kill "$pid" 2>/dev/null || true
    local i; for i in $(seq 1 25); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
  log "starting the $name SMTP server (aiosmtpd) on 127.0.0.1:$port, Maildir $dir"
  setsid /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$port" "$@" -c aiosmtpd.handlers.Mailbox "$dir" >>"$logfile" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$pidfile"
  wait_until_up "the $name SMTP server on 127.0.0.1:$port" "$pid" "$logfile" "$check" "$port"
}

# ensure_axe: axe-core from npm (the version pinned in tests/Rendezvous.Browser.Tests/axe/package-lock.json) for the
# browser tests' accessibility checks, which inject it into each page. Installs Debian's nodejs and npm when missing;
# npm ci reaches only the npm registry. Exports RENDEZVOUS_TEST_AXE, the path of axe.min.js.
ensure_axe() {
  local dir="$ROOT/tests/Rendezvous.Browser.Tests/axe"
  command -v npm >/dev/null || apt_install nodejs npm
  local want; want=$(sed -n 's/.*"axe-core": "\([0-9.]*\)".*/\1/p' "$dir/package.json" | head -n 1)
  local have=""
  [ -f "$dir/node_modules/axe-core/package.json" ] \
    && have=$(sed -n 's/^  "version": "\([0-9.]*\)".*/\1/p' "$dir/node_modules/axe-core/package.json" | head -n 1)
  if [ "$have" != "$want" ] || [ ! -f "$dir/node_modules/axe-core/axe.min.js" ]; then
    log "installing axe-core $want (npm ci)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci in $dir failed"
  fi
  export RENDEZVOUS_TEST_AXE="$dir/node_modules/axe-core/axe.min.js"
}

# ensure_chromium: Debian's Chromium (and its driver, and a font) for the browser tests, started by Playwright from
# /usr/bin/chromium; Playwright's own browser download does not work here. Exports RENDEZVOUS_TEST_CHROMIUM.
ensure_chromium() {
  apt_install chromium chromium-driver fonts-dejavu-core
  [ -x /usr/bin/chromium ] || die "chromium is installed but /usr/bin/chromium is missing"
  export RENDEZVOUS_TEST_CHROMIUM=/usr/bin/chromium
}

# ensure_cluster_packages: HAProxy and pg_auto_failover (pg_autoctl) for scripts/cluster, for the PostgreSQL major
# version pg_bindir finds (Debian names the package postgresql-MAJOR-auto-failover).
ensure_cluster_packages() {
  local bin; bin=$(pg_bindir)
  if [ -z "$bin" ]; then
    apt_install postgresql postgresql-contrib
    bin=$(pg_bindir) || die "PostgreSQL binaries not found after install"
  fi
  local major; major=$(basename "$(dirname "$bin")")
  apt_install haproxy "postgresql-$major-auto-failover" curl
  command -v pg_autoctl >/dev/null || die "postgresql-$major-auto-failover is installed but pg_autoctl is not on PATH"
  [ -x /usr/sbin/haproxy ] || die "haproxy is installed but /usr/sbin/haproxy is missing"
}
