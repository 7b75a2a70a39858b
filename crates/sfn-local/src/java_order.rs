//! The iteration order of a Java `HashMap<String, _>`, which is the key order AWS gives
//! the objects Step Functions builds from named parts: a payload template's `.$` fields
//! (written after its other fields) and `States.JsonMerge`'s result.
//!
//! No AWS page documents the order; the AWS-recorded executions of the conformance corpus
//! show it: `{"Iterations.$", "Values.$"}` gives `{"Values", "Iterations"}`
//! (base_scenarios__map_state_config_distributed_reentrant); `{"original_input.$",
//! "iteration_input_value.$", "iteration_index.$", "from_input_constant.$",
//! "constant_value"}` gives `constant_value, iteration_input_value, from_input_constant,
//! iteration_index, original_input` (base_scenarios__map_state_parameters_legacy); merging
//! `{"constant_in_literal"}` with `{"constant_input_field"}` gives `constant_input_field`
//! first (json_manipulation__json_merge_escaped_argument). The conformance test counts the
//! outputs whose key order matches AWS's.

/// `items` reordered as a Java `HashMap` would iterate their names: by bucket of
/// `String.hashCode` spread as `h ^ (h >>> 16)`, in a table of 16 buckets that doubles
/// whenever it is more than three quarters full; insertion order within a bucket.
pub(crate) fn hash_map_order<T>(mut items: Vec<T>, name: impl Fn(&T) -> &str) -> Vec<T> {
    let mut capacity: usize = 16;
    while items.len() > capacity / 4 * 3 {
        capacity = capacity.saturating_mul(2);
    }
    let mask = u32::try_from(capacity - 1).unwrap_or(u32::MAX);
    // A stable sort keeps insertion order within a bucket.
    items.sort_by_key(|item| {
        let h = string_hash(name(item));
        (h ^ (h >> 16)) & mask
    });
    items
}

/// Java's `String.hashCode`: `s[0]*31^(n-1) + … + s[n-1]` over UTF-16 code units, wrapping.
fn string_hash(s: &str) -> u32 {
    s.encode_utf16().fold(0u32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(u32::from(unit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_iterate_as_a_java_hash_map_does() {
        // 'a' * 31 + 'b'; past 32 bits it wraps; a character beyond the BMP is two units.
        assert_eq!(string_hash("ab"), 97 * 31 + 98);
        assert_eq!(string_hash("Values"), 0x984a_8942);
        assert_eq!(string_hash("😀"), 0xd83d * 31 + 0xde00);
        let names = |v: Vec<&'static str>| hash_map_order(v, |s| s);
        assert_eq!(
            names(vec!["Iterations", "Values"]),
            ["Values", "Iterations"]
        );
        assert_eq!(
            names(vec![
                "original_input",
                "iteration_input_value",
                "iteration_index",
                "from_input_constant"
            ]),
            [
                "iteration_input_value",
                "from_input_constant",
                "iteration_index",
                "original_input"
            ]
        );
        // Single letters hash to their code: in a table of 16, `a`..`d` are buckets 1..4.
        assert_eq!(names(vec!["d", "a", "c", "b"]), ["a", "b", "c", "d"]);
    }

    #[test]
    fn the_table_grows_past_three_quarters() {
        // 14 names: a table of 32, where "p" (112 = 0b111_0000) is bucket 16, not 0.
        let many: Vec<String> = (b'a'..=b'm')
            .map(|c| char::from(c).to_string())
            .chain(["p".into()])
            .collect();
        let ordered = hash_map_order(many, |s| s.as_str());
        assert_eq!(ordered.first().map(String::as_str), Some("a"));
        assert_eq!(ordered.last().map(String::as_str), Some("p"));
    }
}
