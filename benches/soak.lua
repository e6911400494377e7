-- wrk script of benches/soak.sh: a realistic mix on one connection per
-- thread. Each thread is one user with its own refresh-token chain, so no
-- two connections ever present the same refresh token (the API treats that
-- as theft and revokes the family). Paced by delay() (SOAK_INTERVAL_MS).
--
-- Mix per request: 60% GET /api/users/me (cached read), 20% GET
-- /api/uploads (a list page), 10% POST /api/uploads (a 1 KiB text file),
-- 9% POST /api/auth/refresh (rotation), 1% POST /api/auth/login.
--
-- Tokens come from and go back to SOAK_TOKENS (one "email access refresh"
-- line per thread), so consecutive one-minute segments continue each
-- user's session after its opening login.

local tokens_file = os.getenv("SOAK_TOKENS")
local interval = tonumber(os.getenv("SOAK_INTERVAL_MS") or "0")
local upload_body = string.rep("soak line of text\n", 57) -- 1026 bytes

-- Main state only: the users to hand out and the threads for done().
local users, threads = {}, {}
for line in io.lines(tokens_file) do
    local e, a, r = line:match("^(%S+) (%S+) (%S+)$")
    users[#users + 1] = { email = e, access = a, refresh = r }
end

function setup(thread)
    local u = assert(users[#threads + 1], "more wrk threads than users in " .. tokens_file)
    thread:set("email", u.email)
    thread:set("access", u.access)
    thread:set("refresh", u.refresh)
    thread:set("failed", 0)
    thread:set("failed_by_kind", "")
    threads[#threads + 1] = thread
end

-- Thread state. email, access, refresh, failed and failed_by_kind are
-- globals because thread:get/set reach only globals.
local kind
local counter = 0
local failed_counts = {}

local function bearer(headers)
    headers["Authorization"] = "Bearer " .. access
    return headers
end

function request()
    counter = counter + 1
    local slot = counter % 100
    -- Each segment (one wrk run) starts every user with a login: wrk
    -- abandons the requests in flight when a run ends, and a refresh it
    -- abandoned has rotated the token on the server, so presenting the one
    -- saved here would be (rightly) treated as theft of the family.
    if counter == 1 then slot = 99 end
    if slot < 60 then
        kind = "me"
        return wrk.format("GET", "/api/users/me", bearer({}))
    elseif slot < 80 then
        kind = "list"
        return wrk.format("GET", "/api/uploads?limit=20", bearer({}))
    elseif slot < 90 then
        kind = "upload"
        return wrk.format("POST", "/api/uploads?filename=soak.txt",
            bearer({ ["Content-Type"] = "text/plain" }), upload_body)
    elseif slot < 99 then
        kind = "refresh"
        return wrk.format("POST", "/api/auth/refresh", { ["Content-Type"] = "application/json" },
            '{"refresh_token":"' .. refresh .. '"}')
    else
        kind = "login"
        return wrk.format("POST", "/api/auth/login", { ["Content-Type"] = "application/json" },
            '{"email":"' .. email .. '","password":"password123"}')
    end
end

function response(status, headers, body)
    if status >= 300 then
        failed = failed + 1
        local key = kind .. "=" .. status
        failed_counts[key] = (failed_counts[key] or 0) + 1
        local parts = {}
        for k, v in pairs(failed_counts) do parts[#parts + 1] = k .. ":" .. v end
        failed_by_kind = table.concat(parts, ",")
    elseif kind == "refresh" or kind == "login" then
        access = body:match('"access_token":"([^"]+)"') or access
        refresh = body:match('"refresh_token":"([^"]+)"') or refresh
    end
end

function delay()
    return interval
end

function done(summary, latency, requests)
    local out = assert(io.open(tokens_file, "w"))
    local total, detail = 0, {}
    for _, thread in ipairs(threads) do
        out:write(thread:get("email"), " ", thread:get("access"), " ", thread:get("refresh"), "\n")
        total = total + thread:get("failed")
        local d = thread:get("failed_by_kind")
        if d ~= "" then detail[#detail + 1] = d end
    end
    out:close()
    io.write(string.format("soak-failures %d %s\n", total, table.concat(detail, " ")))
end
