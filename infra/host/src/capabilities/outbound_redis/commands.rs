//! Which `execute` commands may run on the application's shared connection
//! to an address: those that neither block nor change the connection's own
//! state (selected database, transaction, subscription, client name...).
//! Any other command (`MULTI`, `SELECT`, `BLPOP`, `SUBSCRIBE`, `CLIENT`, a
//! command this list does not know) first moves the guest's connection onto
//! one of its own, so it behaves exactly as on Spin, where every `open` is
//! its own connection, without disturbing other requests.

const SHARED_SAFE: &[&str] = &[
    // strings
    "GET",
    "SET",
    "SETNX",
    "SETEX",
    "PSETEX",
    "GETSET",
    "GETDEL",
    "GETEX",
    "MGET",
    "MSET",
    "MSETNX",
    "APPEND",
    "STRLEN",
    "INCR",
    "INCRBY",
    "INCRBYFLOAT",
    "DECR",
    "DECRBY",
    "GETRANGE",
    "SETRANGE",
    // keys
    "DEL",
    "UNLINK",
    "EXISTS",
    "EXPIRE",
    "PEXPIRE",
    "EXPIREAT",
    "PEXPIREAT",
    "TTL",
    "PTTL",
    "PERSIST",
    "TYPE",
    "RENAME",
    "RENAMENX",
    "TOUCH",
    // hashes
    "HGET",
    "HSET",
    "HSETNX",
    "HMGET",
    "HMSET",
    "HDEL",
    "HEXISTS",
    "HGETALL",
    "HKEYS",
    "HVALS",
    "HLEN",
    "HINCRBY",
    "HINCRBYFLOAT",
    "HSTRLEN",
    // lists (the non-blocking ones)
    "LPUSH",
    "RPUSH",
    "LPUSHX",
    "RPUSHX",
    "LPOP",
    "RPOP",
    "LLEN",
    "LRANGE",
    "LINDEX",
    "LSET",
    "LREM",
    "LTRIM",
    "LINSERT",
    "LPOS",
    "LMOVE",
    "RPOPLPUSH",
    // sets
    "SADD",
    "SREM",
    "SMEMBERS",
    "SISMEMBER",
    "SMISMEMBER",
    "SCARD",
    "SPOP",
    "SRANDMEMBER",
    "SINTER",
    "SUNION",
    "SDIFF",
    "SINTERSTORE",
    "SUNIONSTORE",
    "SDIFFSTORE",
    "SMOVE",
    // sorted sets (the non-blocking ones)
    "ZADD",
    "ZREM",
    "ZSCORE",
    "ZMSCORE",
    "ZINCRBY",
    "ZCARD",
    "ZCOUNT",
    "ZRANGE",
    "ZRANGEBYSCORE",
    "ZREVRANGE",
    "ZREVRANGEBYSCORE",
    "ZRANK",
    "ZREVRANK",
    "ZPOPMIN",
    "ZPOPMAX",
    "ZREMRANGEBYSCORE",
    "ZREMRANGEBYRANK",
    // streams without BLOCK, HyperLogLog, pub/sub publishing, and the rest
    "XADD",
    "XLEN",
    "XRANGE",
    "XREVRANGE",
    "XDEL",
    "XTRIM",
    "PFADD",
    "PFCOUNT",
    "PFMERGE",
    "PUBLISH",
    "PING",
    "ECHO",
    "TIME",
    "DBSIZE",
];

/// True when `command` can run on the shared connection.
pub fn shares_connection(command: &str) -> bool {
    SHARED_SAFE
        .iter()
        .any(|safe| safe.eq_ignore_ascii_case(command))
}

#[cfg(test)]
mod tests {
    use super::shares_connection;

    #[test]
    fn stateful_and_blocking_commands_get_a_connection_of_their_own() {
        for command in ["get", "SET", "HGetAll", "publish", "incrby"] {
            assert!(shares_connection(command), "{command}");
        }
        for command in [
            "MULTI",
            "EXEC",
            "WATCH",
            "SELECT",
            "AUTH",
            "CLIENT",
            "BLPOP",
            "BRPOP",
            "BLMOVE",
            "BZPOPMIN",
            "XREAD",
            "WAIT",
            "SUBSCRIBE",
            "PSUBSCRIBE",
            "MONITOR",
            "RESET",
            "HELLO",
            "QUIT",
            "FLUSHALL",
            "",
            "GET ",
            "NOSUCHCOMMAND",
        ] {
            assert!(!shares_connection(command), "{command:?}");
        }
    }
}
