//! `ft merge`'s JUnit half: the shards' JUnit files read back (what each testcase says,
//! to check it against its record) and merged into one document.

use crate::report::junit::attr;
use crate::runner::ScenarioStatus;

/// What a testcase of an ft JUnit file says of its scenario, read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseStatus {
    Passed,
    Failure,
    Error,
    Skipped,
}

impl std::fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CaseStatus::Passed => "passed",
            CaseStatus::Failure => "a <failure>",
            CaseStatus::Error => "an <error>",
            CaseStatus::Skipped => "<skipped>",
        })
    }
}

impl CaseStatus {
    fn of(case: roxmltree::Node) -> CaseStatus {
        let child = |tag: &str| case.children().any(|c| c.has_tag_name(tag));
        if child("failure") {
            CaseStatus::Failure
        } else if child("error") {
            CaseStatus::Error
        } else if child("skipped") {
            CaseStatus::Skipped
        } else {
            CaseStatus::Passed
        }
    }

    /// Whether `build` writes this status for a scenario of record status `status`
    /// (`quarantined`: its failure is written skipped).
    pub fn fits(self, status: ScenarioStatus, quarantined: bool) -> bool {
        use CaseStatus as C;
        match status {
            ScenarioStatus::Passed | ScenarioStatus::Flaky => self == C::Passed,
            ScenarioStatus::Failed => self == C::Failure || (quarantined && self == C::Skipped),
            ScenarioStatus::Error => self == C::Error || (quarantined && self == C::Skipped),
            // Not run: an error, or skipped when an interrupt or --max-failures left it out.
            ScenarioStatus::NotRun => matches!(self, C::Error | C::Skipped),
            ScenarioStatus::SkippedUnsafe => self == C::Skipped,
            ScenarioStatus::NotSelected | ScenarioStatus::OtherShard => false,
        }
    }
}

/// Every testcase of an ft JUnit file: (name, status).
pub fn case_statuses(text: &str) -> Result<Vec<(String, CaseStatus)>, String> {
    let doc = roxmltree::Document::parse(text).map_err(|e| format!("not XML: {e}"))?;
    Ok(doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|c| (c.attribute("name").unwrap_or("").to_string(), CaseStatus::of(c)))
        .collect())
}

/// One JUnit document from the shards' documents (`ft merge`): testsuites of the same
/// name become one, their testcases copied as written (each is whole, escaped XML) and
/// ordered by `position` (the scenario's place in the merged run); counts are recounted
/// from the testcases, and `properties` replace the run-wide properties, written once in
/// the first suite as `build` writes them.
pub fn merge_documents(
    docs: &[(String, String)],
    properties: &[(String, String)],
    position: impl Fn(&str, &str) -> usize,
) -> Result<String, String> {
    struct Merged<'a> {
        name: String,
        time: f64,
        cases: Vec<(usize, &'a str, CaseStatus)>,
    }
    // The run's properties, once: a shard writes them in its first suite only (readers
    // such as xunitparser refuse a file whose suites repeat a property's name).
    let mut props: Vec<(String, String)> = Vec::new();
    let parsed: Vec<(&str, roxmltree::Document)> = docs
        .iter()
        .map(|(what, text)| {
            roxmltree::Document::parse(text).map(|d| (what.as_str(), d)).map_err(|e| format!("{what}: not XML: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let mut suites: Vec<Merged> = Vec::new();
    let (mut root_name, mut root_time) = (String::from("ft"), 0f64);
    for (i, (what, doc)) in parsed.iter().enumerate() {
        let root = doc.root_element();
        if root.tag_name().name() != "testsuites" {
            return Err(format!("{what}: not an ft JUnit file (its root is <{}>)", root.tag_name().name()));
        }
        if i == 0 {
            root_name = root.attribute("name").unwrap_or("ft").to_string();
        }
        let time = |n: roxmltree::Node| n.attribute("time").and_then(|t| t.parse::<f64>().ok()).unwrap_or(0.0);
        // The shards ran side by side: the merged run took as long as the longest.
        root_time = root_time.max(time(root));
        let text = docs[i].1.as_str();
        for suite in root.children().filter(|n| n.has_tag_name("testsuite")) {
            let name = suite.attribute("name").unwrap_or("").to_string();
            let at = match suites.iter().position(|s| s.name == name) {
                Some(at) => at,
                None => {
                    if props.is_empty() {
                        props = suite
                            .children()
                            .filter(|n| n.has_tag_name("properties"))
                            .flat_map(|p| p.children().filter(|n| n.has_tag_name("property")))
                            .map(|p| {
                                (p.attribute("name").unwrap_or("").into(), p.attribute("value").unwrap_or("").into())
                            })
                            .collect();
                    }
                    suites.push(Merged { name: name.clone(), time: 0.0, cases: Vec::new() });
                    suites.len() - 1
                }
            };
            suites[at].time += time(suite);
            for case in suite.children().filter(|n| n.has_tag_name("testcase")) {
                let status = CaseStatus::of(case);
                let pos = position(case.attribute("classname").unwrap_or(""), case.attribute("name").unwrap_or(""));
                suites[at].cases.push((pos, &text[case.range()], status));
            }
        }
    }
    for suite in &mut suites {
        suite.cases.sort_by_key(|c| c.0);
    }
    suites.sort_by_key(|s| s.cases.first().map(|c| c.0).unwrap_or(usize::MAX));
    let count = |s: &Merged, f: fn(CaseStatus) -> bool| s.cases.iter().filter(|c| f(c.2)).count();
    let failures = |s: &Merged| count(s, |st| st == CaseStatus::Failure);
    let errors = |s: &Merged| count(s, |st| st == CaseStatus::Error);
    let skipped = |s: &Merged| count(s, |st| st == CaseStatus::Skipped);
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites");
    attr(&mut x, "name", &root_name);
    attr(&mut x, "tests", &suites.iter().map(|s| s.cases.len()).sum::<usize>().to_string());
    attr(&mut x, "failures", &suites.iter().map(failures).sum::<usize>().to_string());
    attr(&mut x, "errors", &suites.iter().map(errors).sum::<usize>().to_string());
    attr(&mut x, "time", &format!("{root_time:.3}"));
    x.push_str(">\n");
    for (name, value) in properties {
        match props.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value.clone(),
            None => props.push((name.clone(), value.clone())),
        }
    }
    for (i, suite) in suites.iter().enumerate() {
        x.push_str("  <testsuite");
        attr(&mut x, "name", &suite.name);
        attr(&mut x, "tests", &suite.cases.len().to_string());
        attr(&mut x, "failures", &failures(suite).to_string());
        attr(&mut x, "errors", &errors(suite).to_string());
        attr(&mut x, "skipped", &skipped(suite).to_string());
        attr(&mut x, "time", &format!("{:.3}", suite.time));
        x.push_str(">\n");
        if i == 0 {
            x.push_str("    <properties>\n");
            for (name, value) in &props {
                x.push_str("      <property");
                attr(&mut x, "name", name);
                attr(&mut x, "value", value);
                x.push_str("/>\n");
            }
            x.push_str("    </properties>\n");
        }
        for (_, case, _) in &suite.cases {
            x.push_str("    ");
            x.push_str(case);
            x.push('\n');
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(first_props: &str, suites: &[(&str, &str)]) -> String {
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"ft\" time=\"1.0\">\n");
        for (i, (suite, case)) in suites.iter().enumerate() {
            x.push_str(&format!("<testsuite name=\"{suite}\" time=\"0.5\">\n"));
            if i == 0 {
                x.push_str(first_props);
            }
            x.push_str(&format!("<testcase classname=\"{suite}\" name=\"{case}\" time=\"0.5\"/>\n</testsuite>\n"));
        }
        x.push_str("</testsuites>\n");
        x
    }

    /// xunitparser refuses a file whose suites repeat a property's name: the merged file
    /// states the run's properties once, as a run's own file does.
    #[test]
    fn the_merged_file_states_the_run_properties_once_in_its_first_suite() {
        let props = "<properties><property name=\"verdict\" value=\"green\"/><property name=\"browser\" value=\"chrome\"/></properties>\n";
        let docs = vec![
            ("shard 1".to_string(), shard(props, &[("home", "a"), ("lists", "b")])),
            ("shard 2".to_string(), shard(props, &[("lists", "c"), ("home", "d")])),
        ];
        let order = ["a", "b", "c", "d"];
        let merged =
            merge_documents(&docs, &[("verdict".into(), "failed".into()), ("shards".into(), "2".into())], |_, n| {
                order.iter().position(|o| *o == n).unwrap_or(usize::MAX)
            })
            .expect("merges");
        assert_eq!(merged.matches("<properties>").count(), 1, "{merged}");
        let doc = roxmltree::Document::parse(&merged).expect("xml");
        let first = doc.root_element().children().find(|n| n.has_tag_name("testsuite")).expect("a suite");
        let names: Vec<(&str, &str)> = first
            .descendants()
            .filter(|n| n.has_tag_name("property"))
            .map(|p| (p.attribute("name").unwrap_or(""), p.attribute("value").unwrap_or("")))
            .collect();
        assert_eq!(names, [("verdict", "failed"), ("browser", "chrome"), ("shards", "2")]);
    }
}
