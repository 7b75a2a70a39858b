//! The path grammar, read the way Jayway's `PathCompiler` reads it.
//!
//! The reader works on bytes: every delimiter is ASCII, and the bytes of a multi-byte UTF-8
//! character are never ASCII, so slicing at delimiters always lands on character boundaries.

use super::filter;
use super::{Root, Segment};

/// Deepest nesting of filters and parentheses, so hostile input cannot exhaust the stack.
const MAX_NESTING: usize = 32;
/// The most steps a path may have: a `ResultPath` nests its result one level per step, and no
/// value may be nested deeper than `MAX_DEPTH` (100) anyway. AWS documents no such limit; a
/// definition needing more steps than this is refused at load.
pub(crate) const MAX_SEGMENTS: usize = 128;

/// A position in the text being parsed.
pub(super) struct Cursor<'s> {
    pub(super) src: &'s str,
    pub(super) pos: usize,
    depth: usize,
}

/// Where a path is being read: at the top, or as an operand inside a filter, where names
/// also end at operators and the path ends at the first character that starts no step.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Top,
    Filter,
}

impl<'s> Cursor<'s> {
    pub(super) fn new(src: &'s str) -> Self {
        Cursor {
            src,
            pos: 0,
            depth: 0,
        }
    }

    pub(super) fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    pub(super) fn peek_at(&self, offset: usize) -> Option<u8> {
        self.src.as_bytes().get(self.pos + offset).copied()
    }

    pub(super) fn rest(&self) -> &'s str {
        self.src.get(self.pos..).unwrap_or("")
    }

    pub(super) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(super) fn eat_str(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    pub(super) fn skip_ws(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    /// Moves past the character at the cursor, whatever its width.
    pub(super) fn bump_char(&mut self) {
        self.pos += self.rest().chars().next().map_or(1, char::len_utf8);
    }

    pub(super) fn expect(&mut self, b: u8, what: &str) -> Result<(), String> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(format!("expected {what} {}", self.here()))
        }
    }

    /// "at position N" or "at the end", for messages.
    pub(super) fn here(&self) -> String {
        match self.rest().chars().next() {
            Some(c) => format!("at position {} (found '{c}')", self.pos),
            None => "at the end".to_owned(),
        }
    }

    pub(super) fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            Err(format!("nesting deeper than {MAX_NESTING} levels"))
        } else {
            Ok(())
        }
    }

    pub(super) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
}

/// Parses a whole path: `$`, `$$` or `$name` (a workflow variable), then its steps. The
/// variable's name is returned with the root (empty for the other roots).
pub(super) fn parse_path(src: &str) -> Result<(Root, &str, Vec<Segment>), String> {
    let mut c = Cursor::new(src);
    let (root, variable) = if c.eat_str("$$") {
        (Root::Context, "")
    } else if c.eat(b'$') {
        match c.peek() {
            None | Some(b'.' | b'[') => (Root::Input, ""),
            Some(_) => {
                let start = c.pos;
                while c.peek().is_some_and(|b| !matches!(b, b'.' | b'[')) {
                    c.bump_char();
                }
                let name = c.src.get(start..c.pos).unwrap_or("");
                crate::vars::check_name(name).map_err(|why| format!("'${name}' {why}"))?;
                (Root::Variable, name)
            }
        }
    } else {
        return Err("a path must start with '$'".to_owned());
    };
    let segments = parse_segments(&mut c, Mode::Top)?;
    Ok((root, variable, segments))
}

/// Reads steps until the path ends (the text ends at the top; any character that starts no
/// step inside a filter).
pub(super) fn parse_segments(c: &mut Cursor<'_>, mode: Mode) -> Result<Vec<Segment>, String> {
    let mut segments = Vec::new();
    loop {
        if segments.len() > MAX_SEGMENTS {
            return Err(format!(
                "more than {MAX_SEGMENTS} steps; this engine reads paths of at most {MAX_SEGMENTS}"
            ));
        }
        match c.peek() {
            None => break,
            Some(b'.') if c.peek_at(1) == Some(b'.') => {
                c.pos += 2;
                let inner = match c.peek() {
                    None => return Err("a path must not end with '..'".to_owned()),
                    Some(b'*') => {
                        c.pos += 1;
                        Segment::Wildcard
                    }
                    Some(b'[') => parse_bracket(c)?,
                    Some(b'.') => return Err(format!("unexpected '.' {}", c.here())),
                    Some(_) => {
                        let name = read_name(c, mode)?;
                        if c.peek() == Some(b'(') {
                            return Err(format!("a function cannot follow '..' {}", c.here()));
                        }
                        Segment::Name(name.into())
                    }
                };
                segments.push(Segment::Descendant(Box::new(inner)));
            }
            Some(b'.') => {
                c.pos += 1;
                match c.peek() {
                    None => return Err("a path must not end with '.'".to_owned()),
                    Some(b'[') => segments.push(parse_bracket(c)?),
                    Some(b'*') => {
                        c.pos += 1;
                        segments.push(Segment::Wildcard);
                    }
                    Some(_) => {
                        let name = read_name(c, mode)?;
                        if c.peek() == Some(b'(') {
                            skip_function_arguments(c)?;
                            let at_end = match mode {
                                Mode::Top => c.peek().is_none(),
                                Mode::Filter => !matches!(c.peek(), Some(b'.' | b'[')),
                            };
                            if !at_end {
                                return Err(format!(
                                    "a function call must end the path {}",
                                    c.here()
                                ));
                            }
                            segments.push(Segment::Function(name.into()));
                        } else {
                            segments.push(Segment::Name(name.into()));
                        }
                    }
                }
            }
            Some(b'[') => segments.push(parse_bracket(c)?),
            Some(_) if mode == Mode::Filter => break,
            Some(_) => return Err(format!("expected '.' or '[' {}", c.here())),
        }
    }
    Ok(segments)
}

/// A dot name: everything up to the next `.`, `[` or `(` (and, inside a filter, up to
/// whitespace or an operator).
fn read_name<'s>(c: &mut Cursor<'s>, mode: Mode) -> Result<&'s str, String> {
    let start = c.pos;
    while let Some(b) = c.peek() {
        let ends = match b {
            b'.' | b'[' | b'(' => true,
            b if b.is_ascii_whitespace() => match mode {
                Mode::Top => {
                    return Err(format!(
                        "use bracket notation ['my name'] for names with whitespace {}",
                        c.here()
                    ));
                }
                Mode::Filter => true,
            },
            b'=' | b'<' | b'>' | b'!' | b'~' | b'&' | b'|' | b')' | b']' | b',' => {
                mode == Mode::Filter
            }
            _ => false,
        };
        if ends {
            break;
        }
        c.pos += 1;
    }
    let name = c.src.get(start..c.pos).unwrap_or("");
    if name.is_empty() {
        return Err(format!("expected a name {}", c.here()));
    }
    Ok(name)
}

/// Skips `( … )` after a function name, allowing nested parentheses and quoted text.
fn skip_function_arguments(c: &mut Cursor<'_>) -> Result<(), String> {
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    while let Some(b) = c.peek() {
        match (quote, b) {
            (Some(_), b'\\') => c.pos += 1,
            (Some(q), b) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'\'' | b'"') => quote = Some(b),
            (None, b'(') => depth += 1,
            (None, b')') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    c.pos += 1;
                    return Ok(());
                }
            }
            (None, _) => {}
        }
        c.bump_char();
    }
    Err("unclosed '(' in a function call".to_owned())
}

/// A `[…]` step: quoted names, indexes or a slice, `*`, or a filter.
fn parse_bracket(c: &mut Cursor<'_>) -> Result<Segment, String> {
    c.pos += 1;
    c.skip_ws();
    match c.peek() {
        Some(quote @ (b'\'' | b'"')) => parse_quoted_names(c, quote),
        Some(b'*') => {
            c.pos += 1;
            c.skip_ws();
            c.expect(b']', "']' after '[*'")?;
            Ok(Segment::Wildcard)
        }
        Some(b'?') => {
            c.pos += 1;
            c.skip_ws();
            c.expect(b'(', "'(' after '[?'")?;
            c.enter()?;
            let expr = filter::parse_expr(c)?;
            c.leave();
            c.skip_ws();
            c.expect(b')', "')' closing the filter")?;
            c.skip_ws();
            c.expect(b']', "']' closing the filter")?;
            Ok(Segment::Filter(Box::new(expr)))
        }
        Some(b) if b.is_ascii_digit() || b == b'-' || b == b':' => parse_indexes(c),
        _ => Err(format!(
            "expected a quoted name, an index, '*' or '?(' after '[' {}",
            c.here()
        )),
    }
}

/// `['a']`, `["a"]`, `['a','b']`. The text between the quotes is kept verbatim; a backslash
/// only stops the next character from ending the name (see the module docs).
fn parse_quoted_names(c: &mut Cursor<'_>, quote: u8) -> Result<Segment, String> {
    let mut names: Vec<Box<str>> = Vec::new();
    loop {
        c.skip_ws();
        c.expect(quote, "a quoted name")?;
        let start = c.pos;
        loop {
            match c.peek() {
                None => return Err("unclosed quote in a bracket name".to_owned()),
                Some(b'\\') => {
                    c.pos += 1;
                    if c.peek().is_none() {
                        return Err("unclosed quote in a bracket name".to_owned());
                    }
                    c.bump_char();
                }
                Some(b) if b == quote => break,
                Some(_) => c.bump_char(),
            }
        }
        names.push(c.src.get(start..c.pos).unwrap_or("").into());
        c.pos += 1;
        c.skip_ws();
        match c.peek() {
            Some(b',') => c.pos += 1,
            Some(b']') => {
                c.pos += 1;
                break;
            }
            _ => {
                return Err(format!(
                    "names in brackets must be separated by ',' and closed by ']' {}",
                    c.here()
                ));
            }
        }
    }
    Ok(match names.len() {
        1 => Segment::Name(names.pop().unwrap_or_default()),
        _ => Segment::Names(names),
    })
}

/// `[0]`, `[-1]`, `[0,2]`, `[1:3]`, `[1:]`, `[:2]`; Jayway reads each number as a Java int.
fn parse_indexes(c: &mut Cursor<'_>) -> Result<Segment, String> {
    let start = c.pos;
    let Some(len) = c.rest().find(']') else {
        return Err("unclosed '['".to_owned());
    };
    let body = c.src.get(start..start + len).unwrap_or("");
    if let Some(bad) = body
        .chars()
        .find(|ch| !(ch.is_ascii_digit() || matches!(ch, ',' | '-' | ':' | ' ')))
    {
        return Err(format!(
            "unexpected '{bad}' in an array index at position {start}"
        ));
    }
    c.pos = start + len + 1;
    let int = |s: &str| -> Result<i64, String> {
        s.trim()
            .parse::<i32>()
            .map(i64::from)
            .map_err(|_| format!("'{}' is not an array index", s.trim()))
    };
    if body.contains(':') {
        // Like Jayway, only the first two parts count: a step is accepted and ignored.
        let mut parts = body.split(':');
        let mut bound = || -> Result<Option<i64>, String> {
            match parts.next().map(str::trim) {
                None | Some("") => Ok(None),
                Some(s) => int(s).map(Some),
            }
        };
        let from = bound()?;
        let to = bound()?;
        if from.is_none() && to.is_none() {
            return Err(format!("the slice '[{body}]' needs a start or an end"));
        }
        Ok(Segment::Slice { from, to })
    } else {
        let mut list = body.split(',').map(int).collect::<Result<Vec<_>, _>>()?;
        Ok(match list.len() {
            1 => Segment::Index(list.pop().unwrap_or_default()),
            _ => Segment::Indices(list),
        })
    }
}
