"""What the packed copy of a response's answers adds to a survey submission (SQLite).

Usage: python benchmarks/bench_submission.py [--submissions 400] [--quick]
Writes benchmarks/results/submission.json and prints a Markdown table.

Each submission is ``responses.submit_response`` on a complete draft of the 46-item
questionnaire (one "don't know"), then the commit, as the survey's last page does. Every
other submission packs the answers as the app does; the others get the same bytes
precomputed, so the difference between the two medians is the packing itself, measured
in the same run and interleaved against the machine's load. ``pack_answers`` is also
timed alone over many calls. The 46 bytes written into the response row cannot be left
out of one run (the column is NOT NULL): they are part of both medians. ``--quick``: 40
submissions and 2,000 calls.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import benchmark_app, metric, write_results  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=400)
    parser.add_argument("--quick", action="store_true", help="40 submissions")
    args = parser.parse_args()
    if args.quick:
        args.submissions = 40
    path = Path(tempfile.mkdtemp()) / "submission.sqlite3"
    with benchmark_app(path):
        from surveyapp.extensions import db
        from surveyapp.services import responses
        from surveyapp.services.campaigns import create_campaign, open_campaign
        from surveyapp.services.drafts import DraftContent, draft_key
        from surveyapp.services.invitations import find_invitation, issue_invitations
        from surveyapp.services.matrix import pack_answers
        from surveyapp.services.organisations import create_organisation, import_departments
        from surveyapp.services.questionnaires import latest_questionnaire

        q = latest_questionnaire("social-business-maturity")
        organisation = create_organisation("Submission benchmark", "government", "1000+")
        import_departments(organisation, "code,name,parent_code,headcount\nA,A,,5000\n", "d.csv")
        today = dt.date.today()
        campaign = create_campaign(
            organisation, q, "Benchmark", today - dt.timedelta(days=1), today + dt.timedelta(30)
        )
        open_campaign(campaign)
        tokens = [link.token for link in issue_invitations(campaign, args.submissions, ["A"])]
        item_ids = [item.id for item in q.items]
        answers = {item_id: 1 + j % 5 for j, item_id in enumerate(item_ids)}
        answers[item_ids[3]] = None
        for token in tokens:
            responses.save_draft(
                find_invitation(token),
                draft_key(token),
                DraftContent("en", "employee", dict(answers), None, "review"),
            )
        db.session.commit()

        precomputed = pack_answers(item_ids, answers)
        packing = responses.pack_answers
        timings: dict[bool, list[float]] = {True: [], False: []}
        for number, token in enumerate(tokens):
            packs = number % 2 == 0
            responses.pack_answers = packing if packs else (lambda _ids, _answers: precomputed)
            invitation, key = find_invitation(token), draft_key(token)
            start = time.perf_counter()
            responses.submit_response(invitation, key)
            db.session.commit()
            timings[packs].append(time.perf_counter() - start)
        responses.pack_answers = packing
        calls = 2_000 if args.quick else 20_000
        pack_alone = timeit.timeit(lambda: pack_answers(item_ids, answers), number=calls) / calls

    with_packing = statistics.median(timings[True])
    precomputed_median = statistics.median(timings[False])
    result = {
        "submissions": args.submissions,
        "items": len(item_ids),
        "submit_and_commit_median_ms": round(with_packing * 1000, 3),
        "submit_and_commit_precomputed_codes_median_ms": round(precomputed_median * 1000, 3),
        "pack_answers_alone_us": round(pack_alone * 1e6, 2),
        "pack_share_of_submission": round(pack_alone / with_packing, 4),
    }
    result["metrics"] = [
        metric(
            "survey submission and commit, packing as in the app (median)",
            result["submit_and_commit_median_ms"],
            "ms",
            "the same with the packed codes precomputed (interleaved)",
            result["submit_and_commit_precomputed_codes_median_ms"],
        ),
        metric("pack_answers alone, per submission", result["pack_answers_alone_us"], "µs"),
    ]
    out = write_results("submission", result)
    print("| measure | value |\n|---|---:|")
    for key, value in result.items():
        if key != "metrics":
            print(f"| {key} | {value} |")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
