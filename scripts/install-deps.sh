#!/usr/bin/env bash
# Install what ft and its tests need on Debian: Chromium and its chromedriver; Firefox
# (firefox-esr) and geckodriver (no Debian package: built by cargo into ~/.cargo/bin);
# Java, npm and curl for Selenium Grid 4, whose jar scripts/grid.sh fetches and caches;
# in-toto's reference implementation (a Python venv) to validate run records; the Allure
# command line (npm) to read Allure results; Django (a Python venv) for a real app to test;
# Dovecot (IMAP, POP3) and aiosmtpd (a Python venv) for real mail servers.
# Idempotent and quick: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
# Chromium's headless shell: what ft starts for a headless Chrome run when it is there (the
# same engine at under half the CPU per session start); the full chromium stays for --headed.
command -v chromium-headless-shell >/dev/null 2>&1 || need+=(chromium-headless-shell)
command -v firefox-esr >/dev/null 2>&1 || command -v firefox >/dev/null 2>&1 || need+=(firefox-esr)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v curl >/dev/null 2>&1 || need+=(curl)
# xmllint: the JUnit tests validate against the Jenkins xUnit and Surefire schemas.
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)
# openssl: tests/it/tls.rs makes its CA and certificates with the CLI; ca-certificates: the
# system's roots that ft's HTTPS preflight trusts.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ -e /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)

if [ ${#need[@]} -eq 0 ]; then
  echo "install-deps: chromium (and its headless shell), chromedriver, firefox, java, npm, curl, xmllint and openssl are installed"
else
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "install-deps: run as root or install sudo, then: apt-get install -y ${need[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  command -v apt-get >/dev/null 2>&1 || { echo "install-deps: no apt-get here; install ${need[*]} with your package manager" >&2; exit 1; }
  echo "install-deps: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Dovecot (Debian's dovecot-imapd and dovecot-pop3d), real IMAP and POP3 servers for the
# email tests (tests/it/common/mail.rs): each test starts its own instances, with a config
# of its own on free loopback ports. The packages' own service is of no use to them: the
# install must not start it (a policy-rc.d that says no, unless the machine has one), and
# it is left neither running nor enabled for boot.
if [ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/imap ] && [ -x /usr/lib/dovecot/pop3 ]; then
  echo "install-deps: dovecot (imap, pop3) is installed"
else
  dsudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "install-deps: run as root or install sudo, then: apt-get install -y dovecot-imapd dovecot-pop3d" >&2; exit 1; }
    dsudo="sudo"
  fi
  echo "install-deps: installing dovecot-imapd dovecot-pop3d (their own service neither started nor enabled)"
  export DEBIAN_FRONTEND=noninteractive
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# install-deps: no service starts while it installs\nexit 101\n' | $dsudo tee "$policy" >/dev/null
    $dsudo chmod 755 "$policy"
    trap '$dsudo rm -f "$policy"' EXIT
  fi
  $dsudo apt-get update -qq
  $dsudo apt-get install -y -qq --no-install-recommends dovecot-imapd dovecot-pop3d >/dev/null
  # Not at boot (systemctl also disables the SysV links; update-rc.d where there is no systemd).
  if command -v systemctl >/dev/null 2>&1; then
    $dsudo systemctl disable --quiet dovecot.service dovecot.socket >/dev/null 2>&1 || true
  elif command -v update-rc.d >/dev/null 2>&1; then
    $dsudo update-rc.d dovecot disable >/dev/null 2>&1 || true
  fi
  # Not now either, should a policy-rc.d already there have let the package start it.
  if [ -e /run/dovecot/master.pid ]; then
    $dsudo doveadm -c /etc/dovecot/dovecot.conf stop >/dev/null 2>&1 || true
  fi
  if [ -e "$policy" ] && grep -q "^# install-deps:" "$policy"; then
    $dsudo rm -f "$policy"
    trap - EXIT
  fi
fi

gecko="${CARGO_HOME:-$HOME/.cargo}/bin/geckodriver"
if command -v geckodriver >/dev/null 2>&1 || [ -x "$gecko" ]; then
  echo "install-deps: geckodriver is installed"
else
  echo "install-deps: building geckodriver (cargo install geckodriver --locked)"
  cargo install geckodriver --locked --quiet
fi

# The Selenium Server jar for the Grid tests (cached in ~/.cache/ft).
scripts/grid.sh jar >/dev/null

# in-toto's reference implementation (PyPI in-toto-attestation), in its own venv, for
# the test that validates run records with it (scripts/check-intoto.py).
venv="${XDG_CACHE_HOME:-$HOME/.cache}/ft/intoto-venv"
if ! "$venv/bin/python" -c "import in_toto_attestation" >/dev/null 2>&1; then
  echo "install-deps: installing in-toto-attestation into $venv"
  command -v python3 >/dev/null 2>&1 || { ${sudo:-} apt-get install -y -qq python3 python3-venv >/dev/null; }
  python3 -m venv "$venv" 2>/dev/null || {
    ${sudo:-} apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$venv"
  }
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check in-toto-attestation
fi

# Three JUnit consumers that validate nothing and have rules of their own, pinned (the
# tests pin what these versions do), in a venv of their own, for tests/it/junit_consumers.rs
# (scripts/junit-consumers.py): junitparser, xunitparser and Codecov's test-results-parser
# (a Rust extension: a manylinux wheel, no compiler needed).
# A venv of its own at $1 holding exactly the pinned packages after it (idempotent: made
# or changed only when a pin is not what is installed).
pinned_venv() {
  local venv=$1; shift
  local pinned='import sys, importlib.metadata as m; sys.exit(any(m.version(n) != v for n, v in (a.split("==") for a in sys.argv[1:])))'
  if ! "$venv/bin/python" -c "$pinned" "$@" >/dev/null 2>&1; then
    echo "install-deps: installing $* into $venv"
    python3 -m venv "$venv" 2>/dev/null || {
      ${sudo:-} apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$venv"
    }
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
  fi
}
junit_venv="${XDG_CACHE_HOME:-$HOME/.cache}/ft/junit-venv"
pinned_venv "$junit_venv" junitparser==5.0.3 xunitparser==1.3.4 test-results-parser==0.6.1

# Django (PyPI, pinned: an LTS release that runs on Debian 12's Python 3.11) in a venv of
# its own, for tests/it/django_admin.rs: a real app nobody here wrote (Django's admin site,
# from the fixture project in tests/fixtures/django_admin/) that the spec suites there drive.
django_venv="${XDG_CACHE_HOME:-$HOME/.cache}/ft/django-venv"
pinned_venv "$django_venv" Django==5.2.20

# aiosmtpd (PyPI, pinned with what it needs) in a venv of its own: the SMTP server of the
# email tests (tests/it/common/mail.rs), which delivers every message into the Maildir
# that their Dovecot serves.
mail_venv="${XDG_CACHE_HOME:-$HOME/.cache}/ft/aiosmtpd-venv"
pinned_venv "$mail_venv" aiosmtpd==1.4.6 atpublic==9.0.0 attrs==26.1.0

# The Allure 2 command line (npm allure-commandline, pinned; it runs on the Java above),
# in a folder of its own, for tests/it/allure.rs, which reads real runs' --allure results
# with `allure generate`.
allure_dir="${XDG_CACHE_HOME:-$HOME/.cache}/ft/allure"
allure_version=2.46.1
if [ "$("$allure_dir/node_modules/.bin/allure" --version 2>/dev/null)" != "$allure_version" ]; then
  echo "install-deps: installing allure-commandline@$allure_version into $allure_dir"
  mkdir -p "$allure_dir"
  npm install --prefix "$allure_dir" --no-audit --no-fund --silent "allure-commandline@$allure_version"
fi

chromium --version
chromedriver --version
"$(command -v firefox-esr || command -v firefox)" --version
# sed, not head: it reads to the end, so no writer dies of SIGPIPE under pipefail.
"$(command -v geckodriver || echo "$gecko")" --version | sed -n 1p
java -version 2>&1 | sed -n 1p
"$venv/bin/python" -c "import importlib.metadata as m; print('in-toto-attestation', m.version('in-toto-attestation'))"
"$junit_venv/bin/python" -c "import importlib.metadata as m; print(*(p + ' ' + m.version(p) for p in ('junitparser', 'xunitparser', 'test_results_parser')))"
"$django_venv/bin/python" -c "import django; print('Django', django.get_version())"
"$mail_venv/bin/python" -c "import importlib.metadata as m; print('aiosmtpd', m.version('aiosmtpd'))"
/usr/sbin/dovecot --version | sed 's/^/dovecot /'
echo "allure $("$allure_dir/node_modules/.bin/allure" --version)"
