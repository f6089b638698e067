//! Where a suite's text comes from: the spec files of a folder or one file (or the built-in
//! suite), each read only if it is a regular file of a sane size and UTF-8, every problem
//! located.

use std::path::Path;

use super::{Diagnostic, SpecErrors, SpecSource, BUILT_IN};

/// One spec file's text and the name it is shown under.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub display: String,
    pub stem: String,
    pub text: String,
}

pub(super) fn read_sources(source: &SpecSource) -> Result<Vec<SourceFile>, SpecErrors> {
    match source {
        SpecSource::BuiltIn => Ok(BUILT_IN
            .iter()
            .map(|(name, text)| SourceFile {
                display: format!("<built-in>/{name}"),
                stem: stem_of(Path::new(name)),
                text: (*text).to_string(),
            })
            .collect()),
        SpecSource::Path(path) => {
            let io_err = |p: &Path, e: std::io::Error, hint: &str| {
                SpecErrors::one(Diagnostic::file_level(
                    p.display().to_string(),
                    format!("failed to read specs: {e}"),
                    Some(io_hint(&e, hint)),
                ))
            };
            let meta =
                std::fs::metadata(path).map_err(|e| io_err(path, e, "pass an existing folder or file with --specs"))?;
            let mut paths = if meta.is_dir() {
                let entries = std::fs::read_dir(path).map_err(|e| io_err(path, e, "check the folder's permissions"))?;
                let mut paths = Vec::new();
                for entry in entries {
                    let entry = entry.map_err(|e| io_err(path, e, "check the folder's permissions"))?;
                    let p = entry.path();
                    if p.extension().is_some_and(|ext| ext == "toml") {
                        paths.push(p);
                    }
                }
                if paths.is_empty() {
                    return Err(SpecErrors::one(Diagnostic::file_level(
                        path.display().to_string(),
                        "no spec files (*.toml) in this folder".to_string(),
                        Some("put scenarios in NAME.toml files here, or point --specs elsewhere".into()),
                    )));
                }
                paths
            } else {
                vec![path.clone()]
            };
            paths.sort();
            let mut files = Vec::new();
            let mut errors = Vec::new();
            for p in paths {
                let display = p.display().to_string();
                let bytes = match read_file(&p, "specs", "check the file's permissions") {
                    Ok(bytes) => bytes,
                    Err(refused) => {
                        errors.extend(refused.0);
                        continue;
                    }
                };
                match String::from_utf8(bytes) {
                    Ok(text) => files.push(SourceFile { display, stem: stem_of(&p), text }),
                    Err(e) => errors.push(not_utf8(&display, e)),
                }
            }
            if !errors.is_empty() {
                return Err(SpecErrors(errors));
            }
            Ok(files)
        }
    }
}

/// The largest spec or config file ft reads. The built-in suite is about 10 KiB; 4 MiB
/// holds thousands of scenarios, and a file beyond it is a mistake (a log, a dump, a
/// device) to refuse at once rather than read into memory.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The bytes of the spec or config file at `path` (`what`: "specs", "the config file"),
/// read only if it is a regular file (after following symbolic links) of at most
/// `MAX_FILE_BYTES`: a FIFO would block forever and `/dev/zero` never ends.
pub(crate) fn read_file(path: &Path, what: &str, hint: &str) -> Result<Vec<u8>, SpecErrors> {
    use crate::shared::files::{read_regular, Refused};
    let refused = |message: String, hint: String| {
        SpecErrors::one(Diagnostic::file_level(path.display().to_string(), message, Some(hint)))
    };
    read_regular(path, MAX_FILE_BYTES).map_err(|r| match r {
        Refused::Io(e) => refused(format!("failed to read {what}: {e}"), io_hint(&e, hint)),
        Refused::NotRegular(_) => refused(
            format!("failed to read {what}: {r}"),
            "ft reads specs and ft.toml only from regular files (symbolic links to them are followed)".into(),
        ),
        Refused::TooLarge(_) => refused(
            format!("failed to read {what}: {r}"),
            "a spec or config file this large is not one: point at the right file".into(),
        ),
    })
}

/// The hint for a failure to open or read a file: `fallback`, unless the error says
/// what is wrong more exactly than that.
fn io_hint(e: &std::io::Error, fallback: &str) -> String {
    match e.raw_os_error() {
        Some(libc::ELOOP) => {
            "symbolic links here point at each other in a loop and never reach a file: point one at a real file or remove it".into()
        }
        _ => fallback.into(),
    }
}

/// A file that is not UTF-8, located at its first invalid byte.
pub(crate) fn not_utf8(display: &str, e: std::string::FromUtf8Error) -> Diagnostic {
    let bytes = e.as_bytes();
    let utf8 = e.utf8_error();
    let valid = utf8.valid_up_to();
    let bad = &bytes[valid..valid + utf8.error_len().unwrap_or(bytes.len() - valid).min(4)];
    let shown: Vec<String> = bad.iter().map(|b| format!("0x{b:02X}")).collect();
    // The text before the bad byte is valid: its lines and characters give the position.
    let before = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
    Diagnostic::at(
        display,
        before,
        valid..valid,
        format!("this file is not UTF-8 text: invalid byte {} here", shown.join(" ")),
        Some("re-save the file as UTF-8 (TOML files are UTF-8), e.g. with `iconv -f latin1 -t utf-8`".into()),
    )
}

fn stem_of(path: &Path) -> String {
    path.file_stem().map_or_else(|| "specs".to_string(), |s| s.to_string_lossy().into_owned())
}
