//! The crate's errors: a syntax error found by [`Expression::parse`](crate::Expression::parse)
//! or a failure of [`Expression::evaluate`](crate::Expression::evaluate), each with
//! jsonata's error code and its message as jsonata.js words it (Step Functions quotes that
//! text in the cause of `States.QueryEvaluationError`).

use std::fmt;

/// The crate's one error type.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The expression text is not JSONata, e.g. `1 +` (`S0207`).
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The expression failed while evaluating, e.g. `1 + 'a'` (`T2002`), `$x()` where `$x`
    /// is not a function (`T1006`), or it ran past a limit of [`Limits`](crate::Limits)
    /// (`D1011`, `D1012`, `D2015`).
    #[error(transparent)]
    Eval(#[from] EvalError),
}

/// A syntax error, with jsonata's code (`S0xxx`), message and the character position just
/// after the offending token.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    code: &'static str,
    position: usize,
    message: String,
}

/// An evaluation error, with jsonata's code (`Txxxx`, `Dxxxx`), message and, where jsonata
/// gives one, the character position in the expression.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalError {
    code: &'static str,
    position: Option<usize>,
    message: String,
    kind: EvalErrorKind,
}

/// What kind of evaluation failure an [`EvalError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EvalErrorKind {
    /// jsonata raised an error (its code and message are those of jsonata.js), or a limit
    /// was reached.
    Jsonata,
    /// The expression evaluated to a function, or to a value holding one, which JSON
    /// cannot carry (Step Functions: "returned an unsupported result type"), e.g.
    /// `$fn := function($x){$x}`. Its code is empty.
    UnsupportedResult,
}

impl ParseError {
    pub(crate) fn new(
        code: &'static str,
        position: usize,
        token: Option<String>,
        value: Option<String>,
    ) -> Self {
        let fields = Fields {
            token: token.map(|t| json_string(&t)),
            value: value.map(|v| json_string(&v)),
            ..Fields::default()
        };
        ParseError {
            code,
            position,
            message: render(code, &fields),
        }
    }

    /// A parse error whose inserts are already JSON text (numbers, `null`).
    pub(crate) fn with_fields(code: &'static str, position: usize, fields: Fields) -> Self {
        ParseError {
            code,
            position,
            message: render(code, &fields),
        }
    }

    /// jsonata's error code, e.g. `S0201`.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The message as jsonata.js words it, e.g. `Syntax error: ")"`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Character offset just after the token where the error was found.
    pub fn position(&self) -> usize {
        self.position
    }
}

impl EvalError {
    pub(crate) fn from_fields(code: &'static str, position: Option<usize>, f: &Fields) -> Self {
        EvalError {
            code,
            position,
            message: render(code, f),
            kind: EvalErrorKind::Jsonata,
        }
    }

    pub(crate) fn unsupported_result() -> Self {
        EvalError {
            code: "",
            position: None,
            message: "the expression returned a function, which JSON cannot hold".into(),
            kind: EvalErrorKind::UnsupportedResult,
        }
    }

    /// Whether jsonata raised this error or the result could not be written as JSON.
    pub fn kind(&self) -> EvalErrorKind {
        self.kind
    }

    /// jsonata's error code, e.g. `T1006`.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The message as jsonata.js words it, e.g. `Attempted to invoke a non-function`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Character offset in the expression where jsonata places the error, if any.
    pub fn position(&self) -> Option<usize> {
        self.position
    }
}

impl fmt::Display for ParseError {
    /// `S0201: Syntax error: ")"`, the form Step Functions uses in error causes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl fmt::Display for EvalError {
    /// `T1006: Attempted to invoke a non-function`, the form Step Functions uses in the cause
    /// of `States.QueryEvaluationError`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            EvalErrorKind::Jsonata => write!(f, "{}: {}", self.code, self.message),
            EvalErrorKind::UnsupportedResult => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ParseError {}
impl std::error::Error for EvalError {}

/// The inserts of a message template. Each is the JSON text jsonata would produce with
/// `JSON.stringify` (`None` renders as `undefined`, as in jsonata.js), except `message` and
/// `function_name`, which are inserted verbatim (`{{{...}}}` in the templates).
#[derive(Debug, Clone, Default)]
pub(crate) struct Fields {
    pub token: Option<String>,
    pub value: Option<String>,
    pub value2: Option<String>,
    pub index: Option<String>,
    pub type_: Option<String>,
    pub exp: Option<String>,
    pub message: Option<String>,
    pub function_name: Option<String>,
    /// The raw token, for `{{{token}}}` (T1005, T1007).
    pub raw_token: Option<String>,
}

/// A JSON string literal, as `JSON.stringify` writes it.
pub(crate) fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

fn render(code: &str, f: &Fields) -> String {
    let template = template(code);
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let triple = rest[start..].starts_with("{{{");
        let open = if triple { 3 } else { 2 };
        let close = if triple { "}}}" } else { "}}" };
        let Some(end) = rest[start + open..].find(close) else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &rest[start + open..start + open + end];
        let insert = match (name, triple) {
            ("token", true) => f.raw_token.clone(),
            ("token", false) => f.token.clone(),
            ("value", _) => f.value.clone(),
            ("value2", _) => f.value2.clone(),
            ("index", _) => f.index.clone(),
            ("type", _) => f.type_.clone(),
            ("exp", _) => f.exp.clone(),
            ("message", _) => f.message.clone(),
            ("functionName", _) => f.function_name.clone(),
            _ => None,
        };
        out.push_str(insert.as_deref().unwrap_or("undefined"));
        rest = &rest[start + open + end + close.len()..];
    }
    out.push_str(rest);
    out
}

/// jsonata.js 2.0.6's message catalogue (`errorCodes` in `jsonata.js`), plus the guardrail
/// codes of later jsonata releases (`D1011`, `D1012`, `D2015`) for the limits this crate
/// enforces, and `S0303` for regular expressions the `regex` crate cannot run.
// One arm per error code: the catalogue is a table, and reads best whole.
fn template(code: &str) -> &'static str {
    match code {
        "S0101" => "String literal must be terminated by a matching quote",
        "S0102" => "Number out of range: {{token}}",
        "S0103" => "Unsupported escape sequence: \\{{token}}",
        "S0104" => "The escape sequence \\u must be followed by 4 hex digits",
        "S0105" => "Quoted property name must be terminated with a backquote (`)",
        "S0106" => "Comment has no closing tag",
        "S0201" => "Syntax error: {{token}}",
        "S0202" => "Expected {{value}}, got {{token}}",
        "S0203" => "Expected {{value}} before end of expression",
        "S0204" => "Unknown operator: {{token}}",
        "S0205" => "Unexpected token: {{token}}",
        "S0206" => "Unknown expression type: {{token}}",
        "S0207" => "Unexpected end of expression",
        "S0208" => {
            "Parameter {{value}} of function definition must be a variable name (start with $)"
        }
        "S0209" => "A predicate cannot follow a grouping expression in a step",
        "S0210" => "Each step can only have one grouping expression",
        "S0211" => "The symbol {{token}} cannot be used as a unary operator",
        "S0212" => "The left side of := must be a variable name (start with $)",
        "S0213" => "The literal value {{value}} cannot be used as a step within a path expression",
        "S0214" => "The right side of {{token}} must be a variable name (start with $)",
        "S0215" => "A context variable binding must precede any predicates on a step",
        "S0216" => "A context variable binding must precede the 'order-by' clause on a step",
        "S0217" => "The object representing the 'parent' cannot be derived from this expression",
        "S0301" => "Empty regular expressions are not allowed",
        "S0302" => "No terminating / in regular expression",
        "S0303" => "Unsupported regular expression: {{{message}}}",
        "S0402" => "Choice groups containing parameterized types are not supported",
        "S0401" => "Type parameters can only be applied to functions and arrays",
        "S0500" => "Attempted to evaluate an expression containing syntax error(s)",
        "T0410" => "Argument {{index}} of function {{token}} does not match function signature",
        "T0411" => {
            "Context value is not a compatible type with argument {{index}} of function {{token}}"
        }
        "T0412" => "Argument {{index}} of function {{token}} must be an array of {{type}}",
        "D1001" => "Number out of range: {{value}}",
        "D1002" => "Cannot negate a non-numeric value: {{value}}",
        "T1003" => "Key in object structure must evaluate to a string; got: {{value}}",
        "D1004" => "Regular expression matches zero length string",
        "T1005" => "Attempted to invoke a non-function. Did you mean ${{{token}}}?",
        "T1006" => "Attempted to invoke a non-function",
        "T1007" => "Attempted to partially apply a non-function. Did you mean ${{{token}}}?",
        "T1008" => "Attempted to partially apply a non-function",
        "D1009" => "Multiple key definitions evaluate to same key: {{value}}",
        "D1010" => "Attempted to access the Javascript object prototype",
        "T1010" => {
            "The matcher function argument passed to function {{token}} does not return the correct object structure"
        }
        "D1011" => {
            "Stack overflow. Check for non-terminating recursive function.  Consider rewriting as tail-recursive"
        }
        "D1012" => "{{{message}}}",
        "T2001" => "The left side of the {{token}} operator must evaluate to a number",
        "T2002" => "The right side of the {{token}} operator must evaluate to a number",
        "T2003" => "The left side of the range operator (..) must evaluate to an integer",
        "T2004" => "The right side of the range operator (..) must evaluate to an integer",
        "D2005" => "The left side of := must be a variable name (start with $)",
        "T2006" => "The right side of the function application operator ~> must be a function",
        "T2007" => {
            "Type mismatch when comparing values {{value}} and {{value2}} in order-by clause"
        }
        "T2008" => {
            "The expressions within an order-by clause must evaluate to numeric or string values"
        }
        "T2009" => {
            "The values {{value}} and {{value2}} either side of operator {{token}} must be of the same data type"
        }
        "T2010" => {
            "The expressions either side of operator {{token}} must evaluate to numeric or string values"
        }
        "T2011" => {
            "The insert/update clause of the transform expression must evaluate to an object: {{value}}"
        }
        "T2012" => {
            "The delete clause of the transform expression must evaluate to a string or array of strings: {{value}}"
        }
        "T2013" => {
            "The transform expression clones the input object using the $clone() function.  This has been overridden in the current scope by a non-function."
        }
        "D2014" => {
            "The size of the sequence allocated by the range operator (..) must not exceed 1e6.  Attempted to allocate {{value}}."
        }
        "D2015" => "The maximum sequence length of {{value}} was exceeded.",
        "D3001" => "Attempting to invoke string function on Infinity or NaN",
        "D3010" => "Second argument of replace function cannot be an empty string",
        "D3011" => "Fourth argument of replace function must evaluate to a positive number",
        "D3012" => "Attempted to replace a matched string with a non-string value",
        "D3020" => "Third argument of split function must evaluate to a positive number",
        "D3030" => "Unable to cast value to a number: {{value}}",
        "D3040" => "Third argument of match function must evaluate to a positive number",
        "D3050" => {
            "The second argument of reduce function must be a function with at least two arguments"
        }
        "D3060" => "The sqrt function cannot be applied to a negative number: {{value}}",
        "D3061" => {
            "The power function has resulted in a value that cannot be represented as a JSON number: base={{value}}, exponent={{exp}}"
        }
        "D3070" => {
            "The single argument form of the sort function can only be applied to an array of strings or an array of numbers.  Use the second argument to specify a comparison function"
        }
        "D3080" => "The picture string must only contain a maximum of two sub-pictures",
        "D3081" => {
            "The sub-picture must not contain more than one instance of the 'decimal-separator' character"
        }
        "D3082" => {
            "The sub-picture must not contain more than one instance of the 'percent' character"
        }
        "D3083" => {
            "The sub-picture must not contain more than one instance of the 'per-mille' character"
        }
        "D3084" => "The sub-picture must not contain both a 'percent' and a 'per-mille' character",
        "D3085" => {
            "The mantissa part of a sub-picture must contain at least one character that is either an 'optional digit character' or a member of the 'decimal digit family'"
        }
        "D3086" => {
            "The sub-picture must not contain a passive character that is preceded by an active character and that is followed by another active character"
        }
        "D3087" => {
            "The sub-picture must not contain a 'grouping-separator' character that appears adjacent to a 'decimal-separator' character"
        }
        "D3088" => {
            "The sub-picture must not contain a 'grouping-separator' at the end of the integer part"
        }
        "D3089" => {
            "The sub-picture must not contain two adjacent instances of the 'grouping-separator' character"
        }
        "D3090" => {
            "The integer part of the sub-picture must not contain a member of the 'decimal digit family' that is followed by an instance of the 'optional digit character'"
        }
        "D3091" => {
            "The fractional part of the sub-picture must not contain an instance of the 'optional digit character' that is followed by a member of the 'decimal digit family'"
        }
        "D3092" => {
            "A sub-picture that contains a 'percent' or 'per-mille' character must not contain a character treated as an 'exponent-separator'"
        }
        "D3093" => {
            "The exponent part of the sub-picture must comprise only of one or more characters that are members of the 'decimal digit family'"
        }
        "D3100" => {
            "The radix of the formatBase function must be between 2 and 36.  It was given {{value}}"
        }
        "D3110" => {
            "The argument of the toMillis function must be an ISO 8601 formatted timestamp. Given {{value}}"
        }
        "D3120" => "Syntax error in expression passed to function eval: {{value}}",
        "D3121" => "Dynamic error evaluating the expression passed to function eval: {{value}}",
        "D3130" => {
            "Formatting or parsing an integer as a sequence starting with {{value}} is not supported by this implementation"
        }
        "D3131" => "In a decimal digit pattern, all digits must be from the same decimal group",
        "D3132" => "Unknown component specifier {{value}} in date/time picture string",
        "D3133" => {
            "The 'name' modifier can only be applied to months and days in the date/time picture string, not {{value}}"
        }
        "D3134" => "The timezone integer format specifier cannot have more than four digits",
        "D3135" => "No matching closing bracket ']' in date/time picture string",
        "D3136" => {
            "The date/time picture string is missing specifiers required to parse the timestamp"
        }
        "D3137" => "{{{message}}}",
        "D3138" => {
            "The $single() function expected exactly 1 matching result.  Instead it matched more."
        }
        "D3139" => {
            "The $single() function expected exactly 1 matching result.  Instead it matched 0."
        }
        "D3140" => "Malformed URL passed to ${{{functionName}}}(): {{value}}",
        "D3141" => "{{{message}}}",
        _ => "{{{message}}}",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_templates() {
        let f = Fields {
            token: Some(json_string("+")),
            ..Fields::default()
        };
        assert_eq!(
            render("T2001", &f),
            "The left side of the \"+\" operator must evaluate to a number"
        );
        assert_eq!(render("T1006", &f), "Attempted to invoke a non-function");
        let f = Fields {
            raw_token: Some("sum".into()),
            ..Fields::default()
        };
        assert_eq!(
            render("T1005", &f),
            "Attempted to invoke a non-function. Did you mean $sum?"
        );
        assert_eq!(
            render("T0410", &Fields::default()),
            "Argument undefined of function undefined does not match function signature"
        );
    }
}
