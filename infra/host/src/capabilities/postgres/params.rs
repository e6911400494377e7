//! Statement parameters: Spin's WIT `parameter-value`s encoded in Postgres'
//! binary format for the types the prepared statement declares, checked
//! before anything is sent so a mismatch is a `bad-parameter` naming the
//! parameter, never a half-executed statement.
//!
//! Accepted beyond Spin (lossless only): any integer for any integer column
//! (range-checked), float32 for float8, a date-time or Unix timestamp for
//! either `timestamp` or `timestamptz` (both UTC), jsonb bytes for `json`,
//! a string for `json`/`jsonb`, `citext` and enum columns.

use bytes::{BufMut, Bytes, BytesMut};
use postgres_protocol::types as pg;
use tokio_postgres::types::{IsNull, Kind, ToSql, Type, to_sql_checked};

use super::generated::spin::postgres4_0_0::postgres::{ParameterValue, RangeBoundKind};
use super::{datetime, numeric};

type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// A parameter already encoded for its column: sent as is.
#[derive(Debug)]
pub struct Encoded(Option<Bytes>);

impl ToSql for Encoded {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match &self.0 {
            Some(bytes) => {
                out.extend_from_slice(bytes);
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// Encodes every parameter for the statement's parameter types.
pub fn encode_all(values: &[ParameterValue], types: &[Type]) -> Result<Vec<Encoded>, String> {
    if values.len() != types.len() {
        return Err(format!(
            "the statement has {} parameter(s) but {} value(s) were given",
            types.len(),
            values.len()
        ));
    }
    values
        .iter()
        .zip(types)
        .enumerate()
        .map(|(index, (value, ty))| {
            encode(value, ty).map_err(|e| format!("parameter ${}: {e}", index + 1))
        })
        .collect()
}

fn variant_name(value: &ParameterValue) -> &'static str {
    match value {
        ParameterValue::Boolean(_) => "boolean",
        ParameterValue::Int8(_) => "int8",
        ParameterValue::Int16(_) => "int16",
        ParameterValue::Int32(_) => "int32",
        ParameterValue::Int64(_) => "int64",
        ParameterValue::Floating32(_) => "floating32",
        ParameterValue::Floating64(_) => "floating64",
        ParameterValue::Str(_) => "str",
        ParameterValue::Binary(_) => "binary",
        ParameterValue::Date(_) => "date",
        ParameterValue::Time(_) => "time",
        ParameterValue::Datetime(_) => "datetime",
        ParameterValue::Timestamp(_) => "timestamp",
        ParameterValue::Uuid(_) => "uuid",
        ParameterValue::Jsonb(_) => "jsonb",
        ParameterValue::Decimal(_) => "decimal",
        ParameterValue::RangeInt32(_) => "range-int32",
        ParameterValue::RangeInt64(_) => "range-int64",
        ParameterValue::RangeDecimal(_) => "range-decimal",
        ParameterValue::ArrayInt32(_) => "array-int32",
        ParameterValue::ArrayInt64(_) => "array-int64",
        ParameterValue::ArrayDecimal(_) => "array-decimal",
        ParameterValue::ArrayStr(_) => "array-str",
        ParameterValue::Interval(_) => "interval",
        ParameterValue::DbNull => "db-null",
    }
}

fn is_text_like(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    ) || ty.name() == "citext"
        || matches!(ty.kind(), Kind::Enum(_))
}

/// One parameter for a column of type `ty`.
pub fn encode(value: &ParameterValue, ty: &Type) -> Result<Encoded, String> {
    if matches!(value, ParameterValue::DbNull) {
        return Ok(Encoded(None));
    }
    let mut out = BytesMut::new();
    match encode_into(value, ty, &mut out) {
        Ok(true) => Ok(Encoded(Some(out.freeze()))),
        Ok(false) => Err(format!(
            "a {} value cannot be used for type {}",
            variant_name(value),
            ty.name()
        )),
        Err(e) => Err(e),
    }
}

/// Writes `value` as `ty`; `Ok(false)` when the two do not fit together.
fn encode_into(value: &ParameterValue, ty: &Type, out: &mut BytesMut) -> Result<bool, String> {
    use ParameterValue as P;
    match (value, ty) {
        (P::Boolean(v), &Type::BOOL) => pg::bool_to_sql(*v, out),
        (P::Int8(v), &Type::CHAR) => pg::char_to_sql(*v, out),
        (P::Int8(_) | P::Int16(_) | P::Int32(_) | P::Int64(_), _) => {
            let wide = match value {
                P::Int8(v) => i64::from(*v),
                P::Int16(v) => i64::from(*v),
                P::Int32(v) => i64::from(*v),
                P::Int64(v) => *v,
                _ => unreachable!(),
            };
            return encode_integer(wide, ty, out);
        }
        (P::Floating32(v), &Type::FLOAT4) => pg::float4_to_sql(*v, out),
        (P::Floating32(v), &Type::FLOAT8) => pg::float8_to_sql(f64::from(*v), out),
        (P::Floating64(v), &Type::FLOAT8) => pg::float8_to_sql(*v, out),
        (P::Str(v), &Type::JSONB) => {
            out.put_u8(1);
            out.put_slice(v.as_bytes());
        }
        (P::Str(v), &Type::JSON) => out.put_slice(v.as_bytes()),
        (P::Str(v), ty) if is_text_like(ty) => pg::text_to_sql(v, out),
        (P::Binary(v), &Type::BYTEA) => pg::bytea_to_sql(v, out),
        (P::Date(v), &Type::DATE) => pg::date_to_sql(datetime::date_to_pg(*v)?, out),
        (P::Time(v), &Type::TIME) => pg::time_to_sql(datetime::time_to_pg(*v)?, out),
        (P::Datetime(v), &Type::TIMESTAMP | &Type::TIMESTAMPTZ) => {
            pg::timestamp_to_sql(datetime::datetime_to_pg(*v)?, out)
        }
        (P::Timestamp(v), &Type::TIMESTAMP | &Type::TIMESTAMPTZ) => {
            pg::timestamp_to_sql(datetime::unix_seconds_to_pg(*v)?, out)
        }
        (P::Uuid(v), &Type::UUID) => {
            let uuid = uuid::Uuid::parse_str(v).map_err(|_| format!("invalid UUID {v:?}"))?;
            pg::uuid_to_sql(*uuid.as_bytes(), out)
        }
        (P::Jsonb(v), &Type::JSONB | &Type::JSON) => {
            serde_json::from_slice::<serde::de::IgnoredAny>(v)
                .map_err(|e| format!("invalid JSON: {e}"))?;
            if *ty == Type::JSONB {
                out.put_u8(1);
            }
            out.put_slice(v);
        }
        (P::Decimal(v), &Type::NUMERIC) => numeric::encode(v, out)?,
        (P::RangeInt32(v), &Type::INT4_RANGE) => {
            encode_range(v, out, |n, out| {
                pg::int4_to_sql(*n, out);
                Ok(())
            })?;
        }
        (P::RangeInt64(v), &Type::INT8_RANGE) => {
            encode_range(v, out, |n, out| {
                pg::int8_to_sql(*n, out);
                Ok(())
            })?;
        }
        (P::RangeDecimal(v), &Type::NUM_RANGE) => {
            encode_range(v, out, |n, out| numeric::encode(n, out))?;
        }
        (P::ArrayInt32(v), &Type::INT4_ARRAY) => {
            encode_array(v, Type::INT4.oid(), out, |n, out| {
                pg::int4_to_sql(*n, out);
                Ok(())
            })?
        }
        (P::ArrayInt32(v), &Type::INT8_ARRAY) => {
            encode_array(v, Type::INT8.oid(), out, |n, out| {
                pg::int8_to_sql(i64::from(*n), out);
                Ok(())
            })?
        }
        (P::ArrayInt64(v), &Type::INT8_ARRAY) => {
            encode_array(v, Type::INT8.oid(), out, |n, out| {
                pg::int8_to_sql(*n, out);
                Ok(())
            })?
        }
        (P::ArrayDecimal(v), &Type::NUMERIC_ARRAY) => {
            encode_array(v, Type::NUMERIC.oid(), out, |n, out| {
                numeric::encode(n, out)
            })?
        }
        (
            P::ArrayStr(v),
            &Type::TEXT_ARRAY | &Type::VARCHAR_ARRAY | &Type::BPCHAR_ARRAY | &Type::NAME_ARRAY,
        ) => {
            let Kind::Array(element) = ty.kind() else {
                return Ok(false);
            };
            encode_array(v, element.oid(), out, |s, out| {
                pg::text_to_sql(s, out);
                Ok(())
            })?
        }
        (P::Interval(v), &Type::INTERVAL) => {
            out.put_i64(v.micros);
            out.put_i32(v.days);
            out.put_i32(v.months);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn encode_integer(value: i64, ty: &Type, out: &mut BytesMut) -> Result<bool, String> {
    let out_of_range = || format!("{value} is out of range for type {}", ty.name());
    match *ty {
        Type::INT2 => pg::int2_to_sql(i16::try_from(value).map_err(|_| out_of_range())?, out),
        Type::INT4 => pg::int4_to_sql(i32::try_from(value).map_err(|_| out_of_range())?, out),
        Type::INT8 => pg::int8_to_sql(value, out),
        _ => return Ok(false),
    }
    Ok(true)
}

type WitRange<T> = (Option<(T, RangeBoundKind)>, Option<(T, RangeBoundKind)>);

fn encode_range<T>(
    (lower, upper): &WitRange<T>,
    out: &mut BytesMut,
    element: impl Fn(&T, &mut BytesMut) -> Result<(), String>,
) -> Result<(), String> {
    pg::range_to_sql(
        |out| write_bound(lower, out, &element),
        |out| write_bound(upper, out, &element),
        out,
    )
    .map_err(|e| e.to_string())
}

fn write_bound<T>(
    bound: &Option<(T, RangeBoundKind)>,
    out: &mut BytesMut,
    element: &impl Fn(&T, &mut BytesMut) -> Result<(), String>,
) -> Result<pg::RangeBound<postgres_protocol::IsNull>, BoxError> {
    Ok(match bound {
        None => pg::RangeBound::Unbounded,
        Some((value, kind)) => {
            element(value, out)?;
            match kind {
                RangeBoundKind::Inclusive => {
                    pg::RangeBound::Inclusive(postgres_protocol::IsNull::No)
                }
                RangeBoundKind::Exclusive => {
                    pg::RangeBound::Exclusive(postgres_protocol::IsNull::No)
                }
            }
        }
    })
}

fn encode_array<T>(
    values: &[Option<T>],
    element_oid: u32,
    out: &mut BytesMut,
    element: impl Fn(&T, &mut BytesMut) -> Result<(), String>,
) -> Result<(), String> {
    let dimensions: Vec<pg::ArrayDimension> = if values.is_empty() {
        Vec::new()
    } else {
        vec![pg::ArrayDimension {
            len: i32::try_from(values.len()).map_err(|_| "array too long".to_owned())?,
            lower_bound: 1,
        }]
    };
    pg::array_to_sql(
        dimensions,
        element_oid,
        values.iter(),
        |value, out| match value {
            None => Ok(postgres_protocol::IsNull::Yes),
            Some(v) => {
                element(v, out)?;
                Ok(postgres_protocol::IsNull::No)
            }
        },
        out,
    )
    .map_err(|e| e.to_string())
}
