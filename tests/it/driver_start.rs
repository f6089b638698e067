//! Starting chromedriver: given port 0 it picks a port and binds it itself, and a process
//! that takes the port in between makes it exit with "IPv4 port not available" (seen on a
//! loaded CI machine, where a deploy's live verification then failed for no fault of the
//! app). ft starts it again, a few times, and says so when it never gets a port.

use crate::common;

use std::path::Path;

use common::*;

/// A chromedriver stand-in that loses the port race its first `losses` starts (printing
/// what chromedriver prints then), and is the real chromedriver after; it counts its starts.
fn racing_driver(dir: &Path, losses: u32) -> std::path::PathBuf {
    let script = dir.join("chromedriver-racing");
    let starts = dir.join("starts");
    let text = format!(
        "#!/bin/sh\n\
         n=$(cat '{starts}' 2>/dev/null || echo 0); n=$((n + 1)); echo $n > '{starts}'\n\
         if [ $n -le {losses} ]; then\n\
           echo 'Starting ChromeDriver 156.0 on port 0'\n\
           echo 'IPv4 port not available. Exiting...'\n\
           exit 1\n\
         fi\n\
         exec /usr/bin/chromedriver \"$@\"\n",
        starts = starts.display()
    );
    std::fs::write(&script, text).expect("write the stand-in");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    script
}

fn starts(dir: &Path) -> u32 {
    std::fs::read_to_string(dir.join("starts")).expect("starts").trim().parse().expect("a count")
}

#[test]
fn a_chromedriver_that_loses_the_race_for_its_port_is_started_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let driver = racing_driver(dir.path(), 2);
    let out = ft_in(dir.path(), &["--driver", driver.to_str().expect("utf-8"), "--tag", "smoke", "--no-progress"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("2 passed"), "{}", out.stdout);
    assert_eq!(starts(dir.path()), 3, "two races lost, the third start served the run");
}

#[test]
fn a_chromedriver_that_never_gets_a_port_fails_the_run_saying_what_it_printed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let driver = racing_driver(dir.path(), 100);
    let out = ft_in(dir.path(), &["--driver", driver.to_str().expect("utf-8"), "--tag", "smoke", "--no-progress"]);
    assert_ne!(out.code, 0, "{}", out.all());
    assert_ne!(out.code, 1, "not the app's failure: {}", out.all());
    assert!(out.all().contains("exited without reporting a port"), "{}", out.all());
    assert!(out.all().contains("IPv4 port not available"), "{}", out.all());
    assert_eq!(starts(dir.path()), 3, "started three times, then given up");
}
