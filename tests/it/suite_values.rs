//! `[values]`: texts a suite names once and its steps use as `${name}` (the built-in
//! suite's test addresses), replaced by ft.toml's `[values]` for a team's staging server.
//! Every mistake is found at load, where it is written.

use crate::common;

use common::*;

const SPEC: &str = r##"[values]
greeting = "hello-${unique}"

[[scenario]]
name = "types its greeting"
steps = [
  { visit = "/" },
  { type = "${greeting}", into = "#id_text" },
  { press = "Enter", on = "#id_text" },
  { expect_row = "1: ${greeting}", in = "#id_list_table" },
]
"##;

fn project(config: &str, spec: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ft.toml"), format!("specs = \"specs\"\n{config}")).expect("ft.toml");
    std::fs::create_dir(dir.path().join("specs")).expect("specs");
    std::fs::write(dir.path().join("specs/greeting.toml"), spec).expect("spec");
    dir
}

#[test]
fn a_suite_value_is_filled_in_every_attempt_and_ft_toml_replaces_it() {
    let dir = project("", SPEC);
    let out = ft_in(dir.path(), &["run", "--max-wait", "5"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let log = read_junit(&dir.path().join("reports/junit.xml")).case("types its greeting").system_out.clone();
    assert!(regex::Regex::new(r#"type "hello-u[a-z0-9]{12}" into"#).expect("re").is_match(&log), "{log}");

    let dir = project("\n[values]\ngreeting = \"hi from ft.toml ${run.id}\"\n", SPEC);
    let out = ft_in(dir.path(), &["run", "--max-wait", "5"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let log = read_junit(&dir.path().join("reports/junit.xml")).case("types its greeting").system_out.clone();
    assert!(log.contains("type \"hi from ft.toml "), "{log}");
    assert!(!log.contains("hello-"), "{log}");
}

#[test]
fn a_value_ft_toml_names_that_no_spec_defines_is_an_error_in_ft_toml() {
    let dir = project("\n[values]\ngreting = \"x\"\n", SPEC);
    let out = ft_in(dir.path(), &["list"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("ft.toml:4:1: error: [values] `greting` is a value no spec defines"), "{}", out.stderr);
    assert!(out.stderr.contains("did you mean `greeting`?"), "{}", out.stderr);
}

#[test]
fn a_value_that_needs_a_step_or_the_environment_or_is_defined_twice_is_refused_at_load() {
    let spec = "[values]\nfrom_env = \"${env.HOME}\"\nlater = \"${captured}\"\nunique = \"x\"\n\n\
                [[scenario]]\nname = \"n\"\nsteps = [ { visit = \"/\" }, { expect_title = \"To-Do\" } ]\n";
    let dir = project("", spec);
    std::fs::write(dir.path().join("specs/more.toml"), "[values]\nfrom_env = \"again\"\ntwice = \"a\"\n")
        .expect("write");
    std::fs::write(dir.path().join("specs/zz.toml"), "[values]\ntwice = \"b\"\n").expect("write");
    let out = ft_in(dir.path(), &["list"]);
    assert_eq!(out.code, 2, "{}", out.all());
    let err = &out.stderr;
    assert!(err.contains("greeting.toml:2:12: error: the value `from_env` uses ${env.HOME}"), "{err}");
    assert!(err.contains("greeting.toml:3:9: error: the value `later` uses ${captured}"), "{err}");
    assert!(err.contains("greeting.toml:4:10: error: `unique` is a built-in value"), "{err}");
    assert!(err.contains("zz.toml:2:1: error: the value `twice` is defined twice"), "{err}");
    assert!(err.contains("it is first defined at specs/more.toml:3:1"), "{err}");
}
