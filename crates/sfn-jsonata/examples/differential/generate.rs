//! Random JSONata expressions and inputs from a seed: a grammar over the whole language
//! (paths, predicates, wildcards, parent, bindings, grouping, sorting, every operator,
//! constructors, blocks, lambdas, closures, partial application, chaining, transforms,
//! regular expressions and the function library), biased towards expressions that
//! evaluate, with enough ill-typed ones to exercise the errors.
//!
//! Left out, because the two sides cannot agree on them by construction: `$now`,
//! `$millis`, `$random`, `$shuffle` (time and randomness), `$eval` (absent from Step
//! Functions), the functions Step Functions adds (absent from jsonata.js), and names of
//! JavaScript object members (`constructor`, `__proto__`...), which jsonata.js resolves on
//! the prototype.

use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

const FIELDS: &[&str] = &[
    "a", "b", "c", "name", "price", "qty", "items", "tags", "id", "x",
];
const STRINGS: &[&str] = &[
    "",
    "a",
    "abc",
    "Hello World",
    " padded  text ",
    "2",
    "3.5",
    "-7",
    "true",
    "é ü ß",
    "a,b,,c",
    "2024-01-15T10:30:00Z",
    "2024-02-29",
    "x-y_z",
    "ABC def",
    "0x1F",
    "1e3",
    "%41%20b",
    "aGVsbG8=",
    "b",
    "c",
    "hello world foo",
];
const NUMBERS: &[&str] = &[
    "0", "1", "2", "3", "-1", "10", "0.5", "1.5", "2.5", "-2.5", "0.125", "100", "1e3", "3.14159",
    "12.345", "1000000", "0.1", "7", "42", "-0.5",
];
const REGEXES: &[&str] = &[
    "/a/",
    "/[0-9]+/",
    "/\\w+/",
    "/^a/",
    "/b$/",
    "/(a)(b)?/",
    "/[a-c]/",
    "/x*/",
    "/\\s+/",
    "/./",
    "/A/i",
    "/l+/",
    "/(\\w+)\\s(\\w+)/",
    "/[aeiou]/i",
    "/,/",
    "/\\d/",
];
const NUMBER_PICTURES: &[&str] = &[
    "#,##0.00",
    "0.0",
    "#",
    "000",
    "#,###",
    "0%",
    "#.##",
    "00.00",
    "#,##0.###",
    "0.00;(0.00)",
    "#\u{2030}",
    "###,###.0",
];
const INTEGER_PICTURES: &[&str] = &[
    "w", "W", "Ww", "I", "i", "A", "a", "0", "000", "#,##0", "0;o", "w;o",
];
const DATE_PICTURES: &[&str] = &[
    "[Y0001]-[M01]-[D01]",
    "[H01]:[m01]:[s01]",
    "[FNn], [D1o] [MNn] [Y]",
    "[Y]",
    "[M01]/[D01]",
    "[h]:[m01] [P]",
    "[dwo] day",
    "[X0001]-W[W01]",
    "[D01] [MN,*-3] [Y0001]",
    "[H]h[m]",
];
const DATE_STRINGS: &[&str] = &[
    "2024-01-15T10:30:00Z",
    "2024-01-15",
    "2018-03-23T10:33:36.617Z",
    "1970-01-01T00:00:00Z",
    "2024-02-29T23:59:59.999+01:00",
    "2000",
    "2024-06",
];

pub struct Gen {
    rng: ChaCha8Rng,
    vars: Vec<String>,
    functions: Vec<String>,
}

impl Gen {
    pub fn new(rng: ChaCha8Rng) -> Gen {
        Gen {
            rng,
            vars: Vec::new(),
            functions: Vec::new(),
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items.choose(&mut self.rng).copied().unwrap_or("")
    }

    // ---- inputs -----------------------------------------------------------------------

    pub fn input(&mut self) -> Option<Value> {
        if self.chance(0.05) {
            return None;
        }
        Some(if self.chance(0.85) {
            self.object(3)
        } else {
            self.json(3)
        })
    }

    fn object(&mut self, depth: u32) -> Value {
        let mut map = Map::new();
        let n = self.rng.random_range(1..=5);
        for _ in 0..n {
            let k = self.pick(FIELDS).to_string();
            let v = self.json(depth.saturating_sub(1));
            map.insert(k, v);
        }
        Value::Object(map)
    }

    fn json(&mut self, depth: u32) -> Value {
        let r = self.rng.random_range(0..100);
        match r {
            0..=24 => {
                let n: f64 = self.pick(NUMBERS).parse().unwrap_or(0.0);
                if n.fract() == 0.0 {
                    json!(n as i64)
                } else {
                    json!(n)
                }
            }
            25..=44 => json!(self.pick(STRINGS)),
            45..=50 => json!(self.chance(0.5)),
            51..=54 => Value::Null,
            55..=77 if depth > 0 => {
                let n = self.rng.random_range(0..=4);
                Value::Array((0..n).map(|_| self.json(depth - 1)).collect())
            }
            _ if depth > 0 => self.object(depth - 1),
            _ => json!(self.rng.random_range(-3..10)),
        }
    }

    // ---- expressions ------------------------------------------------------------------

    pub fn expression(&mut self) -> String {
        self.vars.clear();
        self.functions.clear();
        let depth = self.rng.random_range(1..=5);
        self.expr(depth)
    }

    fn string_literal(&mut self) -> String {
        let s = self.pick(STRINGS);
        if self.chance(0.5) {
            format!("'{}'", s.replace('\'', "\\'"))
        } else {
            serde_json::to_string(s).unwrap_or_default()
        }
    }

    fn number_literal(&mut self) -> String {
        self.pick(NUMBERS).to_string()
    }

    fn name(&mut self) -> String {
        let f = self.pick(FIELDS);
        if self.chance(0.05) {
            format!("`{f}`")
        } else {
            f.to_string()
        }
    }

    fn variable(&mut self) -> String {
        if !self.vars.is_empty() && self.chance(0.8) {
            let v = self.vars.choose(&mut self.rng).cloned().unwrap_or_default();
            return format!("${v}");
        }
        match self.rng.random_range(0..4) {
            0 => "$".into(),
            1 => "$$".into(),
            2 => "$undefinedVar".into(),
            _ => format!("${}", self.pick(FIELDS)),
        }
    }

    fn atom(&mut self) -> String {
        match self.rng.random_range(0..10) {
            0 | 1 => self.number_literal(),
            2 | 3 => self.string_literal(),
            4 => self.pick(&["true", "false", "null"]).to_string(),
            5 => self.variable(),
            _ => self.path(1),
        }
    }

    fn step(&mut self, depth: u32, first: bool) -> String {
        let base = match self.rng.random_range(0..20) {
            0 => "*".to_string(),
            1 if !first => "%".to_string(),
            2 if depth > 0 => format!("({})", self.expr(depth - 1)),
            3 if depth > 0 => format!("[{}]", self.expr(depth - 1)),
            4 if depth > 0 && !first => self.call(depth - 1),
            5 if first => "$".to_string(),
            6 if first => self.variable(),
            7 if first && self.chance(0.3) => "**".to_string(),
            _ => self.name(),
        };
        let mut s = base;
        let r = self.rng.random_range(0..30);
        match r {
            0..=2 => s.push_str(&format!("[{}]", self.pick(&["0", "1", "-1", "2", "0.5"]))),
            3..=4 if depth > 0 => {
                let p = self.predicate(depth - 1);
                s.push_str(&format!("[{p}]"));
            }
            5 => s.push_str("[]"),
            6 if depth > 0 && !first => {
                let v = format!("v{}", self.vars.len());
                s.push_str(&format!("@${v}"));
                self.vars.push(v);
            }
            7 if depth > 0 && !first => {
                let v = format!("i{}", self.vars.len());
                s.push_str(&format!("#${v}"));
                self.vars.push(v);
            }
            _ => {}
        }
        s
    }

    fn predicate(&mut self, depth: u32) -> String {
        match self.rng.random_range(0..6) {
            0 => format!(
                "{} {} {}",
                self.name(),
                self.pick(&["=", "!=", ">", "<", ">=", "<="]),
                self.atom()
            ),
            1 => self.name(),
            2 => format!("$exists({})", self.name()),
            3 => format!(
                "[{}, {}]",
                self.pick(&["0", "1"]),
                self.pick(&["1", "2", "-1"])
            ),
            _ => self.expr(depth),
        }
    }

    fn path(&mut self, depth: u32) -> String {
        let n = self.rng.random_range(1..=3);
        let mut steps = vec![self.step(depth, true)];
        for _ in 1..n {
            steps.push(self.step(depth, false));
        }
        let mut s = steps.join(".");
        if depth > 0 {
            match self.rng.random_range(0..25) {
                0 => {
                    let k = self.group_key();
                    let v = self.expr(depth - 1);
                    s = format!("{s}{{{k}: {v}}}");
                }
                1 => {
                    let dir = self.pick(&["", "<", ">"]);
                    let t = self.sort_term();
                    s = format!("{s}^({dir}{t})");
                }
                _ => {}
            }
        }
        s
    }

    fn group_key(&mut self) -> String {
        match self.rng.random_range(0..3) {
            0 => self.string_literal(),
            1 => self.name(),
            _ => format!("$string({})", self.name()),
        }
    }

    fn sort_term(&mut self) -> String {
        match self.rng.random_range(0..3) {
            0 => self.name(),
            1 => "$".into(),
            _ => format!("{} * -1", self.name()),
        }
    }

    fn expr(&mut self, depth: u32) -> String {
        if depth == 0 {
            return self.atom();
        }
        let d = depth - 1;
        match self.rng.random_range(0..100) {
            0..=14 => self.path(depth),
            15..=29 => {
                let op = self.pick(&[
                    "+", "-", "*", "/", "%", "=", "!=", "<", "<=", ">", ">=", "&", "and", "or",
                    "in", "&", "+", "=",
                ]);
                let (l, r) = (self.expr(d), self.expr(d));
                if self.chance(0.5) {
                    format!("({l} {op} {r})")
                } else {
                    format!("{l} {op} {r}")
                }
            }
            30..=31 => format!("-{}", self.expr(d)),
            32..=35 => {
                let c = self.expr(d);
                let t = self.expr(d);
                if self.chance(0.7) {
                    let e = self.expr(d);
                    format!("{c} ? {t} : {e}")
                } else {
                    format!("({c} ? {t})")
                }
            }
            36..=40 => {
                let n = self.rng.random_range(0..=3);
                let items: Vec<String> = (0..n).map(|_| self.array_item(d)).collect();
                format!("[{}]", items.join(", "))
            }
            41..=44 => {
                let n = self.rng.random_range(0..=3);
                let pairs: Vec<String> = (0..n)
                    .map(|_| {
                        let k = if self.chance(0.8) {
                            self.string_literal()
                        } else {
                            self.expr(d)
                        };
                        let v = self.expr(d);
                        format!("{k}: {v}")
                    })
                    .collect();
                format!("{{{}}}", pairs.join(", "))
            }
            45..=50 => self.block(d),
            51..=72 => self.call(d),
            73..=78 => self.lambda_use(d),
            79..=81 => self.chain(d),
            82..=83 => self.transform(d),
            84..=85 => self.pick(REGEXES).to_string(),
            86..=88 => self.string_literal(),
            89..=91 => self.number_literal(),
            _ => self.atom(),
        }
    }

    fn array_item(&mut self, d: u32) -> String {
        if self.chance(0.15) {
            let a = self.rng.random_range(-2..5);
            let b = self.rng.random_range(-1..8);
            format!("{a}..{b}")
        } else {
            self.expr(d)
        }
    }

    fn block(&mut self, d: u32) -> String {
        let n = self.rng.random_range(1..=3);
        let mut parts = Vec::new();
        for _ in 0..n {
            let v = format!("b{}", self.vars.len());
            let value = if self.chance(0.3) {
                self.lambda(d)
            } else {
                self.expr(d)
            };
            parts.push(format!("${v} := {value}"));
            if value.starts_with("function") {
                self.functions.push(v.clone());
            }
            self.vars.push(v);
        }
        parts.push(self.expr(d));
        format!("({})", parts.join("; "))
    }

    fn lambda(&mut self, d: u32) -> String {
        let n = self.rng.random_range(1..=2);
        let params: Vec<String> = (0..n).map(|i| format!("p{}{i}", self.vars.len())).collect();
        let saved = self.vars.len();
        self.vars.extend(params.iter().cloned());
        let body = self.expr(d);
        self.vars.truncate(saved);
        let params: Vec<String> = params.iter().map(|p| format!("${p}")).collect();
        format!("function({}){{ {body} }}", params.join(", "))
    }

    fn lambda_use(&mut self, d: u32) -> String {
        match self.rng.random_range(0..8) {
            0 => {
                let l = self.lambda(d);
                let a = self.expr(d);
                format!("{l}({a})")
            }
            1 => {
                let arr = self.array_expr(d);
                let l = self.lambda(d);
                format!("$map({arr}, {l})")
            }
            2 => {
                let arr = self.array_expr(d);
                let l = self.lambda(d);
                format!("$filter({arr}, {l})")
            }
            3 => {
                let arr = self.array_expr(d);
                format!("$reduce({arr}, function($acc, $v){{ $acc + $v }})")
            }
            4 => {
                let arr = self.array_expr(d);
                format!("$sort({arr}, function($l, $r){{ $l > $r }})")
            }
            5 if !self.functions.is_empty() => {
                let f = self
                    .functions
                    .choose(&mut self.rng)
                    .cloned()
                    .unwrap_or_default();
                let a = self.expr(d);
                format!("${f}({a})")
            }
            6 => {
                let f = self.pick(&[
                    "$substring(?, 1)",
                    "$join(?, '-')",
                    "$power(?, 2)",
                    "$pad(?, 4, '*')",
                    "$split(?, ',')",
                ]);
                let a = self.expr(d);
                format!("({f})({a})")
            }
            _ => {
                let n = self.pick(&["3", "5", "0", "1"]);
                format!("($fact := function($n){{ $n <= 1 ? 1 : $n * $fact($n - 1) }}; $fact({n}))")
            }
        }
    }

    fn chain(&mut self, d: u32) -> String {
        let v = self.expr(d);
        match self.rng.random_range(0..4) {
            0 => format!("{v} ~> $string()"),
            1 => format!("{v} ~> $count"),
            2 => {
                let l = self.lambda(d);
                format!("{v} ~> {l}")
            }
            _ => format!("{v} ~> $type ~> $uppercase"),
        }
    }

    fn transform(&mut self, d: u32) -> String {
        let target = if self.chance(0.6) {
            "$".to_string()
        } else {
            self.expr(d)
        };
        let pattern = self.path(0);
        let k = self.string_literal();
        let v = self.expr(d);
        let delete = if self.chance(0.3) {
            format!(", [{}]", self.string_literal())
        } else {
            String::new()
        };
        format!("{target} ~> | {pattern} | {{{k}: {v}}}{delete} |")
    }

    fn string_expr(&mut self, d: u32) -> String {
        match self.rng.random_range(0..5) {
            0 | 1 => self.string_literal(),
            2 => self.path(0),
            _ if d > 0 => self.expr(d - 1),
            _ => self.atom(),
        }
    }

    fn number_expr(&mut self, d: u32) -> String {
        match self.rng.random_range(0..5) {
            0..=2 => self.number_literal(),
            3 => self.path(0),
            _ if d > 0 => self.expr(d - 1),
            _ => self.atom(),
        }
    }

    fn array_expr(&mut self, d: u32) -> String {
        match self.rng.random_range(0..5) {
            0 | 1 => {
                let n = self.rng.random_range(0..=4);
                let items: Vec<String> = (0..n)
                    .map(|_| {
                        if self.chance(0.6) {
                            self.number_literal()
                        } else {
                            self.atom()
                        }
                    })
                    .collect();
                format!("[{}]", items.join(", "))
            }
            2 => self.path(0),
            3 => format!("[1..{}]", self.rng.random_range(0..6)),
            _ if d > 0 => self.expr(d - 1),
            _ => self.atom(),
        }
    }

    fn regex_or_string(&mut self, d: u32) -> String {
        if self.chance(0.5) {
            self.pick(REGEXES).to_string()
        } else {
            self.string_expr(d)
        }
    }

    // One arm per built-in function, giving the arguments it is called with: a table.
    fn call(&mut self, d: u32) -> String {
        let f = self.pick(&[
            "sum",
            "count",
            "max",
            "min",
            "average",
            "string",
            "substring",
            "substringBefore",
            "substringAfter",
            "lowercase",
            "uppercase",
            "length",
            "trim",
            "pad",
            "contains",
            "split",
            "join",
            "match",
            "replace",
            "number",
            "abs",
            "floor",
            "ceil",
            "round",
            "power",
            "sqrt",
            "formatNumber",
            "formatBase",
            "formatInteger",
            "parseInteger",
            "boolean",
            "not",
            "exists",
            "keys",
            "lookup",
            "append",
            "spread",
            "merge",
            "reverse",
            "sort",
            "distinct",
            "zip",
            "each",
            "sift",
            "type",
            "base64encode",
            "base64decode",
            "encodeUrlComponent",
            "encodeUrl",
            "decodeUrlComponent",
            "decodeUrl",
            "fromMillis",
            "toMillis",
            "single",
            "error",
            "assert",
            "string",
            "count",
            "sum",
            "substring",
            "join",
        ]);
        let args: Vec<String> = match f {
            "sum" | "max" | "min" | "average" | "count" | "reverse" | "distinct" | "sort" => {
                vec![self.array_expr(d)]
            }
            "string" => {
                let mut a = vec![self.expr(d)];
                if self.chance(0.2) {
                    a.push("true".into());
                }
                a
            }
            "substring" => {
                let mut a = vec![self.string_expr(d), self.number_expr(d)];
                if self.chance(0.6) {
                    a.push(self.number_expr(d));
                }
                a
            }
            "substringBefore" | "substringAfter" => vec![self.string_expr(d), self.string_expr(d)],
            "lowercase" | "uppercase" | "length" | "trim" | "base64encode" | "base64decode"
            | "encodeUrlComponent" | "encodeUrl" | "decodeUrlComponent" | "decodeUrl" => {
                vec![self.string_expr(d)]
            }
            "pad" => vec![
                self.string_expr(d),
                self.pick(&["5", "-5", "0", "3", "-8", "2.5"]).into(),
                self.pick(&["'*'", "'-='", "' '", "''"]).into(),
            ],
            "contains" => vec![self.string_expr(d), self.regex_or_string(d)],
            "split" => {
                let mut a = vec![self.string_expr(d), self.regex_or_string(d)];
                if self.chance(0.3) {
                    a.push(self.pick(&["0", "1", "2", "-1"]).into());
                }
                a
            }
            "join" => {
                let mut a = vec![self.array_expr(d)];
                if self.chance(0.6) {
                    a.push(self.string_literal());
                }
                a
            }
            "match" => {
                let mut a = vec![self.string_expr(d), self.pick(REGEXES).to_string()];
                if self.chance(0.3) {
                    a.push(self.pick(&["1", "2", "0"]).into());
                }
                a
            }
            "replace" => {
                let replacement = if self.chance(0.2) {
                    "function($m){ $uppercase($m.match) }".to_string()
                } else {
                    self.pick(&["'-'", "'$0$0'", "'[$1]'", "''", "'$$'", "'$2$1'"])
                        .to_string()
                };
                let mut a = vec![self.string_expr(d), self.regex_or_string(d), replacement];
                if self.chance(0.3) {
                    a.push(self.pick(&["1", "2", "0"]).into());
                }
                a
            }
            "number" | "abs" | "floor" | "ceil" | "sqrt" | "boolean" | "not" | "exists"
            | "type" => {
                vec![self.expr(d)]
            }
            "round" => {
                let mut a = vec![self.number_expr(d)];
                if self.chance(0.5) {
                    a.push(self.pick(&["0", "1", "2", "-1", "3"]).into());
                }
                a
            }
            "power" => vec![
                self.number_expr(d),
                self.pick(&["2", "0.5", "-1", "3", "0"]).into(),
            ],
            "formatNumber" => vec![
                self.number_expr(d),
                format!("'{}'", self.pick(NUMBER_PICTURES)),
            ],
            "formatBase" => vec![
                self.number_expr(d),
                self.pick(&["2", "8", "16", "36", "10"]).into(),
            ],
            "formatInteger" => vec![
                self.number_expr(d),
                format!("'{}'", self.pick(INTEGER_PICTURES)),
            ],
            "parseInteger" => {
                let pic = self.pick(INTEGER_PICTURES);
                let v = match pic {
                    "w" | "W" | "Ww" => "'twenty-one'",
                    "I" => "'XIV'",
                    "i" => "'xiv'",
                    "A" => "'AB'",
                    "a" => "'ab'",
                    "#,##0" => "'1,234'",
                    "0;o" => "'3rd'",
                    "w;o" => "'third'",
                    _ => "'0042'",
                };
                vec![v.into(), format!("'{pic}'")]
            }
            "keys" | "spread" => vec![self.expr(d)],
            "lookup" => vec![self.expr(d), format!("'{}'", self.pick(FIELDS))],
            "append" | "zip" => vec![self.array_expr(d), self.array_expr(d)],
            "merge" => vec![format!(
                "[{}, {}]",
                self.object_literal(d),
                self.object_literal(d)
            )],
            "each" => vec![
                self.object_literal(d),
                "function($v, $k){ $k & ':' & $string($v) }".into(),
            ],
            "sift" => vec![
                self.object_literal(d),
                "function($v){ $type($v) = 'number' }".into(),
            ],
            "single" => vec![self.array_expr(d), "function($v){ $v = 2 }".into()],
            "fromMillis" => {
                let mut a = vec![
                    self.pick(&["0", "1521801216617", "86400000", "-1000", "1704067200000"])
                        .to_string(),
                ];
                if self.chance(0.7) {
                    a.push(format!("'{}'", self.pick(DATE_PICTURES)));
                }
                if self.chance(0.3) {
                    a.push(self.pick(&["'+0100'", "'-0500'", "'0000'"]).into());
                }
                a
            }
            "toMillis" => vec![format!("'{}'", self.pick(DATE_STRINGS))],
            "error" => vec![self.string_literal()],
            "assert" => vec![self.expr(d), self.string_literal()],
            _ => vec![self.expr(d)],
        };
        // Sometimes an argument of the wrong kind, or the context-value form.
        let mut args = args;
        if self.chance(0.1) && !args.is_empty() {
            let i = self.rng.random_range(0..args.len());
            args[i] = self.atom();
        }
        if self.chance(0.08) && !args.is_empty() {
            let first = args.remove(0);
            return format!("{first}.${f}({})", args.join(", "));
        }
        format!("${f}({})", args.join(", "))
    }

    fn object_literal(&mut self, d: u32) -> String {
        let n = self.rng.random_range(0..=3);
        let pairs: Vec<String> = (0..n)
            .map(|_| {
                let k = self.pick(FIELDS);
                let v = if d > 0 { self.expr(d - 1) } else { self.atom() };
                format!("'{k}': {v}")
            })
            .collect();
        format!("{{{}}}", pairs.join(", "))
    }
}
