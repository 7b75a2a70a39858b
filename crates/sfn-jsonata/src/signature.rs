//! Function signatures (`<s-nn?:s>`), a port of jsonata.js 2.0.6 `signature.js`: the
//! signature becomes a regular expression over one type letter per argument; matching it
//! validates the arguments, substitutes the context for a missing `-` argument and wraps a
//! lone value where an array is expected.

use regex::Regex;

#[derive(Debug, Clone)]
struct Param {
    regex: String,
    type_: String,
    array: bool,
    context: bool,
    context_class: Option<String>,
    subtype: Option<String>,
}

/// A parsed signature with its compiled matcher.
#[derive(Debug)]
pub(crate) struct Signature {
    params: Vec<Param>,
    regex: Regex,
    /// The anchored prefix patterns used to find the first bad argument.
    prefixes: Vec<Regex>,
}

/// The letter jsonata assigns each kind of value in a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sym {
    F,
    S,
    N,
    B,
    L,
    A,
    O,
    M,
}

impl Sym {
    pub(crate) fn ch(self) -> char {
        match self {
            Sym::F => 'f',
            Sym::S => 's',
            Sym::N => 'n',
            Sym::B => 'b',
            Sym::L => 'l',
            Sym::A => 'a',
            Sym::O => 'o',
            Sym::M => 'm',
        }
    }
}

/// What went wrong validating arguments; the evaluator turns it into T0410/T0411/T0412
/// with the function's name.
#[derive(Debug)]
pub(crate) enum Mismatch {
    /// T0410: argument `index` (1-based) does not match.
    Argument { index: usize },
    /// T0411: the context value is not a compatible type with argument `index`.
    Context { index: usize },
    /// T0412: argument `index` must be an array of `type_`.
    ArrayOf { index: usize, type_: &'static str },
}

fn find_closing(chars: &[char], start: usize, open: char, close: char) -> usize {
    let mut depth = 1;
    let mut position = start;
    while position < chars.len() {
        position += 1;
        match chars.get(position) {
            Some(&c) if c == close => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Some(&c) if c == open => depth += 1,
            _ => {}
        }
    }
    position
}

impl Signature {
    /// Parses `<...>`; the error is jsonata's code and the offset in the signature.
    pub fn parse(signature: &str) -> Result<Signature, (&'static str, usize)> {
        let chars: Vec<char> = signature.chars().collect();
        let mut position = 1;
        let mut params: Vec<Param> = Vec::new();
        let blank = || Param {
            regex: String::new(),
            type_: String::new(),
            array: false,
            context: false,
            context_class: None,
            subtype: None,
        };
        let mut param = blank();
        while position < chars.len() {
            let symbol = chars[position];
            if symbol == ':' {
                break;
            }
            match symbol {
                's' | 'n' | 'b' | 'l' | 'o' => {
                    param.regex = format!("[{symbol}m]");
                    param.type_ = symbol.to_string();
                    params.push(std::mem::replace(&mut param, blank()));
                }
                'a' => {
                    param.regex = "[asnblfom]".into();
                    param.type_ = "a".into();
                    param.array = true;
                    params.push(std::mem::replace(&mut param, blank()));
                }
                'f' => {
                    param.regex = "f".into();
                    param.type_ = "f".into();
                    params.push(std::mem::replace(&mut param, blank()));
                }
                'j' => {
                    param.regex = "[asnblom]".into();
                    param.type_ = "j".into();
                    params.push(std::mem::replace(&mut param, blank()));
                }
                'x' => {
                    param.regex = "[asnblfom]".into();
                    param.type_ = "x".into();
                    params.push(std::mem::replace(&mut param, blank()));
                }
                '-' => {
                    if let Some(prev) = params.last_mut() {
                        prev.context = true;
                        prev.context_class = Some(prev.regex.clone());
                        prev.regex.push('?');
                    }
                }
                '?' | '+' => {
                    if let Some(prev) = params.last_mut() {
                        prev.regex.push(symbol);
                    }
                }
                '(' => {
                    let end = find_closing(&chars, position, '(', ')');
                    let choice: String = chars[position + 1..end.min(chars.len())].iter().collect();
                    if choice.contains('<') {
                        return Err(("S0402", position));
                    }
                    param.regex = format!("[{choice}m]");
                    param.type_ = format!("({choice})");
                    position = end;
                    params.push(std::mem::replace(&mut param, blank()));
                }
                '<' => {
                    let prev_type = params.last().map(|p| p.type_.as_str()).unwrap_or("");
                    if prev_type == "a" || prev_type == "f" {
                        let end = find_closing(&chars, position, '<', '>');
                        let sub: String =
                            chars[position + 1..end.min(chars.len())].iter().collect();
                        if let Some(prev) = params.last_mut() {
                            prev.subtype = Some(sub);
                        }
                        position = end;
                    } else {
                        return Err(("S0401", position));
                    }
                }
                _ => {}
            }
            position += 1;
        }
        let body: String = params.iter().map(|p| format!("({})", p.regex)).collect();
        let regex = Regex::new(&format!("^{body}$")).map_err(|_| ("S0401", 0))?;
        let mut prefixes = Vec::with_capacity(params.len());
        let mut partial = String::from("^");
        for p in &params {
            partial.push_str(&p.regex);
            prefixes.push(Regex::new(&partial).map_err(|_| ("S0401", 0))?);
        }
        Ok(Signature {
            params,
            regex,
            prefixes,
        })
    }

    /// Validates `args` (their type letters in `syms`) against the signature. Returns, for
    /// each parameter in order, where its value comes from.
    pub fn validate(&self, syms: &[Sym], context: Sym) -> Result<Vec<Source>, Mismatch> {
        let supplied: String = syms.iter().map(|s| s.ch()).collect();
        let Some(caps) = self.regex.captures(&supplied) else {
            return Err(self.first_bad(&supplied));
        };
        let mut out = Vec::with_capacity(self.params.len());
        let mut arg_index = 0;
        for (index, param) in self.params.iter().enumerate() {
            let matched = caps.get(index + 1).map(|m| m.as_str()).unwrap_or("");
            if matched.is_empty() {
                if param.context && param.context_class.is_some() {
                    let class = param.context_class.as_deref().unwrap_or("");
                    if class_matches(class, context.ch()) {
                        out.push(Source::Context);
                    } else {
                        return Err(Mismatch::Context {
                            index: arg_index + 1,
                        });
                    }
                } else {
                    out.push(Source::Arg {
                        index: arg_index,
                        wrap: false,
                    });
                    arg_index += 1;
                }
                continue;
            }
            for single in matched.chars() {
                if param.type_ == "a" {
                    if single == 'm' {
                        out.push(Source::Undefined);
                    } else {
                        if let Some(sub) = &param.subtype
                            && single != 'a'
                            && matched != sub
                        {
                            return Err(Mismatch::ArrayOf {
                                index: arg_index + 1,
                                type_: plural(sub),
                            });
                        }
                        out.push(Source::Arg {
                            index: arg_index,
                            wrap: single != 'a',
                        });
                        if single == 'a'
                            && let Some(sub) = &param.subtype
                        {
                            out.pop();
                            out.push(Source::CheckedArray {
                                index: arg_index,
                                subtype: sub.chars().next().unwrap_or('x'),
                                plural: plural(sub),
                            });
                        }
                    }
                    arg_index += 1;
                } else {
                    out.push(Source::Arg {
                        index: arg_index,
                        wrap: false,
                    });
                    arg_index += 1;
                }
            }
        }
        Ok(out)
    }

    fn first_bad(&self, supplied: &str) -> Mismatch {
        let mut good_to = 0;
        for prefix in &self.prefixes {
            match prefix.find(supplied) {
                None => return Mismatch::Argument { index: good_to + 1 },
                Some(m) => good_to = m.end(),
            }
        }
        Mismatch::Argument { index: good_to + 1 }
    }
}

fn class_matches(class: &str, c: char) -> bool {
    if let Some(inner) = class.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        inner.contains(c)
    } else {
        class.starts_with(c)
    }
}

fn plural(sub: &str) -> &'static str {
    match sub {
        "a" => "arrays",
        "b" => "booleans",
        "f" => "functions",
        "n" => "numbers",
        "o" => "objects",
        "s" => "strings",
        _ => "undefined",
    }
}

/// Where a validated argument comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Source {
    /// The `index`-th supplied argument (or undefined past the end); `wrap` puts a value
    /// that is not an array into a one-item array.
    Arg { index: usize, wrap: bool },
    /// The supplied array argument, whose items must all have the letter `subtype`
    /// (checked by the caller, which sees the values: T0412 naming `plural`).
    CheckedArray {
        index: usize,
        subtype: char,
        plural: &'static str,
    },
    /// The context value, for a missing `-` parameter.
    Context,
    /// Explicitly undefined.
    Undefined,
}

#[cfg(test)]
mod tests {
    use super::*;
    use Sym::*;

    fn v(sig: &str, args: &[Sym], ctx: Sym) -> Result<Vec<Source>, Mismatch> {
        Signature::parse(sig).unwrap().validate(args, ctx)
    }

    #[test]
    fn validates_like_jsonata() {
        let arg = |index| Source::Arg { index, wrap: false };
        assert_eq!(
            v("<s-nn?:s>", &[N, N], S).unwrap(),
            vec![Source::Context, arg(0), arg(1)]
        );
        assert_eq!(
            v("<s-nn?:s>", &[S, N], S).unwrap(),
            vec![arg(0), arg(1), arg(2)]
        );
        assert_eq!(
            v("<x-b?:s>", &[], N).unwrap(),
            vec![Source::Context, arg(0)]
        );
        assert!(matches!(
            v("<s-:s>", &[], N),
            Err(Mismatch::Context { index: 1 })
        ));
        assert!(matches!(
            v("<s-:s>", &[N], S),
            Err(Mismatch::Argument { index: 1 })
        ));
        assert!(matches!(
            v("<nn:n>", &[N, N, N], S),
            Err(Mismatch::Argument { index: 3 })
        ));
        assert_eq!(
            v("<a<n>:n>", &[N], S).unwrap(),
            vec![Source::Arg {
                index: 0,
                wrap: true
            }]
        );
        assert!(matches!(
            v("<a<n>:n>", &[S], S),
            Err(Mismatch::ArrayOf {
                index: 1,
                type_: "numbers"
            })
        ));
        assert_eq!(v("<a+>", &[A, A, A], S).unwrap().len(), 3);
        assert!(Signature::parse("<s<n>>").is_err());
    }
}
