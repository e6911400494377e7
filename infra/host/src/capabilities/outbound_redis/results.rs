//! Redis replies as the WIT's `redis-result` list, as Spin maps them:
//! arrays and sets are flattened in order, `OK` and simple strings are
//! `status`, doubles, big numbers and bulk strings are `binary`, booleans
//! `int64` 0 or 1; maps, attributes, verbatim strings and pushes have no WIT
//! form and are an error, as is an error reply nested in an array.

use redis::Value;

use super::generated::fermyon::spin2_0_0::redis::{Error, RedisResult};

pub fn flatten(value: Value) -> Result<Vec<RedisResult>, Error> {
    let mut out = Vec::new();
    push(&mut out, value)?;
    Ok(out)
}

fn push(out: &mut Vec<RedisResult>, value: Value) -> Result<(), Error> {
    let unsupported = |what: &str| {
        Error::Other(format!(
            "the Redis reply has a {what}, which has no WIT form"
        ))
    };
    match value {
        Value::Nil => out.push(RedisResult::Nil),
        Value::Int(n) => out.push(RedisResult::Int64(n)),
        Value::Boolean(b) => out.push(RedisResult::Int64(i64::from(b))),
        Value::BulkString(bytes) => out.push(RedisResult::Binary(bytes)),
        Value::SimpleString(s) => out.push(RedisResult::Status(s)),
        Value::Okay => out.push(RedisResult::Status("OK".into())),
        Value::Double(d) => out.push(RedisResult::Binary(d.to_string().into_bytes())),
        Value::BigNumber(n) => out.push(RedisResult::Binary(n.to_string().into_bytes())),
        Value::Array(items) | Value::Set(items) => {
            for item in items {
                push(out, item)?;
            }
        }
        Value::ServerError(e) => {
            let detail = e.details().map(|d| format!(": {d}")).unwrap_or_default();
            return Err(Error::Other(format!("{}{detail}", e.code())));
        }
        Value::Map(_) => return Err(unsupported("map")),
        Value::Attribute { .. } => return Err(unsupported("attribute")),
        Value::VerbatimString { .. } => return Err(unsupported("verbatim string")),
        Value::Push { .. } => return Err(unsupported("push message")),
    }
    Ok(())
}

/// Bytes a result list holds, for the result-size limit.
pub fn size(results: &[RedisResult]) -> usize {
    results
        .iter()
        .map(|r| match r {
            RedisResult::Binary(b) => b.len(),
            RedisResult::Status(s) => s.len(),
            RedisResult::Nil | RedisResult::Int64(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(results: &[RedisResult]) -> Vec<String> {
        results
            .iter()
            .map(|r| match r {
                RedisResult::Nil => "nil".to_owned(),
                RedisResult::Status(s) => format!("status {s}"),
                RedisResult::Int64(n) => format!("int64 {n}"),
                RedisResult::Binary(b) => format!("binary {}", String::from_utf8_lossy(b)),
            })
            .collect()
    }

    #[test]
    fn nested_arrays_flatten_in_order() {
        let reply = Value::Array(vec![
            Value::Okay,
            Value::Array(vec![Value::Int(3), Value::Nil]),
            Value::BulkString(b"x".to_vec()),
            Value::Set(vec![Value::Boolean(true)]),
            Value::SimpleString("QUEUED".into()),
            Value::Double(1.5),
        ]);
        assert_eq!(
            names(&flatten(reply).unwrap()),
            [
                "status OK",
                "int64 3",
                "nil",
                "binary x",
                "int64 1",
                "status QUEUED",
                "binary 1.5"
            ]
        );
        assert!(flatten(Value::Array(vec![])).unwrap().is_empty());
    }

    #[test]
    fn replies_without_a_wit_form_are_errors() {
        assert!(matches!(
            flatten(Value::Map(vec![(Value::Int(1), Value::Int(2))])),
            Err(Error::Other(_))
        ));
        assert!(matches!(
            flatten(Value::Array(vec![
                Value::Int(1),
                Value::Push {
                    kind: redis::PushKind::Message,
                    data: vec![]
                }
            ])),
            Err(Error::Other(_))
        ));
    }
}
