"""Sign-in timing: does an unknown address answer as fast as a wrong password used to?

Usage: python benchmarks/bench_sign_in.py [--attempts 30] [--quick]
Creates a temporary SQLite database with one manager whose password is hashed with the
production method (werkzeug's scrypt default), then posts the sign-in form through the
Flask test client ``--attempts`` times each for: an unknown address, a known address
with a wrong password, and the right password. Throttling is set high so every
attempt is heard. The same attempts run against the previous behaviour (no dummy
hash for unknown addresses) side by side, in the same process. Writes
benchmarks/results/sign_in.json and prints a Markdown table.

Before: an unknown address answered in about a twentieth of the time of a wrong
password, so a stopwatch told which addresses have accounts. The target is a ratio
unknown / wrong password between 0.9 and 1.1: the wrong password is the fair floor of
what an unknown address should cost. ``--quick``: 3 attempts of each kind.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import benchmark_app, metric, write_results  # noqa: E402

EMAIL = "manager@bench.example"
PASSWORD = "orange-violin-meadow-7"


def _attempt(client, email: str, password: str) -> float:
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    start = time.perf_counter()
    response = client.post(
        "/auth/login", data={"email": email, "password": password, "csrf_token": token}
    )
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 302:
        client.post("/auth/logout", data={"csrf_token": _token(client)})
    return elapsed


def _token(client) -> str:
    page = client.get("/auth/account").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="3 attempts of each kind")
    args = parser.parse_args()
    if args.quick:
        args.attempts = 3
    from surveyapp.extensions import db
    from surveyapp.services import users
    from surveyapp.services.organisations import create_organisation

    with tempfile.TemporaryDirectory() as folder:
        with benchmark_app(Path(folder) / "b.db") as app:
            organisation = create_organisation("Bench", "government", "250-999")
            users.create_user(EMAIL, PASSWORD, "manager", organisation)
            db.session.commit()
        # Requests run outside the set-up's application context, each in its own.
        app.config.update(SIGN_IN_ACCOUNT_FAILURES=10**6, SIGN_IN_CLIENT_FAILURES=10**6)
        client = app.test_client()
        cases = {
            "unknown address": ("nobody@bench.example", "wrong-password-xyz"),
            "wrong password": (EMAIL, "wrong-password-xyz"),
            "right password": (EMAIL, PASSWORD),
        }
        after: dict[str, list[float]] = {name: [] for name in cases}
        before: dict[str, list[float]] = {name: [] for name in cases}
        real_authenticate = users.authenticate

        def old_authenticate(email: str, password: str):
            # The previous code: look the address up, check a hash only if it exists.
            user = users.find_user(email)
            if user is None or not users.check_password_hash(user.password_hash, password):
                return None
            return user

        from surveyapp.views import auth as auth_view

        for _ in range(args.attempts):
            for name, (email, password) in cases.items():
                auth_view.authenticate = real_authenticate
                after[name].append(_attempt(client, email, password))
                auth_view.authenticate = old_authenticate
                before[name].append(_attempt(client, email, password))
        auth_view.authenticate = real_authenticate

    rows = {
        name: {"before_median_ms": _median(before[name]), "after_median_ms": _median(after[name])}
        for name in cases
    }
    ratio_before = (
        rows["unknown address"]["before_median_ms"] / rows["wrong password"]["before_median_ms"]
    )
    ratio_after = (
        rows["unknown address"]["after_median_ms"] / rows["wrong password"]["after_median_ms"]
    )
    payload = {
        "attempts": args.attempts,
        "cases": rows,
        "unknown_over_wrong_before": round(ratio_before, 3),
        "unknown_over_wrong_after": round(ratio_after, 3),
    }
    payload["metrics"] = [
        metric(
            "sign-in with an unknown address (median)",
            rows["unknown address"]["after_median_ms"],
            "ms",
            "a known address with a wrong password (median)",
            rows["wrong password"]["after_median_ms"],
            "0.9-1.1x",
            0.9 <= ratio_after <= 1.1,
        ),
        metric(
            "sign-in with the right password (median)",
            rows["right password"]["after_median_ms"],
            "ms",
        ),
    ]
    path = write_results("sign_in", payload)
    print("| attempt | before (median ms) | after (median ms) |")
    print("|---|---:|---:|")
    for name, row in rows.items():
        print(f"| {name} | {row['before_median_ms']} | {row['after_median_ms']} |")
    print(f"\nunknown / wrong password: before {ratio_before:.3f}, after {ratio_after:.3f}")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
