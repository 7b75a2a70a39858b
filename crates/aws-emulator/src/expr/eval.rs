//! Evaluating resolved expressions against items, with DynamoDB's type rules: comparisons
//! between different types are false (so `<>` is true), a missing attribute makes every
//! comparison but `<>` false, numbers compare as decimals and strings by UTF-8 bytes.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::{Cond, DocPath, Elem, Opd, SetRhs, UpdOpd, Update};
use crate::expr::parse::CmpOp;
use crate::number::Number;
use crate::value::{AttrValue, Item};

/// DynamoDB's message for an update operand path that is not in the item.
const MISSING_OPERAND: &str =
    "The provided expression refers to an attribute that does not exist in the item";
/// DynamoDB's message for an update operand of the wrong type.
const WRONG_TYPE: &str = "An operand in the update expression has an incorrect data type";
/// DynamoDB's message for a SET/REMOVE/ADD path whose parent does not exist.
const INVALID_PATH: &str =
    "The document path provided in the update expression is invalid for update";

/// The value at `path`, if the item has one.
pub(crate) fn get<'a>(item: &'a Item, path: &[Elem]) -> Option<&'a AttrValue> {
    let (Elem::Key(first), rest) = path.split_first()? else {
        return None;
    };
    let mut current = item.get(first)?;
    for elem in rest {
        current = match (elem, current) {
            (Elem::Key(k), AttrValue::M(m)) => m.get(k)?,
            (Elem::Index(i), AttrValue::L(l)) => l.get(*i)?,
            _ => return None,
        };
    }
    Some(current)
}

/// Order of two values of the same orderable type (S by UTF-8 bytes, N as decimals, B by
/// bytes); `None` for other or mixed types.
pub(crate) fn order(a: &AttrValue, b: &AttrValue) -> Option<Ordering> {
    match (a, b) {
        (AttrValue::S(x), AttrValue::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (AttrValue::N(x), AttrValue::N(y)) => Some(x.cmp(y)),
        (AttrValue::B(x), AttrValue::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Whether the item (empty when there is none) satisfies the condition.
pub(crate) fn check(cond: &Cond, item: &Item) -> bool {
    match cond {
        Cond::Cmp(a, op, b) => {
            let (a, b) = (operand(a, item), operand(b, item));
            match op {
                CmpOp::Eq => matches!((&a, &b), (Some(a), Some(b)) if a.dynamo_eq(b)),
                CmpOp::Ne => !matches!((&a, &b), (Some(a), Some(b)) if a.dynamo_eq(b)),
                CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
                    let (Some(a), Some(b)) = (a, b) else {
                        return false;
                    };
                    order(&a, &b).is_some_and(|o| match op {
                        CmpOp::Lt => o.is_lt(),
                        CmpOp::Le => o.is_le(),
                        CmpOp::Gt => o.is_gt(),
                        _ => o.is_ge(),
                    })
                }
            }
        }
        Cond::Between(x, low, high) => {
            let (Some(x), Some(low), Some(high)) =
                (operand(x, item), operand(low, item), operand(high, item))
            else {
                return false;
            };
            order(&low, &x).is_some_and(Ordering::is_le)
                && order(&x, &high).is_some_and(Ordering::is_le)
        }
        Cond::In(x, candidates) => {
            let Some(x) = operand(x, item) else {
                return false;
            };
            candidates
                .iter()
                .any(|c| operand(c, item).is_some_and(|c| c.dynamo_eq(&x)))
        }
        Cond::And(a, b) => check(a, item) && check(b, item),
        Cond::Or(a, b) => check(a, item) || check(b, item),
        Cond::Not(a) => !check(a, item),
        Cond::Exists(path) => get(item, path).is_some(),
        Cond::NotExists(path) => get(item, path).is_none(),
        Cond::IsType(path, type_name) => {
            get(item, path).is_some_and(|v| v.type_name() == type_name)
        }
        Cond::BeginsWith(a, b) => {
            match (operand(a, item).as_deref(), operand(b, item).as_deref()) {
                (Some(AttrValue::S(a)), Some(AttrValue::S(b))) => a.starts_with(b.as_str()),
                (Some(AttrValue::B(a)), Some(AttrValue::B(b))) => a.starts_with(b),
                _ => false,
            }
        }
        Cond::Contains(a, b) => match (operand(a, item).as_deref(), operand(b, item).as_deref()) {
            (Some(AttrValue::S(a)), Some(AttrValue::S(b))) => a.contains(b.as_str()),
            (Some(AttrValue::B(a)), Some(AttrValue::B(b))) => {
                b.is_empty() || a.windows(b.len()).any(|w| w == b.as_slice())
            }
            (Some(AttrValue::Ss(set)), Some(AttrValue::S(b))) => set.contains(b),
            (Some(AttrValue::Ns(set)), Some(AttrValue::N(b))) => set.contains(b),
            (Some(AttrValue::Bs(set)), Some(AttrValue::B(b))) => set.contains(b),
            (Some(AttrValue::L(list)), Some(b)) => list.iter().any(|v| v.dynamo_eq(b)),
            _ => false,
        },
    }
}

fn operand<'a>(o: &'a Opd, item: &'a Item) -> Option<Cow<'a, AttrValue>> {
    match o {
        Opd::Path(p) => get(item, p).map(Cow::Borrowed),
        Opd::Value(v) => Some(Cow::Borrowed(v)),
        Opd::Size(p) => {
            size_of(get(item, p)?).map(|n| Cow::Owned(AttrValue::N(Number::from_usize(n))))
        }
    }
}

/// `size()`: bytes of a string (UTF-8) or binary, elements of a set, list or map, as the
/// DynamoDB documentation defines it; undefined for other types, so comparing it is false.
fn size_of(v: &AttrValue) -> Option<usize> {
    Some(match v {
        AttrValue::S(s) => s.len(),
        AttrValue::B(b) => b.len(),
        AttrValue::Ss(s) => s.len(),
        AttrValue::Ns(s) => s.len(),
        AttrValue::Bs(s) => s.len(),
        AttrValue::L(l) => l.len(),
        AttrValue::M(m) => m.len(),
        AttrValue::N(_) | AttrValue::Bool(_) | AttrValue::Null => return None,
    })
}

/// Applies an update to the item (or, when there is none, to a new item holding just the
/// key). Every SET value is computed from the item as it was before the update, as DynamoDB
/// does, so `SET a = b, b = a` swaps.
pub(crate) fn apply_update(
    old: Option<&Item>,
    key: &Item,
    update: &Update,
) -> Result<Item, String> {
    let base = old.unwrap_or(key);
    let values = update
        .set
        .iter()
        .map(|(_, rhs)| set_value(rhs, base))
        .collect::<Result<Vec<_>, _>>()?;
    let mut item = base.clone();
    for ((path, _), value) in update.set.iter().zip(values) {
        set_path(&mut item, path, value)?;
    }
    // Highest list indexes first, so removing `l[0]` does not shift `l[2]` before its turn.
    let mut removes: Vec<&DocPath> = update.remove.iter().collect();
    removes.sort_by(|a, b| b.cmp(a));
    for path in removes {
        remove_path(&mut item, path)?;
    }
    for (path, value) in &update.add {
        add(&mut item, path, value)?;
    }
    for (path, value) in &update.delete {
        delete(&mut item, path, value)?;
    }
    Ok(item)
}

fn set_value(rhs: &SetRhs, item: &Item) -> Result<AttrValue, String> {
    match rhs {
        SetRhs::Single(o) => upd_value(o, item),
        SetRhs::Plus(a, b) | SetRhs::Minus(a, b) => {
            let (AttrValue::N(a), AttrValue::N(b)) = (upd_value(a, item)?, upd_value(b, item)?)
            else {
                return Err(WRONG_TYPE.into());
            };
            let result = if matches!(rhs, SetRhs::Plus(..)) {
                a.add(&b)
            } else {
                a.sub(&b)
            };
            result.map(AttrValue::N)
        }
    }
}

fn upd_value(o: &UpdOpd, item: &Item) -> Result<AttrValue, String> {
    match o {
        UpdOpd::Path(p) => get(item, p).cloned().ok_or_else(|| MISSING_OPERAND.into()),
        UpdOpd::Value(v) => Ok(v.clone()),
        UpdOpd::IfNotExists(p, fallback) => match get(item, p) {
            Some(v) => Ok(v.clone()),
            None => upd_value(fallback, item),
        },
        UpdOpd::ListAppend(a, b) => match (upd_value(a, item)?, upd_value(b, item)?) {
            (AttrValue::L(mut a), AttrValue::L(b)) => {
                a.extend(b);
                Ok(AttrValue::L(a))
            }
            _ => Err(WRONG_TYPE.into()),
        },
    }
}

fn child_mut<'a>(value: &'a mut AttrValue, elem: &Elem) -> Option<&'a mut AttrValue> {
    match (elem, value) {
        (Elem::Key(k), AttrValue::M(m)) => m.get_mut(k),
        (Elem::Index(i), AttrValue::L(l)) => l.get_mut(*i),
        _ => None,
    }
}

/// The container holding the last element of `path` (at least two elements long).
fn parent_mut<'a, 'p>(
    item: &'a mut Item,
    path: &'p [Elem],
) -> Result<(&'a mut AttrValue, &'p Elem), String> {
    let Some((Elem::Key(first), rest)) = path.split_first() else {
        return Err(INVALID_PATH.into());
    };
    let Some((last, middle)) = rest.split_last() else {
        return Err(INVALID_PATH.into());
    };
    let mut current = item.get_mut(first).ok_or(INVALID_PATH)?;
    for elem in middle {
        current = child_mut(current, elem).ok_or(INVALID_PATH)?;
    }
    Ok((current, last))
}

fn set_path(item: &mut Item, path: &[Elem], value: AttrValue) -> Result<(), String> {
    if let [Elem::Key(name)] = path {
        item.insert(name.clone(), value);
        return Ok(());
    }
    let (parent, last) = parent_mut(item, path)?;
    match (last, parent) {
        (Elem::Key(k), AttrValue::M(m)) => {
            m.insert(k.clone(), value);
        }
        // Setting past the end of a list appends, as DynamoDB does.
        (Elem::Index(i), AttrValue::L(l)) => match l.get_mut(*i) {
            Some(slot) => *slot = value,
            None => l.push(value),
        },
        _ => return Err(INVALID_PATH.into()),
    }
    Ok(())
}

fn remove_path(item: &mut Item, path: &[Elem]) -> Result<(), String> {
    if let [Elem::Key(name)] = path {
        item.remove(name);
        return Ok(());
    }
    let (parent, last) = parent_mut(item, path)?;
    match (last, parent) {
        (Elem::Key(k), AttrValue::M(m)) => {
            m.remove(k);
        }
        (Elem::Index(i), AttrValue::L(l)) => {
            if *i < l.len() {
                l.remove(*i);
            }
        }
        _ => return Err(INVALID_PATH.into()),
    }
    Ok(())
}

fn add(item: &mut Item, path: &[Elem], value: &AttrValue) -> Result<(), String> {
    let merged = match (get(item, path), value) {
        (None, v) => v.clone(),
        (Some(AttrValue::N(a)), AttrValue::N(b)) => AttrValue::N(a.add(b)?),
        (Some(AttrValue::Ss(a)), AttrValue::Ss(b)) => AttrValue::Ss(union(a, b)),
        (Some(AttrValue::Ns(a)), AttrValue::Ns(b)) => AttrValue::Ns(union(a, b)),
        (Some(AttrValue::Bs(a)), AttrValue::Bs(b)) => AttrValue::Bs(union(a, b)),
        _ => return Err(WRONG_TYPE.into()),
    };
    set_path(item, path, merged)
}

fn delete(item: &mut Item, path: &[Elem], value: &AttrValue) -> Result<(), String> {
    let remaining = match (get(item, path), value) {
        (None, _) => return Ok(()),
        (Some(AttrValue::Ss(a)), AttrValue::Ss(b)) => difference(a, b).map(AttrValue::Ss),
        (Some(AttrValue::Ns(a)), AttrValue::Ns(b)) => difference(a, b).map(AttrValue::Ns),
        (Some(AttrValue::Bs(a)), AttrValue::Bs(b)) => difference(a, b).map(AttrValue::Bs),
        _ => return Err(WRONG_TYPE.into()),
    };
    // DynamoDB has no empty sets: deleting the last element removes the attribute.
    match remaining {
        Some(v) => set_path(item, path, v),
        None => remove_path(item, path),
    }
}

fn union<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = a.to_vec();
    for x in b {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

fn difference<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Option<Vec<T>> {
    let out: Vec<T> = a.iter().filter(|x| !b.contains(x)).cloned().collect();
    (!out.is_empty()).then_some(out)
}

/// A partial copy of an item holding only the given paths, as ProjectionExpression and
/// `UPDATED_OLD`/`UPDATED_NEW` return it: list elements keep their order, compacted.
pub(crate) fn project(item: &Item, paths: &[DocPath]) -> Item {
    let mut root = Node::Map(BTreeMap::new());
    for path in paths {
        if let Some(value) = get(item, path) {
            insert_node(&mut root, path, value.clone());
        }
    }
    match root.into_value() {
        Some(AttrValue::M(m)) => m,
        _ => Item::new(),
    }
}

enum Node {
    Empty,
    Leaf(AttrValue),
    Map(BTreeMap<String, Node>),
    List(BTreeMap<usize, Node>),
}

impl Node {
    fn into_value(self) -> Option<AttrValue> {
        match self {
            Self::Empty => None,
            Self::Leaf(v) => Some(v),
            Self::Map(m) => Some(AttrValue::M(
                m.into_iter()
                    .filter_map(|(k, n)| n.into_value().map(|v| (k, v)))
                    .collect(),
            )),
            Self::List(l) => Some(AttrValue::L(
                l.into_values().filter_map(Node::into_value).collect(),
            )),
        }
    }
}

fn insert_node(node: &mut Node, path: &[Elem], value: AttrValue) {
    match path.split_first() {
        None => *node = Node::Leaf(value),
        Some((Elem::Key(k), rest)) => {
            if !matches!(node, Node::Map(_)) {
                *node = Node::Map(BTreeMap::new());
            }
            if let Node::Map(m) = node {
                insert_node(m.entry(k.clone()).or_insert(Node::Empty), rest, value);
            }
        }
        Some((Elem::Index(i), rest)) => {
            if !matches!(node, Node::List(_)) {
                *node = Node::List(BTreeMap::new());
            }
            if let Node::List(l) = node {
                insert_node(l.entry(*i).or_insert(Node::Empty), rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Resolver;
    use crate::value::{item_from_json, item_to_json};
    use serde_json::{Value, json};

    fn item() -> Item {
        item_from_json(
            &json!({
                "id": {"S": "order-1"}, "amount": {"N": "42.50"}, "qty": {"N": "3"},
                "state": {"S": "PAYMENT_PROCESSED"}, "tags": {"SS": ["a", "b"]}, "nums": {"NS": ["1", "2"]},
                "lineitems": {"L": [{"M": {"sku": {"S": "x1"}, "price": {"N": "10"}}}, {"M": {"sku": {"S": "x2"}}}]},
                "card": {"M": {"last4": {"S": "4242"}, "brand": {"S": "VISA"}}},
                "paid": {"BOOL": true}, "note": {"NULL": true}, "bin": {"B": "AAEC"}, "blank": {"S": ""},
                "with space": {"S": "x"}, "u": {"S": "éx"}, "Zebra": {"S": "Zebra"}, "apple": {"S": "apple"}
            }),
            "Item",
        )
        .unwrap()
    }

    fn values() -> Value {
        json!({
            ":s": {"S": "PAYMENT_PROCESSED"}, ":n": {"N": "42.5"}, ":low": {"N": "10"}, ":high": {"N": "50"},
            ":three": {"N": "3"}, ":pre": {"S": "order"}, ":t": {"S": "SS"}, ":a": {"S": "a"}, ":one": {"N": "1"},
            ":true": {"BOOL": true}, ":x1": {"S": "x1"}, ":b": {"B": "AAE="}, ":zero": {"N": "0"},
            ":id": {"S": "order-1"}, ":bad": {"S": "NOPE"}, ":ten": {"S": "10"}, ":z": {"S": "Zebra"},
            ":list": {"L": [{"S": "q"}]}, ":m": {"M": {"brand": {"S": "VISA"}, "last4": {"S": "4242"}}}
        })
    }

    fn names() -> Value {
        json!({"#s": "state", "#sp": "with space", "#status": "status", "#d": "a.b"})
    }

    fn eval(text: &str) -> Result<bool, String> {
        let mut r = Resolver::new(Some(&names()), Some(&values())).map_err(|e| e.message())?;
        let cond = r.condition(text).map_err(|e| e.message())?;
        Ok(check(&cond, &item()))
    }

    /// One case: the expression and whether it holds for the test item.
    fn holds(text: &str, expected: bool) {
        assert_eq!(eval(text), Ok(expected), "{text}");
    }

    /// One case: the expression is rejected with a message containing `fragment`.
    fn rejected(text: &str, fragment: &str) {
        match eval(text) {
            Err(message) => assert!(message.contains(fragment), "{text}: {message}"),
            Ok(v) => panic!("{text}: expected an error containing {fragment:?}, evaluated to {v}"),
        }
    }

    #[test]
    fn condition_table() {
        holds("id = :id", true);
        holds("id <> :id", false);
        holds("#s = :s", true);
        holds("#s <> :bad", true);
        holds("amount = :n", true); // 42.50 = 42.5 as decimals
        holds("amount > :high", false);
        holds("amount >= :low AND amount <= :high", true);
        holds("qty < :low", true); // 3 < 10 numerically, not as strings
        holds("qty = :ten", false); // N vs S: type mismatch never equal
        holds("qty <> :ten", true);
        holds("qty < :ten", false); // type mismatch compares false
        holds("amount BETWEEN :low AND :high", true);
        holds("qty BETWEEN :low AND :high", false);
        holds("qty IN (:one, :three)", true);
        holds("qty IN (:one, :zero)", false);
        holds("attribute_exists(id)", true);
        holds("attribute_not_exists(id)", false);
        holds("attribute_not_exists(absent)", true);
        holds("attribute_exists(card.last4)", true);
        holds("attribute_exists(lineitems[1].sku)", true);
        holds("attribute_exists(lineitems[2])", false);
        holds("attribute_exists(card[0])", false);
        holds("lineitems[0].price = :low", true);
        holds("lineitems[0].sku = :x1", true);
        holds("attribute_type(tags, :t)", true);
        holds("attribute_type(absent, :t)", false);
        holds("begins_with(id, :pre)", true);
        holds("begins_with(#s, :pre)", false);
        holds("begins_with(bin, :b)", true);
        holds("begins_with(qty, :pre)", false);
        holds("contains(tags, :a)", true);
        holds("contains(id, :pre)", true);
        holds("contains(nums, :one)", true);
        holds("contains(nums, :a)", false);
        holds("size(tags) = :high", false);
        holds("size(id) > :three", true);
        holds("size(u) = :three", true); // "éx": 3 UTF-8 bytes, 2 characters
        holds("size(lineitems) BETWEEN :one AND :three", true);
        holds("size(qty) = :one", false); // size of a number is undefined
        holds("absent = :one", false);
        holds("absent <> :one", true); // a absent attribute is not equal to anything
        holds("absent < :one", false);
        holds("NOT attribute_exists(absent)", true);
        holds("NOT (id = :id OR qty = :one)", false);
        holds("id = :id AND (qty = :zero OR paid = :true)", true);
        holds("card = :m", true); // maps compare by content
        holds("Zebra < apple", true); // string order is by UTF-8 bytes: 'Z' < 'a'
        holds("#sp = :ten", false);
        holds("attribute_exists(#status)", false);
        holds("attribute_exists(#d)", false); // a placeholder is one name, dots included
        holds("paid = :true AND attribute_exists(note)", true);
        rejected(
            "id = :absent",
            "An expression attribute value used in expression is not defined; attribute value: :absent",
        );
        rejected(
            "#nope = :id",
            "An expression attribute name used in the document path is not defined; attribute name: #nope",
        );
        rejected(
            "status = :s",
            "Attribute name is a reserved keyword; reserved keyword: status",
        );
        rejected("State = :s", "reserved keyword: State");
        rejected("id = = :id", "Syntax error; token: \"=\"");
        rejected("id = 'x'", "Syntax error; token: \"'\"");
        rejected("id :id", "Syntax error; token: \":id\"");
        rejected(
            "attribute_exists(:id)",
            "Operator or function requires a document path; operator or function: attribute_exists",
        );
        rejected(
            "attribute_exist(id)",
            "Invalid function name; function: attribute_exist",
        );
        rejected("attribute_exists(id, qty)", "Incorrect number of operands");
        rejected(
            "attribute_type(tags, :one)",
            "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N",
        );
        rejected(
            "attribute_type(tags, :pre)",
            "Invalid attribute type name found; type: order",
        );
        rejected(
            "paid < :true",
            "Incorrect operand type for operator or function; operator or function: <, operand type: BOOL",
        );
        rejected(
            "qty BETWEEN :high AND :low",
            "requires upper bound to be greater than or equal to lower bound",
        );
        rejected(
            "qty BETWEEN :low AND :pre",
            "requires same data type for lower and upper bounds",
        );
        rejected(
            "begins_with(id, :one)",
            "operator or function: begins_with, operand type: N",
        );
        rejected(
            "size(id)",
            "The function is not allowed to be used this way",
        );
        rejected(
            "attribute_exists(id) = :true",
            "The function is not allowed to be used this way",
        );
        rejected(
            "if_not_exists(id, :id) = :id",
            "The function is not allowed in a condition expression",
        );
        rejected("id = :id AND", "Syntax error; token: \"<EOF>\"");
        rejected(
            "",
            "Invalid ConditionExpression: The expression can not be empty;",
        );
        rejected("(id = :id", "Syntax error");
        rejected("id IN ()", "Syntax error");
    }

    fn apply(update_text: &str, before: Value, values: Value) -> Result<Value, String> {
        let old = item_from_json(&before, "Item").unwrap();
        let key = item_from_json(&json!({"id": {"S": "k"}}), "Key").unwrap();
        let values = (!values.is_null()).then_some(&values);
        let mut r = Resolver::new(Some(&names()), values).map_err(|e| e.message())?;
        let update = r.update(update_text, &["id"]).map_err(|e| e.message())?;
        apply_update(Some(&old), &key, &update).map(|i| item_to_json(&i))
    }

    /// One case: the update turns `before` into `after`.
    fn updates(text: &str, before: Value, values: Value, after: Value) {
        assert_eq!(
            apply(text, before.clone(), values),
            Ok(after),
            "{text} on {before}"
        );
    }

    /// One case: the update is rejected with a message containing `fragment`.
    fn update_fails(text: &str, before: Value, values: Value, fragment: &str) {
        match apply(text, before.clone(), values) {
            Err(message) => assert!(message.contains(fragment), "{text}: {message}"),
            Ok(v) => panic!("{text} on {before}: expected {fragment:?}, got {v}"),
        }
    }

    /// SET: assignments, arithmetic, functions and nested paths.
    #[test]
    fn update_set() {
        let n = |s: &str| json!({"N": s});
        let s = |s: &str| json!({"S": s});
        updates(
            "SET a = :v",
            json!({}),
            json!({":v": s("x")}),
            json!({"a": s("x")}),
        );
        updates(
            "SET a = a + :v",
            json!({"a": n("1.5")}),
            json!({":v": n("2")}),
            json!({"a": n("3.5")}),
        );
        updates(
            "SET a = a - :v",
            json!({"a": n("1")}),
            json!({":v": n("3")}),
            json!({"a": n("-2")}),
        );
        updates(
            "SET c = if_not_exists(c, :z) + :one",
            json!({}),
            json!({":z": n("0"), ":one": n("1")}),
            json!({"c": n("1")}),
        );
        updates(
            "SET c = if_not_exists(c, :z) + :one",
            json!({"c": n("5")}),
            json!({":z": n("0"), ":one": n("1")}),
            json!({"c": n("6")}),
        );
        updates(
            "SET a = b, b = a",
            json!({"a": s("1"), "b": s("2")}),
            Value::Null,
            json!({"a": s("2"), "b": s("1")}),
        );
        updates(
            "SET l = list_append(l, :v)",
            json!({"l": {"L": [s("a")]}}),
            json!({":v": {"L": [s("b")]}}),
            json!({"l": {"L": [s("a"), s("b")]}}),
        );
        updates(
            "SET l = list_append(:v, if_not_exists(l, :e))",
            json!({}),
            json!({":v": {"L": [s("b")]}, ":e": {"L": []}}),
            json!({"l": {"L": [s("b")]}}),
        );
        updates(
            "SET m.x = :v, l[1] = :v, l[9] = :v",
            json!({"m": {"M": {}}, "l": {"L": [s("a"), s("b")]}}),
            json!({":v": s("z")}),
            json!({"m": {"M": {"x": s("z")}}, "l": {"L": [s("a"), s("z"), s("z")]}}),
        );
    }

    /// REMOVE, ADD and DELETE, and lowercase keywords.
    #[test]
    fn update_remove_add_delete() {
        let n = |s: &str| json!({"N": s});
        let s = |s: &str| json!({"S": s});
        updates(
            "REMOVE a, m.x, l[0], l[2]",
            json!({"a": s("1"), "m": {"M": {"x": s("1"), "y": s("2")}}, "l": {"L": [s("0"), s("1"), s("2")]}}),
            Value::Null,
            json!({"m": {"M": {"y": s("2")}}, "l": {"L": [s("1")]}}),
        );
        updates(
            "REMOVE nada, l[7]",
            json!({"l": {"L": [s("0")]}}),
            Value::Null,
            json!({"l": {"L": [s("0")]}}),
        );
        updates(
            "ADD n :one, fresh :one",
            json!({"n": n("41")}),
            json!({":one": n("1")}),
            json!({"fresh": n("1"), "n": n("42")}),
        );
        updates(
            "ADD tags :t",
            json!({"tags": {"SS": ["a"]}}),
            json!({":t": {"SS": ["a", "b"]}}),
            json!({"tags": {"SS": ["a", "b"]}}),
        );
        updates(
            "DELETE tags :t",
            json!({"tags": {"SS": ["a", "b"]}}),
            json!({":t": {"SS": ["a"]}}),
            json!({"tags": {"SS": ["b"]}}),
        );
        updates(
            "DELETE tags :t",
            json!({"tags": {"SS": ["a"]}}),
            json!({":t": {"SS": ["a"]}}),
            json!({}),
        );
        updates(
            "set #s = :v remove x",
            json!({"x": s("1")}),
            json!({":v": s("OK")}),
            json!({"state": s("OK")}),
        );
    }

    /// Operands that are missing or of the wrong type.
    #[test]
    fn update_rejects_bad_operands() {
        let n = |s: &str| json!({"N": s});
        let s = |s: &str| json!({"S": s});
        update_fails(
            "SET a = b",
            json!({}),
            Value::Null,
            "refers to an attribute that does not exist",
        );
        update_fails(
            "SET a = a + :v",
            json!({"a": s("x")}),
            json!({":v": n("1")}),
            "incorrect data type",
        );
        update_fails(
            "SET a = :v + :v",
            json!({}),
            json!({":v": s("x")}),
            "operator or function: +, operand type: S",
        );
        update_fails(
            "SET m.x.y = :v",
            json!({}),
            json!({":v": s("x")}),
            "document path provided in the update expression is invalid",
        );
        update_fails(
            "ADD a :v",
            json!({}),
            json!({":v": s("x")}),
            "operator: ADD, operand type: STRING",
        );
        update_fails(
            "ADD a :v",
            json!({"a": s("x")}),
            json!({":v": n("1")}),
            "incorrect data type",
        );
        update_fails(
            "DELETE a :v",
            json!({}),
            json!({":v": n("1")}),
            "operator: DELETE, operand type: NUMBER",
        );
    }

    /// Key attributes, conflicting paths, repeated sections, functions and syntax.
    #[test]
    fn update_rejects_bad_expressions() {
        let s = |s: &str| json!({"S": s});
        update_fails(
            "SET id = :v",
            json!({}),
            json!({":v": s("x")}),
            "Cannot update attribute id. This attribute is part of the key",
        );
        update_fails(
            "SET a = :v, a = :v",
            json!({}),
            json!({":v": s("x")}),
            "Two document paths conflict",
        );
        update_fails(
            "SET a = :v REMOVE a.b",
            json!({}),
            json!({":v": s("x")}),
            "Two document paths overlap",
        );
        update_fails(
            "SET a = :v SET b = :v",
            json!({}),
            json!({":v": s("x")}),
            "The \"SET\" section can only be used once",
        );
        update_fails(
            "SET a = size(b)",
            json!({}),
            Value::Null,
            "The function is not allowed in an update expression; function: size",
        );
        update_fails(
            "SET a = list_append(:v)",
            json!({}),
            json!({":v": {"L": []}}),
            "Incorrect number of operands",
        );
        update_fails(
            "SET a = list_append(:v, :w)",
            json!({}),
            json!({":v": {"L": []}, ":w": s("x")}),
            "operator or function: list_append, operand type: S",
        );
        update_fails(
            "SET a = 1",
            json!({}),
            Value::Null,
            "Invalid UpdateExpression: Syntax error; token: \"1\"",
        );
    }

    /// DynamoDB numbers hold 38 significant digits.
    #[test]
    fn update_numbers_keep_38_digits() {
        let n = |s: &str| json!({"N": s});
        update_fails(
            "ADD n :v",
            json!({"n": n("99999999999999999999999999999999999999")}),
            json!({":v": n("0.1")}),
            "38 significant digits",
        );
        updates(
            "ADD n :v",
            json!({"n": n("99999999999999999999999999999999999999")}),
            json!({":v": n("1")}),
            json!({"n": n("100000000000000000000000000000000000000")}),
        );
    }

    #[test]
    fn projections() {
        let mut r = Resolver::new(None, None).unwrap();
        let paths = r
            .projection("card.brand, lineitems[1].sku, lineitems[0].price, nope")
            .unwrap();
        assert_eq!(
            item_to_json(&project(&item(), &paths)),
            json!({"card": {"M": {"brand": {"S": "VISA"}}}, "lineitems": {"L": [{"M": {"price": {"N": "10"}}}, {"M": {"sku": {"S": "x2"}}}]}})
        );
    }
}
