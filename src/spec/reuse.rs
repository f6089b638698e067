//! Reusable steps: `[steps.NAME]` with `params` and `steps`, called like a verb, expanded
//! at load into the steps they stand for. Each expanded step keeps its own position and
//! its call chain; a cycle, an unknown or missing parameter and a runaway expansion are
//! load errors at the call.

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;

use toml::Spanned;

use super::check::{FileCtx, RawStep};
use super::diag::did_you_mean;
use super::values;
use super::verbs::{self, Scope};
use super::{CallSite, Step};

/// How deep reusable steps may call each other.
pub(super) const MAX_DEPTH: usize = 16;
/// How many steps one scenario may expand to: a few reusable steps calling each other
/// several times each grow exponentially, and a hostile spec must not exhaust memory.
pub(super) const MAX_STEPS: usize = 5_000;

/// One `[steps.NAME]` definition.
pub(super) struct Def {
    /// The file it is written in (index into the suite's files).
    pub(super) file: usize,
    pub(super) params: Vec<Spanned<String>>,
    /// Its steps; `None` for one that could not be read (reported).
    pub(super) steps: Vec<Option<Spanned<RawStep>>>,
}

pub(super) type Defs = BTreeMap<String, Def>;

/// Builds one scenario's steps, expanding calls to reusable steps as it goes, so that
/// each step (and each call's arguments) is checked against what the steps before it set.
pub(super) struct Builder<'b, 'a> {
    pub(super) ctxs: &'b [FileCtx<'a>],
    pub(super) selectors: &'b [BTreeMap<String, String>],
    pub(super) defs: &'b Defs,
    pub(super) scope: Scope,
    pub(super) steps: Vec<Step>,
    /// The visitors the scenario's steps name so far (at most `verbs::actions::MAX_VISITORS`).
    visitors: Vec<String>,
    /// False once a step could not be built (its problem is reported).
    pub(super) all_built: bool,
    /// Problems inside reusable steps already reported (by position and message): each is
    /// reported once, at its first call.
    pub(super) reported: &'b mut HashSet<(usize, usize, usize, String)>,
    expanded: usize,
    /// The expansion passed `MAX_STEPS` (reported once, at the scenario's call).
    runaway: bool,
}

impl<'b, 'a> Builder<'b, 'a> {
    pub(super) fn new(
        ctxs: &'b [FileCtx<'a>],
        selectors: &'b [BTreeMap<String, String>],
        defs: &'b Defs,
        reported: &'b mut HashSet<(usize, usize, usize, String)>,
    ) -> Self {
        Builder {
            ctxs,
            selectors,
            defs,
            scope: Scope::default(),
            steps: Vec::new(),
            visitors: Vec::new(),
            all_built: true,
            reported,
            expanded: 0,
            runaway: false,
        }
    }

    /// Build the step `raw` of file `file`, reached through `calls`.
    pub(super) fn step(&mut self, file: usize, raw: &Spanned<RawStep>, calls: &[CallSite]) {
        let (ctxs, defs) = (self.ctxs, self.defs);
        let ctx = &ctxs[file];
        let call = raw.get_ref().keys().find(|k| defs.contains_key(k.get_ref()));
        let Some(name_key) = call else {
            let before = ctx.errors.borrow().len();
            match verbs::step(ctx, raw, &self.selectors[file], &mut self.scope) {
                Some((verb, kind, templated)) => {
                    verbs::count_visitor(ctx, raw, &kind, &mut self.visitors);
                    let (line, col) = ctx.index.line_col(raw.span().start);
                    let inside = !calls.is_empty();
                    self.steps.push(Step {
                        line,
                        col,
                        verb,
                        kind,
                        templated,
                        file: inside.then(|| ctx.file.display.clone()),
                        calls: calls.to_vec(),
                    });
                }
                None => self.all_built = false,
            }
            self.note_calls(file, before, calls);
            return;
        };
        let before = ctx.errors.borrow().len();
        self.call(file, raw, name_key, calls);
        if self.runaway && calls.is_empty() {
            let message =
                format!("this scenario expands to more than {MAX_STEPS} steps through `{}`", name_key.get_ref());
            let hint = "reusable steps calling each other several times each grow quickly: call fewer";
            ctx.err(name_key.span(), message, Some(hint.into()));
            self.all_built = false;
        }
        self.note_calls(file, before, calls);
    }

    /// A call: its arguments checked and put in place of the parameters of each step of
    /// the definition, each then built in turn.
    fn call(&mut self, file: usize, raw: &Spanned<RawStep>, name_key: &Spanned<String>, calls: &[CallSite]) {
        let (ctxs, defs) = (self.ctxs, self.defs);
        let ctx = &ctxs[file];
        let name = name_key.get_ref();
        let table = raw.get_ref();
        let fail = |this: &mut Self, span: Range<usize>, message: String, hint: Option<String>| {
            this.ctxs[file].err(span, message, hint);
            this.all_built = false;
        };
        if let Some(verb) = table.keys().find(|k| verbs::find(k.get_ref()).is_some()) {
            let message = format!("a step does one thing, but this one has both `{name}` and `{}`", verb.get_ref());
            return fail(self, verb.span(), message, Some("split it into two steps".into()));
        }
        if let Some(other) = table.keys().find(|k| *k != name_key && defs.contains_key(k.get_ref())) {
            let message = format!("a step does one thing, but this one has both `{name}` and `{}`", other.get_ref());
            return fail(self, other.span(), message, Some("split it into two steps".into()));
        }
        if calls.iter().any(|c| c.name == *name) {
            let chain: Vec<&str> = calls.iter().map(|c| c.name.as_str()).chain([name.as_str()]).collect();
            let message = format!("reusable step `{name}` calls itself: {}", chain.join(" → "));
            let hint = "a reusable step may call others, but never (through them) itself";
            return fail(self, name_key.span(), message, Some(hint.into()));
        }
        if calls.len() >= MAX_DEPTH {
            let message = format!("reusable steps call each other more than {MAX_DEPTH} deep here");
            return fail(self, name_key.span(), message, Some("flatten the reusable steps".into()));
        }
        let def = &defs[name];
        // The arguments: the verb's value is the first parameter, the others by name.
        let mut args: BTreeMap<String, Spanned<toml::Value>> = BTreeMap::new();
        let params: Vec<&str> = def.params.iter().map(|p| p.get_ref().as_str()).collect();
        let value = &table[name_key];
        match params.first() {
            Some(first) => {
                args.insert(first.to_string(), value.clone());
            }
            None if value.get_ref().as_bool() == Some(true) => {}
            None => {
                let message = format!("`{name}` takes no parameters: call it with `{name} = true`");
                return fail(self, value.span(), message, Some(format!("e.g. {{ {name} = true }}")));
            }
        }
        let mut ok = true;
        for (key, arg) in table.iter().filter(|(k, _)| *k != name_key) {
            if params.iter().skip(1).any(|p| p == key.get_ref()) {
                args.insert(key.get_ref().clone(), arg.clone());
                continue;
            }
            let hint = match did_you_mean(key.get_ref(), params.iter().skip(1).copied()) {
                Some(p) => format!("did you mean `{p}`?"),
                None => format!("`{name}` takes {}", takes(&params)),
            };
            let message = format!("`{name}` has no parameter `{}`", key.get_ref());
            ctx.err(key.span(), message, Some(hint));
            ok = false;
        }
        for p in params.iter().skip(1) {
            if !args.contains_key(*p) {
                let message = format!("`{name}` needs `{p}`");
                ctx.err(name_key.span(), message, Some(format!("`{name}` takes {}", takes(&params))));
                ok = false;
            }
        }
        // The arguments' own values are checked here, at the call.
        let args_table: RawStep = table
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .filter(|(k, _)| k != name_key || !params.is_empty())
            .collect();
        // A `@name` argument is checked where the body uses it as a selector.
        if verbs::check_templates(ctx, &args_table, &self.scope, &Default::default()).is_none() {
            ok = false;
        }
        if !ok {
            self.all_built = false;
            return;
        }
        let (line, col) = ctx.index.line_col(raw.span().start);
        let mut chain = calls.to_vec();
        chain.push(CallSite { name: name.clone(), file: ctx.file.display.clone(), line, col });
        let def_file = def.file;
        for body_step in &def.steps {
            let Some(body_step) = body_step else {
                self.all_built = false;
                continue;
            };
            self.expanded += 1;
            if self.expanded > MAX_STEPS || self.runaway {
                self.runaway = true;
                self.all_built = false;
                return;
            }
            let mut table = RawStep::new();
            for (k, v) in body_step.get_ref() {
                match substitute(v.get_ref(), &args) {
                    Ok(value) => {
                        table.insert(k.clone(), Spanned::new(v.span(), value));
                    }
                    Err(message) => {
                        return fail(self, value.span(), message, None);
                    }
                }
            }
            let expanded = Spanned::new(body_step.span(), table);
            self.step(def_file, &expanded, &chain);
            if self.runaway {
                return;
            }
        }
    }

    /// Problems found inside a reusable step (those reported in `file` since `before`)
    /// name the call they were reached through; one already reported through another call
    /// is not reported again.
    fn note_calls(&mut self, file: usize, before: usize, calls: &[CallSite]) {
        let Some(call) = calls.last() else { return };
        let mut errors = self.ctxs[file].errors.borrow_mut();
        let mut kept = Vec::new();
        for mut d in errors.drain(before..) {
            if d.message.contains(" (in reusable step `") {
                kept.push(d);
                continue;
            }
            if !self.reported.insert((file, d.line, d.col, d.message.clone())) {
                continue;
            }
            d.message = format!(
                "{} (in reusable step `{}`, called at {}:{}:{})",
                d.message, call.name, call.file, call.line, call.col
            );
            kept.push(d);
        }
        errors.extend(kept);
    }
}

fn takes(params: &[&str]) -> String {
    match params {
        [] => "no parameters".into(),
        [first, rest @ ..] => {
            let mut s = format!("`{first}` (its value)");
            for r in rest {
                s.push_str(&format!(", `{r}`"));
            }
            s
        }
    }
}

/// A body's value with the parameters put in: `"${text}"` alone takes the argument as
/// it is (a number stays a number); inside text, the argument's own template goes in.
fn substitute(value: &toml::Value, args: &BTreeMap<String, Spanned<toml::Value>>) -> Result<toml::Value, String> {
    Ok(match value {
        toml::Value::String(s) => {
            let Ok(template) = values::parse(s) else { return Ok(value.clone()) };
            let uses: Vec<&values::Use> = template.uses().collect();
            if let ([one], true) = (uses.as_slice(), template.text().is_empty()) {
                if let (Some(arg), false) = (args.get(&one.name), one.arithmetic) {
                    return Ok(arg.get_ref().clone());
                }
            }
            let mut problem = None;
            let rewritten = template.rewrite(|u| {
                let arg = args.get(&u.name)?;
                match param_source(u, arg.get_ref()) {
                    Ok(source) => Some(source),
                    Err(e) => {
                        problem.get_or_insert(e);
                        None
                    }
                }
            });
            if let Some(e) = problem {
                return Err(e);
            }
            toml::Value::String(rewritten)
        }
        toml::Value::Array(items) => {
            toml::Value::Array(items.iter().map(|i| substitute(i, args)).collect::<Result<_, _>>()?)
        }
        other => other.clone(),
    })
}

/// What a parameter's use becomes, as template source.
fn param_source(u: &values::Use, arg: &toml::Value) -> Result<String, String> {
    let text = match arg {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        other => return Err(format!("`{}` is given {}, which cannot go into text", u.name, other.type_str())),
    };
    if !u.arithmetic {
        return Ok(text);
    }
    if let Ok(n) = text.trim().parse::<i64>() {
        return n.checked_add(u.add).map(|n| n.to_string()).ok_or_else(|| format!("{} is too large", u.source()));
    }
    let one = values::parse(&text).ok().filter(|t| t.text().is_empty()).and_then(|t| {
        let uses: Vec<values::Use> = t.uses().cloned().collect();
        match uses.as_slice() {
            [only] => Some(only.clone()),
            _ => None,
        }
    });
    match one {
        Some(mut inner) => {
            inner.add += u.add;
            inner.arithmetic = true;
            Ok(inner.source())
        }
        None => Err(format!(
            "`{}` is used in arithmetic ({}) by the reusable step, so it needs a whole number or one value such as \"${{rows}}\", not {:?}",
            u.name,
            u.source(),
            text
        )),
    }
}
