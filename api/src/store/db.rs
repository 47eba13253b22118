//! The two database backends behind one small interface: [`Db`] (SQLite's writer and reader
//! pools, or a PostgreSQL pool), queries whose arguments bind on either, and rows decoded on
//! either. Every SQL string is built from constants; values are always bound.

use std::str::FromStr;

use sqlx::Row;
use sqlx::postgres::{PgPool, PgRow};
use sqlx::sqlite::{SqlitePool, SqliteRow};

use super::StoreResult;

#[derive(Clone)]
pub(crate) enum Db {
    /// One writer connection (SQLite allows one writer; queueing here avoids busy errors) and a
    /// pool of readers (WAL lets them run alongside the writer).
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
    },
    Postgres(PgPool),
}

/// Runs `$body` with `$p` bound to the writer pool of either backend.
macro_rules! with_writer {
    ($db:expr, |$p:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite { writer: $p, .. } => $body,
            $crate::store::Db::Postgres($p) => $body,
        }
    };
}
/// Runs `$body` with `$p` bound to a reader pool of either backend.
macro_rules! with_reader {
    ($db:expr, |$p:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite { reader: $p, .. } => $body,
            $crate::store::Db::Postgres($p) => $body,
        }
    };
}
pub(crate) use {with_reader, with_writer};

/// Row decoding shared by both backends.
pub(crate) trait FromDbRow: Sized {
    fn from_sqlite(r: &SqliteRow) -> sqlx::Result<Self>;
    fn from_pg(r: &PgRow) -> sqlx::Result<Self>;
}

/// A column stored as text and read through `FromStr` (e.g. [`faxline_protocol::JobStatus`]): an
/// unknown value is a decode error naming the column, not a panic or a silent default.
pub(crate) fn parsed<T: FromStr>(column: &str, text: String) -> sqlx::Result<T> {
    text.parse().map_err(|_| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: format!("unexpected value in {column}").into(),
    })
}

/// `field` reads a column as is; `field: parsed` reads text through `FromStr`.
macro_rules! impl_from_row {
    (@get $r:ident, $f:ident) => { ::sqlx::Row::try_get($r, stringify!($f))? };
    (@get $r:ident, $f:ident, parsed) => {
        $crate::store::db::parsed(stringify!($f), ::sqlx::Row::try_get::<String, _>($r, stringify!($f))?)?
    };
    ($t:ident { $($f:ident $(: $conv:ident)?),* $(,)? }) => {
        impl $crate::store::db::FromDbRow for $t {
            fn from_sqlite(r: &::sqlx::sqlite::SqliteRow) -> ::sqlx::Result<Self> {
                Ok($t { $($f: $crate::store::db::impl_from_row!(@get r, $f $(, $conv)?)),* })
            }
            fn from_pg(r: &::sqlx::postgres::PgRow) -> ::sqlx::Result<Self> {
                Ok($t { $($f: $crate::store::db::impl_from_row!(@get r, $f $(, $conv)?)),* })
            }
        }
    };
}
pub(crate) use impl_from_row;

impl Db {
    pub(crate) async fn one<T: FromDbRow>(&self, sql: &str, args: Args) -> StoreResult<Option<T>> {
        Ok(with_reader!(self, |p| {
            match args.bind(q(sql)).fetch_optional(p).await? {
                Some(r) => Some(row_of::<T, _>(&r)?),
                None => None,
            }
        }))
    }

    pub(crate) async fn many<T: FromDbRow>(&self, sql: &str, args: Args) -> StoreResult<Vec<T>> {
        Ok(with_reader!(self, |p| {
            let rows = args.bind(q(sql)).fetch_all(p).await?;
            rows.iter()
                .map(row_of::<T, _>)
                .collect::<sqlx::Result<Vec<_>>>()?
        }))
    }

    pub(crate) async fn write_one<T: FromDbRow>(
        &self,
        sql: &str,
        args: Args,
    ) -> StoreResult<Option<T>> {
        Ok(with_writer!(self, |p| {
            match args.bind(q(sql)).fetch_optional(p).await? {
                Some(r) => Some(row_of::<T, _>(&r)?),
                None => None,
            }
        }))
    }

    pub(crate) async fn exec(&self, sql: &str, args: Args) -> StoreResult<u64> {
        Ok(with_writer!(self, |p| args
            .bind(q(sql))
            .execute(p)
            .await?
            .rows_affected()))
    }

    pub(crate) async fn count(&self, sql: &str, args: Args) -> StoreResult<i64> {
        Ok(with_reader!(self, |p| {
            let r = args.bind(q(sql)).fetch_one(p).await?;
            r.try_get::<i64, _>(0)?
        }))
    }
}

/// A runtime query. Every SQL string here is built from constants; values are always bound.
pub(crate) fn q<'a, DB: sqlx::Database>(
    sql: &str,
) -> sqlx::query::Query<'a, DB, <DB as sqlx::Database>::Arguments> {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
}

pub(crate) fn row_of<T: FromDbRow, R: AnyRow>(r: &R) -> sqlx::Result<T> {
    r.decode()
}

/// Dispatches decoding to the backend's row type.
pub(crate) trait AnyRow {
    fn decode<T: FromDbRow>(&self) -> sqlx::Result<T>;
}
impl AnyRow for SqliteRow {
    fn decode<T: FromDbRow>(&self) -> sqlx::Result<T> {
        T::from_sqlite(self)
    }
}
impl AnyRow for PgRow {
    fn decode<T: FromDbRow>(&self) -> sqlx::Result<T> {
        T::from_pg(self)
    }
}

/// Query arguments that bind to either backend.
#[derive(Clone, Default)]
pub(crate) struct Args(Vec<Arg>);

#[derive(Clone)]
enum Arg {
    S(Option<String>),
    I(Option<i64>),
    B(Vec<u8>),
}

impl Args {
    pub(crate) fn new() -> Self {
        Self(Vec::new())
    }
    pub(crate) fn s(mut self, v: &str) -> Self {
        self.0.push(Arg::S(Some(v.to_string())));
        self
    }
    pub(crate) fn os(mut self, v: Option<&str>) -> Self {
        self.0.push(Arg::S(v.map(str::to_string)));
        self
    }
    pub(crate) fn i(mut self, v: i64) -> Self {
        self.0.push(Arg::I(Some(v)));
        self
    }
    pub(crate) fn oi(mut self, v: Option<i64>) -> Self {
        self.0.push(Arg::I(v));
        self
    }
    pub(crate) fn b(mut self, v: Vec<u8>) -> Self {
        self.0.push(Arg::B(v));
        self
    }
    pub(crate) fn bind<'q, DB>(
        self,
        mut q: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    ) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
    where
        DB: sqlx::Database,
        Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        for a in self.0 {
            q = match a {
                Arg::S(v) => q.bind(v),
                Arg::I(v) => q.bind(v),
                Arg::B(v) => q.bind(v),
            };
        }
        q
    }
}
