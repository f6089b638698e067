//! Where an unsafe scenario may not go: with `--sensitive-url` set, a scenario without the
//! safe tag is stopped as soon as the browser lands on a sensitive URL (a redirect, a
//! link, a form), before any step acts there. The job judges the target before the run;
//! this judges every page the browser reaches during it.

use super::{RunConfig, StepError};
use crate::shared::redact::{redact, without_userinfo};
use crate::spec::Scenario;

/// The sensitive-URL check for one scenario; it checks nothing for a safe scenario or
/// when no sensitive regex is set.
#[derive(Clone, Debug, Default)]
pub(super) struct Guard {
    watch: Option<Watch>,
}

#[derive(Clone, Debug)]
struct Watch {
    sensitive: regex::Regex,
    safe_tag: String,
    /// The target's base URL, named in the error beside where the browser landed.
    target: String,
}

impl Guard {
    pub(super) fn for_scenario(scenario: &Scenario, config: &RunConfig) -> Guard {
        let settings = &config.settings;
        let watch = match &settings.sensitive {
            Some(re) if !scenario.has_tag(&settings.safe_tag) => Some(Watch {
                sensitive: re.clone(),
                safe_tag: settings.safe_tag.clone(),
                target: config.base_url.clone(),
            }),
            _ => None,
        };
        Guard { watch }
    }

    /// Judge the page URL the runner has just seen: on a sensitive URL the scenario stops
    /// as an error (ft refused to go on, the app did nothing wrong).
    pub(super) fn check(&self, page_url: &str) -> Result<(), StepError> {
        match &self.watch {
            Some(w) if w.sensitive.is_match(page_url) => Err(StepError::Refused {
                message: format!(
                    "the browser landed on {}, which matches --sensitive-url /{}/ (target {}): \
                     stopped before acting there, only scenarios tagged `{}` may run on a sensitive server",
                    redact(page_url),
                    w.sensitive.as_str(),
                    redact(&w.target),
                    w.safe_tag
                ),
            }),
            _ => Ok(()),
        }
    }

    /// Whether this guard judges anything: an unsafe scenario on a run with a sensitive
    /// regex. Where it does not, nothing need be read from the browser for it.
    pub(super) fn watching(&self) -> bool {
        self.watch.is_some()
    }

    /// Judge the page a step is about to act on when the browser cannot say which page it
    /// is (`why`): an unsafe scenario does not act blind on a run with a sensitive regex.
    pub(super) fn unknown_page(&self, doing: &str, why: &str) -> Result<(), StepError> {
        match &self.watch {
            Some(w) => Err(StepError::Refused {
                message: format!(
                    "refused to {doing}: which page it is on cannot be known ({why}), and with --sensitive-url /{}/ \
                     only scenarios tagged `{}` may act where that is not known",
                    w.sensitive.as_str(),
                    w.safe_tag
                ),
            }),
            None => Ok(()),
        }
    }

    /// Judge a URL a `visit` is about to load: a sensitive one is not loaded at all (a
    /// GET may act too: a login link logs in, a confirmation link confirms).
    pub(super) fn check_before_loading(&self, url: &str) -> Result<(), StepError> {
        match &self.watch {
            Some(w) if w.sensitive.is_match(&without_userinfo(url)) || w.sensitive.is_match(url) => {
                Err(StepError::Refused {
                    message: format!(
                        "refused to load {}, which matches --sensitive-url /{}/ (target {}): \
                         only scenarios tagged `{}` may go to a sensitive server",
                        redact(url),
                        w.sensitive.as_str(),
                        redact(&w.target),
                        w.safe_tag
                    ),
                })
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::RunConfig;
    use crate::settings::Settings;

    fn scenario(tags: &[&str]) -> Scenario {
        Scenario {
            name: "s".into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            group: "g".into(),
            file: "g.toml".into(),
            line: 1,
            steps: Vec::new(),
            quarantine: None,
            values: Vec::new(),
        }
    }

    fn config(sensitive: Option<&str>) -> RunConfig {
        let settings =
            Settings { sensitive: sensitive.map(|re| regex::Regex::new(re).expect("regex")), ..Settings::default() };
        RunConfig {
            base_url: "http://u:secret@staging.example".into(),
            skip: Default::default(),
            settings,
            places: Default::default(),
        }
    }

    fn refusal(guard: &Guard, url: &str) -> Option<String> {
        match guard.check(url) {
            Ok(()) => None,
            Err(StepError::Refused { message }) => Some(message),
            Err(_) => Some("another error".into()),
        }
    }

    #[test]
    fn an_unsafe_scenario_landing_on_a_sensitive_url_is_stopped_naming_both_urls() {
        let guard = Guard::for_scenario(&scenario(&["validation"]), &config(Some("^https://live\\.example")));
        assert_eq!(refusal(&guard, "http://staging.example/lists/1/"), None);
        let message = refusal(&guard, "https://live.example/lists/1/").expect("refused");
        assert_eq!(
            message,
            "the browser landed on https://live.example/lists/1/, which matches --sensitive-url \
             /^https://live\\.example/ (target http://***@staging.example): stopped before acting there, \
             only scenarios tagged `smoke` may run on a sensitive server"
        );
        assert!(!message.contains("secret"));
    }

    #[test]
    fn a_sensitive_url_is_not_even_loaded_and_its_credentials_are_not_shown() {
        let guard = Guard::for_scenario(&scenario(&["validation"]), &config(Some("^https://live\\.example/")));
        assert!(guard.check_before_loading("http://staging.example/accounts/login?token=1").is_ok());
        for url in ["https://live.example/accounts/login?token=1", "https://edith:hunter2@live.example/"] {
            match guard.check_before_loading(url) {
                Err(StepError::Refused { message }) => {
                    assert!(message.starts_with("refused to load https://"), "{message}");
                    assert!(message.contains("only scenarios tagged `smoke`"), "{message}");
                    assert!(!message.contains("hunter2") && !message.contains("token=1"), "{message}");
                }
                _ => panic!("{url} is sensitive"),
            }
        }
        let safe = Guard::for_scenario(&scenario(&["smoke"]), &config(Some("live")));
        assert!(safe.check_before_loading("https://live.example/").is_ok());
    }

    #[test]
    fn safe_scenarios_and_runs_without_a_sensitive_regex_go_anywhere() {
        let safe = Guard::for_scenario(&scenario(&["smoke"]), &config(Some("live")));
        assert_eq!(refusal(&safe, "https://live.example/"), None);
        let unset = Guard::for_scenario(&scenario(&[]), &config(None));
        assert_eq!(refusal(&unset, "https://live.example/"), None);
    }
}
