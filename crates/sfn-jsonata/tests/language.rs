//! The language case by case: every operator and every function, one line per case.
//! `ok!(expression, input, result)`, `undefined!(expression, input)`,
//! `fails!(expression, input, code)`; inputs and results are JSON text.

use serde_json::{Value, json};

use crate::common::{NOW, eval};

fn input(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("bad input {text}: {e}"))
}

macro_rules! ok {
    ($expr:expr, $input:expr, $want:expr) => {
        match eval($expr, &input($input)) {
            Ok(Some(got)) => assert_eq!(got, input($want), "{}", $expr),
            other => panic!("{}: wanted {}, got {other:?}", $expr, $want),
        }
    };
}

macro_rules! undefined {
    ($expr:expr, $input:expr) => {
        match eval($expr, &input($input)) {
            Ok(None) => {}
            other => panic!("{}: wanted undefined, got {other:?}", $expr),
        }
    };
}

macro_rules! fails {
    ($expr:expr, $input:expr, $code:expr) => {
        match eval($expr, &input($input)) {
            Err(code) => assert_eq!(code, $code, "{}", $expr),
            other => panic!("{}: wanted {}, got {other:?}", $expr, $code),
        }
    };
}

const ORDER: &str = r#"{"order": {"id": "o-1", "items": [
    {"sku": "a", "price": 10, "qty": 2, "tags": ["x", "y"]},
    {"sku": "b", "price": 5.5, "qty": 1, "tags": ["y"]},
    {"sku": "c", "price": 1, "qty": 10, "tags": []}
], "customer": {"name": "Ada", "email": "ada@example.com"}}}"#;

#[test]
fn paths_and_sequences() {
    ok!("order.id", ORDER, r#""o-1""#);
    ok!("order.items.sku", ORDER, r#"["a","b","c"]"#);
    ok!("order.items[0].sku", ORDER, r#""a""#);
    ok!("order.items[-1].sku", ORDER, r#""c""#);
    ok!("order.items[price > 5].sku", ORDER, r#"["a","b"]"#);
    ok!("order.items[[0,2]].sku", ORDER, r#"["a","c"]"#);
    ok!("order.items.tags", ORDER, r#"["x","y","y"]"#);
    ok!("order.items[1].tags", ORDER, r#"["y"]"#);
    ok!("order.items[1].tags[]", ORDER, r#"["y"]"#);
    ok!("order.items[1].sku[]", ORDER, r#"["b"]"#);
    ok!("order.*.name", ORDER, r#""Ada""#);
    ok!("$count(order.**.sku)", ORDER, "3");
    ok!("order.customer.`name`", ORDER, r#""Ada""#);
    ok!("order.items.(price * qty)", ORDER, "[20, 5.5, 10]");
    ok!("order.items#$i[$i > 0].sku", ORDER, r#"["b","c"]"#);
    ok!("order.items@$it.$it.sku", ORDER, r#"["a","b","c"]"#);
    ok!("order.items.tags.%.sku", ORDER, r#"["a","a","b"]"#);
    ok!("order.items^(>price).sku", ORDER, r#"["a","b","c"]"#);
    ok!("order.items^(qty, sku).sku", ORDER, r#"["b","a","c"]"#);
    ok!(
        "order.items{sku: price}",
        ORDER,
        r#"{"a":10,"b":5.5,"c":1}"#
    );
    ok!(
        "order.items.{sku: qty}",
        ORDER,
        r#"[{"a":2},{"b":1},{"c":10}]"#
    );
    ok!("$", "[1,2]", "[1,2]");
    ok!("$[0]", "[1,2]", "1");
    ok!("$$.a", r#"{"a":1}"#, "1");
    undefined!("order.missing", ORDER);
    undefined!("order.items[price > 100]", ORDER);
    ok!("[order.items.sku]", ORDER, r#"["a","b","c"]"#);
    ok!("order.items[0].[sku, qty]", ORDER, r#"["a", 2]"#);
}

#[test]
fn operators() {
    ok!("1 + 2 * 3 - 4 / 2", "null", "5");
    ok!("7 % 3", "null", "1");
    ok!("-(1 + 2)", "null", "-3");
    ok!("'a' & 1 & true & null", "null", r#""a1truenull""#);
    ok!("1 = 1.0", "null", "true");
    ok!("[1,2] = [1,2]", "null", "true");
    ok!("{'a': 1} != {'a': 2}", "null", "true");
    ok!("'a' < 'b'", "null", "true");
    ok!("2 <= 2 and 3 >= 4", "null", "false");
    ok!("1 > 2 or 'x'", "null", "true");
    ok!("2 in [1, 2]", "null", "true");
    ok!("'z' in 'z'", "null", "true");
    ok!("[1..4]", "null", "[1,2,3,4]");
    ok!("[1..3, 7]", "null", "[1,2,3,7]");
    ok!("1 ? 'y' : 'n'", "null", r#""y""#);
    ok!("0 ? 'y' : 'n'", "null", r#""n""#);
    undefined!("false ? 1", "null");
    undefined!("nothing + 1", "null");
    ok!("nothing = 1", "null", "false");
    fails!("1 + 'a'", "null", "T2002");
    fails!("'a' + 1", "null", "T2001");
    fails!("-'a'", "null", "D1002");
    fails!("1 < 'a'", "null", "T2009");
    fails!("1 < true", "null", "T2010");
    fails!("[1.5..2]", "null", "T2003");
    fails!("[1..'b']", "null", "T2004");
    fails!("1/0", "null", "D1001");
    fails!("(1/0) + 1", "null", "D1001");
}

#[test]
fn constructors_blocks_and_bindings() {
    ok!(
        "{'a': 1, 'b': [1, {'c': null}]}",
        "null",
        r#"{"a":1,"b":[1,{"c":null}]}"#
    );
    ok!("{'a': nothing}", "null", "{}");
    ok!("[[1], [], 2]", "null", "[[1],[],2]");
    ok!("($x := 2; $y := $x * 3; $y)", "null", "6");
    ok!("($x := 1; ($x := 2); $x)", "null", "1");
    fails!("{1: 2}", "null", "T1003");
    fails!("x{'k': 1, 'k': 2}", r#"{"x":1}"#, "D1009");
    ok!("/* comment */ 42", "null", "42");
}

#[test]
fn functions_and_lambdas() {
    ok!("function($x){ $x * 2 }(21)", "null", "42");
    ok!("λ($x){ $x + 1 }(1)", "null", "2");
    ok!(
        "($add := function($a, $b){ $a + $b }; $add(1, 2))",
        "null",
        "3"
    );
    ok!(
        "($f := function($x){ function($y){ $x + $y } }; $f(1)(2))",
        "null",
        "3"
    );
    ok!("($square := $power(?, 2); $square(3))", "null", "9");
    ok!(
        "($first := $substring(?, 0, 1); $first('hello'))",
        "null",
        r#""h""#
    );
    ok!(
        "($add := function($a, $b){ $a + $b }; $add(?, 10)(5))",
        "null",
        "15"
    );
    ok!("'hello' ~> $uppercase()", "null", r#""HELLO""#);
    ok!("'  a  ' ~> $trim ~> $uppercase", "null", r#""A""#);
    ok!("($f := $uppercase ~> $trim; $f(' a '))", "null", r#""A""#);
    ok!(
        "($fact := function($n){ $n <= 1 ? 1 : $n * $fact($n - 1) }; $fact(10))",
        "null",
        "3628800"
    );
    ok!(
        "($loop := function($n, $acc){ $n = 0 ? $acc : $loop($n - 1, $acc + 1) }; $loop(100000, 0))",
        "null",
        "100000"
    );
    ok!("function($x)<n:n>{ $x }(5)", "null", "5");
    fails!("function($x)<n:n>{ $x }('a')", "null", "T0410");
    fails!("$nothing()", "null", "T1006");
    fails!("sum(1)", "null", "T1005");
    fails!("1 ~> 2", "null", "T2006");
    fails!("$nothing(?)", "null", "T1008");
    fails!(
        "($f := function($n){ $f($n + 1) + 1 }; $f(0))",
        "null",
        "D1011"
    );
    fails!("($f := function($n){ $f($n + 1) }; $f(0))", "null", "D1012");
}

#[test]
fn transforms_and_regexes() {
    ok!("$ ~> | $ | {'b': 2} |", r#"{"a":1}"#, r#"{"a":1,"b":2}"#);
    ok!(
        "$ ~> | items | {'n': 0}, ['v'] |",
        r#"{"items":[{"v":1},{"v":2}]}"#,
        r#"{"items":[{"n":0},{"n":0}]}"#
    );
    fails!("$ ~> | $ | 1 |", r#"{"a":1}"#, "T2011");
    fails!("$ ~> | $ | {}, 1 |", r#"{"a":1}"#, "T2012");
    ok!("$contains('abc', /B/i)", "null", "true");
    ok!("$match('a1b22', /[0-9]+/).match", "null", r#"["1","22"]"#);
    ok!("$replace('a-b-c', /-/, '+', 1)", "null", r#""a+b-c""#);
    ok!(
        "$replace('John Smith', /(\\w+)\\s(\\w+)/, '$2, $1')",
        "null",
        r#""Smith, John""#
    );
    ok!("$split('a1b2c', /[0-9]/)", "null", r#"["a","b","c"]"#);
    ok!("/x(y)?/('x').groups", "null", "[null]");
    fails!("$replace('abc', /x*/, '-')", "null", "D1004");
    fails!("/(a)\\1/", "null", "S0303");
}

#[test]
fn string_functions() {
    ok!("$string(1.0)", "null", r#""1""#);
    ok!("$string(0.1 + 0.2)", "null", r#""0.3""#);
    ok!("$string({'a': [1, true]})", "null", r#""{\"a\":[1,true]}""#);
    ok!("$string({'a': 1}, true)", "null", r#""{\n  \"a\": 1\n}""#);
    ok!("$length('héllo')", "null", "5");
    ok!("$substring('hello', 1, 3)", "null", r#""ell""#);
    ok!("$substring('hello', -3)", "null", r#""llo""#);
    ok!("$substringBefore('a.b.c', '.')", "null", r#""a""#);
    ok!("$substringAfter('a.b.c', '.')", "null", r#""b.c""#);
    ok!("$uppercase('straße')", "null", r#""STRASSE""#);
    ok!("$lowercase('ABC')", "null", r#""abc""#);
    ok!("$trim('  a \n b  ')", "null", r#""a b""#);
    ok!("$pad('7', -3, '0')", "null", r#""007""#);
    ok!("$pad('ab', 5)", "null", r#""ab   ""#);
    ok!("$contains('abc', 'bc')", "null", "true");
    ok!("$split('a,b,,c', ',', 3)", "null", r#"["a","b",""]"#);
    ok!("$join(['a', 'b'], '-')", "null", r#""a-b""#);
    ok!("$replace('aaa', 'a', 'b')", "null", r#""bbb""#);
    ok!("$base64encode('hi!')", "null", r#""aGkh""#);
    ok!("$base64decode('aGkh')", "null", r#""hi!""#);
    ok!("$encodeUrlComponent('a b&c')", "null", r#""a%20b%26c""#);
    ok!(
        "$encodeUrl('http://x/a b?q=1&r')",
        "null",
        r#""http://x/a%20b?q=1&r""#
    );
    ok!("$decodeUrlComponent('a%20b%26c')", "null", r#""a b&c""#);
    ok!("$decodeUrl('a%20b%26c')", "null", r#""a b%26c""#);
    fails!("$decodeUrl('%ZZ')", "null", "D3140");
    fails!("$substring(1)", "null", "T0411");
    fails!("$substring('a', 'b')", "null", "T0410");
    fails!("$string(1/0)", "null", "D3001");
    fails!("$replace('a', '', 'b')", "null", "D3010");
    fails!("$split('a', ',', -1)", "null", "D3020");
}

#[test]
fn numeric_functions() {
    ok!("$number('12.5')", "null", "12.5");
    ok!("$number('0x10')", "null", "16");
    ok!("$number(true)", "null", "1");
    fails!("$number('abc')", "null", "D3030");
    ok!("$abs(-3)", "null", "3");
    ok!("$floor(-1.5)", "null", "-2");
    ok!("$ceil(1.2)", "null", "2");
    ok!("$round(2.5)", "null", "2");
    ok!("$round(3.5)", "null", "4");
    ok!("$round(1.255, 2)", "null", "1.26");
    ok!("$round(1250, -2)", "null", "1200");
    ok!("$power(2, 10)", "null", "1024");
    ok!("$sqrt(16)", "null", "4");
    fails!("$sqrt(-1)", "null", "D3060");
    fails!("$power(10, 400)", "null", "D3061");
    ok!(
        "$formatNumber(1234.5678, '#,##0.00')",
        "null",
        r#""1,234.57""#
    );
    ok!("$formatNumber(0.25, '0%')", "null", r#""25%""#);
    ok!("$formatBase(255, 16)", "null", r#""ff""#);
    fails!("$formatBase(1, 40)", "null", "D3100");
    ok!("$formatInteger(42, 'w')", "null", r#""forty-two""#);
    ok!("$formatInteger(1999, 'I')", "null", r#""MCMXCIX""#);
    ok!("$parseInteger('forty-two', 'w')", "null", "42");
    ok!("$sum([1, 2, 3.5])", "null", "6.5");
    ok!("$max([1, 9, 3])", "null", "9");
    ok!("$min([4, 2])", "null", "2");
    ok!("$average([1, 2, 3, 4])", "null", "2.5");
    ok!("$count([1, 2])", "null", "2");
    ok!("$count(nothing)", "null", "0");
    undefined!("$max([])", "null");
    fails!("$sum(['a'])", "null", "T0412");
}

#[test]
fn array_and_object_functions() {
    ok!("$append([1], 2)", "null", "[1,2]");
    ok!("$sort([3, 1, 2])", "null", "[1,2,3]");
    ok!("$sort(['b', 'a'])", "null", r#"["a","b"]"#);
    ok!(
        "$sort([{'v': 2}, {'v': 1}], function($a, $b){ $a.v > $b.v }).v",
        "null",
        "[1,2]"
    );
    fails!("$sort([1, 'a'])", "null", "D3070");
    ok!("$reverse([1, 2, 3])", "null", "[3,2,1]");
    ok!("$count($shuffle([1, 2, 3, 4]))", "null", "4");
    ok!("$distinct([1, 2, 1, [1], [1]])", "null", "[1,2,[1]]");
    ok!(
        "$zip([1, 2], ['a', 'b', 'c'])",
        "null",
        r#"[[1,"a"],[2,"b"]]"#
    );
    ok!("$keys({'a': 1, 'b': 2})", "null", r#"["a","b"]"#);
    ok!("$lookup({'a': 1}, 'a')", "null", "1");
    ok!("$spread({'a': 1, 'b': 2})", "null", r#"[{"a":1},{"b":2}]"#);
    ok!(
        "$merge([{'a': 1}, {'a': 2, 'b': 3}])",
        "null",
        r#"{"a":2,"b":3}"#
    );
    ok!(
        "$each({'a': 1}, function($v, $k){ $k & $v })",
        "null",
        r#""a1""#
    );
    ok!(
        "$sift({'a': 1, 'b': 2}, function($v){ $v > 1 })",
        "null",
        r#"{"b":2}"#
    );
    ok!("$map([1, 2], function($v, $i){ $v + $i })", "null", "[1,3]");
    ok!(
        "$filter([1, 2, 3], function($v){ $v % 2 = 1 })",
        "null",
        "[1,3]"
    );
    ok!("$single([1, 2, 3], function($v){ $v = 2 })", "null", "2");
    fails!("$single([1, 2], function($v){ true })", "null", "D3138");
    fails!("$single([1, 2], function($v){ false })", "null", "D3139");
    ok!(
        "$reduce([1, 2, 3], function($a, $b){ $a + $b })",
        "null",
        "6"
    );
    ok!(
        "$reduce([1, 2, 3], function($a, $b){ $a + $b }, 10)",
        "null",
        "16"
    );
    fails!("$reduce([1], function($a){ $a })", "null", "D3050");
    ok!("$exists(a)", r#"{"a": null}"#, "true");
    ok!("$exists(b)", r#"{"a": null}"#, "false");
    ok!("$clone({'a': [1, 0.1]})", "null", r#"{"a":[1,0.1]}"#);
    ok!("$type([1])", "null", r#""array""#);
    ok!("$type($sum)", "null", r#""function""#);
    ok!("$boolean([0, ''])", "null", "false");
    ok!("$boolean({'a': 0})", "null", "true");
    ok!("$not('')", "null", "true");
    fails!("$error('boom')", "null", "D3137");
    fails!("$assert(false, 'no')", "null", "D3141");
    undefined!("$assert(true)", "null");
}

#[test]
fn date_functions() {
    ok!("$millis()", "null", &NOW.to_string());
    ok!("$now()", "null", r#""2018-03-23T10:33:36.617Z""#);
    ok!("$now('[Y]-[M01]')", "null", r#""2018-03""#);
    ok!("$fromMillis(0)", "null", r#""1970-01-01T00:00:00.000Z""#);
    ok!(
        "$fromMillis(0, '[D1o] [MNn], [Y]')",
        "null",
        r#""1st January, 1970""#
    );
    ok!(
        "$fromMillis(0, '[H01]:[m01]', '+0530')",
        "null",
        r#""05:30""#
    );
    ok!("$toMillis('1970-01-02T00:00:00Z')", "null", "86400000");
    ok!(
        "$toMillis('2024-02-29', '[Y]-[M]-[D]')",
        "null",
        "1709164800000"
    );
    fails!("$toMillis('yesterday')", "null", "D3110");
}

#[test]
fn step_functions_additions() {
    ok!(
        "$partition([1, 2, 3, 4, 5], 2)",
        "null",
        "[[1,2],[3,4],[5]]"
    );
    ok!("$partition([1], 5)", "null", "[[1]]");
    fails!("$partition([1], 0)", "null", "T0410");
    ok!("$range(0, 10, 3)", "null", "[0,3,6,9]");
    ok!("$range(5, 1, -2)", "null", "[5,3,1]");
    ok!("$range(1, 9, 9)", "null", "1");
    fails!("$range(1, 2, 0)", "null", "T0410");
    ok!(
        "$hash('input data', 'MD5')",
        "null",
        r#""812f45842bc6d66ee14572ce20db8e86""#
    );
    ok!(
        "$hash('input data', 'SHA-256')",
        "null",
        r#""b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3""#
    );
    fails!("$hash('x', 'SHA-3')", "null", "T0410");
    ok!("$random(42)", "null", "0.7275636800328681");
    ok!("$random() < 1", "null", "true");
    ok!("$length($uuid())", "null", "36");
    ok!("$substring($uuid(), 14, 1)", "null", r#""4""#);
    ok!("$parse('{\"a\": [1, 2]}')", "null", r#"{"a":[1,2]}"#);
    ok!("$parse('-0')", "null", "0");
    fails!("$parse('{')", "null", "D3137");
    fails!("$eval('1')", "null", "T1006");
    // Step Functions names its extra functions by what they do; a misspelling is not one.
    fails!("$randomSeeded(1)", "null", "T1006");
}

#[test]
fn results_are_json() {
    // Integer-valued doubles serialise as integers, others as floats.
    let got = eval("[1.0, 2.5, 1e3]", &json!(null)).unwrap().unwrap();
    assert_eq!(serde_json::to_string(&got).unwrap(), "[1,2.5,1000]");
    // Object keys keep their insertion order.
    let got = eval("{'z': 1, 'a': 2}", &json!(null)).unwrap().unwrap();
    assert_eq!(serde_json::to_string(&got).unwrap(), r#"{"z":1,"a":2}"#);
    // A function is no JSON value, at the top or inside.
    fails!("$sum", "null", "unsupported result");
    fails!("{'f': $sum}", "null", "unsupported result");
    fails!("[function($x){ $x }]", "null", "unsupported result");
    fails!("$fn := function($x){$x}", "null", "unsupported result");
    // A string is indexed by character after an array constructor, as in jsonata.
    ok!("['ab'][0].$uppercase()", "null", r#"["A","B"]"#);
    ok!("[''][0].x", "null", r#""""#);
}
