//! The part of Asterisk's dialplan language the scripted PBX ([`super::pbx`]) runs: `extensions.conf` contexts,
//! extensions, priorities (`n`, labels), `${VAR}` and `${FUNC(args)}` substitution, and `$[...]` expressions with
//! the operators the generated dialplan uses (`|`, `&`, `=`, `!=`, `<`, `>`, `<=`, `>=`).
//!
//! It follows pbx.c's order: the inside of `${...}` / `$[...]` is substituted first, then evaluated; a function
//! gets its argument string as one piece and splits it itself (`FILTER(a,b)`: at the first comma).

use std::collections::HashMap;

/// One priority: `App(data)`, with its label if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priority {
    /// `same => n(label),...`
    pub label: Option<String>,
    /// The application name as written.
    pub app: String,
    /// Its argument string, unsubstituted.
    pub data: String,
}

/// A parsed `extensions.conf`.
#[derive(Debug, Clone, Default)]
pub struct Dialplan {
    /// `[globals]`.
    pub globals: HashMap<String, String>,
    /// context → extension → priorities (index 0 = priority 1).
    contexts: HashMap<String, HashMap<String, Vec<Priority>>>,
}

/// A dialplan that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("extensions.conf line {line}: {what}")]
pub struct ParseError {
    /// 1-based.
    pub line: usize,
    /// What is wrong.
    pub what: String,
}

/// Strips a `;` comment (not `\;`).
fn strip_comment(line: &str) -> &str {
    let b = line.as_bytes();
    for i in 0..b.len() {
        if b[i] == b';' && (i == 0 || b[i - 1] != b'\\') {
            return &line[..i];
        }
    }
    line
}

impl Dialplan {
    /// Parses `extensions.conf` text (`[general]` is ignored).
    pub fn parse(text: &str) -> Result<Dialplan, ParseError> {
        let mut plan = Dialplan::default();
        let mut section = String::new();
        let mut current_exten: Option<String> = None;
        for (i, raw) in text.lines().enumerate() {
            let err = |what: &str| ParseError {
                line: i + 1,
                what: what.to_owned(),
            };
            let line = strip_comment(raw).trim();
            if line.is_empty() {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.to_owned();
                current_exten = None;
                continue;
            }
            match section.as_str() {
                "general" => continue,
                "globals" => {
                    let (k, v) = line
                        .split_once('=')
                        .ok_or_else(|| err("expected NAME = value"))?;
                    plan.globals
                        .insert(k.trim().to_owned(), v.trim().to_owned());
                    continue;
                }
                "" => return Err(err("a line before any [context]")),
                _ => {}
            }
            let (kind, body) = line
                .split_once("=>")
                .ok_or_else(|| err("expected exten => or same =>"))?;
            let body = body.trim();
            let (exten, rest) = match kind.trim() {
                "exten" => {
                    let (e, r) = body
                        .split_once(',')
                        .ok_or_else(|| err("exten without a priority"))?;
                    (e.trim().to_owned(), r)
                }
                "same" => (
                    current_exten
                        .clone()
                        .ok_or_else(|| err("same => before any exten =>"))?,
                    body,
                ),
                other => return Err(err(&format!("unknown keyword {other}"))),
            };
            current_exten = Some(exten.clone());
            let (prio, app) = rest
                .split_once(',')
                .ok_or_else(|| err("priority without an application"))?;
            let prio = prio.trim();
            let (prio, label) = match prio.split_once('(') {
                Some((p, l)) => (
                    p,
                    Some(
                        l.strip_suffix(')')
                            .ok_or_else(|| err("unclosed label"))?
                            .to_owned(),
                    ),
                ),
                None => (prio, None),
            };
            let app = app.trim();
            let (name, data) = match app.split_once('(') {
                Some((n, d)) => (
                    n.trim(),
                    d.strip_suffix(')')
                        .ok_or_else(|| err("application data without ')'"))?,
                ),
                None => (app, ""),
            };
            let prios = plan
                .contexts
                .entry(section.clone())
                .or_default()
                .entry(exten)
                .or_default();
            let expected = prios.len() + 1;
            if prio != "n" && prio.parse::<usize>() != Ok(expected) {
                return Err(err(&format!("priority {prio}, expected {expected} or n")));
            }
            prios.push(Priority {
                label,
                app: name.to_owned(),
                data: data.to_owned(),
            });
        }
        Ok(plan)
    }

    /// Priority `prio` (1-based) of `context,exten`.
    pub fn priority(&self, context: &str, exten: &str, prio: usize) -> Option<&Priority> {
        self.contexts
            .get(context)?
            .get(exten)?
            .get(prio.checked_sub(1)?)
    }

    /// The priority number of `label` in `context,exten`.
    pub fn label(&self, context: &str, exten: &str, label: &str) -> Option<usize> {
        if let Ok(n) = label.parse::<usize>() {
            return Some(n);
        }
        self.contexts
            .get(context)?
            .get(exten)?
            .iter()
            .position(|p| p.label.as_deref() == Some(label))
            .map(|i| i + 1)
    }
}

/// Where substitution looks things up: variables and functions of one channel.
pub trait Scope {
    /// `${NAME}` (channel variables, then globals); `None` is an empty value.
    fn var(&mut self, name: &str) -> Option<String>;
    /// `${NAME(args)}`; `Err` for an unknown function or bad arguments.
    fn func(&mut self, name: &str, args: &str) -> Result<String, String>;
}

/// Finds the end of a `${` / `$[` opened at `open` (the index of `{` or `[`), counting nested braces/brackets.
fn matching(s: &[u8], open: usize) -> Option<usize> {
    let (o, c) = if s[open] == b'{' {
        (b'{', b'}')
    } else {
        (b'[', b']')
    };
    let mut depth = 0usize;
    for (i, &b) in s.iter().enumerate().skip(open) {
        if b == o {
            depth += 1;
        } else if b == c {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// `pbx_substitute_variables`: replaces every `${...}` and `$[...]`, innermost first.
pub fn substitute(text: &str, scope: &mut dyn Scope) -> Result<String, String> {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut plain = 0;
    while i + 1 < b.len() {
        if b[i] == b'$' && (b[i + 1] == b'{' || b[i + 1] == b'[') {
            let end = matching(b, i + 1)
                .ok_or_else(|| format!("unclosed ${} in {text}", b[i + 1] as char))?;
            out.push_str(&text[plain..i]);
            let inner = substitute(&text[i + 2..end], scope)?;
            if b[i + 1] == b'{' {
                out.push_str(&lookup(&inner, scope)?);
            } else {
                out.push_str(&expression(&inner)?);
            }
            i = end + 1;
            plain = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&text[plain..]);
    Ok(out)
}

/// The inside of `${...}` after substitution: `NAME(args)` is a function, anything else a variable.
fn lookup(inner: &str, scope: &mut dyn Scope) -> Result<String, String> {
    if let Some(open) = inner.find('(')
        && inner.ends_with(')')
    {
        return scope.func(&inner[..open], &inner[open + 1..inner.len() - 1]);
    }
    Ok(scope.var(inner).unwrap_or_default())
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Value(String),
    Op(&'static str),
}

fn tokens(expr: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = expr.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == '"' {
            chars.next();
            let start = i + 1;
            let mut end = None;
            for (j, d) in chars.by_ref() {
                if d == '"' {
                    end = Some(j);
                    break;
                }
            }
            let end = end.ok_or_else(|| format!("unclosed quote in $[{expr}]"))?;
            out.push(Token::Value(expr[start..end].to_owned()));
            continue;
        }
        let rest = &expr[i..];
        if let Some(op) = ["!=", "<=", ">=", "=", "<", ">", "|", "&"]
            .into_iter()
            .find(|op| rest.starts_with(op))
        {
            out.push(Token::Op(op));
            for _ in 0..op.len() {
                chars.next();
            }
            continue;
        }
        let start = i;
        let mut end = expr.len();
        while let Some(&(j, d)) = chars.peek() {
            if d.is_whitespace() || "!<>=|&\"".contains(d) {
                end = j;
                break;
            }
            chars.next();
        }
        out.push(Token::Value(expr[start..end].to_owned()));
    }
    Ok(out)
}

fn truthy(v: &str) -> bool {
    !v.is_empty() && v != "0"
}

fn compare(a: &str, op: &str, b: &str) -> bool {
    let ord = match (a.trim().parse::<i64>(), b.trim().parse::<i64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    };
    match op {
        "=" => ord.is_eq(),
        "!=" => ord.is_ne(),
        "<" => ord.is_lt(),
        ">" => ord.is_gt(),
        "<=" => ord.is_le(),
        ">=" => ord.is_ge(),
        _ => false,
    }
}

/// `$[...]` after substitution → its value (`1`/`0` for comparisons and logic, the value itself otherwise).
pub fn expression(expr: &str) -> Result<String, String> {
    let toks = tokens(expr)?;
    if toks.is_empty() {
        return Ok(String::new());
    }
    let or_terms: Vec<&[Token]> = toks.split(|t| *t == Token::Op("|")).collect();
    let mut any = false;
    let mut single = None;
    for term in &or_terms {
        let mut all = true;
        for cmp in term.split(|t| *t == Token::Op("&")) {
            let v = match cmp {
                [Token::Value(a), Token::Op(op), Token::Value(b)] => {
                    if compare(a, op, b) {
                        "1".to_owned()
                    } else {
                        "0".to_owned()
                    }
                }
                [Token::Value(a)] => a.clone(),
                [] => String::new(),
                other => return Err(format!("cannot evaluate {other:?} in $[{expr}]")),
            };
            all &= truthy(&v);
            single = Some(v);
        }
        any |= all;
    }
    if or_terms.len() == 1 && !toks.iter().any(|t| matches!(t, Token::Op(_))) {
        return Ok(single.unwrap_or_default());
    }
    Ok(if any { "1" } else { "0" }.to_owned())
}

/// `GotoIf`'s `cond?iftrue:iffalse` → the chosen destination (`None`: continue with the next priority).
pub fn goto_if(data: &str) -> (bool, Option<String>) {
    let (cond, dests) = data.split_once('?').unwrap_or((data, ""));
    let (t, f) = dests.split_once(':').unwrap_or((dests, ""));
    let yes = truthy(cond.trim());
    let dest = if yes { t } else { f }.trim();
    (yes, (!dest.is_empty()).then(|| dest.to_owned()))
}

/// `ast_uri_encode` with the HTTP flags, as `URIENCODE` uses it: unreserved characters stay, everything else is
/// `%XX`.
pub fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Vars(HashMap<String, String>);

    impl Scope for Vars {
        fn var(&mut self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }
        fn func(&mut self, name: &str, args: &str) -> Result<String, String> {
            match name {
                "LEN" => Ok(args.chars().count().to_string()),
                "URIENCODE" => Ok(uri_encode(args)),
                _ => Err(format!("no function {name}")),
            }
        }
    }

    #[test]
    fn substitution_and_expressions_follow_pbx_c() {
        let mut v = Vars(HashMap::from([
            ("JOB".to_owned(), "abc_1".to_owned()),
            ("S".to_owned(), "SUCCESS".to_owned()),
        ]));
        let s = |t: &str, v: &mut Vars| substitute(t, v).unwrap();
        assert_eq!(
            s("$[${LEN(${JOB})} = 0 | ${LEN(${JOB})} > 64]", &mut v),
            "0"
        );
        assert_eq!(s("$[${LEN(${JOB})} = 5]", &mut v), "1");
        assert_eq!(s("$[\"${S}\" = \"SUCCESS\"]", &mut v), "1");
        assert_eq!(s("$[\"${NOPE}\" = \"no\"]", &mut v), "0");
        assert_eq!(s("x${URIENCODE(a b,c)}y", &mut v), "xa%20b%2Ccy");
        assert_eq!(s("$[1]", &mut v), "1");
        assert_eq!(goto_if("0?invalid"), (false, None));
        assert_eq!(goto_if("1?:nofile"), (true, None));
        assert_eq!(goto_if("0?:nofile"), (false, Some("nofile".into())));
    }

    #[test]
    fn parses_contexts_labels_and_globals() {
        let plan = Dialplan::parse(
            "[general]\nstatic = yes\n[globals]\nA = 1 ; comment\n[c]\nexten => e,1,NoOp()\n same => n(l),Set(X=${A})\n",
        )
        .unwrap();
        assert_eq!(plan.globals["A"], "1");
        assert_eq!(plan.label("c", "e", "l"), Some(2));
        assert_eq!(plan.priority("c", "e", 2).unwrap().data, "X=${A}");
        assert!(Dialplan::parse("[c]\nsame => n,NoOp()\n").is_err());
    }
}
