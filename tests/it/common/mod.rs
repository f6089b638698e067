//! Helpers for the integration tests: run the real `ft` binary, start the embedded app
//! (optionally with a deliberate defect) as a real process, read reports back.

pub mod grid;
pub mod loopback;
pub mod mail;
pub mod repo;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const FT: &str = env!("CARGO_BIN_EXE_ft");

/// The repository root (where `specs/` is).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn all(&self) -> String {
        format!("--- stdout\n{}--- stderr\n{}", self.stdout, self.stderr)
    }
}

/// Have the kernel SIGKILL the child when the thread that spawns it ends: a test's own
/// thread, or the test process killed or interrupted (Ctrl-C on `cargo test`), which runs
/// no drop. Without it every `ft serve` and `ft watch` of the tests running at that moment
/// was left running. (`ft` itself then ends the drivers and browsers it started: its
/// guard outlives a SIGKILL of ft.) Only for a child that lives no longer than the test
/// that starts it: anything shared is started from a thread that never ends.
pub fn ends_with_this_thread(cmd: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches no memory of this process.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        })
    }
}

/// `ft` in `cwd`, with none of the environment variables that name a target or policy;
/// killed should the test's thread end first.
pub fn ft_command(cwd: &Path) -> Command {
    let mut cmd = Command::new(FT);
    ends_with_this_thread(&mut cmd);
    cmd.current_dir(cwd).stdin(Stdio::null());
    for var in [
        "FT_LIVESERVER",
        "STAGING_SERVER",
        "TEST_SERVER",
        "FT_SENSITIVE_URL",
        "FT_SIGN_KEY",
        "FT_CA_CERT",
        "GITHUB_ACTIONS",
        "GITHUB_STEP_SUMMARY",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Run `ft ARGS` in `cwd` to the end.
pub fn ft_in(cwd: &Path, args: &[&str]) -> Output {
    output(ft_command(cwd).args(args))
}

/// Run a prepared command to the end.
pub fn output(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("ft runs");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A running `ft serve` child on a free port; killed when dropped.
pub struct Served {
    pub url: String,
    process: KillOnDrop,
    _dir: tempfile::TempDir,
}

impl Served {
    /// `ft serve` with the given deliberate defects (`accept-empty`, ...).
    pub fn start(defects: &[&str]) -> Served {
        let args: Vec<&str> = defects.iter().flat_map(|d| ["--defect", d]).collect();
        Served::start_with(&args)
    }

    /// `ft serve ARGS` (e.g. `--version TEXT`) on a free port with its own database, and
    /// its emails in an outbox folder of its own unless ARGS say where they go.
    pub fn start_with(args: &[&str]) -> Served {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("db.sqlite3");
        let mut cmd = Command::new(FT);
        ends_with_this_thread(&mut cmd);
        cmd.args(["serve", "--addr", "127.0.0.1:0", "--db"]).arg(&db).args(args);
        if !args.iter().any(|a| *a == "--smtp" || *a == "--outbox") {
            cmd.arg("--outbox").arg(dir.path().join("outbox"));
        }
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("ft serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let process = KillOnDrop::new(child);
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("ft serve prints its URL");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .trim_end_matches('/')
            .to_string();
        Served { url, process, _dir: dir }
    }

    /// The app's SQLite database, to see what a run wrote there.
    pub fn db(&self) -> PathBuf {
        self._dir.path().join("db.sqlite3")
    }

    /// An ft.toml in `dir` giving ft what this server's logins need, as a team's staging
    /// set-up would: its `create_session` as a shell command, its outbox as the inbox.
    pub fn configure(&self, dir: &Path) {
        let quote = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', r"'\''"));
        let config = format!(
            "[fixtures]\ncreate_session = \"{} serve create-session --db {} {{email}}\"\n\n[run]\ninbox = \"maildir:{}\"\n",
            quote(Path::new(FT)),
            quote(&self.db()),
            self._dir.path().join("outbox").display()
        );
        std::fs::write(dir.join("ft.toml"), config).expect("write ft.toml");
    }

    /// The target dies now, as a crashed server would.
    pub fn kill(&mut self) {
        self.process.kill_now();
    }
}

/// One `<testcase>` read back from JUnit XML by an independent parser (roxmltree).
#[derive(Debug, Clone)]
pub struct Case {
    pub suite: String,
    pub name: String,
    pub classname: String,
    /// passed, failure, error or skipped
    pub status: String,
    pub message: String,
    /// The `type` of the failure, error or skipped element (`interrupted`, `expectation`…).
    pub kind: String,
    pub body: String,
    pub system_out: String,
    pub time: f64,
    /// `<flakyFailure>`/`<flakyError>` and `<rerunFailure>`/`<rerunError>` messages.
    pub flaky: Vec<String>,
    pub reruns: Vec<String>,
}

pub struct Junit {
    pub tests: usize,
    pub failures: usize,
    pub errors: usize,
    pub skipped: usize,
    pub cases: Vec<Case>,
    pub properties: Vec<(String, String)>,
}

impl Junit {
    pub fn case(&self, name: &str) -> &Case {
        self.cases.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no testcase {name:?} in {:?}", self.cases))
    }
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
    pub fn failed_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.cases.iter().filter(|c| c.status == "failure").map(|c| c.name.clone()).collect();
        v.sort();
        v
    }
}

pub fn read_junit(path: &Path) -> Junit {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let doc = roxmltree::Document::parse(&text).expect("JUnit is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    // Every report a test reads must be one Jenkins' xUnit plugin and Surefire accept.
    assert_schema_valid(&text, "junit-10.xsd");
    for suite in root.children().filter(|n| n.has_tag_name("testsuite")) {
        let alone = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n", &text[suite.range()]);
        assert_schema_valid(&alone, "surefire-test-report-3.0.xsd");
    }
    let attr = |n: roxmltree::Node, a: &str| n.attribute(a).unwrap_or("").to_string();
    let num = |n: roxmltree::Node, a: &str| n.attribute(a).and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
    let mut cases = Vec::new();
    let mut properties = Vec::new();
    for suite in root.children().filter(|n| n.has_tag_name("testsuite")) {
        for p in suite.descendants().filter(|n| n.has_tag_name("property")) {
            properties.push((attr(p, "name"), attr(p, "value")));
        }
        for tc in suite.children().filter(|n| n.has_tag_name("testcase")) {
            let mut status = "passed".to_string();
            let mut message = String::new();
            let mut kind = String::new();
            let mut body = String::new();
            let mut system_out = String::new();
            let mut flaky = Vec::new();
            let mut reruns = Vec::new();
            for child in tc.children().filter(|n| n.is_element()) {
                match child.tag_name().name() {
                    "flakyFailure" | "flakyError" => flaky.push(attr(child, "message")),
                    "rerunFailure" | "rerunError" => reruns.push(attr(child, "message")),
                    s @ ("failure" | "error" | "skipped") => {
                        status = s.to_string();
                        message = attr(child, "message");
                        kind = attr(child, "type");
                        body = child.text().unwrap_or("").to_string();
                    }
                    "system-out" => system_out = child.text().unwrap_or("").to_string(),
                    _ => {}
                }
            }
            cases.push(Case {
                suite: attr(suite, "name"),
                name: attr(tc, "name"),
                classname: attr(tc, "classname"),
                status,
                message,
                kind,
                body,
                system_out,
                time: attr(tc, "time").parse().unwrap_or(-1.0),
                flaky,
                reruns,
            });
        }
    }
    Junit {
        tests: num(root, "tests"),
        failures: num(root, "failures"),
        errors: num(root, "errors"),
        // The root has no `skipped` in junit-10.xsd: the suites count them.
        skipped: root.children().filter(|n| n.has_tag_name("testsuite")).map(|s| num(s, "skipped")).sum(),
        cases,
        properties,
    }
}

/// `xmllint --noout --schema tests/schemas/SCHEMA` on `xml` (xmllint is Debian's
/// libxml2-utils, installed by scripts/install-deps.sh).
pub fn assert_schema_valid(xml: &str, schema: &str) {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas").join(schema);
    let mut file = tempfile::Builder::new().suffix(".xml").tempfile().expect("a temp file");
    std::io::Write::write_all(&mut file, xml.as_bytes()).expect("written");
    let out = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(file.path())
        .output()
        .expect("xmllint runs (apt-get install libxml2-utils, or scripts/install-deps.sh)");
    assert!(
        out.status.success(),
        "invalid against {}:\n{}\n{xml}",
        schema.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid JSON")
}

/// The built-in suite without its `accounts` scenarios (the logins, which need a target's
/// fixtures and inbox): what runs against a remote target without them.
pub const LIST_SCENARIOS: [&str; 7] = [
    "can start a to-do list",
    "multiple users can start lists at different urls",
    "layout and styling",
    "cannot add empty list items",
    "the server itself refuses empty list items",
    "cannot add duplicate items",
    "error messages are cleared on input",
];

/// The built-in suite's scenarios: the book's nine and the server-side validation one.
pub const SCENARIOS: [&str; 10] = {
    let l = LIST_SCENARIOS;
    [
        l[0],
        l[1],
        l[2],
        l[3],
        l[4],
        l[5],
        l[6],
        "can log in with a link sent by email",
        "logged-in users' lists are saved as My lists",
        "can share a list with another user",
    ]
};

/// Run `ft ARGS` in a new empty folder (no ft.toml: the built-in suite); reports go there.
pub fn ft_in_empty_dir(args: &[&str]) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ft_in(dir.path(), args);
    (out, dir)
}

/// The whole built-in suite passed on `browser` (`chrome`, `firefox`) for a run in `dir`:
/// exit 0, every scenario passed in JUnit, the console and the run record say so.
pub fn assert_suite_passed(out: &Output, dir: &Path, browser: &str) -> Junit {
    assert_eq!(out.code, 0, "{}", out.all());
    let junit = read_junit(&dir.join("reports/junit.xml"));
    assert_eq!((junit.tests, junit.failures, junit.errors, junit.skipped), (SCENARIOS.len(), 0, 0, 0), "{}", out.all());
    let mut names: Vec<&str> = junit.cases.iter().map(|c| c.name.as_str()).collect();
    names.sort();
    let mut want = SCENARIOS.to_vec();
    want.sort();
    assert_eq!(names, want);
    for case in &junit.cases {
        assert_eq!(case.status, "passed", "{case:?}");
        assert_eq!(case.suite, "superlists");
        assert_eq!(case.classname, "superlists");
        assert!(case.time > 0.0, "{case:?}");
        assert!(case.system_out.contains("<built-in>/superlists.toml:"), "step log in system-out: {case:?}");
    }
    assert_eq!(junit.property("browser"), Some(browser));
    let version = junit.property("browser_version").unwrap_or("");
    assert!(version.starts_with(char::is_numeric), "a {browser} version: {version:?}");
    assert!(out.stdout.contains(&format!("browser: {browser} {version}")), "console header: {}", out.stdout);
    assert!(junit.property("target").is_some_and(|t| t.starts_with("http://127.0.0.1:")));
    assert_eq!(junit.property("ft_version"), Some(env!("CARGO_PKG_VERSION")));
    for name in SCENARIOS {
        assert!(out.stdout.lines().any(|l| l.contains("PASS [") && l.ends_with(name)), "{name}: {}", out.all());
    }
    assert!(
        out.stdout
            .contains(&format!("OK: {n} scenarios: {n} passed, 0 failed, 0 errors, 0 not run", n = SCENARIOS.len())),
        "{}",
        out.all()
    );
    let record = read_json(&dir.join("reports/run.json"));
    assert_eq!(record["predicate"]["result"], "PASSED");
    assert!(record.to_string().contains(browser), "the run record names the browser: {record}");
    junit
}

/// A run of the whole built-in suite in `dir` against a defective remote target (so
/// without the logins, which it lacks the set-up for: `LIST_SCENARIOS`) failed exactly
/// `failing`, each as a failure (not an error) whose report shows `last_seen`, with the
/// failing step's file:line and the evidence (a screenshot and the page) linked.
pub fn assert_fails_exactly(out: &Output, dir: &Path, failing: &[&str], last_seen: &str) {
    assert_eq!(out.code, 1, "a failed scenario exits 1\n{}", out.all());
    let junit = read_junit(&dir.join("reports/junit.xml"));
    let mut want: Vec<String> = failing.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(junit.failed_names(), want, "{}", out.all());
    assert_eq!(junit.failures, failing.len());
    assert_eq!(junit.tests, LIST_SCENARIOS.len());
    assert_eq!(junit.errors, 0, "an app defect is a failure, not an infrastructure error");
    for name in failing {
        let case = junit.case(name);
        assert!(case.body.contains(last_seen), "{name}: expected {last_seen:?} in\n{}", case.body);
        assert!(case.message.contains("superlists.toml:"), "the failing step's file:line: {}", case.message);
        assert!(case.system_out.contains("[[ATTACHMENT|"), "evidence linked: {}", case.system_out);
        let slug = name.replace(' ', "-");
        let evidence = dir.join("reports/artifacts/superlists").join(&slug);
        let png = std::fs::read(evidence.join(format!("{slug}.png"))).expect("a screenshot of the failure");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a real PNG");
        let html =
            std::fs::read_to_string(evidence.join(format!("{slug}.html"))).expect("the page HTML of the failure");
        assert!(html.contains("id_text"), "the page as the browser had it");
        assert!(out.stdout.lines().any(|l| l.contains("FAIL [") && l.ends_with(name)), "{name}: {}", out.stdout);
        assert!(out.stdout.contains(last_seen), "{}", out.stdout);
    }
}

/// `ft ARGS` running in the background in an empty folder, its stdout read line by line
/// with a deadline; killed when dropped.
pub struct Running {
    pub child: KillOnDrop,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
    pub dir: tempfile::TempDir,
}

impl Running {
    pub fn start(args: &[&str]) -> Running {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut child =
            ft_command(dir.path()).args(args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("ft starts");
        let stdout = child.stdout.take().expect("stdout");
        let child = KillOnDrop::new(child);
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running { child, lines, seen: Vec::new(), dir }
    }

    /// Wait for a line containing `text`: at most 120 s for each line (a watched Firefox's
    /// first run took over 60 s at load 33) and 300 s in all, so a program that keeps
    /// printing other lines cannot keep a test waiting for ever.
    pub fn wait_for_line(&mut self, text: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(300);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = self
                .lines
                .recv_timeout(left.min(Duration::from_secs(120)))
                .unwrap_or_else(|_| panic!("no line with {text:?}; saw {:?}", self.seen));
            self.seen.push(line.clone());
            if line.contains(text) {
                return;
            }
        }
    }

    pub fn drivers_and_browsers(&self) -> Vec<u32> {
        drivers_and_browsers_of(self.child.id())
    }

    pub fn signal(&self, sig: i32) {
        signal(self.child.id(), sig).expect("ft can be signalled");
    }

    /// ft's exit code, waiting (bounded) for it to exit.
    pub fn wait(&mut self) -> i32 {
        let mut code = None;
        eventually("ft to exit", Duration::from_secs(60), || {
            code = self.child.try_wait().expect("try_wait").map(|s| s.code().unwrap_or(-1));
            code.is_some()
        });
        code.unwrap_or(-1)
    }
}

/// Process ids whose parent is `pid` (from /proc).
pub fn children_of(pid: u32) -> Vec<u32> {
    procs().into_iter().filter(|p| p.ppid == pid).map(|p| p.pid).collect()
}

/// The drivers `ft` (pid) started and every process in their groups (the browsers).
pub fn drivers_and_browsers_of(ft: u32) -> Vec<u32> {
    let mut pids = Vec::new();
    for child in children_of(ft) {
        pids.push(child);
        pids.extend(group_members(child));
    }
    pids.sort();
    pids.dedup();
    pids
}

/// Live (non-zombie) processes in process group `pgid`.
pub fn group_members(pgid: u32) -> Vec<u32> {
    procs().into_iter().filter(|p| p.pgid == pgid && p.state != 'Z').map(|p| p.pid).collect()
}

pub fn alive(pid: u32) -> bool {
    procs().iter().any(|p| p.pid == pid && p.state != 'Z')
}

struct Proc {
    pid: u32,
    ppid: u32,
    pgid: u32,
    state: char,
}

fn procs() -> Vec<Proc> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else { return out };
    for e in entries.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // The command name is in parentheses and may contain spaces: split after it.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r.trim().to_string()) else { continue };
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.len() < 3 {
            continue;
        }
        out.push(Proc {
            pid,
            state: f[0].chars().next().unwrap_or('?'),
            ppid: f[1].parse().unwrap_or(0),
            pgid: f[2].parse().unwrap_or(0),
        });
    }
    out
}

/// Wait (bounded) for a condition that depends on another process; test-side only.
pub fn eventually(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A database as the build before migration 2 (the unique index) left it, holding `items`
/// as (list id, text).
pub fn version_1_database(db: &Path, items: &[(i64, &str)]) {
    let conn = rusqlite::Connection::open(db).expect("open the database");
    conn.execute_batch(
        "CREATE TABLE lists (id INTEGER PRIMARY KEY);
         CREATE TABLE items (
             id INTEGER PRIMARY KEY,
             list_id INTEGER NOT NULL REFERENCES lists(id),
             text TEXT NOT NULL
         );
         PRAGMA user_version = 1;",
    )
    .expect("the version 1 schema");
    for (list_id, text) in items {
        conn.execute("INSERT OR IGNORE INTO lists (id) VALUES (?1)", [list_id]).expect("insert list");
        conn.execute("INSERT INTO items (list_id, text) VALUES (?1, ?2)", (list_id, text)).expect("insert item");
    }
}

/// chromedriver on a port of its choosing (`--port=0`, read back from what it prints: no
/// port picked ahead that another test could take first), with `args`, in a process group
/// of its own (the browsers it starts go with it); the guard and its URL. chromedriver binds
/// the port it got for IPv4 on IPv6 too, and exits ("port not available") when another
/// process holds it there: a race lost, so it is started again, up to three times, as ft
/// does (`browser::process`).
pub fn chromedriver(args: &[String]) -> (KillOnDrop, String) {
    use std::os::unix::process::CommandExt;
    let mut said = Vec::new();
    for _ in 0..3 {
        let mut cmd = Command::new("chromedriver");
        cmd.arg("--port=0").args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null());
        let mut child = cmd.process_group(0).spawn().expect("chromedriver starts");
        let stdout = child.stdout.take().expect("stdout");
        let driver = KillOnDrop::group(child);
        let mut port = None;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("started successfully") {
                port = line.split("on port ").nth(1).map(|p| p.trim_end_matches('.').to_string());
                break;
            }
            said.push(line);
        }
        if let Some(port) = port {
            return (driver, format!("http://127.0.0.1:{port}"));
        }
        if !said.iter().any(|l| l.contains("port not available")) {
            break;
        }
    }
    panic!("chromedriver reports its port; it said:\n{}", said.join("\n"));
}

/// A loopback port nothing listens on: free to bind, and a connection to it is refused.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

/// Send `sig` to process `pid`.
pub fn signal(pid: u32, sig: i32) -> std::io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(std::io::Error::other)?;
    // SAFETY: kill(2) has no memory-safety preconditions.
    if unsafe { libc::kill(pid, sig) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// A child process killed (and reaped) when the guard goes, also when a test panics.
/// Derefs to the `Child`, so `guard.id()`, `guard.wait()` and the like work as on it.
pub struct KillOnDrop {
    child: Child,
    /// The child leads a process group of its own (`process_group(0)`): kill the group,
    /// so that drivers and browsers it started go too.
    group: bool,
}

impl KillOnDrop {
    pub fn new(child: Child) -> KillOnDrop {
        KillOnDrop { child, group: false }
    }

    /// For a child spawned with `process_group(0)`: the whole group is killed.
    pub fn group(child: Child) -> KillOnDrop {
        KillOnDrop { child, group: true }
    }

    /// Kill (the group) and reap now rather than at drop.
    pub fn kill_now(&mut self) {
        if self.group {
            // A group outlives its leader's exit while members remain, so this signals
            // even after the leader was reaped.
            let pgid = i32::try_from(self.child.id()).expect("a pid fits in pid_t");
            // SAFETY: killpg(2) has no memory-safety preconditions; the group is this test's.
            unsafe {
                libc::killpg(pgid, libc::SIGKILL);
            }
        } else {
            // A no-op for a child already reaped: std never signals a reaped pid.
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl std::ops::Deref for KillOnDrop {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.child
    }
}

impl std::ops::DerefMut for KillOnDrop {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.child
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        self.kill_now();
    }
}

/// Ctrl-C, then Ctrl-C again every 100 ms until `child` exits (at most `limit`), as a
/// user who wants it stopped presses it. Two signals sent back to back can reach a process
/// as one (the kernel keeps one pending signal per kind), so every later one stands for
/// "the second". Returns the exit code (None if still running at `limit`) and how long
/// it took from the first signal.
pub fn interrupt_until_exit(child: &mut std::process::Child, limit: Duration) -> (Option<i32>, Duration) {
    let start = Instant::now();
    loop {
        let _ = signal(child.id(), libc::SIGINT);
        let until = Instant::now() + Duration::from_millis(100);
        while Instant::now() < until {
            if let Some(status) = child.try_wait().expect("try_wait") {
                return (Some(status.code().unwrap_or(-1)), start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if start.elapsed() > limit {
            return (None, start.elapsed());
        }
    }
}

/// The test deploy of `ft deploy` tests (tests/gate.rs, tests/bake.rs): it records the
/// run, then (re)starts the stage's `ft serve` on FT_HOST's port (DEFECT_<stage> and
/// VERSION_<stage> choose its defect and /version; NO_START=1 only stops it).
pub const DEPLOY_SH: &str = r#"#!/bin/sh
# Test deploy: record the run, then (re)start the stage's server on FT_HOST's port.
set -e
echo "$FT_STAGE $FT_HOST $FT_COMMIT" >> "$WORK/deployed.log"
port=${FT_HOST##*:}
pidfile="$WORK/$FT_STAGE.pid"
if [ -f "$pidfile" ]; then
  old=$(cat "$pidfile"); rm -f "$pidfile"
  kill "$old" 2>/dev/null || true
  n=0
  while [ -e "/proc/$old" ] && ! grep -q ') Z' "/proc/$old/stat" 2>/dev/null && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done
fi
[ "${NO_START:-}" = 1 ] && exit 0
eval "defect=\${DEFECT_$FT_STAGE:-}"
if [ -n "$defect" ]; then set -- --defect "$defect"; else set --; fi
eval "served=\${VERSION_$FT_STAGE:-$FT_COMMIT}"
set -- "$@" --version "$served"
nohup "$FT_BIN" serve --addr "127.0.0.1:$port" --db "$WORK/db-$port.sqlite3" --outbox "$WORK/outbox" "$@" > "$WORK/$FT_STAGE.log" 2>&1 &
echo $! > "$pidfile"
"#;

/// The ft.toml for servers `DEPLOY_SH` starts in `work`: the logins' fixture (the
/// database of the server on the target's port) and the shared outbox as the inbox.
pub fn deployed_config(work: &Path) -> String {
    format!(
        "[fixtures]\ncreate_session = \"'{}' serve create-session --db '{}/db-{{port}}.sqlite3' {{email}}\"\n\n[run]\ninbox = \"maildir:{}/outbox\"\n",
        FT,
        work.display(),
        work.display()
    )
}

pub const ROLLBACK_SH: &str = r#"#!/bin/sh
echo "rollback to $FT_ROLLBACK_TO" >> "$WORK/rollback.log"
DEFECT_live= VERSION_live="$FT_ROLLBACK_TO" exec sh "$WORK/deploy.sh"
"#;

/// A scenario failing after five page-changing steps, for the filmstrip (frames after
/// lines 4, 5, 6, 8 and 9; line 11's screen is the failure's own screenshot). No
/// leading blank line: line 1 is `[[scenario]]`.
pub const FAILS_AFTER_FIVE_STEPS: &str = r##"[[scenario]]
name = "a list that never gets its title"
steps = [
  { visit = "/" },
  { type = "Buy milk", into = "#id_text" },
  { press = "Enter", on = "#id_text" },
  { expect_text_contains = "Buy milk", in = "#id_list_table" },
  { type = "Buy eggs", into = "#id_text" },
  { press = "Enter", on = "#id_text" },
  { expect_text_contains = "Buy eggs", in = "#id_list_table" },
  { type = "Buy bread", into = "#id_text" },
  { expect_title = "Never" },
]
"##;

/// Characters that must never reach a terminal raw: controls other than line breaks and
/// tabs, and the bidi embeddings, overrides and isolates.
pub fn raw_controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| {
            (c.is_control() && *c != '\n' && *c != '\t')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect()
}

/// The built-in suite's lines (specs/superlists.toml), numbered from 1: tests name a
/// scenario's or step's line without copying a number an edit of the suite would make wrong.
fn superlists_lines() -> Vec<String> {
    let spec = std::fs::read_to_string(root().join("specs/superlists.toml")).expect("specs/superlists.toml");
    spec.lines().map(str::to_string).collect()
}

/// The line of the first line holding `after` in the built-in suite.
fn superlists_find(lines: &[String], after: &str) -> usize {
    lines.iter().position(|l| l.contains(after)).unwrap_or_else(|| panic!("{after:?} in the suite"))
}

/// The `[[scenario]]` line of the scenario whose text holds `name`.
pub fn superlists_scenario_line(name: &str) -> usize {
    let lines = superlists_lines();
    let at = superlists_find(&lines, name);
    lines[..=at].iter().rposition(|l| l.contains("[[scenario]]")).expect("a [[scenario]] before it") + 1
}

/// The line of the first line holding `text` at or after the first holding `after`.
pub fn superlists_line(after: &str, text: &str) -> usize {
    let lines = superlists_lines();
    let from = superlists_find(&lines, after);
    from + superlists_find(&lines[from..], text) + 1
}
