//! The evaluator, a port of jsonata.js 2.0.6 `jsonata.js` (`evaluate` and its helpers), run
//! synchronously, with a step budget and a depth limit so that no expression runs
//! unbounded.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::OnceLock;

use indexmap::IndexMap;

use crate::ast::{BinOp, Kind, Node, Stage};
use crate::error::json_string;
use crate::functions;
use crate::parser::{self, Parsed, Slot};
use crate::value::{
    Budget, Eval, Fail, Flags, Frame, Func, JsonError, Lambda, Map, R, Str, Value, deep_equal,
    js_str_cmp, reaches, truthy,
};
use crate::{Bindings, Limits, RandomSource};

fn chain_ast() -> &'static Parsed {
    static CHAIN: OnceLock<Parsed> = OnceLock::new();
    CHAIN.get_or_init(|| {
        parser::parse("function($f, $g) { function($x){ $g($f($x)) } }")
            .unwrap_or_else(|e| unreachable!("the chain function parses: {e}"))
    })
}

/// Stack space kept free before recursing, and the size of each new segment: deep
/// expressions grow the stack on the heap, so the depth limit, not the thread's stack
/// size, bounds them.
const RED_ZONE: usize = 128 * 1024;
const SEGMENT: usize = 2 * 1024 * 1024;

impl<'a, 'x> Eval<'a, 'x> {
    pub fn new(
        bindings: &'a dyn Bindings,
        slots: &'a [Slot],
        timestamp: i64,
        random: &'x mut dyn RandomSource,
        limits: Limits,
    ) -> Self {
        Eval {
            bindings,
            slots,
            timestamp,
            random,
            limits,
            depth: 0,
            steps: 0,
            captured: Vec::new(),
            host_cache: RefCell::new(Vec::new()),
        }
    }

    /// Counts one unit of work against the step budget.
    pub fn step(&mut self) -> R<()> {
        self.steps += 1;
        if self.steps > self.limits.max_steps {
            return Err(Fail::new("D1012").message(format!(
                "Evaluation exceeded {} steps. Check for infinite loop",
                self.limits.max_steps
            )));
        }
        Ok(())
    }

    /// Counts `n` units of work (a built-in's loop over `n` items).
    pub fn steps(&mut self, n: usize) -> R<()> {
        self.steps = self.steps.saturating_add(n as u64);
        if self.steps > self.limits.max_steps {
            return Err(Fail::new("D1012").message(format!(
                "Evaluation exceeded {} steps. Check for infinite loop",
                self.limits.max_steps
            )));
        }
        Ok(())
    }

    /// Fails when a sequence or string would exceed the size limit.
    pub fn check_size(&self, n: usize) -> R<()> {
        if n > self.limits.max_sequence_length {
            return Err(Fail::new("D2015").value_text(self.limits.max_sequence_length.to_string()));
        }
        Ok(())
    }

    pub fn check_string(&self, s: &str) -> R<()> {
        if s.len() > self.limits.max_string_bytes {
            return Err(Fail::new("D2015").value_text(self.limits.max_string_bytes.to_string()));
        }
        Ok(())
    }

    pub fn root_frame(&self, input: &Value<'a>) -> Rc<Frame<'a>> {
        let frame = Rc::new(Frame::default());
        frame.bind(Str::Borrowed("$"), input.clone());
        frame
    }

    pub fn lookup(&self, env: &Rc<Frame<'a>>, name: &str) -> Value<'a> {
        let mut frame = Some(env);
        while let Some(f) = frame {
            if let Some(v) = f.lookup_local(name) {
                return v;
            }
            frame = f.parent.as_ref();
        }
        if let Some((_, v)) = self.host_cache.borrow().iter().find(|(k, _)| k == name) {
            return v.clone();
        }
        if let Some(binding) = self.bindings.binding(name) {
            let v = match binding {
                crate::Binding::Json(j) => Value::from_json(j),
                crate::Binding::Object(fields) => {
                    let mut map = Map::with_capacity(fields.len());
                    for (k, v) in fields {
                        map.insert(Rc::from(k), Value::from_json(v));
                    }
                    Value::object(map)
                }
            };
            self.host_cache
                .borrow_mut()
                .push((name.to_string(), v.clone()));
            return v;
        }
        match functions::lookup(name) {
            Some(b) => Value::func(Func::Builtin(b)),
            None => Value::Undefined,
        }
    }

    fn capture(&mut self, env: &Rc<Frame<'a>>) {
        if !env.captured.replace(true) {
            if self.captured.len() >= 64 && self.captured.len().is_power_of_two() {
                self.captured.retain(|w| w.strong_count() > 0);
            }
            self.captured.push(Rc::downgrade(env));
        }
    }

    pub fn label(&self, slot: usize) -> String {
        format!("!{}", self.slots.get(slot).map_or(slot, |s| s.label))
    }

    // ---- evaluate -------------------------------------------------------------------

    pub fn eval(&mut self, node: &'a Node, input: &Value<'a>, env: &Rc<Frame<'a>>) -> R<Value<'a>> {
        self.step()?;
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            self.depth -= 1;
            return Err(Fail::new("D1011").at(node.position));
        }
        let result = stacker::maybe_grow(RED_ZONE, SEGMENT, || self.eval_node(node, input, env));
        self.depth -= 1;
        result
    }

    // jsonata.js's `evaluate`: one arm per node type, a dispatch table kept whole to compare
    // with it.
    fn eval_node(
        &mut self,
        node: &'a Node,
        input: &Value<'a>,
        env: &Rc<Frame<'a>>,
    ) -> R<Value<'a>> {
        let mut result = match &node.kind {
            Kind::Path { .. } => self.eval_path(node, input, env)?,
            Kind::Binary { op, lhs, rhs } => self.eval_binary(node, *op, lhs, rhs, input, env)?,
            Kind::Negate(e) => {
                let v = self.eval(e, input, env)?;
                match v {
                    Value::Undefined => Value::Undefined,
                    Value::Number(n) if !n.is_nan() => {
                        if n.is_infinite() {
                            return Err(Fail::new("D1001")
                                .value_text(crate::number::js_number_to_string(n))
                                .at(node.position));
                        }
                        Value::Number(-n)
                    }
                    other => {
                        return Err(Fail::new("D1002")
                            .value(&other)
                            .at(node.position)
                            .token("-"));
                    }
                }
            }
            Kind::Array(items) => self.eval_array(node, items, input, env)?,
            Kind::Object(pairs) => self.eval_group(pairs, node.position, input.clone(), env)?,
            Kind::Name(name) => functions::lookup_field(input, name),
            Kind::String(s) => Value::Str(Str::Borrowed(s)),
            Kind::Number(n) => Value::Number(*n),
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Null => Value::Null,
            Kind::Wildcard => self.eval_wildcard(input)?,
            Kind::Descendant => self.eval_descendants(input)?,
            Kind::Parent(slot) => {
                let label = self.label(*slot);
                self.lookup(env, &label)
            }
            Kind::Condition {
                condition,
                then,
                otherwise,
            } => {
                let c = self.eval(condition, input, env)?;
                if self.boolean(&c, condition.position)? == Some(true) {
                    self.eval(then, input, env)?
                } else if let Some(o) = otherwise {
                    self.eval(o, input, env)?
                } else {
                    Value::Undefined
                }
            }
            Kind::Block(exprs) => {
                let frame = Frame::child(env);
                let mut result = Value::Undefined;
                for e in exprs {
                    result = self.eval(e, input, &frame)?;
                }
                result
            }
            Kind::Bind { name, value } => {
                let v = self.eval(value, input, env)?;
                env.bind(Str::Borrowed(name), v.clone());
                v
            }
            Kind::Regex(re) => Value::func(Func::Regex(re.clone())),
            Kind::Function {
                procedure,
                arguments,
            } => self.eval_function(node, procedure, arguments, input, env, None)?,
            Kind::Partial {
                procedure,
                arguments,
            } => self.eval_partial(node, procedure, arguments, input, env)?,
            Kind::Placeholder => Value::Undefined,
            Kind::Variable(name) => {
                if name.is_empty() {
                    match input {
                        Value::Array(a) if a.outer_wrapper => {
                            a.items.first().cloned().unwrap_or(Value::Undefined)
                        }
                        other => other.clone(),
                    }
                } else {
                    self.lookup(env, name)
                }
            }
            Kind::Lambda(def) => {
                self.capture(env);
                Value::func(Func::Lambda(Lambda {
                    def,
                    input: input.clone(),
                    env: env.clone(),
                    params: def.params.clone().into(),
                    use_signature: true,
                    thunk: def.thunk,
                }))
            }
            Kind::Apply { lhs, rhs } => self.eval_apply(node, lhs, rhs, input, env)?,
            Kind::Transform { .. } => {
                self.capture(env);
                Value::func(Func::Transform {
                    node,
                    env: env.clone(),
                })
            }
            Kind::Sort(_) => {
                // A sort only appears as a path step, where eval_step handles it.
                self.eval_sort(node, input, env)?
            }
        };

        for predicate in &node.predicate {
            result = self.eval_filter(predicate, result, env)?;
        }
        if !node.is_path()
            && let Some(group) = &node.group
        {
            result = self.eval_group(&group.pairs, group.position, result, env)?;
        }

        if let Value::Array(a) = &result
            && a.sequence
            && !a.tuple_stream
        {
            if node.keep_array {
                a.keep_singleton.set(true);
            }
            if a.items.is_empty() {
                result = Value::Undefined;
            } else if a.items.len() == 1 && !a.keep_singleton.get() {
                result = a.items[0].clone();
            }
        }
        Ok(result)
    }

    /// jsonata's `fn.boolean` with its D1001 for infinite numbers.
    pub fn boolean(&self, v: &Value<'a>, position: usize) -> R<Option<bool>> {
        truthy(v, &mut self.budget()).map_err(|e| self.walk_error(e).at(position))
    }

    /// The budget of one walk over a value (equality, truthiness, writing it out).
    pub fn budget(&self) -> Budget {
        Budget::new(
            self.limits.max_depth,
            usize::try_from(self.limits.max_steps).unwrap_or(usize::MAX),
        )
    }

    /// The error for a walk that could not finish.
    pub fn walk_error(&self, e: JsonError) -> Fail {
        match e {
            JsonError::NonFinite(n) => {
                Fail::new("D1001").value_text(crate::number::js_number_to_string(n))
            }
            JsonError::TooDeep => Fail::new("D1011"),
            JsonError::TooLarge | JsonError::Function => {
                Fail::new("D2015").value_text(self.limits.max_steps.to_string())
            }
        }
    }

    /// jsonata's `isDeepEqual`, bounded.
    pub fn deep_equal(&self, a: &Value<'a>, b: &Value<'a>) -> R<bool> {
        deep_equal(a, b, &mut self.budget()).map_err(|e| self.walk_error(e))
    }

    // ---- paths ----------------------------------------------------------------------

    fn eval_path(
        &mut self,
        node: &'a Node,
        input: &Value<'a>,
        env: &Rc<Frame<'a>>,
    ) -> R<Value<'a>> {
        let Kind::Path {
            steps,
            keep_singleton_array,
        } = &node.kind
        else {
            unreachable!("eval_path on a path")
        };
        let mut input_sequence = if input.is_array() && !matches!(steps[0].kind, Kind::Variable(_))
        {
            input.clone()
        } else {
            Value::seq(vec![input.clone()])
        };
        let mut result_sequence = Value::Undefined;
        let mut is_tuple_stream = false;
        let mut tuple_bindings: Option<Value<'a>> = None;
        let last = steps.len() - 1;
        for (ii, step) in steps.iter().enumerate() {
            if step.tuple {
                is_tuple_stream = true;
            }
            if ii == 0 && step.consarray {
                result_sequence = self.eval(step, &input_sequence, env)?;
            } else if is_tuple_stream {
                tuple_bindings = Some(self.eval_tuple_step(
                    step,
                    &input_sequence,
                    tuple_bindings.take(),
                    env,
                )?);
            } else {
                result_sequence = self.eval_step(step, &input_sequence, env, ii == last)?;
            }
            // jsonata tests `.length === 0`, which an empty string passes too.
            if !is_tuple_stream
                && (result_sequence.is_undefined()
                    || (result_sequence.is_array() && result_sequence.array_len() == 0)
                    || result_sequence.as_str() == Some(""))
            {
                break;
            }
            if step.focus.is_none() {
                input_sequence = result_sequence.clone();
            }
        }
        if is_tuple_stream {
            let tuples = tuple_bindings
                .clone()
                .unwrap_or_else(|| Value::seq(Vec::new()));
            if node.tuple {
                result_sequence = tuples;
            } else {
                let mut out = Vec::with_capacity(tuples.array_len());
                tuples.for_each_item(|t| out.push(t.get_prop("@")));
                result_sequence = Value::seq(out);
            }
        }
        if *keep_singleton_array {
            if let Value::Array(a) = &result_sequence
                && a.cons
                && !a.sequence
            {
                result_sequence = Value::seq(vec![result_sequence.clone()]);
            }
            if let Value::Array(a) = &result_sequence {
                a.keep_singleton.set(true);
            }
        }
        if let Some(group) = &node.group {
            let data = if is_tuple_stream {
                tuple_bindings.unwrap_or_else(|| Value::seq(Vec::new()))
            } else {
                result_sequence
            };
            result_sequence = self.eval_group(&group.pairs, group.position, data, env)?;
        }
        Ok(result_sequence)
    }

    fn eval_step(
        &mut self,
        step: &'a Node,
        input: &Value<'a>,
        env: &Rc<Frame<'a>>,
        last_step: bool,
    ) -> R<Value<'a>> {
        if matches!(step.kind, Kind::Sort(_)) {
            let mut result = self.eval_sort(step, input, env)?;
            if !step.stages.is_empty() {
                result = self.eval_stages(&step.stages, result, env)?;
            }
            return Ok(result);
        }
        let mut results: Vec<Value<'a>> = Vec::new();
        let items = match input {
            // jsonata indexes whatever it is given: a string yields its characters.
            Value::Str(s) => s.chars().map(|c| Value::string(c.to_string())).collect(),
            other => other.array_items(),
        };
        for item in &items {
            let mut res = self.eval(step, item, env)?;
            for stage in &step.stages {
                if let Stage::Filter(expr) = stage {
                    res = self.eval_filter(expr, res, env)?;
                }
            }
            if !res.is_undefined() {
                results.push(res);
            }
        }
        if last_step && results.len() == 1 && results[0].is_array() && !results[0].is_sequence() {
            return Ok(results.pop().unwrap_or(Value::Undefined));
        }
        let mut out = Vec::with_capacity(results.len());
        for res in results {
            match &res {
                Value::Array(a) if !a.cons => out.extend(a.items.iter().cloned()),
                Value::JsonArray(a) => out.extend(a.iter().map(Value::from_json)),
                _ => out.push(res),
            }
        }
        self.check_size(out.len())?;
        Ok(Value::seq(out))
    }

    fn eval_stages(
        &mut self,
        stages: &'a [Stage],
        input: Value<'a>,
        env: &Rc<Frame<'a>>,
    ) -> R<Value<'a>> {
        let mut result = input;
        for stage in stages {
            match stage {
                Stage::Filter(expr) => result = self.eval_filter(expr, result, env)?,
                Stage::Index(name) => {
                    let mut i = 0;
                    result.for_each_item(|tuple| {
                        if let Value::Object(o) = &tuple {
                            o.borrow_mut()
                                .insert(Rc::from(name.as_str()), Value::Number(i as f64));
                        }
                        i += 1;
                    });
                }
            }
        }
        Ok(result)
    }

    fn tuple(map: Map<'a>) -> Value<'a> {
        Value::object(map)
    }

    fn frame_from_tuple(env: &Rc<Frame<'a>>, tuple: &Value<'a>) -> Rc<Frame<'a>> {
        let frame = Frame::child(env);
        for (k, v) in tuple.entries() {
            frame.bind(Str::Owned(k), v);
        }
        frame
    }

    fn eval_tuple_step(
        &mut self,
        step: &'a Node,
        input: &Value<'a>,
        tuple_bindings: Option<Value<'a>>,
        env: &Rc<Frame<'a>>,
    ) -> R<Value<'a>> {
        if matches!(step.kind, Kind::Sort(_)) {
            let mut result = if let Some(tb) = tuple_bindings {
                self.eval_sort(step, &tb, env)?
            } else {
                let sorted = self.eval_sort(step, input, env)?;
                let mut out = Vec::new();
                let key: Rc<str> = Rc::from(step.index.as_deref().unwrap_or("undefined"));
                let items = if sorted.is_array() {
                    sorted.array_items()
                } else {
                    Vec::new()
                };
                for (ss, item) in items.into_iter().enumerate() {
                    let mut map = Map::new();
                    map.insert(Rc::from("@"), item);
                    map.insert(key.clone(), Value::Number(ss as f64));
                    out.push(Self::tuple(map));
                }
                Value::with_flags(
                    out,
                    Flags {
                        sequence: true,
                        tuple_stream: true,
                        ..Flags::default()
                    },
                )
            };
            if !step.stages.is_empty() {
                result = self.eval_stages(&step.stages, result, env)?;
            }
            return Ok(result);
        }
        let tuple_bindings = match tuple_bindings {
            Some(tb) => tb.array_items(),
            None => input
                .array_items()
                .into_iter()
                .map(|item| {
                    let mut map = Map::new();
                    map.insert(Rc::from("@"), item);
                    Self::tuple(map)
                })
                .collect(),
        };
        let mut out = Vec::new();
        for tb in &tuple_bindings {
            let step_env = Self::frame_from_tuple(env, tb);
            let at = tb.get_prop("@");
            let res = self.eval(step, &at, &step_env)?;
            if res.is_undefined() {
                continue;
            }
            let res_is_tuples = res.is_tuple_stream();
            let items = if res.is_array() {
                res.array_items()
            } else {
                vec![res]
            };
            for (bb, r) in items.into_iter().enumerate() {
                let mut map: Map<'a> = match tb {
                    Value::Object(o) => o.borrow().clone(),
                    _ => Map::new(),
                };
                if res_is_tuples {
                    for (k, v) in r.entries() {
                        map.insert(k, v);
                    }
                } else {
                    if let Some(focus) = &step.focus {
                        map.insert(Rc::from(focus.as_str()), r);
                        map.insert(Rc::from("@"), at.clone());
                    } else {
                        map.insert(Rc::from("@"), r);
                    }
                    if let Some(index) = &step.index {
                        map.insert(Rc::from(index.as_str()), Value::Number(bb as f64));
                    }
                    if let Some(slot) = step.ancestor {
                        map.insert(Rc::from(self.label(slot).as_str()), at.clone());
                    }
                }
                out.push(Self::tuple(map));
            }
            self.check_size(out.len())?;
        }
        let mut result = Value::with_flags(
            out,
            Flags {
                sequence: true,
                tuple_stream: true,
                ..Flags::default()
            },
        );
        if !step.stages.is_empty() {
            result = self.eval_stages(&step.stages, result, env)?;
        }
        Ok(result)
    }

    fn eval_filter(
        &mut self,
        predicate: &'a Node,
        input: Value<'a>,
        env: &Rc<Frame<'a>>,
    ) -> R<Value<'a>> {
        let tuple_stream = input.is_tuple_stream();
        let input = if input.is_array() {
            input
        } else {
            Value::seq(vec![input])
        };
        let len = input.array_len();
        let flags = Flags {
            sequence: true,
            tuple_stream,
            ..Flags::default()
        };
        if let Kind::Number(n) = predicate.kind {
            let mut index = n.floor();
            if index < 0.0 {
                index += len as f64;
            }
            let mut results = Vec::new();
            if index >= 0.0 && index < len as f64 {
                let item = input.array_get(index as usize);
                if item.is_array() {
                    return Ok(item);
                }
                if !item.is_undefined() {
                    results.push(item);
                }
            }
            return Ok(Value::with_flags(results, flags));
        }
        let mut results = Vec::new();
        let items = input.array_items();
        for (index, item) in items.iter().enumerate() {
            let (context, env2) = if tuple_stream {
                (item.get_prop("@"), Self::frame_from_tuple(env, item))
            } else {
                (item.clone(), env.clone())
            };
            let res = self.eval(predicate, &context, &env2)?;
            let numbers: Option<Vec<f64>> = match &res {
                Value::Number(n) if !n.is_nan() => Some(vec![*n]),
                r if r.is_array() => {
                    let mut all = Some(Vec::new());
                    r.for_each_item(|v| match (&mut all, v) {
                        (Some(list), Value::Number(n)) if !n.is_nan() => list.push(n),
                        _ => all = None,
                    });
                    all
                }
                _ => None,
            };
            if let Some(numbers) = numbers {
                for n in numbers {
                    if n.is_infinite() {
                        return Err(Fail::new("D1001")
                            .value_text(crate::number::js_number_to_string(n))
                            .at(predicate.position));
                    }
                    let mut ii = n.floor();
                    if ii < 0.0 {
                        ii += len as f64;
                    }
                    if ii == index as f64 {
                        results.push(item.clone());
                    }
                }
            } else if self.boolean(&res, predicate.position)? == Some(true) {
                results.push(item.clone());
            }
        }
        Ok(Value::with_flags(results, flags))
    }

    // ---- operators ------------------------------------------------------------------

    fn eval_binary(
        &mut self,
        node: &'a Node,
        op: BinOp,
        lhs: &'a Node,
        rhs: &'a Node,
        input: &Value<'a>,
        env: &Rc<Frame<'a>>,
    ) -> R<Value<'a>> {
        let l = self.eval(lhs, input, env)?;
        let fix = |f: Fail| f.at(node.position).token(op.symbol());
        if op == BinOp::And || op == BinOp::Or {
            let lb = self
                .boolean(&l, node.position)
                .map_err(fix)?
                .unwrap_or(false);
            let result = match op {
                BinOp::And => {
                    lb && {
                        let r = self.eval(rhs, input, env)?;
                        self.boolean(&r, node.position)
                            .map_err(fix)?
                            .unwrap_or(false)
                    }
                }
                _ => {
                    lb || {
                        let r = self.eval(rhs, input, env)?;
                        self.boolean(&r, node.position)
                            .map_err(fix)?
                            .unwrap_or(false)
                    }
                }
            };
            return Ok(Value::Bool(result));
        }
        let r = self.eval(rhs, input, env)?;
        self.binary_values(op, l, r).map_err(fix)
    }

    // One arm per binary operator (jsonata.js's `evaluateBinary` with the helpers it calls):
    // a dispatch table.
    fn binary_values(&mut self, op: BinOp, l: Value<'a>, r: Value<'a>) -> R<Value<'a>> {
        let numeric = |v: &Value<'a>, code: &'static str| -> R<Option<f64>> {
            match v {
                Value::Undefined => Ok(None),
                Value::Number(n) if !n.is_nan() => {
                    if n.is_infinite() {
                        Err(Fail::new("D1001").value_text(crate::number::js_number_to_string(*n)))
                    } else {
                        Ok(Some(*n))
                    }
                }
                other => Err(Fail::new(code).value(other)),
            }
        };
        Ok(match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                let a = numeric(&l, "T2001")?;
                let b = numeric(&r, "T2002")?;
                match (a, b) {
                    (Some(a), Some(b)) => Value::Number(match op {
                        BinOp::Add => a + b,
                        BinOp::Sub => a - b,
                        BinOp::Mul => a * b,
                        BinOp::Div => a / b,
                        _ => a % b,
                    }),
                    _ => Value::Undefined,
                }
            }
            BinOp::Eq | BinOp::Ne => {
                if l.is_undefined() || r.is_undefined() {
                    Value::Bool(false)
                } else {
                    let eq = self.deep_equal(&l, &r)?;
                    Value::Bool(if op == BinOp::Eq { eq } else { !eq })
                }
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let comparable = |v: &Value<'a>| {
                    matches!(v, Value::Undefined | Value::Str(_) | Value::Number(_))
                };
                if !comparable(&l) || !comparable(&r) {
                    let bad = if matches!(l, Value::Str(_) | Value::Number(_)) {
                        &r
                    } else {
                        &l
                    };
                    return Err(Fail::new("T2010").value(bad));
                }
                if l.is_undefined() || r.is_undefined() {
                    return Ok(Value::Undefined);
                }
                let ord = match (&l, &r) {
                    (Value::Number(a), Value::Number(b)) => a.partial_cmp(b),
                    (Value::Str(a), Value::Str(b)) => Some(js_str_cmp(a, b)),
                    _ => return Err(Fail::new("T2009").value(&l).value2(&r)),
                };
                use std::cmp::Ordering::*;
                Value::Bool(match (op, ord) {
                    (_, None) => false,
                    (BinOp::Lt, Some(o)) => o == Less,
                    (BinOp::Le, Some(o)) => o != Greater,
                    (BinOp::Gt, Some(o)) => o == Greater,
                    (_, Some(o)) => o != Less,
                })
            }
            BinOp::Concat => {
                let mut s = String::new();
                if !l.is_undefined() {
                    s.push_str(&functions::string_of(self, &l, false)?);
                }
                if !r.is_undefined() {
                    s.push_str(&functions::string_of(self, &r, false)?);
                }
                self.check_string(&s)?;
                Value::string(s)
            }
            BinOp::Range => {
                let int = |v: &Value<'a>, code: &'static str| -> R<Option<f64>> {
                    match v {
                        Value::Undefined => Ok(None),
                        Value::Number(n) if n.is_finite() && n.fract() == 0.0 => Ok(Some(*n)),
                        other => Err(Fail::new(code).value(other)),
                    }
                };
                let a = int(&l, "T2003")?;
                let b = int(&r, "T2004")?;
                let (Some(a), Some(b)) = (a, b) else {
                    return Ok(Value::Undefined);
                };
                if a > b {
                    return Ok(Value::Undefined);
                }
                let size = b - a + 1.0;
                if size > 1e7 {
                    return Err(
                        Fail::new("D2014").value_text(crate::number::js_number_to_string(size))
                    );
                }
                self.check_size(size as usize)?;
                self.steps(size as usize)?;
                let items = (0..size as usize)
                    .map(|i| Value::Number(a + i as f64))
                    .collect();
                Value::seq(items)
            }
            BinOp::In => {
                if l.is_undefined() || r.is_undefined() {
                    Value::Bool(false)
                } else if r.is_array() {
                    let mut found = false;
                    r.for_each_item(|item| {
                        if !found && item.strict_eq(&l) {
                            found = true;
                        }
                    });
                    Value::Bool(found)
                } else {
                    Value::Bool(r.strict_eq(&l))
                }
            }
            BinOp::And | BinOp::Or => unreachable!("handled with short-circuit"),
        })
    }

    fn eval_array(
        &mut self,
        node: &'a Node,
        items: &'a [Node],
        input: &Value<'a>,
        env: &Rc<Frame<'a>>,
    ) -> R<Value<'a>> {
        let mut result: Vec<Value<'a>> = Vec::new();
        for item in items {
            let value = self.eval(item, input, env)?;
            if value.is_undefined() {
                continue;
            }
            if matches!(item.kind, Kind::Array(_)) {
                result.push(value);
            } else if value.is_array() {
                value.for_each_item(|v| result.push(v));
            } else {
                result.push(value);
            }
            self.check_size(result.len())?;
        }
        Ok(Value::with_flags(
            result,
            Flags {
                cons: node.consarray,
                ..Flags::default()
            },
        ))
    }

    fn eval_wildcard(&mut self, input: &Value<'a>) -> R<Value<'a>> {
        let input = match input {
            Value::Array(a) if a.outer_wrapper && !a.items.is_empty() => a.items[0].clone(),
            other => other.clone(),
        };
        let mut results = Vec::new();
        let mut sequence = true;
        let values: Vec<Value<'a>> = if input.is_object() {
            input.entries().into_iter().map(|(_, v)| v).collect()
        } else if input.is_array() {
            input.array_items()
        } else if let Value::Func(f) = &input
            && !matches!(
                **f,
                Func::Regex(_) | Func::RegexNext { .. } | Func::Closure(_)
            )
        {
            // jsonata.js's lambdas and built-ins are objects: `_jsonata_lambda: true` and,
            // for a lambda, the input it captured; their other members (environment, body)
            // are internals, which are not reproduced.
            match &**f {
                Func::Lambda(l) if !l.input.is_undefined() => {
                    vec![Value::Bool(true), l.input.clone()]
                }
                _ => vec![Value::Bool(true)],
            }
        } else {
            Vec::new()
        };
        for value in values {
            if value.is_array() {
                let mut budget =
                    Budget::new(self.limits.max_depth, self.limits.max_sequence_length);
                flatten(&value, &mut results, &mut budget, 0).map_err(|e| self.walk_error(e))?;
                sequence = false;
            } else {
                results.push(value);
            }
        }
        // jsonata.js's flags are enumerable properties of its arrays, so `*` over a
        // sequence also yields their `true` values.
        if let Value::Array(a) = &input {
            let flags = [
                a.sequence,
                a.keep_singleton.get(),
                a.outer_wrapper,
                a.tuple_stream,
            ];
            for _ in flags.iter().filter(|f| **f) {
                results.push(Value::Bool(true));
            }
        }
        self.steps(results.len())?;
        Ok(Value::with_flags(
            results,
            Flags {
                sequence,
                ..Flags::default()
            },
        ))
    }

    fn eval_descendants(&mut self, input: &Value<'a>) -> R<Value<'a>> {
        if input.is_undefined() {
            return Ok(Value::Undefined);
        }
        let mut results = Vec::new();
        let mut budget = Budget::new(self.limits.max_depth, self.limits.max_sequence_length);
        recurse_descendants(input, &mut results, &mut budget, 0).map_err(|e| self.walk_error(e))?;
        self.steps(results.len())?;
        self.check_size(results.len())?;
        if results.len() == 1 {
            return Ok(results.pop().unwrap_or(Value::Undefined));
        }
        Ok(Value::seq(results))
    }

    // ---- grouping and sorting -------------------------------------------------------

    pub fn eval_group(
        &mut self,
        pairs: &'a [(Node, Node)],
        position: usize,
        input: Value<'a>,
        env: &Rc<Frame<'a>>,
    ) -> R<Value<'a>> {
        let reduce = input.is_tuple_stream();
        let mut items = if input.is_array() {
            input.array_items()
        } else {
            vec![input]
        };
        if items.is_empty() {
            items.push(Value::Undefined);
        }
        let mut groups: IndexMap<Rc<str>, (Value<'a>, usize)> = IndexMap::new();
        for item in &items {
            let env2 = if reduce {
                Self::frame_from_tuple(env, item)
            } else {
                env.clone()
            };
            let context = if reduce {
                item.get_prop("@")
            } else {
                item.clone()
            };
            for (pair_index, (key_expr, _)) in pairs.iter().enumerate() {
                let key = self.eval(key_expr, &context, &env2)?;
                let key: Rc<str> = match &key {
                    Value::Undefined => continue,
                    Value::Str(s) => Rc::from(&**s),
                    other => return Err(Fail::new("T1003").value(other).at(position)),
                };
                if let Some(entry) = groups.get_mut(&key) {
                    if entry.1 != pair_index {
                        return Err(Fail::new("D1009")
                            .value(&Value::Str(Str::Owned(key)))
                            .at(position));
                    }
                    entry.0 = functions::append(
                        std::mem::replace(&mut entry.0, Value::Undefined),
                        item.clone(),
                    );
                } else {
                    groups.insert(key, (item.clone(), pair_index));
                }
            }
        }
        let mut result = Map::new();
        for (key, (data, index)) in groups {
            let (context, env3) = if reduce {
                let tuple = reduce_tuple_stream(&data);
                let context = tuple.get("@").cloned().unwrap_or(Value::Undefined);
                let frame = Frame::child(env);
                for (k, v) in tuple {
                    if &*k != "@" {
                        frame.bind(Str::Owned(k), v);
                    }
                }
                (context, frame)
            } else {
                (data, env.clone())
            };
            let value = self.eval(&pairs[index].1, &context, &env3)?;
            if !value.is_undefined() {
                result.insert(key, value);
            }
        }
        Ok(Value::object(result))
    }

    fn eval_sort(
        &mut self,
        node: &'a Node,
        input: &Value<'a>,
        env: &Rc<Frame<'a>>,
    ) -> R<Value<'a>> {
        let Kind::Sort(terms) = &node.kind else {
            unreachable!("eval_sort on a sort step")
        };
        let is_tuple_sort = input.is_tuple_stream();
        let position = node.position;
        let items = if input.is_array() {
            input.array_items()
        } else {
            return Ok(input.clone());
        };
        if items.len() <= 1 {
            return Ok(input.clone());
        }
        let mut comparator = |me: &mut Self, a: &Value<'a>, b: &Value<'a>| -> R<bool> {
            let mut comp = 0i32;
            for term in terms {
                if comp != 0 {
                    break;
                }
                let eval_in = |me: &mut Self, v: &Value<'a>| -> R<Value<'a>> {
                    if is_tuple_sort {
                        let frame = Self::frame_from_tuple(env, v);
                        me.eval(&term.expression, &v.get_prop("@"), &frame)
                    } else {
                        me.eval(&term.expression, v, env)
                    }
                };
                let aa = eval_in(me, a)?;
                let bb = eval_in(me, b)?;
                if aa.is_undefined() {
                    comp = if bb.is_undefined() { 0 } else { 1 };
                    continue;
                }
                if bb.is_undefined() {
                    comp = -1;
                    continue;
                }
                let ok = |v: &Value<'a>| matches!(v, Value::Str(_) | Value::Number(_));
                if !ok(&aa) || !ok(&bb) {
                    let bad = if ok(&aa) { &bb } else { &aa };
                    return Err(Fail::new("T2008").value(bad).at(position));
                }
                let ord = match (&aa, &bb) {
                    (Value::Number(x), Value::Number(y)) => {
                        if x == y {
                            continue;
                        }
                        if x < y { -1 } else { 1 }
                    }
                    (Value::Str(x), Value::Str(y)) => match js_str_cmp(x, y) {
                        std::cmp::Ordering::Equal => continue,
                        std::cmp::Ordering::Less => -1,
                        std::cmp::Ordering::Greater => 1,
                    },
                    _ => return Err(Fail::new("T2007").value(&aa).value2(&bb).at(position)),
                };
                comp = if term.descending { -ord } else { ord };
            }
            Ok(comp == 1)
        };
        let sorted = functions::merge_sort(self, items, &mut comparator)?;
        Ok(Value::array(sorted))
    }

    // ---- functions ------------------------------------------------------------------

    fn proc_name(procedure: &Node) -> Option<String> {
        match &procedure.kind {
            Kind::Path { steps, .. } => match &steps[0].kind {
                Kind::Name(n) => Some(n.clone()),
                _ => None,
            },
            Kind::Variable(n) => Some(n.clone()),
            _ => None,
        }
    }

    fn eval_function(
        &mut self,
        node: &'a Node,
        procedure: &'a Node,
        arguments: &'a [Node],
        input: &Value<'a>,
        env: &Rc<Frame<'a>>,
        apply_to: Option<Value<'a>>,
    ) -> R<Value<'a>> {
        let proc = self.eval(procedure, input, env)?;
        if proc.is_undefined()
            && let Kind::Path { steps, .. } = &procedure.kind
            && let Kind::Name(n) = &steps[0].kind
            && !self.lookup(env, n).is_undefined()
        {
            let mut f = Fail::new("T1005").at(node.position);
            f.fields.raw_token = Some(n.clone());
            return Err(f);
        }
        let mut args = Vec::with_capacity(arguments.len() + 1);
        if let Some(ctx) = apply_to {
            args.push(ctx);
        }
        for arg in arguments {
            let v = self.eval(arg, input, env)?;
            args.push(if v.is_function() {
                Value::func(Func::Closure(v))
            } else {
                v
            });
        }
        let name = Self::proc_name(procedure);
        self.apply(&proc, args, input).map_err(|mut f| {
            if f.position.is_none() {
                f.position = Some(node.position);
            }
            if f.fields.token.is_none()
                && let Some(n) = &name
            {
                f.fields.token = Some(json_string(n));
            }
            f
        })
    }

    /// Applies a function, running tail calls in a loop (jsonata's trampoline).
    pub fn apply(
        &mut self,
        proc: &Value<'a>,
        args: Vec<Value<'a>>,
        input: &Value<'a>,
    ) -> R<Value<'a>> {
        let mut result = self.apply_inner(proc, args, input)?;
        loop {
            let thunk = match &result {
                Value::Func(f) => match &**f {
                    Func::Lambda(l) if l.thunk => Some(f.clone()),
                    _ => None,
                },
                _ => None,
            };
            let Some(thunk) = thunk else { break };
            let Func::Lambda(l) = &*thunk else { break };
            let Kind::Function {
                procedure,
                arguments,
            } = &l.def.body.kind
            else {
                break;
            };
            self.step()?;
            let next = self.eval(procedure, &l.input, &l.env)?;
            let mut evaluated = Vec::with_capacity(arguments.len());
            for arg in arguments {
                evaluated.push(self.eval(arg, &l.input, &l.env)?);
            }
            let name = match &procedure.kind {
                Kind::Variable(n) => Some(n.clone()),
                _ => None,
            };
            result = self.apply_inner(&next, evaluated, input).map_err(|mut f| {
                if f.fields.token.is_none()
                    && let Some(n) = &name
                {
                    f.fields.token = Some(json_string(n));
                }
                if f.position.is_none() {
                    f.position = Some(procedure.position);
                }
                f
            })?;
        }
        Ok(result)
    }

    fn validate(
        &mut self,
        sig: &crate::signature::Signature,
        args: Vec<Value<'a>>,
        context: &Value<'a>,
    ) -> R<Vec<Value<'a>>> {
        use crate::signature::{Mismatch, Source};
        let syms: Vec<_> = args.iter().map(Value::sym).collect();
        let sources = sig.validate(&syms, context.sym()).map_err(|m| match m {
            Mismatch::Argument { index } => Fail::new("T0410")
                .index(index)
                .value(args.get(index - 1).unwrap_or(&Value::Undefined)),
            Mismatch::Context { index } => Fail::new("T0411").index(index).value(context),
            Mismatch::ArrayOf { index, type_ } => {
                let mut f = Fail::new("T0412")
                    .index(index)
                    .value(args.get(index - 1).unwrap_or(&Value::Undefined));
                f.fields.type_ = Some(json_string(type_));
                f
            }
        })?;
        let mut out = Vec::with_capacity(sources.len());
        for source in sources {
            out.push(match source {
                Source::Context => context.clone(),
                Source::Undefined => Value::Undefined,
                Source::Arg { index, wrap } => {
                    let v = args.get(index).cloned().unwrap_or(Value::Undefined);
                    if wrap { Value::array(vec![v]) } else { v }
                }
                Source::CheckedArray {
                    index,
                    subtype,
                    plural,
                } => {
                    let v = args.get(index).cloned().unwrap_or(Value::Undefined);
                    let n = v.array_len();
                    if n > 0 {
                        let first = v.array_get(0).sym();
                        let mut ok = first.ch() == subtype;
                        if ok {
                            v.for_each_item(|item| {
                                if item.sym() != first {
                                    ok = false;
                                }
                            });
                        }
                        if !ok {
                            let mut f = Fail::new("T0412").index(index + 1).value(&v);
                            f.fields.type_ = Some(json_string(plural));
                            return Err(f);
                        }
                    }
                    v
                }
            });
        }
        Ok(out)
    }

    fn apply_inner(
        &mut self,
        proc: &Value<'a>,
        args: Vec<Value<'a>>,
        input: &Value<'a>,
    ) -> R<Value<'a>> {
        let Value::Func(f) = proc else {
            return Err(Fail::new("T1006"));
        };
        let f = f.clone();
        match &*f {
            Func::Lambda(l) => {
                let args = match (&l.def.signature, l.use_signature) {
                    (Some(sig), true) => self.validate(sig, args, input)?,
                    _ => args,
                };
                self.apply_lambda(l, args)
            }
            Func::Builtin(b) => {
                let args = self.validate(b.signature(), args, input)?;
                (b.implementation)(self, args, input)
            }
            Func::NativePartial { builtin, bound } => {
                let mut supplied = args.into_iter();
                let full: Vec<Value<'a>> = bound
                    .iter()
                    .map(|b| match b {
                        Some(v) => v.clone(),
                        None => supplied.next().unwrap_or(Value::Undefined),
                    })
                    .collect();
                let full = self
                    .validate(builtin.signature(), full, &Value::Null)
                    .map_err(|f| f.token(builtin.name))?;
                (builtin.implementation)(self, full, &Value::Null)
            }
            Func::Regex(re) => {
                let text = args.first().cloned().unwrap_or(Value::Undefined);
                let from = match args.get(1) {
                    Some(Value::Number(n)) if *n > 0.0 => *n as usize,
                    _ => 0,
                };
                functions::regex_closure(self, re, &text, from)
            }
            Func::RegexNext { regex, text, from } => {
                functions::regex_next(self, regex, text, *from)
            }
            Func::Transform { node, env } => {
                let sig = transform_signature();
                let args = self.validate(sig, args, input)?;
                self.apply_transform(
                    node,
                    env,
                    args.into_iter().next().unwrap_or(Value::Undefined),
                )
            }
            Func::Closure(inner) => self.apply(inner, args, &Value::Null),
        }
    }

    fn apply_lambda(&mut self, l: &Lambda<'a>, args: Vec<Value<'a>>) -> R<Value<'a>> {
        let env = Frame::child(&l.env);
        let mut args = args.into_iter();
        for param in l.params.iter() {
            env.bind(
                Str::Owned(Rc::from(param.as_str())),
                args.next().unwrap_or(Value::Undefined),
            );
        }
        self.eval(&l.def.body, &l.input, &env)
    }

    fn eval_partial(
        &mut self,
        node: &'a Node,
        procedure: &'a Node,
        arguments: &'a [Node],
        input: &Value<'a>,
        env: &Rc<Frame<'a>>,
    ) -> R<Value<'a>> {
        let mut args: Vec<Option<Value<'a>>> = Vec::with_capacity(arguments.len());
        for arg in arguments {
            if matches!(arg.kind, Kind::Placeholder) {
                args.push(None);
            } else {
                args.push(Some(self.eval(arg, input, env)?));
            }
        }
        let proc = self.eval(procedure, input, env)?;
        if proc.is_undefined()
            && let Kind::Path { steps, .. } = &procedure.kind
            && let Kind::Name(n) = &steps[0].kind
            && !self.lookup(env, n).is_undefined()
        {
            let mut f = Fail::new("T1007").at(node.position);
            f.fields.raw_token = Some(n.clone());
            return Err(f);
        }
        let proc = match &proc {
            Value::Func(f) => match &**f {
                Func::Closure(inner) => inner.clone(),
                _ => proc.clone(),
            },
            _ => proc,
        };
        let Value::Func(f) = &proc else {
            let mut fail = Fail::new("T1008").at(node.position);
            if let Some(n) = Self::proc_name(procedure) {
                fail.fields.token = Some(json_string(&n));
            }
            return Err(fail);
        };
        match &**f {
            Func::Lambda(l) => {
                let frame = Frame::child(&l.env);
                let mut unbound = Vec::new();
                for (index, param) in l.params.iter().enumerate() {
                    match args.get(index) {
                        Some(None) => unbound.push(param.clone()),
                        Some(Some(v)) => {
                            frame.bind(Str::Owned(Rc::from(param.as_str())), v.clone())
                        }
                        None => frame.bind(Str::Owned(Rc::from(param.as_str())), Value::Undefined),
                    }
                }
                self.capture(&frame);
                Ok(Value::func(Func::Lambda(Lambda {
                    def: l.def,
                    input: l.input.clone(),
                    env: frame,
                    params: unbound.into(),
                    use_signature: false,
                    thunk: false,
                })))
            }
            Func::Builtin(b) => {
                let bound = (0..b.js_params)
                    .map(|i| match args.get(i) {
                        Some(None) => None,
                        Some(Some(v)) => Some(v.clone()),
                        None => Some(Value::Undefined),
                    })
                    .collect();
                Ok(Value::func(Func::NativePartial { builtin: b, bound }))
            }
            Func::NativePartial { builtin, bound } => {
                let mut supplied = args.into_iter();
                let bound = bound
                    .iter()
                    .map(|b| match b {
                        Some(v) => Some(v.clone()),
                        None => match supplied.next() {
                            Some(Some(v)) => Some(v),
                            Some(None) => None,
                            None => Some(Value::Undefined),
                        },
                    })
                    .collect();
                Ok(Value::func(Func::NativePartial { builtin, bound }))
            }
            _ => {
                let mut fail = Fail::new("T1008").at(node.position);
                if let Some(n) = Self::proc_name(procedure) {
                    fail.fields.token = Some(json_string(&n));
                }
                Err(fail)
            }
        }
    }

    fn eval_apply(
        &mut self,
        node: &'a Node,
        lhs: &'a Node,
        rhs: &'a Node,
        input: &Value<'a>,
        env: &Rc<Frame<'a>>,
    ) -> R<Value<'a>> {
        let l = self.eval(lhs, input, env)?;
        if let Kind::Function {
            procedure,
            arguments,
        } = &rhs.kind
        {
            return self.eval_function(rhs, procedure, arguments, input, env, Some(l));
        }
        let func = self.eval(rhs, input, env)?;
        if !func.is_function() {
            return Err(Fail::new("T2006").value(&func).at(node.position));
        }
        if l.is_function() {
            let chain = self.eval(&chain_ast().root, &Value::Null, env)?;
            self.apply(&chain, vec![l, func], &Value::Null)
        } else {
            self.apply(&func, vec![l], &Value::Null)
        }
    }

    fn apply_transform(
        &mut self,
        node: &'a Node,
        env: &Rc<Frame<'a>>,
        obj: Value<'a>,
    ) -> R<Value<'a>> {
        let Kind::Transform {
            pattern,
            update,
            delete,
        } = &node.kind
        else {
            unreachable!("transform node")
        };
        if obj.is_undefined() {
            return Ok(Value::Undefined);
        }
        let clone = self.lookup(env, "clone");
        if !clone.is_function() {
            return Err(Fail::new("T2013").at(node.position));
        }
        let result = self.apply(&clone, vec![obj], &Value::Null)?;
        let matches = self.eval(pattern, &result, env)?;
        if matches.is_undefined() {
            return Ok(result);
        }
        let matches = if matches.is_array() {
            matches.array_items()
        } else {
            vec![matches]
        };
        for m in matches {
            let upd = self.eval(update, &m, env)?;
            if !upd.is_undefined() {
                if !upd.is_object() {
                    return Err(Fail::new("T2011").value(&upd).at(update.position));
                }
                let entries = upd.entries();
                if let Value::Object(o) = &m {
                    // An object that contains itself has no JSON form (jsonata.js fails to
                    // write it) and no end for a walk; refuse to build one.
                    for (_, v) in &entries {
                        if reaches(v, o, &mut self.budget()).map_err(|e| self.walk_error(e))? {
                            return Err(Fail::new("D1011").at(update.position));
                        }
                    }
                    let mut o = o.borrow_mut();
                    for (k, v) in entries {
                        o.insert(k, v);
                    }
                }
            }
            if let Some(delete) = delete {
                let deletions = self.eval(delete, &m, env)?;
                if !deletions.is_undefined() {
                    let list = if deletions.is_array() {
                        deletions.array_items()
                    } else {
                        vec![deletions.clone()]
                    };
                    if !list.iter().all(Value::is_string) {
                        return Err(Fail::new("T2012").value(&deletions).at(delete.position));
                    }
                    if let Value::Object(o) = &m {
                        let mut o = o.borrow_mut();
                        for k in list {
                            if let Some(k) = k.as_str() {
                                o.shift_remove(k);
                            }
                        }
                    }
                }
            }
        }
        Ok(result)
    }
}

fn transform_signature() -> &'static crate::signature::Signature {
    static SIG: OnceLock<crate::signature::Signature> = OnceLock::new();
    SIG.get_or_init(|| {
        crate::signature::Signature::parse("<(oa):o>")
            .unwrap_or_else(|_| unreachable!("the transform signature parses"))
    })
}

fn flatten<'a>(
    v: &Value<'a>,
    out: &mut Vec<Value<'a>>,
    budget: &mut Budget,
    depth: usize,
) -> Result<(), JsonError> {
    if v.is_array() {
        if depth > budget.max_depth {
            return Err(JsonError::TooDeep);
        }
        for i in 0..v.array_len() {
            let item = v.array_get(i);
            stacker::maybe_grow(RED_ZONE, SEGMENT, || flatten(&item, out, budget, depth + 1))?;
        }
    } else {
        if budget.nodes == 0 {
            return Err(JsonError::TooLarge);
        }
        budget.nodes -= 1;
        out.push(v.clone());
    }
    Ok(())
}

fn recurse_descendants<'a>(
    v: &Value<'a>,
    out: &mut Vec<Value<'a>>,
    budget: &mut Budget,
    depth: usize,
) -> Result<(), JsonError> {
    if depth > budget.max_depth {
        return Err(JsonError::TooDeep);
    }
    if budget.nodes == 0 {
        return Err(JsonError::TooLarge);
    }
    budget.nodes -= 1;
    stacker::maybe_grow(RED_ZONE, SEGMENT, || {
        if !v.is_array() {
            out.push(v.clone());
        }
        if v.is_array() {
            for item in v.array_items() {
                recurse_descendants(&item, out, budget, depth + 1)?;
            }
        } else if v.is_object() {
            for (_, item) in v.entries() {
                recurse_descendants(&item, out, budget, depth + 1)?;
            }
        }
        Ok(())
    })
}

fn reduce_tuple_stream<'a>(stream: &Value<'a>) -> Map<'a> {
    if !stream.is_array() {
        return match stream {
            Value::Object(o) => o.borrow().clone(),
            _ => Map::new(),
        };
    }
    let items = stream.array_items();
    let mut result: Map<'a> = match items.first() {
        Some(Value::Object(o)) => o.borrow().clone(),
        _ => Map::new(),
    };
    for tuple in items.iter().skip(1) {
        for (k, v) in tuple.entries() {
            let prev = result.shift_remove(&k).unwrap_or(Value::Undefined);
            result.insert(k, functions::append(prev, v));
        }
    }
    result
}
