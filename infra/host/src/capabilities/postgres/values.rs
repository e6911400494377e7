//! Result columns and values: Postgres' binary format to Spin's WIT
//! `db-data-type` and `db-value`, decoded here rather than through
//! tokio-postgres' typed getters so that every type Postgres can hold maps
//! exactly (see `numeric`, `datetime`).
//!
//! Beyond Spin: `timestamptz` reads as a UTC date-time, `json` like `jsonb`,
//! `"char"` as int8, `name`, `citext` and enum labels as strings, `int2[]`
//! as an int32 array; an empty range reads as `[0,0)` (empty) rather than
//! as `(,)` (everything); jsonb bytes pass through unparsed; other types
//! come back as `unsupported` with their raw binary value.

use fallible_iterator::FallibleIterator;
use postgres_protocol::types as pg;
use tokio_postgres::types::{FromSql, Kind, Type};

use super::generated::spin::postgres4_0_0::postgres::{
    DbDataType, DbValue, Interval, RangeBoundKind,
};
use super::{datetime, numeric};

type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// A column value as Postgres sent it (binary format), `None` for NULL.
pub struct Raw<'a>(pub Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Raw(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Raw(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

fn is_text_like(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    ) || ty.name() == "citext"
        || matches!(ty.kind(), Kind::Enum(_))
}

/// The WIT data type of a result column.
pub fn data_type(ty: &Type) -> DbDataType {
    match *ty {
        Type::BOOL => DbDataType::Boolean,
        Type::CHAR => DbDataType::Int8,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::BYTEA => DbDataType::Binary,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DbDataType::Datetime,
        Type::UUID => DbDataType::Uuid,
        Type::JSONB | Type::JSON => DbDataType::Jsonb,
        Type::NUMERIC => DbDataType::Decimal,
        Type::INT4_RANGE => DbDataType::RangeInt32,
        Type::INT8_RANGE => DbDataType::RangeInt64,
        Type::NUM_RANGE => DbDataType::RangeDecimal,
        Type::INT2_ARRAY | Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::NUMERIC_ARRAY => DbDataType::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY | Type::NAME_ARRAY => {
            DbDataType::ArrayStr
        }
        Type::INTERVAL => DbDataType::Interval,
        ref ty if is_text_like(ty) => DbDataType::Str,
        ref ty => DbDataType::Other(ty.name().to_owned()),
    }
}

/// Decodes one value of a column of type `ty`.
pub fn decode(ty: &Type, raw: Option<&[u8]>) -> Result<DbValue, String> {
    let Some(raw) = raw else {
        return Ok(DbValue::DbNull);
    };
    decode_non_null(ty, raw).map_err(|e| format!("cannot read a {} value: {e}", ty.name()))
}

fn decode_non_null(ty: &Type, raw: &[u8]) -> Result<DbValue, BoxError> {
    Ok(match *ty {
        Type::BOOL => DbValue::Boolean(pg::bool_from_sql(raw)?),
        Type::CHAR => DbValue::Int8(pg::char_from_sql(raw)?),
        Type::INT2 => DbValue::Int16(pg::int2_from_sql(raw)?),
        Type::INT4 => DbValue::Int32(pg::int4_from_sql(raw)?),
        Type::INT8 => DbValue::Int64(pg::int8_from_sql(raw)?),
        Type::FLOAT4 => DbValue::Floating32(pg::float4_from_sql(raw)?),
        Type::FLOAT8 => DbValue::Floating64(pg::float8_from_sql(raw)?),
        Type::BYTEA => DbValue::Binary(pg::bytea_from_sql(raw).to_vec()),
        Type::DATE => DbValue::Date(datetime::date_from_pg(pg::date_from_sql(raw)?)?),
        Type::TIME => DbValue::Time(datetime::time_from_pg(pg::time_from_sql(raw)?)?),
        Type::TIMESTAMP | Type::TIMESTAMPTZ => {
            DbValue::Datetime(datetime::datetime_from_pg(pg::timestamp_from_sql(raw)?)?)
        }
        Type::UUID => DbValue::Uuid(uuid::Uuid::from_bytes(pg::uuid_from_sql(raw)?).to_string()),
        Type::JSONB => match raw.split_first() {
            Some((1, json)) => DbValue::Jsonb(json.to_vec()),
            _ => return Err("unsupported jsonb version".into()),
        },
        Type::JSON => DbValue::Jsonb(raw.to_vec()),
        Type::NUMERIC => DbValue::Decimal(numeric::decode(raw)?),
        Type::INT4_RANGE => DbValue::RangeInt32(range(raw, pg::int4_from_sql, 0)?),
        Type::INT8_RANGE => DbValue::RangeInt64(range(raw, pg::int8_from_sql, 0)?),
        Type::NUM_RANGE => DbValue::RangeDecimal(range(
            raw,
            |b| numeric::decode(b).map_err(Into::into),
            "0".to_owned(),
        )?),
        Type::INT2_ARRAY => {
            DbValue::ArrayInt32(array(raw, |b| pg::int2_from_sql(b).map(i32::from))?)
        }
        Type::INT4_ARRAY => DbValue::ArrayInt32(array(raw, pg::int4_from_sql)?),
        Type::INT8_ARRAY => DbValue::ArrayInt64(array(raw, pg::int8_from_sql)?),
        Type::NUMERIC_ARRAY => {
            DbValue::ArrayDecimal(array(raw, |b| numeric::decode(b).map_err(Into::into))?)
        }
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY | Type::NAME_ARRAY => {
            DbValue::ArrayStr(array(raw, |b| pg::text_from_sql(b).map(str::to_owned))?)
        }
        Type::INTERVAL => DbValue::Interval(interval(raw)?),
        ref ty if is_text_like(ty) => DbValue::Str(pg::text_from_sql(raw)?.to_owned()),
        _ => DbValue::Unsupported(raw.to_vec()),
    })
}

type WitBound<T> = Option<(T, RangeBoundKind)>;

fn range<T>(
    raw: &[u8],
    element: impl Fn(&[u8]) -> Result<T, BoxError>,
    zero: T,
) -> Result<(WitBound<T>, WitBound<T>), BoxError>
where
    T: Clone,
{
    let bound = |b: pg::RangeBound<Option<&[u8]>>| -> Result<WitBound<T>, BoxError> {
        Ok(match b {
            pg::RangeBound::Unbounded => None,
            pg::RangeBound::Inclusive(Some(v)) => Some((element(v)?, RangeBoundKind::Inclusive)),
            pg::RangeBound::Exclusive(Some(v)) => Some((element(v)?, RangeBoundKind::Exclusive)),
            pg::RangeBound::Inclusive(None) | pg::RangeBound::Exclusive(None) => {
                return Err("NULL range bound".into());
            }
        })
    };
    match pg::range_from_sql(raw)? {
        // `[0,0)`: contains nothing, and Postgres reads it back as `empty`.
        pg::Range::Empty => Ok((
            Some((zero.clone(), RangeBoundKind::Inclusive)),
            Some((zero, RangeBoundKind::Exclusive)),
        )),
        pg::Range::Nonempty(lower, upper) => Ok((bound(lower)?, bound(upper)?)),
    }
}

fn array<T>(
    raw: &[u8],
    element: impl Fn(&[u8]) -> Result<T, BoxError>,
) -> Result<Vec<Option<T>>, BoxError> {
    let array = pg::array_from_sql(raw)?;
    if array.dimensions().count()? > 1 {
        return Err("multi-dimensional arrays have no WIT representation".into());
    }
    array
        .values()
        .map(|value| value.map(&element).transpose())
        .collect()
}

fn interval(raw: &[u8]) -> Result<Interval, BoxError> {
    let bytes: [u8; 16] = raw.try_into().map_err(|_| "invalid interval length")?;
    Ok(Interval {
        micros: i64::from_be_bytes(bytes[0..8].try_into()?),
        days: i32::from_be_bytes(bytes[8..12].try_into()?),
        months: i32::from_be_bytes(bytes[12..16].try_into()?),
    })
}
