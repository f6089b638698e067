//! A local Chromium's signals come over its DevTools endpoint rather than BiDi (no BiDi
//! mapper to start): every page, frame and worker is attached as it appears and held
//! until its domains are on, so what a cross-site frame and a dedicated worker report
//! fails the check as what the page itself reports does. ft turns Chromium's site
//! isolation off (a process per site costs time), so the frame shares its page's
//! renderer; with `--site-per-process` it gets a renderer and a DevTools target of its
//! own, and is heard there too.

use crate::common;

use common::loopback::{respond, serve};
use common::*;

/// A page on 127.0.0.1 that frames a page of `localhost` (another site) and starts a worker; each logs an error and the frame asks for
/// a missing image. The page says "all done" once the frame loaded and the worker spoke.
fn target() -> String {
    serve(|req, stream| {
        let path = req.line.split(' ').nth(1).unwrap_or("/");
        match path {
            "/framed" => respond(
                stream,
                "200 OK",
                "<!doctype html><html><head><title>Framed</title><link rel=\"icon\" href=\"data:,\"></head>\
                 <body><p id=\"status\">loading</p><script>\
                 const frame = new Promise(r => { const f = document.createElement('iframe'); f.onload = r; \
                   f.src = location.origin.replace('127.0.0.1', 'localhost') + '/inner'; document.body.appendChild(f); });\
                 const code = \"console.error('worker boom'); postMessage('spoke');\";\
                 const w = new Worker(URL.createObjectURL(new Blob([code], { type: 'text/javascript' })));\
                 const spoke = new Promise(r => { w.onmessage = r; });\
                 Promise.all([frame, spoke]).then(() => setTimeout(() => \
                   { document.getElementById('status').textContent = 'all done'; }, 200));\
                 </script></body></html>",
            ),
            "/inner" => respond(
                stream,
                "200 OK",
                "<!doctype html><html><body><img src=\"/gone.png\"><script>console.error('frame boom');</script>\
                 </body></html>",
            ),
            _ => respond(stream, "404 Not Found", "not here"),
        }
    })
}

const SUITE: &str = r##"
[suite]
signals = { console_errors = "fail", failed_requests = "fail" }

[[scenario]]
name = "a framed page with a worker"
steps = [
  { visit = "/framed" },
  { expect_text = "all done", in = "#status" },
]
"##;

/// Issue 22: under load, the frame's 404 was missed here (its page's `Network.enable` was
/// refused for a duplicate command id); it must be named every time.
#[test]
fn a_cross_site_frame_s_and_a_worker_s_errors_fail_the_check_on_a_local_chromium() {
    assert_frame_and_worker_heard(&[]);
}

#[test]
fn a_cross_site_frame_in_a_renderer_of_its_own_is_heard_on_its_own_target() {
    let dir = tempfile::tempdir().expect("tempdir");
    let browser = dir.path().join("chromium-site-per-process.sh");
    let script = "#!/bin/sh\nexec /usr/bin/chromium --site-per-process \"$@\"\n";
    std::fs::write(&browser, script).expect("write");
    std::fs::set_permissions(&browser, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    assert_frame_and_worker_heard(&["--browser-binary", &browser.display().to_string()]);
}

fn assert_frame_and_worker_heard(extra: &[&str]) {
    let url = target();
    let specs = tempfile::tempdir().expect("tempdir");
    std::fs::write(specs.path().join("suite.toml"), SUITE).expect("write");
    let dir = tempfile::tempdir().expect("tempdir");
    let specs_path = specs.path().display().to_string();
    let mut args = vec!["--specs", &specs_path, "--liveserver", &url, "--max-wait", "5"];
    args.extend_from_slice(extra);
    let out = ft_in(dir.path(), &args);
    assert_eq!(out.code, 1, "{}", out.all());
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    let case = junit.case("a framed page with a worker");
    let all = format!("{}\n{}", case.message, case.body);
    for want in ["\"frame boom\"", "\"worker boom\"", "GET /gone.png → 404 (image)", "[suite] signals"] {
        assert!(all.contains(want), "the failure names {want:?}:\n{all}");
    }
}
