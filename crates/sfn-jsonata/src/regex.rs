//! JavaScript regular expressions (`/.../flags` literals) on the `regex` crate.
//!
//! The pattern is translated so that the JavaScript meaning holds where the two syntaxes
//! differ: `\d`, `\w`, `\b` are ASCII, `\s` is JavaScript's whitespace set, `.` stops at
//! every JavaScript line terminator, `[^]` matches anything, a `{` that does not start a
//! quantifier is literal, `[` inside a class is literal. Lookaround and backreferences
//! have no linear-time implementation and are rejected (`S0303`) rather than run with
//! unbounded backtracking.

use regex::Regex;

/// A compiled regular expression literal.
#[derive(Debug)]
pub(crate) struct JsRegex {
    pub regex: Regex,
    /// The pattern as written, for messages.
    pub source: String,
}

/// One match: byte offsets of the whole match and of each capture group.
pub(crate) struct RegexMatch {
    pub start: usize,
    pub end: usize,
    pub groups: Vec<Option<(usize, usize)>>,
}

const JS_SPACE: &str = r"\t\n\x0B\x0C\r \x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}";

impl JsRegex {
    pub fn new(pattern: &str, flags: &str) -> Result<JsRegex, String> {
        let translated = translate(pattern)?;
        let mut prefix = String::new();
        if flags.contains('i') || flags.contains('m') {
            prefix.push_str("(?");
            if flags.contains('i') {
                prefix.push('i');
            }
            if flags.contains('m') {
                prefix.push('m');
            }
            prefix.push(')');
        }
        let regex = regex::RegexBuilder::new(&format!("{prefix}{translated}"))
            .size_limit(1 << 20)
            .dfa_size_limit(1 << 20)
            .build()
            .map_err(|e| format!("/{pattern}/: {e}"))?;
        Ok(JsRegex {
            regex,
            source: pattern.to_string(),
        })
    }

    /// The first match starting at or after byte offset `from`.
    pub fn exec(&self, text: &str, from: usize) -> Option<RegexMatch> {
        if from > text.len() {
            return None;
        }
        let caps = self.regex.captures_at(text, from)?;
        let whole = caps.get(0)?;
        let groups = (1..caps.len())
            .map(|i| caps.get(i).map(|m| (m.start(), m.end())))
            .collect();
        Some(RegexMatch {
            start: whole.start(),
            end: whole.end(),
            groups,
        })
    }
}

fn unsupported(what: &str) -> String {
    format!("{what} are not supported")
}

/// Is `{` at `i` the start of a quantifier `{n}`, `{n,}` or `{n,m}`?
fn is_quantifier(chars: &[char], i: usize) -> bool {
    let mut j = i + 1;
    let start = j;
    while j < chars.len() && chars[j].is_ascii_digit() {
        j += 1;
    }
    if j == start {
        return false;
    }
    if j < chars.len() && chars[j] == ',' {
        j += 1;
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
    }
    j < chars.len() && chars[j] == '}'
}

fn push_literal(out: &mut String, c: char) {
    if regex_syntax_is_meta(c) {
        out.push('\\');
    }
    out.push(c);
}

fn regex_syntax_is_meta(c: char) -> bool {
    matches!(
        c,
        '\\' | '.'
            | '+'
            | '*'
            | '?'
            | '('
            | ')'
            | '|'
            | '['
            | ']'
            | '{'
            | '}'
            | '^'
            | '$'
            | '#'
            | '&'
            | '-'
            | '~'
    )
}

/// Translates an escape after `\` at `chars[i]`; returns the text and the number of
/// characters consumed after the backslash.
fn escape(chars: &[char], i: usize, in_class: bool) -> Result<(String, usize), String> {
    let Some(&c) = chars.get(i) else {
        return Err("a pattern cannot end with \\".into());
    };
    let hex = |n: usize| -> Option<u32> {
        let s: String = chars.get(i + 1..i + 1 + n)?.iter().collect();
        if s.len() == n && s.chars().all(|h| h.is_ascii_hexdigit()) {
            u32::from_str_radix(&s, 16).ok()
        } else {
            None
        }
    };
    let class = |body: &str, negated: bool| -> String {
        match (in_class, negated) {
            (true, false) => body.to_string(),
            (true, true) => format!("[^{body}]"),
            (false, false) => format!("[{body}]"),
            (false, true) => format!("[^{body}]"),
        }
    };
    Ok(match c {
        'd' => (class("0-9", false), 1),
        'D' => (class("0-9", true), 1),
        'w' => (class("0-9A-Za-z_", false), 1),
        'W' => (class("0-9A-Za-z_", true), 1),
        's' => (class(JS_SPACE, false), 1),
        'S' => (class(JS_SPACE, true), 1),
        'b' if in_class => (r"\x08".into(), 1),
        'b' => (r"(?-u:\b)".into(), 1),
        'B' => (r"(?-u:\B)".into(), 1),
        'n' => (r"\n".into(), 1),
        'r' => (r"\r".into(), 1),
        't' => (r"\t".into(), 1),
        'v' => (r"\x0B".into(), 1),
        'f' => (r"\x0C".into(), 1),
        '0' if !chars.get(i + 1).is_some_and(char::is_ascii_digit) => (r"\x00".into(), 1),
        '1'..='9' => return Err(unsupported("backreferences")),
        'k' if chars.get(i + 1) == Some(&'<') => return Err(unsupported("backreferences")),
        'c' if chars.get(i + 1).is_some_and(char::is_ascii_alphabetic) => {
            let v = (chars[i + 1] as u32) % 32;
            (format!(r"\x{{{v:X}}}"), 2)
        }
        'x' => match hex(2) {
            Some(v) => (format!(r"\x{{{v:X}}}"), 3),
            None => ("x".into(), 1),
        },
        'u' => match hex(4) {
            Some(v) => (format!(r"\x{{{v:X}}}"), 5),
            None => ("u".into(), 1),
        },
        c if c.is_ascii_alphanumeric() => {
            // An identity escape of a letter means the letter in JavaScript's legacy mode.
            (c.to_string(), 1)
        }
        c => {
            let mut s = String::new();
            push_literal(&mut s, c);
            (s, 1)
        }
    })
}

fn translate(pattern: &str) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let (text, used) = escape(&chars, i + 1, false)?;
                out.push_str(&text);
                i += 1 + used;
                continue;
            }
            '.' => out.push_str(r"[^\n\r\x{2028}\x{2029}]"),
            '(' => {
                if chars.get(i + 1) == Some(&'?') {
                    match chars.get(i + 2) {
                        Some('=') | Some('!') => return Err(unsupported("lookahead assertions")),
                        Some('<') if matches!(chars.get(i + 3), Some('=') | Some('!')) => {
                            return Err(unsupported("lookbehind assertions"));
                        }
                        _ => {}
                    }
                }
                out.push('(');
            }
            '{' => {
                if is_quantifier(&chars, i) {
                    out.push('{');
                } else {
                    out.push_str(r"\{");
                }
            }
            '}' => {
                // A `}` closing a quantifier was copied with it below; a lone one is literal.
                out.push_str(r"\}");
            }
            '[' => {
                i = translate_class(&chars, i, &mut out)?;
                continue;
            }
            '#' | '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_whitespace() => {
                // The regex crate ignores nothing by default, but escape to be explicit.
                out.push(c);
            }
            _ => out.push(c),
        }
        if c == '{' && is_quantifier(&chars, i) {
            // Copy the quantifier body and its closing brace verbatim.
            i += 1;
            while chars[i] != '}' {
                out.push(chars[i]);
                i += 1;
            }
            out.push('}');
        }
        i += 1;
    }
    Ok(out)
}

/// Translates a class starting at `chars[start] == '['`; returns the index after it.
fn translate_class(chars: &[char], start: usize, out: &mut String) -> Result<usize, String> {
    let mut i = start + 1;
    let negated = chars.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    if chars.get(i) == Some(&']') {
        // `[]` matches nothing and `[^]` anything, in JavaScript.
        out.push_str(if negated {
            r"[\x{0}-\x{10FFFF}]"
        } else {
            r"[a&&b]"
        });
        return Ok(i + 1);
    }
    let mut body = String::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            ']' => {
                out.push('[');
                if negated {
                    out.push('^');
                }
                out.push_str(&body);
                out.push(']');
                return Ok(i + 1);
            }
            '\\' => {
                let (text, used) = escape(chars, i + 1, true)?;
                body.push_str(&text);
                i += 1 + used;
                continue;
            }
            '[' | '&' | '~' => {
                body.push('\\');
                body.push(c);
            }
            '-' if chars.get(i + 1) == Some(&'-') => body.push_str(r"\-"),
            _ => body.push(c),
        }
        i += 1;
    }
    Err("a character class is not terminated".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, flags: &str, text: &str) -> Option<(usize, usize)> {
        let re = JsRegex::new(pattern, flags).unwrap();
        re.exec(text, 0).map(|m| (m.start, m.end))
    }

    #[test]
    fn javascript_meanings() {
        assert_eq!(m(r"\d+", "", "ab١٢34"), Some((6, 8)));
        assert_eq!(m(r"\w+", "", "éab"), Some((2, 4)));
        assert_eq!(m(r"a.c", "", "a\rc abc"), Some((4, 7)));
        assert_eq!(m(r"a{", "", "xa{"), Some((1, 3)));
        assert_eq!(m(r"a{2}", "", "aaa"), Some((0, 2)));
        assert_eq!(m(r"[[]", "", "x["), Some((1, 2)));
        assert_eq!(m(r"[^]", "", "\n"), Some((0, 1)));
        assert_eq!(m(r"[]", "", "abc"), None);
        assert_eq!(m(r"ABC", "i", "xabc"), Some((1, 4)));
        assert_eq!(m(r"^b", "m", "a\nb"), Some((2, 3)));
        assert_eq!(m(r"\/", "", "a/b"), Some((1, 2)));
        assert_eq!(m(r"\s", "", "a\u{FEFF}"), Some((1, 4)));
        assert_eq!(m(r"\$", "", "a$"), Some((1, 2)));
    }

    #[test]
    fn rejects_what_needs_backtracking() {
        assert!(JsRegex::new(r"(a)\1", "").is_err());
        assert!(JsRegex::new(r"a(?=b)", "").is_err());
        assert!(JsRegex::new(r"(?<!a)b", "").is_err());
    }
}
