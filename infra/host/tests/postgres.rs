//! `spin:postgres/postgres@4.0.0` (and 3.0.0) through a real component
//! (`fixture-pg`) against the machine's Postgres: every type and NULL,
//! parameter binding, error mapping, the outbound-host check, pool hygiene
//! and the statement cache. The server-restart test is `postgres_restart.rs`.

mod common;
mod pg_support;

use common::{AppOptions, TestApp};
use pg_support::{MANIFEST, PG, err, execute, ok, query, run, run_as, unique};
use serde_json::{Value, json};

fn p(kind: &str, value: Value) -> Value {
    json!({ "type": kind, "value": value })
}

fn null() -> Value {
    json!({ "type": "db-null" })
}

/// The one row of a query's rows.
fn row(result: &Value, index: usize) -> &Vec<Value> {
    ok(result)["rows"][index].as_array().unwrap()
}

#[tokio::test]
async fn every_type_round_trips_with_nulls_and_extremes() {
    let app = TestApp::spawn(MANIFEST);
    let table = unique("types");
    let big_json = json!({
        "items": (0..10_000).map(|i| json!({ "i": i, "s": format!("é{i}"), "f": i as f64 / 4.0 })).collect::<Vec<_>>(),
        "nested": { "unicode": "日本語 🌍", "big": 9_007_199_254_740_993_i64 },
    });
    let all_bytes: String = (0..=255u8).map(|b| format!("{b:02x}")).collect();
    let unicode = "héllo, 世界 🌍 ' \" \\ \u{7f}";
    let columns: [(&str, &str, Value); 35] = [
        ("b", "boolean", p("boolean", json!(true))),
        ("c", "\"char\"", p("int8", json!(-5))),
        ("i2", "smallint", p("int16", json!(i16::MIN))),
        ("i4", "integer", p("int32", json!(i32::MAX))),
        ("i8", "bigint", p("int64", json!(i64::MIN))),
        ("i8b", "bigint", p("int64", json!(i64::MAX))),
        ("f4", "real", p("floating32", json!("NaN"))),
        ("f4b", "real", p("floating32", json!("-Infinity"))),
        ("f8", "double precision", p("floating64", json!("Infinity"))),
        ("f8b", "double precision", p("floating64", json!(5e-324))),
        ("f8c", "double precision", p("floating64", json!(f64::MAX))),
        ("s", "text", p("str", json!(unicode))),
        ("v", "varchar(20)", p("str", json!("varchar ✓"))),
        ("by", "bytea", p("binary", json!(""))),
        ("by2", "bytea", p("binary", json!(all_bytes))),
        (
            "u",
            "uuid",
            p("uuid", json!("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")),
        ),
        ("j", "jsonb", p("jsonb", json!(big_json.to_string()))),
        ("d", "date", p("date", json!([5_874_897, 12, 31]))),
        ("d2", "date", p("date", json!([-4712, 1, 1]))),
        ("tm", "time", p("time", json!([23, 59, 59, 999_999_000]))),
        (
            "ts",
            "timestamp",
            p(
                "datetime",
                json!([294_276, 12, 31, 23, 59, 59, 999_999_000]),
            ),
        ),
        (
            "tz",
            "timestamptz",
            p("datetime", json!([2024, 2, 29, 12, 30, 0, 123_456_000])),
        ),
        ("tz2", "timestamptz", p("timestamp", json!(1_700_000_000))),
        (
            "n",
            "numeric",
            p(
                "decimal",
                json!("123456789012345678901234567890.123456789012345678901234567890"),
            ),
        ),
        (
            "n2",
            "numeric",
            p("decimal", json!("-0.000000000000000000000000000001000")),
        ),
        ("n3", "numeric", p("decimal", json!("NaN"))),
        (
            "r4",
            "int4range",
            p("range-int32", json!([[1, "inclusive"], [10, "exclusive"]])),
        ),
        (
            "r8",
            "int8range",
            p("range-int64", json!([null, [100, "inclusive"]])),
        ),
        (
            "rn",
            "numrange",
            p(
                "range-decimal",
                json!([["1.5", "inclusive"], ["2.5", "exclusive"]]),
            ),
        ),
        (
            "re",
            "int4range",
            p("range-int32", json!([[5, "exclusive"], [5, "exclusive"]])),
        ),
        ("a4", "int4[]", p("array-int32", json!([1, null, -3]))),
        ("a8", "int8[]", p("array-int64", json!([i64::MAX, null]))),
        ("an", "numeric[]", p("array-decimal", json!(["1.10", null]))),
        ("at", "text[]", p("array-str", json!(["a", null, "ü"]))),
        (
            "iv",
            "interval",
            p(
                "interval",
                json!({ "micros": 3_600_000_001_i64, "days": -2, "months": 14 }),
            ),
        ),
    ];
    let definition: Vec<String> = columns.iter().map(|(n, t, _)| format!("{n} {t}")).collect();
    let names: Vec<&str> = columns.iter().map(|(n, _, _)| *n).collect();
    let placeholders: Vec<String> = (2..columns.len() + 2).map(|i| format!("${i}")).collect();
    let insert = format!(
        "INSERT INTO {table} (id, {}) VALUES ($1, {})",
        names.join(", "),
        placeholders.join(", ")
    );
    let mut values = vec![p("int32", json!(1))];
    values.extend(columns.iter().map(|(_, _, v)| v.clone()));
    let mut nulls = vec![p("int32", json!(2))];
    nulls.extend(columns.iter().map(|_| null()));

    let results = run(
        &app,
        vec![
            execute(&format!("DROP TABLE IF EXISTS {table}"), json!([])),
            execute(
                &format!(
                    "CREATE TABLE {table} (id int PRIMARY KEY, {}, aempty int4[] DEFAULT '{{}}')",
                    definition.join(", ")
                ),
                json!([]),
            ),
            execute(&insert, json!(values)),
            execute(&insert, json!(nulls)),
            query(
                &format!(
                    "SELECT {}, aempty FROM {table} ORDER BY id",
                    names.join(", ")
                ),
                json!([]),
            ),
            execute(&format!("DROP TABLE {table}"), json!([])),
        ],
    )
    .await;
    for result in &results[..4] {
        ok(result);
    }
    assert_eq!(ok(&results[2]), &json!(1));
    let answer = ok(&results[4]);

    let types: Vec<&str> = answer["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "boolean",
            "int8",
            "int16",
            "int32",
            "int64",
            "int64",
            "floating32",
            "floating32",
            "floating64",
            "floating64",
            "floating64",
            "str",
            "str",
            "binary",
            "binary",
            "uuid",
            "jsonb",
            "date",
            "date",
            "time",
            "datetime",
            "datetime",
            "datetime",
            "decimal",
            "decimal",
            "decimal",
            "range-int32",
            "range-int64",
            "range-decimal",
            "range-int32",
            "array-int32",
            "array-int64",
            "array-decimal",
            "array-str",
            "interval",
            "array-int32",
        ]
    );

    let first = row(&results[4], 0);
    let expect = |name: &str, value: Value| {
        let index = names.iter().position(|n| *n == name).unwrap_or(names.len());
        assert_eq!(first[index], value, "column {name}");
    };
    for (name, _, value) in &columns {
        match *name {
            // Canonical forms, checked below.
            "j" | "tz2" | "r8" | "re" => {}
            _ => expect(name, value.clone()),
        }
    }
    let json_back: Value = serde_json::from_str(first[16]["value"].as_str().unwrap()).unwrap();
    assert_eq!(json_back, big_json, "large jsonb");
    expect("tz2", p("datetime", json!([2023, 11, 14, 22, 13, 20, 0])));
    // Postgres stores discrete ranges canonically: (,100] is (,101).
    expect("r8", p("range-int64", json!([null, [101, "exclusive"]])));
    // (5,5) is empty, which reads back as [0,0): empty too, never (,).
    expect(
        "re",
        p("range-int32", json!([[0, "inclusive"], [0, "exclusive"]])),
    );
    expect("aempty", p("array-int32", json!([])));

    let second = row(&results[4], 1);
    for (index, value) in second.iter().enumerate().take(columns.len()) {
        assert_eq!(
            value,
            &json!({ "type": "db-null", "value": null }),
            "column {}",
            names[index]
        );
    }
}

#[tokio::test]
async fn parameters_are_bound_never_interpolated() {
    let app = TestApp::spawn(MANIFEST);
    let table = unique("injection");
    let evil = "Robert'); DROP TABLE students; --";
    let results = run(
        &app,
        vec![
            execute(&format!("DROP TABLE IF EXISTS {table}"), json!([])),
            execute(&format!("CREATE TABLE {table} (id serial PRIMARY KEY, name text, big bigint, small smallint)"), json!([])),
            execute(
                &format!("INSERT INTO {table} (name, big, small) VALUES ($1, $2, $3)"),
                json!([p("str", json!(evil)), p("int32", json!(7)), p("int64", json!(-3))]),
            ),
            query(&format!("SELECT name, big, small FROM {table}"), json!([])),
            query(&format!("SELECT count(*) FROM {table} WHERE name = $1"), json!([p("str", json!("' OR '1'='1"))])),
            query(&format!("SELECT count(*) FROM {table} WHERE name = $1"), json!([p("str", json!(evil))])),
            // Out of range for the column: refused before anything is sent.
            execute(
                &format!("INSERT INTO {table} (small) VALUES ($1)"),
                json!([p("int64", json!(40_000))]),
            ),
            execute(&format!("DROP TABLE {table}"), json!([])),
        ],
    )
    .await;
    assert_eq!(ok(&results[2]), &json!(1));
    assert_eq!(
        row(&results[3], 0),
        &vec![
            p("str", json!(evil)),
            p("int64", json!(7)),
            p("int16", json!(-3))
        ]
    );
    assert_eq!(row(&results[4], 0)[0], p("int64", json!(0)));
    assert_eq!(row(&results[5], 0)[0], p("int64", json!(1)));
    let e = err(&results[6]);
    assert_eq!(e["kind"], "bad-parameter", "{e}");
    assert!(e["message"].as_str().unwrap().contains("$1"), "{e}");
    ok(&results[7]);
}

#[tokio::test]
async fn errors_map_to_wit_variants_with_sqlstate() {
    let app = TestApp::spawn(MANIFEST);
    let table = unique("errors");
    let results = run(
        &app,
        vec![
            execute(&format!("DROP TABLE IF EXISTS {table}"), json!([])),
            execute(
                &format!("CREATE TABLE {table} (id int PRIMARY KEY, email text UNIQUE)"),
                json!([]),
            ),
            execute(
                &format!("INSERT INTO {table} VALUES (1, 'a@example.com')"),
                json!([]),
            ),
            execute(
                &format!("INSERT INTO {table} VALUES ($1, $2)"),
                json!([p("int32", json!(2)), p("str", json!("a@example.com"))]),
            ),
            // The connection is still good after a server error.
            query(&format!("SELECT count(*)::int4 FROM {table}"), json!([])),
            query("SELEC 1", json!([])),
            query("SELECT 1 / $1", json!([p("int32", json!(0))])),
            query("SELECT $1::int4", json!([p("str", json!("one"))])),
            query("SELECT $1::int4, $2::int4", json!([p("int32", json!(1))])),
            query("SELECT 'infinity'::date", json!([])),
            query("SELECT 1::int4 AS a WHERE false", json!([])),
            execute(&format!("DROP TABLE {table}"), json!([])),
        ],
    )
    .await;
    let unique_violation = err(&results[3]);
    assert_eq!(
        unique_violation["kind"], "query-failed",
        "{unique_violation}"
    );
    assert_eq!(unique_violation["code"], "23505");
    assert_eq!(unique_violation["severity"], "ERROR");
    assert_eq!(
        unique_violation["extras"]["constraint"],
        format!("{table}_email_key")
    );
    assert!(
        unique_violation["detail"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );
    assert!(
        unique_violation["message"]
            .as_str()
            .unwrap()
            .starts_with("ERROR 23505: duplicate key")
    );
    assert!(
        !unique_violation.to_string().contains("INSERT INTO"),
        "no SQL in errors: {unique_violation}"
    );
    assert_eq!(row(&results[4], 0)[0], p("int32", json!(1)));
    assert_eq!(err(&results[5])["code"], "42601");
    assert_eq!(err(&results[6])["code"], "22012");
    assert_eq!(err(&results[7])["kind"], "bad-parameter");
    assert_eq!(err(&results[8])["kind"], "bad-parameter");
    assert_eq!(err(&results[9])["kind"], "value-conversion-failed");
    // No rows, but the columns are still described (Spin gives none).
    assert_eq!(
        ok(&results[10]),
        &json!({ "columns": [{ "name": "a", "type": "int32" }], "rows": [] })
    );
}

#[tokio::test]
async fn a_lost_connection_is_connection_failed_and_recovers_outside_a_transaction() {
    let app = TestApp::spawn(MANIFEST);
    let kill = query("SELECT pg_terminate_backend(pg_backend_pid())", json!([]));
    let results = run(&app, vec![kill.clone(), query("SELECT 1::int4", json!([]))]).await;
    let lost = err(&results[0]);
    assert_eq!(lost["kind"], "connection-failed", "{lost}");
    assert!(
        lost["message"].as_str().unwrap().contains("57P01"),
        "{lost}"
    );
    // Nothing was lost with it, so the host reconnected.
    assert_eq!(row(&results[1], 0)[0], p("int32", json!(1)));

    // Inside a transaction it stays failed: silently continuing elsewhere
    // would lose the transaction.
    let results = run(
        &app,
        vec![
            execute("BEGIN", json!([])),
            kill,
            query("SELECT 1::int4", json!([])),
        ],
    )
    .await;
    assert_eq!(err(&results[1])["kind"], "connection-failed");
    assert_eq!(err(&results[2])["kind"], "connection-failed");
}

#[tokio::test]
async fn hosts_outside_allowed_outbound_hosts_are_denied() {
    let app = TestApp::spawn(MANIFEST);
    let denied = |answer: &Value| answer["open_error"].clone();

    let answer = run_as(&app, "/denied", 4, PG, vec![query("SELECT 1", json!([]))]).await;
    assert_eq!(
        denied(&answer),
        json!({ "kind": "connection-failed", "message": "address postgres://127.0.0.1:5432 is not permitted" })
    );
    let answer = run_as(&app, "/denied", 3, PG, vec![]).await;
    assert_eq!(denied(&answer)["kind"], "connection-failed");

    for address in [
        "postgres://postgres@127.0.0.1:5433/test",
        "postgres://postgres:supersecret@localhost:5432/test",
        "host=127.0.0.1 hostaddr=10.9.9.9 user=postgres password=supersecret dbname=test",
        "host=/var/run/postgresql user=postgres dbname=test",
        "host=127.0.0.1 user=postgres password=supersecret bogus_option=1",
    ] {
        let answer = run_as(&app, "/pg", 4, address, vec![]).await;
        let error = denied(&answer);
        assert_eq!(error["kind"], "connection-failed", "{address}: {answer}");
        assert!(!error.to_string().contains("supersecret"), "{error}");
    }

    // Allowed, but the server refuses: still no password in the error.
    let answer = run_as(
        &app,
        "/pg",
        4,
        "postgres://nosuchrole:supersecret@127.0.0.1:5432/test",
        vec![],
    )
    .await;
    let error = denied(&answer);
    assert_eq!(error["kind"], "connection-failed", "{answer}");
    assert!(
        error["message"].as_str().unwrap().contains("28000"),
        "{error}"
    );
    assert!(!error.to_string().contains("supersecret"), "{error}");
    assert!(
        !app.log().contains("supersecret"),
        "password in the log:\n{}",
        app.log()
    );
}

#[tokio::test]
async fn transactions_and_session_settings_do_not_leak_through_the_pool() {
    let app = TestApp::spawn(MANIFEST);
    let table = unique("leak");
    let name = unique("txapp");
    let address = format!("{PG}?application_name={name}");
    ok(&run(
        &app,
        vec![
            execute(&format!("DROP TABLE IF EXISTS {table}"), json!([])),
            execute(&format!("CREATE TABLE {table} (id int)"), json!([])),
        ],
    )
    .await[1]);

    // A request that leaves a transaction open and a setting changed.
    let answer = run_as(
        &app,
        "/pg",
        4,
        &address,
        vec![
            execute("SET statement_timeout = '4321ms'", json!([])),
            execute("BEGIN", json!([])),
            execute(&format!("INSERT INTO {table} VALUES (1)"), json!([])),
        ],
    )
    .await;
    for result in answer["results"].as_array().unwrap() {
        ok(result);
    }

    // The host rolls it back and resets the session on its own.
    let idle_in_transaction = query(
        "SELECT count(*)::int4 FROM pg_stat_activity WHERE application_name = $1 AND state LIKE 'idle in transaction%'",
        json!([p("str", json!(name))]),
    );
    let mut open = -1;
    for _ in 0..50 {
        open = row(&run(&app, vec![idle_in_transaction.clone()]).await[0], 0)[0]["value"]
            .as_i64()
            .unwrap();
        if open == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(open, 0, "a pooled connection was left inside a transaction");

    let answer = run_as(
        &app,
        "/pg",
        4,
        &address,
        vec![
            query("SHOW statement_timeout", json!([])),
            query(&format!("SELECT count(*)::int4 FROM {table}"), json!([])),
            query("SHOW application_name", json!([])),
        ],
    )
    .await;
    let results = answer["results"].as_array().unwrap();
    assert_eq!(row(&results[0], 0)[0], p("str", json!("0")));
    assert_eq!(row(&results[1], 0)[0], p("int32", json!(0)));
    assert_eq!(row(&results[2], 0)[0], p("str", json!(name)));
    ok(&run(
        &app,
        vec![execute(&format!("DROP TABLE {table}"), json!([]))],
    )
    .await[0]);
}

async fn prepared_count(app: &TestApp) -> i64 {
    let statement = "SELECT 42::int4 AS answer";
    let results = run(
        app,
        vec![
            query(statement, json!([])),
            query(statement, json!([])),
            query(statement, json!([])),
            query(
                "SELECT count(*)::int4 FROM pg_prepared_statements WHERE statement = $1",
                json!([p("str", json!(statement))]),
            ),
        ],
    )
    .await;
    assert_eq!(row(&results[2], 0)[0], p("int32", json!(42)));
    row(&results[3], 0)[0]["value"].as_i64().unwrap()
}

#[tokio::test]
async fn statements_are_prepared_once_per_connection_and_survive_schema_changes() {
    let app = TestApp::spawn(MANIFEST);
    assert_eq!(prepared_count(&app).await, 1, "prepared once, then reused");

    // A cached `SELECT *` whose table gains a column is re-prepared.
    let table = unique("schema");
    let select = query(&format!("SELECT * FROM {table}"), json!([]));
    let results = run(
        &app,
        vec![
            execute(&format!("DROP TABLE IF EXISTS {table}"), json!([])),
            execute(&format!("CREATE TABLE {table} (a int)"), json!([])),
            execute(&format!("INSERT INTO {table} VALUES (1)"), json!([])),
            select.clone(),
            execute(
                &format!("ALTER TABLE {table} ADD COLUMN b text DEFAULT 'x'"),
                json!([]),
            ),
            select,
            execute(&format!("DROP TABLE {table}"), json!([])),
        ],
    )
    .await;
    assert_eq!(row(&results[3], 0).len(), 1);
    assert_eq!(
        row(&results[5], 0),
        &vec![p("int32", json!(1)), p("str", json!("x"))]
    );
}

#[tokio::test]
async fn naive_mode_prepares_every_time() {
    let app = TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            args: vec!["--postgres-naive".into()],
            ..AppOptions::default()
        },
    );
    assert_eq!(prepared_count(&app).await, 0);
}

#[tokio::test]
async fn concurrent_requests_share_the_pool() {
    let app = TestApp::spawn(MANIFEST);
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let app = &app;
            async move {
                let results = run(
                    app,
                    vec![query("SELECT $1::int4 + 1", json!([p("int32", json!(i))]))],
                )
                .await;
                assert_eq!(row(&results[0], 0)[0], p("int32", json!(i + 1)));
            }
        })
        .collect();
    futures::future::join_all(tasks).await;
    // The benchmark route too.
    let table = "spinstack_bench";
    let _ = run(&app, vec![execute(&format!("CREATE TABLE IF NOT EXISTS {table} (id int PRIMARY KEY, name text, score double precision)"), json!([]))]).await;
    let response = common::client()
        .get(app.url("/pg/bench/424242"))
        .send()
        .await
        .unwrap();
    assert!(
        matches!(response.status().as_u16(), 200 | 404),
        "{}",
        response.text().await.unwrap()
    );
}

#[tokio::test]
async fn version_3_shares_the_implementation() {
    let app = TestApp::spawn(MANIFEST);
    let table = unique("v3");
    let answer = run_as(
        &app,
        "/pg",
        3,
        PG,
        vec![
            execute(&format!("DROP TABLE IF EXISTS {table}"), json!([])),
            execute(
                &format!(
                    "CREATE TABLE {table} (id int PRIMARY KEY, name text, u uuid, at timestamp)"
                ),
                json!([]),
            ),
            execute(
                &format!("INSERT INTO {table} VALUES ($1, $2, gen_random_uuid(), $3)"),
                json!([
                    p("int32", json!(1)),
                    p("str", json!("ünï")),
                    p("datetime", json!([2020, 1, 2, 3, 4, 5, 6000]))
                ]),
            ),
            execute(
                &format!("INSERT INTO {table} (id) VALUES ($1)"),
                json!([p("int32", json!(1))]),
            ),
            query(&format!("SELECT id, name, u, at FROM {table}"), json!([])),
            execute(&format!("DROP TABLE {table}"), json!([])),
        ],
    )
    .await;
    let results = answer["results"].as_array().unwrap();
    assert_eq!(ok(&results[2]), &json!(1));
    let e = err(&results[3]);
    assert_eq!(e["kind"], "query-failed");
    assert!(e["message"].as_str().unwrap().contains("23505"), "{e}");
    assert_eq!(
        row(&results[4], 0),
        &vec![
            p("int32", json!(1)),
            p("str", json!("ünï")),
            json!({ "type": "unsupported", "value": null }),
            p("datetime", json!([2020, 1, 2, 3, 4, 5, 6000])),
        ]
    );
    assert_eq!(ok(&results[4])["columns"][2]["type"], "other");
}
