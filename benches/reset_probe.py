"""Paced probes of POST /api/auth/password-reset (benches/accounts.sh runs it).

What one client that spaces its requests sees, rather than wrk's
back-to-back load: requests rotate over a registered address and two
unknown ones (the second unknown one is the noise floor: two addresses that
must cost the same), in an order that changes every round so no address
always follows the same one, GAP_MS apart (the gateway's auth zone allows 5 a minute; this is
far faster, and still leaves the work a request starts after its answer
time to finish), over one kept-alive connection. Prints the median and the
interquartile range of each, and the ratios of the medians.

usage: reset_probe.py BASE_URL KNOWN_EMAIL UNKNOWN_EMAIL UNKNOWN_EMAIL_2 [COUNT] [GAP_MS]
"""

import http.client
import itertools
import json
import statistics
import sys
import time
import urllib.parse


def main() -> None:
    base, known, unknown, unknown2 = sys.argv[1:5]
    count = int(sys.argv[5]) if len(sys.argv) > 5 else 300
    gap = (int(sys.argv[6]) if len(sys.argv) > 6 else 20) / 1000
    url = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port)
    times: dict[str, list[float]] = {known: [], unknown: [], unknown2: []}
    orders = list(itertools.permutations([known, unknown, unknown2]))
    sequence = [email for r in range(count) for email in orders[r % len(orders)]]
    for i, email in enumerate(sequence):
        body = json.dumps({"email": email})
        start = time.perf_counter()
        connection.request("POST", "/api/auth/password-reset", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        elapsed = time.perf_counter() - start
        if response.status != 202:
            sys.exit(f"status {response.status} for {email}")
        if i >= 30:  # the first few warm the instance pool
            times[email].append(elapsed * 1000)
        time.sleep(gap)
    for label, email in (("registered", known), ("unknown", unknown), ("unknown, another", unknown2)):
        q = statistics.quantiles(times[email], n=4)
        print(f"| {label} (paced, {gap * 1000:.0f} ms apart) | {len(times[email])} | {q[1]:.3f} ms | {q[0]:.3f}–{q[2]:.3f} ms |")
    median = {email: statistics.median(values) for email, values in times.items()}
    print(f"\npaced: median registered / median unknown = {median[known] / median[unknown]:.3f}; "
          f"the noise floor, unknown / another unknown = {median[unknown] / median[unknown2]:.3f}")


if __name__ == "__main__":
    main()
