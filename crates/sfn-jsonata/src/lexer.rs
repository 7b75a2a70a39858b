//! The tokenizer, a port of jsonata.js 2.0.6 `parser.js` `tokenizer`: it works on characters,
//! reports the position just past each token (as jsonata does), and scans `/.../` as a
//! regular expression only where an operand is expected.

use crate::error::ParseError;

/// Characters that end a name token, with their binding power when used as infix
/// operators (`operators` in jsonata.js).
pub(crate) fn is_operator_char(c: char) -> bool {
    matches!(
        c,
        '.' | '['
            | ']'
            | '{'
            | '}'
            | '('
            | ')'
            | ','
            | '@'
            | '#'
            | ';'
            | ':'
            | '?'
            | '+'
            | '-'
            | '*'
            | '/'
            | '%'
            | '|'
            | '='
            | '<'
            | '>'
            | '^'
            | '&'
            | '!'
            | '~'
    )
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{0B}')
}

/// A regular expression literal: its source text and flags (`i`, `m`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RegexLiteral {
    pub pattern: String,
    pub flags: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenValue {
    Name(String),
    Variable(String),
    Str(String),
    Number(f64),
    Bool(bool),
    Null,
    Regex(RegexLiteral),
    Operator(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub value: TokenValue,
    /// Position just after the token, in characters, as jsonata reports it.
    pub position: usize,
}

pub(crate) struct Lexer {
    chars: Vec<char>,
    position: usize,
}

const OPERATORS: &[&str] = &[
    ".", "[", "]", "{", "}", "(", ")", ",", "@", "#", ";", ":", "?", "+", "-", "*", "/", "%", "|",
    "=", "<", ">", "^", "&", "!", "~",
];

impl Lexer {
    pub fn new(source: &str) -> Self {
        Lexer {
            chars: source.chars().collect(),
            position: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.chars.len()
    }

    fn at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    fn err(&self, code: &'static str, position: usize) -> ParseError {
        ParseError::new(code, position, None, None)
    }

    fn scan_regex(&mut self) -> Result<RegexLiteral, ParseError> {
        let start = self.position;
        let mut depth: i64 = 0;
        let len = self.chars.len();
        while self.position < len {
            let c = self.chars[self.position];
            if c == '/' && depth == 0 {
                let mut backslashes = 0;
                while self.position > backslashes
                    && self.at(self.position - (backslashes + 1)) == Some('\\')
                {
                    backslashes += 1;
                }
                if backslashes % 2 == 0 {
                    let pattern: String = self.chars[start..self.position].iter().collect();
                    if pattern.is_empty() {
                        return Err(self.err("S0301", self.position));
                    }
                    self.position += 1;
                    let fstart = self.position;
                    while matches!(self.at(self.position), Some('i') | Some('m')) {
                        self.position += 1;
                    }
                    let flags: String = self.chars[fstart..self.position].iter().collect();
                    return Ok(RegexLiteral { pattern, flags });
                }
            }
            let prev = if self.position > 0 {
                self.at(self.position - 1)
            } else {
                None
            };
            if matches!(c, '(' | '[' | '{') && prev != Some('\\') {
                depth += 1;
            }
            if matches!(c, ')' | ']' | '}') && prev != Some('\\') {
                depth -= 1;
            }
            self.position += 1;
        }
        Err(self.err("S0302", self.position))
    }

    /// The next token, or `None` at the end. `infix` is true where an operator is expected
    /// (after an operand), so that `/` there is division rather than a regex.
    // A port of jsonata.js's parser.js tokenizer `next`, one branch per kind of token, kept
    // whole to compare with it.
    pub fn next(&mut self, infix: bool) -> Result<Option<Token>, ParseError> {
        let len = self.chars.len();
        loop {
            if self.position >= len {
                return Ok(None);
            }
            while self.position < len && is_space(self.chars[self.position]) {
                self.position += 1;
            }
            if self.at(self.position) == Some('/') && self.at(self.position + 1) == Some('*') {
                let comment_start = self.position;
                self.position += 2;
                loop {
                    if self.at(self.position) == Some('*')
                        && self.at(self.position + 1) == Some('/')
                    {
                        break;
                    }
                    self.position += 1;
                    if self.position >= len {
                        return Err(self.err("S0106", comment_start));
                    }
                }
                self.position += 2;
                continue;
            }
            break;
        }
        let Some(c) = self.at(self.position) else {
            return Ok(None);
        };
        let make = |value, position| Ok(Some(Token { value, position }));
        if !infix && c == '/' {
            self.position += 1;
            let re = self.scan_regex()?;
            return make(TokenValue::Regex(re), self.position);
        }
        let next = self.at(self.position + 1);
        let double = match (c, next) {
            ('.', Some('.')) => Some(".."),
            (':', Some('=')) => Some(":="),
            ('!', Some('=')) => Some("!="),
            ('>', Some('=')) => Some(">="),
            ('<', Some('=')) => Some("<="),
            ('*', Some('*')) => Some("**"),
            ('~', Some('>')) => Some("~>"),
            _ => None,
        };
        if let Some(op) = double {
            self.position += 2;
            return make(TokenValue::Operator(op), self.position);
        }
        if is_operator_char(c) {
            self.position += 1;
            let op = OPERATORS
                .iter()
                .find(|o| o.starts_with(c))
                .copied()
                .unwrap_or("?");
            return make(TokenValue::Operator(op), self.position);
        }
        if c == '"' || c == '\'' {
            let quote = c;
            self.position += 1;
            let mut s = String::new();
            while self.position < len {
                let mut ch = self.chars[self.position];
                if ch == '\\' {
                    self.position += 1;
                    ch = self.at(self.position).unwrap_or('\0');
                    match ch {
                        '"' => s.push('"'),
                        '\\' => s.push('\\'),
                        '/' => s.push('/'),
                        'b' => s.push('\u{8}'),
                        'f' => s.push('\u{c}'),
                        'n' => s.push('\n'),
                        'r' => s.push('\r'),
                        't' => s.push('\t'),
                        'u' => {
                            let hex: String =
                                self.chars.iter().skip(self.position + 1).take(4).collect();
                            if !hex.is_empty() && hex.chars().all(|h| h.is_ascii_hexdigit()) {
                                // jsonata accepts fewer than four digits at the end of the
                                // text (its test is on substr, which may be shorter).
                                let unit = u32::from_str_radix(&hex, 16).unwrap_or(0);
                                push_utf16_unit(&mut s, unit as u16);
                                self.position += hex.chars().count();
                            } else {
                                return Err(self.err("S0104", self.position));
                            }
                        }
                        other => {
                            let token = if self.position >= len {
                                String::new()
                            } else {
                                other.to_string()
                            };
                            return Err(ParseError::new("S0103", self.position, Some(token), None));
                        }
                    }
                } else if ch == quote {
                    self.position += 1;
                    fix_surrogates(&mut s);
                    return make(TokenValue::Str(s), self.position);
                } else {
                    s.push(ch);
                }
                self.position += 1;
            }
            return Err(self.err("S0101", self.position));
        }
        if let Some(end) = self.scan_number() {
            let text: String = self.chars[self.position..end].iter().collect();
            let num: f64 = text.parse().unwrap_or(f64::NAN);
            if num.is_finite() {
                self.position = end;
                return make(TokenValue::Number(num), self.position);
            }
            return Err(ParseError::new("S0102", self.position, Some(text), None));
        }
        if c == '`' {
            self.position += 1;
            if let Some(off) = self.chars[self.position..].iter().position(|&x| x == '`') {
                let name: String = self.chars[self.position..self.position + off]
                    .iter()
                    .collect();
                self.position += off + 1;
                return make(TokenValue::Name(name), self.position);
            }
            self.position = len;
            return Err(self.err("S0105", self.position));
        }
        let mut i = self.position;
        loop {
            let ch = self.at(i);
            match ch {
                None => break,
                Some(ch) if is_space(ch) || is_operator_char(ch) => break,
                _ => i += 1,
            }
        }
        if c == '$' {
            let name: String = self.chars[self.position + 1..i].iter().collect();
            self.position = i;
            return make(TokenValue::Variable(name), self.position);
        }
        let name: String = self.chars[self.position..i].iter().collect();
        self.position = i;
        let value = match name.as_str() {
            "or" => TokenValue::Operator("or"),
            "in" => TokenValue::Operator("in"),
            "and" => TokenValue::Operator("and"),
            "true" => TokenValue::Bool(true),
            "false" => TokenValue::Bool(false),
            "null" => TokenValue::Null,
            _ => {
                if self.position == len && name.is_empty() {
                    return Ok(None);
                }
                TokenValue::Name(name)
            }
        };
        make(value, self.position)
    }

    /// `^-?(0|([1-9][0-9]*))(\.[0-9]+)?([Ee][-+]?[0-9]+)?` at the current position: the end
    /// of the match.
    fn scan_number(&self) -> Option<usize> {
        let mut i = self.position;
        if self.at(i) == Some('-') {
            i += 1;
        }
        match self.at(i) {
            Some('0') => i += 1,
            Some('1'..='9') => {
                while matches!(self.at(i), Some('0'..='9')) {
                    i += 1;
                }
            }
            _ => return None,
        }
        if self.at(i) == Some('.') && matches!(self.at(i + 1), Some('0'..='9')) {
            i += 1;
            while matches!(self.at(i), Some('0'..='9')) {
                i += 1;
            }
        }
        if matches!(self.at(i), Some('e') | Some('E')) {
            let mut j = i + 1;
            if matches!(self.at(j), Some('+') | Some('-')) {
                j += 1;
            }
            if matches!(self.at(j), Some('0'..='9')) {
                while matches!(self.at(j), Some('0'..='9')) {
                    j += 1;
                }
                i = j;
            }
        }
        Some(i)
    }
}

/// Surrogate halves written as `\uD83D\uDE00` arrive one at a time; they are kept as
/// private markers until the string ends, then paired. A lone half (which a JavaScript
/// string can hold but a Rust one cannot) becomes U+FFFD.
fn push_utf16_unit(s: &mut String, unit: u16) {
    if (0xD800..0xE000).contains(&unit) {
        // Mark with a noncharacter pair: U+FDD0 followed by a private-use encoding.
        s.push('\u{FDD0}');
        s.push(char::from_u32(0xF0000 + u32::from(unit)).unwrap_or('\u{FFFD}'));
    } else {
        s.push(char::from_u32(u32::from(unit)).unwrap_or('\u{FFFD}'));
    }
}

fn fix_surrogates(s: &mut String) {
    if !s.contains('\u{FDD0}') {
        return;
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let unit_at = |i: usize| -> Option<u16> {
        if chars.get(i) == Some(&'\u{FDD0}') {
            chars
                .get(i + 1)
                .and_then(|c| (*c as u32).checked_sub(0xF0000))
                .and_then(|u| u16::try_from(u).ok())
        } else {
            None
        }
    };
    while i < chars.len() {
        if let Some(hi) = unit_at(i) {
            if (0xD800..0xDC00).contains(&hi)
                && let Some(lo) = unit_at(i + 2)
                && (0xDC00..0xE000).contains(&lo)
            {
                let c = 0x10000 + ((u32::from(hi) - 0xD800) << 10) + (u32::from(lo) - 0xDC00);
                out.push(char::from_u32(c).unwrap_or('\u{FFFD}'));
                i += 4;
                continue;
            }
            out.push('\u{FFFD}');
            i += 2;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    *s = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(src: &str) -> Vec<TokenValue> {
        let mut lexer = Lexer::new(src);
        let mut out = Vec::new();
        let mut infix = false;
        while let Some(t) = lexer.next(infix).unwrap() {
            infix = !matches!(t.value, TokenValue::Operator(_));
            out.push(t.value);
        }
        out
    }

    #[test]
    fn scans_tokens() {
        use TokenValue::*;
        assert_eq!(
            tokens("a.b[0] ~> $f(1.5e3, 'x\\u0041')"),
            vec![
                Name("a".into()),
                Operator("."),
                Name("b".into()),
                Operator("["),
                Number(0.0),
                Operator("]"),
                Operator("~>"),
                Variable("f".into()),
                Operator("("),
                Number(1500.0),
                Operator(","),
                Str("xA".into()),
                Operator(")"),
            ]
        );
        assert_eq!(
            tokens("/ab+/i"),
            vec![Regex(RegexLiteral {
                pattern: "ab+".into(),
                flags: "i".into()
            })]
        );
        assert_eq!(tokens("'\\uD83D\\uDE00'"), vec![Str("😀".into())]);
        assert_eq!(
            tokens("`a b` /* c */ and"),
            vec![Name("a b".into()), Operator("and")]
        );
    }

    #[test]
    fn reports_errors() {
        let err = |src: &str| {
            let mut lexer = Lexer::new(src);
            loop {
                match lexer.next(false) {
                    Ok(Some(_)) => {}
                    Ok(None) => return String::new(),
                    Err(e) => return e.code().to_string(),
                }
            }
        };
        assert_eq!(err("'abc"), "S0101");
        assert_eq!(err("1e999"), "S0102");
        assert_eq!(err("'\\q'"), "S0103");
        assert_eq!(err("'\\uZZ'"), "S0104");
        assert_eq!(err("`abc"), "S0105");
        assert_eq!(err("/* abc"), "S0106");
        assert_eq!(err("//"), "S0301");
        assert_eq!(err("/abc"), "S0302");
    }
}
