//! `faxline agent --check`, configuration part: load the configuration, print every problem at once, and
//! fail when any is an error. Connectivity checks (AMI login, API reachable, spool writable) are in
//! [`super::agent::check_connectivity`].

use std::io::Write;
use std::path::Path;

use faxline_agent::config::{Config, Env, Problem, check_config, render_problems};

/// Load and judge the configuration. `Err` only when it cannot be loaded at all (syntax, unknown setting).
pub fn check(path: Option<&Path>, env: &Env) -> anyhow::Result<(Config, Vec<Problem>)> {
    let cfg = Config::load(path, env)?;
    let problems = check_config(&cfg);
    Ok((cfg, problems))
}

/// Print the report to `out`; returns true when there is no error (warnings allowed).
pub fn print_report(problems: &[Problem], out: &mut dyn Write) -> std::io::Result<bool> {
    out.write_all(render_problems(problems).as_bytes())?;
    Ok(!problems.iter().any(Problem::is_error))
}
