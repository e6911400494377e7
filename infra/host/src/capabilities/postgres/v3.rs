//! `spin:postgres/postgres@3.0.0`: the same connections and statements as
//! 4.0.0, with its narrower types. Values 3.0.0 has no variant for (uuid,
//! jsonb, decimal, ranges, arrays, intervals) read as `unsupported`; a
//! server error is `query-failed` with its text, which starts with the
//! SQLSTATE (`ERROR 23505: ...`).

use wasmtime::component::Resource;

use super::generated::spin::postgres3_0_0::postgres as v3;
use super::generated::spin::postgres4_0_0::postgres as v4;
use super::{ConnectionV3, PostgresAccess};
use crate::capabilities::View;

fn error(e: v4::Error) -> v3::Error {
    match e {
        v4::Error::ConnectionFailed(m) => v3::Error::ConnectionFailed(m),
        v4::Error::BadParameter(m) => v3::Error::BadParameter(m),
        v4::Error::QueryFailed(v4::QueryError::Text(m)) => v3::Error::QueryFailed(m),
        v4::Error::QueryFailed(v4::QueryError::DbError(db)) => v3::Error::QueryFailed(db.as_text),
        v4::Error::ValueConversionFailed(m) => v3::Error::ValueConversionFailed(m),
        v4::Error::Other(m) => v3::Error::Other(m),
    }
}

fn parameter(p: v3::ParameterValue) -> v4::ParameterValue {
    use v3::ParameterValue as P;
    match p {
        P::Boolean(v) => v4::ParameterValue::Boolean(v),
        P::Int8(v) => v4::ParameterValue::Int8(v),
        P::Int16(v) => v4::ParameterValue::Int16(v),
        P::Int32(v) => v4::ParameterValue::Int32(v),
        P::Int64(v) => v4::ParameterValue::Int64(v),
        P::Floating32(v) => v4::ParameterValue::Floating32(v),
        P::Floating64(v) => v4::ParameterValue::Floating64(v),
        P::Str(v) => v4::ParameterValue::Str(v),
        P::Binary(v) => v4::ParameterValue::Binary(v),
        P::Date(v) => v4::ParameterValue::Date(v),
        P::Time(v) => v4::ParameterValue::Time(v),
        P::Datetime(v) => v4::ParameterValue::Datetime(v),
        P::Timestamp(v) => v4::ParameterValue::Timestamp(v),
        P::DbNull => v4::ParameterValue::DbNull,
    }
}

fn data_type(t: v4::DbDataType) -> v3::DbDataType {
    use v4::DbDataType as T;
    match t {
        T::Boolean => v3::DbDataType::Boolean,
        T::Int8 => v3::DbDataType::Int8,
        T::Int16 => v3::DbDataType::Int16,
        T::Int32 => v3::DbDataType::Int32,
        T::Int64 => v3::DbDataType::Int64,
        T::Floating32 => v3::DbDataType::Floating32,
        T::Floating64 => v3::DbDataType::Floating64,
        T::Str => v3::DbDataType::Str,
        T::Binary => v3::DbDataType::Binary,
        T::Date => v3::DbDataType::Date,
        T::Time => v3::DbDataType::Time,
        T::Datetime => v3::DbDataType::Datetime,
        T::Timestamp => v3::DbDataType::Timestamp,
        _ => v3::DbDataType::Other,
    }
}

fn value(v: v4::DbValue) -> v3::DbValue {
    use v4::DbValue as V;
    match v {
        V::Boolean(v) => v3::DbValue::Boolean(v),
        V::Int8(v) => v3::DbValue::Int8(v),
        V::Int16(v) => v3::DbValue::Int16(v),
        V::Int32(v) => v3::DbValue::Int32(v),
        V::Int64(v) => v3::DbValue::Int64(v),
        V::Floating32(v) => v3::DbValue::Floating32(v),
        V::Floating64(v) => v3::DbValue::Floating64(v),
        V::Str(v) => v3::DbValue::Str(v),
        V::Binary(v) => v3::DbValue::Binary(v),
        V::Date(v) => v3::DbValue::Date(v),
        V::Time(v) => v3::DbValue::Time(v),
        V::Datetime(v) => v3::DbValue::Datetime(v),
        V::Timestamp(v) => v3::DbValue::Timestamp(v),
        V::DbNull => v3::DbValue::DbNull,
        _ => v3::DbValue::Unsupported,
    }
}

fn row_set(rows: v4::RowSet) -> v3::RowSet {
    v3::RowSet {
        columns: rows
            .columns
            .into_iter()
            .map(|c| v3::Column {
                name: c.name,
                data_type: data_type(c.data_type),
            })
            .collect(),
        rows: rows
            .rows
            .into_iter()
            .map(|row| row.into_iter().map(value).collect())
            .collect(),
    }
}

impl v3::Host for View<'_, PostgresAccess> {}

impl v3::HostConnection for View<'_, PostgresAccess> {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<ConnectionV3>, v3::Error>> {
        let connection = match self.state.open(&address).await {
            Ok(connection) => connection,
            Err(e) => return Ok(Err(error(e))),
        };
        match self.table.push(ConnectionV3(connection)) {
            Ok(resource) => Ok(Ok(resource)),
            Err(_) => {
                self.state.closed_one();
                Ok(Err(v3::Error::ConnectionFailed(
                    "too many connections".into(),
                )))
            }
        }
    }

    async fn query(
        &mut self,
        connection: Resource<ConnectionV3>,
        statement: String,
        params: Vec<v3::ParameterValue>,
    ) -> wasmtime::Result<Result<v3::RowSet, v3::Error>> {
        let deadline = self.state.deadline;
        let params: Vec<_> = params.into_iter().map(parameter).collect();
        let connection = &mut self.table.get_mut(&connection)?.0;
        Ok(connection
            .query(&statement, &params, deadline)
            .await
            .map(row_set)
            .map_err(error))
    }

    async fn execute(
        &mut self,
        connection: Resource<ConnectionV3>,
        statement: String,
        params: Vec<v3::ParameterValue>,
    ) -> wasmtime::Result<Result<u64, v3::Error>> {
        let deadline = self.state.deadline;
        let params: Vec<_> = params.into_iter().map(parameter).collect();
        let connection = &mut self.table.get_mut(&connection)?.0;
        Ok(connection
            .execute(&statement, &params, deadline)
            .await
            .map_err(error))
    }

    async fn drop(&mut self, connection: Resource<ConnectionV3>) -> wasmtime::Result<()> {
        self.table.delete(connection)?;
        self.state.closed_one();
        Ok(())
    }
}
