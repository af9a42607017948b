"""The fair floor for the survey path: the same 16-request survey in bare Flask.

What it shares with the app, so that the difference is the app's own cost: the same URLs
and steps (language, introduction, about you, nine pages of statements, comment, review,
thank-you page), the link's GET showing the step where the respondent is and one POST
per step answered with the next page (the final submission alone redirects), Flask's
signed session cookie, drafts sealed with AES-256-GCM under a key derived from the link
(HKDF-SHA256), pages of the same markup and size rendered by Jinja, the same security
headers, and the same rows per completed survey (the invitation marked used in one
guarded UPDATE, one response with its packed answer codes, one row per answer, the draft
deleted). What it leaves out: the ORM (plain ``sqlite3`` or ``psycopg``, one query per
request to load the invitation, its campaign and its draft), form classes (values are
checked against the questionnaire by hand), translations and the input guards.

Served by gunicorn from the repository root:
``BARE_DATABASE=/path/db.sqlite3 gunicorn 'benchmarks.bare_flask.app:create_app()'``
(``BARE_DATABASE`` may also be a ``postgresql://`` address). ``init_database`` creates the
tables and ``add_invitations`` the links; ``benchmarks/bench_survey.py`` does both.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, abort, g, redirect, render_template, request, session, url_for

from surveyapp.questionnaires import load_directory, pick_text
from surveyapp.security import HEADERS

ROOT = Path(__file__).resolve().parent.parent.parent
SCHEMA = Path(__file__).with_name("schema.sql")
DONT_KNOW = "dk"
NO_ANSWER, DONT_KNOW_CODE = 255, 254


def questionnaire():
    """The shipped questionnaire (the one version there is)."""
    return next(iter(load_directory(ROOT / "questionnaires").values()))


# ---------------------------------------------------------------------------
# The database: one connection per worker process, opened on first use


class Database:
    """A DB-API connection with ``?`` placeholders on both SQLite and PostgreSQL."""

    def __init__(self, address: str):
        self.postgres = address.startswith("postgresql")
        if self.postgres:
            import psycopg

            self.connection = psycopg.connect(address.replace("postgresql+psycopg", "postgresql"))
        else:
            self.connection = sqlite3.connect(address, timeout=5)
            self.connection.execute("PRAGMA foreign_keys=ON")
            self.connection.execute("PRAGMA secure_delete=ON")
            self.connection.execute("PRAGMA journal_mode=WAL")

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    def one(self, sql: str, parameters=()):
        return self.connection.execute(self._sql(sql), parameters).fetchone()

    def run(self, sql: str, parameters=()) -> int:
        return self.connection.execute(self._sql(sql), parameters).rowcount

    def many(self, sql: str, rows) -> None:
        self.connection.cursor().executemany(self._sql(sql), rows)

    def commit(self) -> None:
        self.connection.commit()

    def rollback(self) -> None:
        self.connection.rollback()


def init_database(address: str) -> None:
    """Create the floor's tables and one open campaign (id 1)."""
    database = Database(address)
    schema = SCHEMA.read_text().replace("{serial}", "SERIAL" if database.postgres else "INTEGER")
    schema = "\n".join(line for line in schema.splitlines() if not line.startswith("--"))
    for statement in schema.split(";"):
        if statement.strip():
            database.run(statement)
    today = dt.date.today()
    database.run(
        "INSERT INTO campaign VALUES (1, 'Benchmark organisation', 'open', ?, ?, 5, 10)",
        (today - dt.timedelta(days=1), today + dt.timedelta(days=30)),
    )
    database.commit()


def add_invitations(address: str, tokens: list[str]) -> None:
    """Store one unused invitation per token (only the token's SHA-256)."""
    database = Database(address)
    database.many(
        "INSERT INTO invitation (campaign_id, department_id, token_hash, used) VALUES (1, 1, ?, ?)",
        [(hashlib.sha256(t.encode()).hexdigest(), False) for t in tokens],
    )
    database.commit()


# ---------------------------------------------------------------------------
# Drafts: sealed as the app seals them (services/drafts.py)


def draft_key(token: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"bare draft key")
    return hkdf.derive(token.encode())


def seal(content: dict, key: bytes, invitation_id: int) -> bytes:
    plain = json.dumps(content, separators=(",", ":")).encode()
    plain += b" " * (-len(plain) % 2048)
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, plain, str(invitation_id).encode())


def unseal(sealed: bytes, key: bytes, invitation_id: int) -> dict:
    sealed = bytes(sealed)
    return json.loads(AESGCM(key).decrypt(sealed[:12], sealed[12:], str(invitation_id).encode()))


# ---------------------------------------------------------------------------
# The app


def create_app() -> Flask:
    """The floor app, reading its database address from ``BARE_DATABASE``."""
    app = Flask(__name__)
    app.secret_key = os.environ.get("BARE_SECRET_KEY", "bare-benchmark")
    address = os.environ["BARE_DATABASE"]
    q = questionnaire()
    steps = ["language", "intro", "about"]
    steps += [f"page-{i}" for i in range(1, len(q.dimensions) + 1)] + ["comment", "review"]
    item_ids = [item.id for item in q.items]
    values = {str(p.value) for p in q.scale.points}
    roles = {o.id for o in q.background[0].options}

    def database() -> Database:
        if "database" not in app.extensions:
            app.extensions["database"] = Database(address)
        return app.extensions["database"]

    app.jinja_env.filters["loc"] = lambda texts: pick_text(texts, g.get("lang", "en"))

    @app.after_request
    def headers(response):
        response.headers.update(HEADERS)
        response.headers["Cache-Control"] = "private, no-store"
        return response

    def csrf_token() -> str:
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(32)
        return session["csrf"]

    app.jinja_env.globals["csrf_token"] = csrf_token

    def load(token: str):
        """Invitation, campaign and draft in one query; the draft opened."""
        row = database().one(
            "SELECT i.id, i.used, c.status, c.opens_on, c.closes_on, c.organisation,"
            " c.min_group_size, i.department_id, d.ciphertext FROM invitation i"
            " JOIN campaign c ON c.id = i.campaign_id"
            " LEFT JOIN draft d ON d.invitation_id = i.id WHERE i.token_hash = ?",
            (hashlib.sha256(token.encode()).hexdigest(),),
        )
        if row is None:
            abort(404)
        invitation_id, used, status, opens_on, closes_on = row[:5]
        today = dt.date.today().isoformat()
        if used or status != "open" or not str(opens_on) <= today <= str(closes_on):
            abort(410)
        key = draft_key(token)
        draft = unseal(row[8], key, invitation_id) if row[8] is not None else None
        campaign = {"organisation": row[5], "min_group_size": row[6], "closes_on": closes_on}
        return invitation_id, row[7], key, draft, campaign

    def save(invitation_id: int, key: bytes, draft: dict, step: str, exists: bool = True):
        draft = {**draft, "step": step}
        sealed = seal(draft, key, invitation_id)
        if exists:
            database().run(
                "UPDATE draft SET ciphertext = ? WHERE invitation_id = ?", (sealed, invitation_id)
            )
        else:
            database().run("INSERT INTO draft VALUES (?, ?)", (invitation_id, sealed))
        database().commit()
        return draft

    @app.get("/s/<token>")
    def start(token: str):
        invitation_id, department_id, key, draft, campaign = load(token)
        if draft is None:
            empty = {"language": None, "role_level": None, "answers": {}, "comment": None}
            draft = save(invitation_id, key, empty, "language", exists=False)
        loaded = (invitation_id, department_id, key, draft, campaign)
        return step(token, draft["step"], loaded=loaded)

    @app.route("/s/<token>/<step>", methods=["GET", "POST"])
    def step(token: str, step: str, loaded=None):
        if step not in steps:
            abort(404)
        invitation_id, department_id, key, draft, campaign = loaded or load(token)
        if draft is None:
            abort(404)
        g.lang = draft["language"] or "en"
        errors: list[str] = []
        if request.method == "POST":
            if not hmac.compare_digest(request.form.get("csrf_token", ""), csrf_token()):
                abort(400)
            following = steps[min(steps.index(step) + 1, len(steps) - 1)]
            form = request.form
            if step == "language":
                if form.get("language") in ("nl", "en"):
                    draft = save(
                        invitation_id, key, {**draft, "language": form["language"]}, following
                    )
                else:
                    errors.append("Choose the language you want to answer in.")
            elif step == "about":
                if form.get("role_level") in roles:
                    draft = save(
                        invitation_id, key, {**draft, "role_level": form["role_level"]}, following
                    )
                else:
                    errors.append("Choose the option that fits you best.")
            elif step.startswith("page-"):
                dimension = q.dimensions[int(step[5:]) - 1]
                answers = {}
                for item in dimension.items:
                    value = form.get(f"item-{item.id}")
                    if value == DONT_KNOW:
                        answers[item.id] = None
                    elif value in values:
                        answers[item.id] = int(value)
                    else:
                        errors.append("Choose an answer for this statement.")
                if not errors:
                    merged = {**draft["answers"], **answers}
                    draft = save(invitation_id, key, {**draft, "answers": merged}, following)
            elif step == "comment":
                comment = form.get("comment", "").strip() or None
                if comment is None or len(comment) <= 2000:
                    draft = save(invitation_id, key, {**draft, "comment": comment}, following)
                else:
                    errors.append("Your comment is too long.")
            elif step == "review":
                if len(draft["answers"]) != len(item_ids) or draft["role_level"] is None:
                    errors.append("Some pages are not complete yet.")
                else:
                    submit(invitation_id, department_id, draft)
                    return redirect(url_for("done"))
            else:
                draft = save(invitation_id, key, draft, following)
            if not errors:
                # Answered with the page of the step just saved, as the app does.
                step = draft["step"]
                g.lang = draft["language"] or "en"
        elif step == "review" and draft["step"] != "review":
            draft = save(invitation_id, key, draft, "review")
        position = steps.index(step)
        context = {
            "q": q,
            "token": token,
            "step": step,
            "lang": g.lang,
            "campaign": campaign,
            "draft": draft,
            "errors": errors,
            "progress": (max(0, position - 2), len(steps) - 3),
        }
        if step.startswith("page-"):
            context["dimension"] = q.dimensions[int(step[5:]) - 1]
        template = "page.html" if step.startswith("page-") else f"{step}.html"
        return render_template(template, **context), 400 if errors else 200

    def submit(invitation_id: int, department_id: int, draft: dict) -> None:
        db = database()
        if (
            db.run(
                "UPDATE invitation SET used = ? WHERE id = ? AND used = ?",
                (True, invitation_id, False),
            )
            != 1
        ):
            db.rollback()
            abort(409)
        answers = draft["answers"]
        codes = bytes(
            NO_ANSWER if i not in answers else DONT_KNOW_CODE if answers[i] is None else answers[i]
            for i in item_ids
        )
        response_id = db.one(
            "INSERT INTO response (campaign_id, department_id, role_level, language,"
            " submitted_on, comment, answer_codes) VALUES (1, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                department_id,
                draft["role_level"],
                draft["language"],
                dt.date.today(),
                draft["comment"],
                codes,
            ),
        )[0]
        db.many(
            "INSERT INTO answer VALUES (?, ?, ?)", [(response_id, i, v) for i, v in answers.items()]
        )
        db.run("DELETE FROM draft WHERE invitation_id = ?", (invitation_id,))
        db.commit()
        session["done"] = 1

    @app.get("/s/done")
    def done():
        return render_template("done.html", lang="en")

    return app
