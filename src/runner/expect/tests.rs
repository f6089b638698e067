use super::*;
use crate::shared::locator::Part;
use crate::spec::Selector;

fn item_input() -> Selector {
    Selector { locator: Locator::css("#id_text"), name: Some("item_input".into()), template: None }
}

fn judge(expectation: &Expectation, seen: &Inspection) -> Result<(), String> {
    (predicate(expectation, &ScenarioState::default()).expect("a page expectation").judge)(seen)
}

fn seen_at(url: &str) -> Inspection {
    let mut seen = Inspection::default();
    seen.url = url.into();
    seen
}

/// What one step saw serves the next step (once, and only for the same inspection),
/// and nothing survives an action.
#[test]
fn an_inspection_serves_the_next_step_until_something_acts() {
    let seen = Seen::default();
    seen.keep(Inspect::element(&Locator::css("#a")), seen_at("http://t/1"));
    seen.next_step();
    assert_eq!(seen.url().as_deref(), Some("http://t/1"));
    let before = |seen: &Seen| seen.0.lock().expect("lock").before.clone();
    assert_eq!(before(&seen).map(|(what, _)| what), Some(Inspect::element(&Locator::css("#a"))));
    // A step that looks at nothing (remember_url) leaves it for the step after.
    seen.next_step();
    assert!(before(&seen).is_some());
    seen.forget();
    assert_eq!(seen.url(), None);
    assert!(before(&seen).is_none());
}

#[test]
fn a_wrong_title_is_quoted() {
    let mut seen = Inspection::default();
    seen.title = "Superlists".into();
    let want = Expectation::Title("To-Do".into());
    assert_eq!(judge(&want, &seen), Err("the title was \"Superlists\"".into()));
    seen.title = "To-Do lists".into();
    assert_eq!(judge(&want, &seen), Ok(()));
}

#[test]
fn an_off_centre_element_says_how_far_off() {
    let mut seen = Inspection::default();
    seen.count = 1;
    seen.centre_x = Some(375.0);
    let want = Expectation::Centred { of: item_input(), at: 512.0, tolerance: 10.0 };
    assert_eq!(judge(&want, &seen), Err("the centre of @item_input (#id_text) was at x=375.0, 137.0px off".into()));
    seen.centre_x = Some(505.0);
    assert_eq!(judge(&want, &seen), Ok(()));
}

#[test]
fn a_count_that_differs_names_the_first_matches() {
    let mut seen = Inspection::default();
    seen.count = 4;
    seen.several = vec!["<li>a</li>".into(), "<li>b</li>".into(), "<li>c</li>".into()];
    let want = Expectation::Count { of: Selector::css("li"), count: 2 };
    assert_eq!(judge(&want, &seen), Err("4 element(s) match li: <li>a</li>, <li>b</li>, <li>c</li>, …".into()));
    seen.count = 2;
    seen.several.truncate(2);
    assert_eq!(judge(&want, &seen), Ok(()));
    let none = Expectation::Count { of: Selector::css("li"), count: 0 };
    assert_eq!(judge(&none, &seen), Err("2 element(s) match li: <li>a</li>, <li>b</li>".into()));
}

#[test]
fn state_expectations_say_what_the_element_is_instead() {
    let mut seen = Inspection::default();
    seen.count = 1;
    seen.enabled = Some(true);
    seen.focused = Some(false);
    let sel = item_input();
    let value = Expectation::Value { of: sel.clone(), equals: "Buy milk".into() };
    assert_eq!(
        judge(&value, &seen),
        Err("@item_input (#id_text) has no value: it is not an input, select or textarea".into())
    );
    seen.value = Some("Buy eggs".into());
    assert_eq!(judge(&value, &seen), Err("the value of @item_input (#id_text) was \"Buy eggs\"".into()));
    let checked = Expectation::Checked(sel.clone());
    assert!(judge(&checked, &seen).is_err_and(|e| e.contains("it is not a checkbox or radio")));
    seen.checked = Some(false);
    assert_eq!(judge(&checked, &seen), Err("@item_input (#id_text) is not checked".into()));
    assert_eq!(judge(&Expectation::Unchecked(sel.clone()), &seen), Ok(()));
    assert_eq!(judge(&Expectation::Disabled(sel.clone()), &seen), Err("@item_input (#id_text) is enabled".into()));
    assert_eq!(judge(&Expectation::Enabled(sel.clone()), &seen), Ok(()));
    assert_eq!(
        judge(&Expectation::Focused(sel.clone()), &seen),
        Err("@item_input (#id_text) does not have the focus".into())
    );
}

#[test]
fn a_missing_element_says_where_the_browser_was() {
    let mut seen = Inspection::default();
    seen.url = "http://127.0.0.1:1/lists/1/".into();
    seen.title = "Not Found".into();
    seen.status = Some(404);
    let want = Expectation::Visible(item_input());
    assert_eq!(
        judge(&want, &seen),
        Err("no element matches @item_input (#id_text) on http://127.0.0.1:1/lists/1/ (HTTP 404, title \"Not Found\")"
            .into())
    );
}

#[test]
fn a_timeout_on_an_http_error_page_names_the_status_and_the_request() {
    let timed_out = || {
        WaitError::TimedOut(crate::wait::TimedOut {
            waited: std::time::Duration::from_secs(4),
            checks: 3,
            last_seen: "no element matches @error".into(),
        })
    };
    let page = LastPage::default();
    let mut seen = Inspection::default();
    seen.url = "http://127.0.0.1:9/lists/new".into();
    seen.status = Some(500);
    page.note(&seen);
    let post = Request { method: "POST".into(), url: "http://127.0.0.1:9/lists/new".into() };
    let message = |err: StepError| match err {
        StepError::Failed { message, .. } => message,
        _ => panic!("a failure"),
    };
    assert_eq!(
        message(page.explain(timed_out(), Some(&post))),
        "still not true after 4.0s (3 checks); the page is an HTTP 500 response (POST /lists/new)"
    );
    let elsewhere = Request { method: "GET".into(), url: "http://127.0.0.1:9/".into() };
    assert!(message(page.explain(timed_out(), Some(&elsewhere))).ends_with("HTTP 500 response (/lists/new)"));
    seen.status = Some(200);
    page.note(&seen);
    assert_eq!(message(page.explain(timed_out(), Some(&post))), "still not true after 4.0s (3 checks)");
}

#[test]
fn a_row_is_looked_for_among_every_row_of_the_table() {
    let table = Selector::css("#id_list_table");
    let want = Expectation::Row { table, text: "1: Buy milk".into() };
    let p = predicate(&want, &ScenarioState::default()).expect("a page expectation");
    assert_eq!(p.inspect, Inspect::elements(Locator(vec![Part::Css("#id_list_table".into()), Part::Css("tr".into())])));
    let mut seen = Inspection::default();
    seen.count = 1;
    seen.texts = vec!["1: Buy peacock feathers".into()];
    assert_eq!((p.judge)(&seen), Err("the rows were [\"1: Buy peacock feathers\"]".into()));
}

#[test]
fn url_differs_compares_with_the_url_remembered_before_the_step() {
    let mut state = ScenarioState::default();
    state.urls.insert("edith".into(), "http://t/lists/1/".into());
    let want = Expectation::UrlDiffers("edith".into());
    let p = predicate(&want, &state).expect("a page expectation");
    let mut seen = Inspection::default();
    seen.url = "http://t/lists/1/".into();
    assert_eq!((p.judge)(&seen), Err("the URL is still http://t/lists/1/, the one remembered as \"edith\"".into()));
    seen.url = "http://t/lists/2/".into();
    assert_eq!((p.judge)(&seen), Ok(()));
}

#[test]
fn url_same_holds_only_on_the_url_remembered() {
    let mut state = ScenarioState::default();
    state.urls.insert("first".into(), "http://user:pw@t/lists/1/".into());
    let same = Expectation::UrlSame("first".into());
    let p = predicate(&same, &state).expect("a page expectation");
    let mut seen = Inspection::default();
    seen.url = "http://t/lists/2/".into();
    assert_eq!(
        (p.judge)(&seen),
        Err("the URL was http://t/lists/2/, not http://t/lists/1/ (the one remembered as \"first\")".into())
    );
    seen.url = "http://t/lists/1/".into();
    assert_eq!((p.judge)(&seen), Ok(()));
}

#[test]
fn url_comparisons_ignore_user_info_on_either_side() {
    let mut state = ScenarioState::default();
    state.urls.insert("edith".into(), "http://user:pw@t/lists/1/".into());
    let differs = Expectation::UrlDiffers("edith".into());
    let mut seen = Inspection::default();
    seen.url = "http://t/lists/1/".into();
    let p = predicate(&differs, &state).expect("a page expectation");
    assert_eq!((p.judge)(&seen), Err("the URL is still http://t/lists/1/, the one remembered as \"edith\"".into()));
    seen.url = "http://user:pw@t/lists/2/".into();
    assert_eq!((p.judge)(&seen), Ok(()));
    let lists = regex::Regex::new("^http://t/lists/").expect("regex");
    assert_eq!(judge(&Expectation::Url(lists.clone()), &seen), Ok(()));
    seen.url = "http://user:pw@t/".into();
    assert_eq!(judge(&Expectation::Url(lists), &seen), Err("the URL was http://t/".into()));
}
