"""Sign-in, two-step codes, sign-out, password change and reset for managers and consultants.

Sessions: the cookie carries the user id, the user's session generation, and when
the session began and was last used. :func:`load_user` refuses a cookie whose
generation is old (the user signed out, changed the password or was disabled, on
any device), which has been idle for ``SESSION_IDLE_MINUTES`` or began more than
``SESSION_MAX_HOURS`` ago.
"""

from __future__ import annotations

import functools
import time
from urllib.parse import urlsplit, urlunsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo

from ..extensions import db
from ..models import User
from ..services import ServiceError, throttle, totp
from ..services.audit import record
from ..services.mail import build_message, mail_available, send
from ..services.passwords import MIN_LENGTH, WeakPassword
from ..services.users import (
    authenticate,
    change_password,
    complete_reset,
    end_sessions,
    find_user,
    issue_reset,
    reset_for,
)

bp = Blueprint("auth", __name__, url_prefix="/auth")

# How long the second step may follow the password.
PENDING_SECONDS = 300
# The "last seen" time in the cookie is refreshed at most this often.
SEEN_RESOLUTION = 60


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"), validators=[DataRequired(_l("Enter your e-mail address."))]
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code from your authenticator app"),
        validators=[DataRequired(_l("Enter the six-digit code from your authenticator app."))],
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(_l("Enter a new password."))]
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Type the new password a second time.")),
            EqualTo("password", _l("The two new passwords are not the same. Type them again.")),
        ],
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password."))]
    )


class ResetRequestForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"), validators=[DataRequired(_l("Enter your e-mail address."))]
    )


class DisableTwoStepForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])
    code = StringField(
        _l("Code from your authenticator app"),
        validators=[DataRequired(_l("Enter the six-digit code from your authenticator app."))],
    )


# Sessions ------------------------------------------------------------------------------


def _now() -> int:
    return int(time.time())


def _start_session(user: User) -> None:
    """A fresh session for ``user`` (a new cookie: nothing from before sign-in survives)."""
    lang = session.get("lang")
    session.clear()
    session.permanent = True
    session["user_id"] = user.id
    session["gen"] = user.session_generation
    session["since"] = session["seen"] = _now()
    if lang:
        session["lang"] = lang


def _session_valid(user: User | None) -> bool:
    if user is None or user.disabled or session.get("gen") != user.session_generation:
        return False
    config = current_app.config
    now = _now()
    since, seen = session.get("since", 0), session.get("seen", 0)
    if now - since > config["SESSION_MAX_HOURS"] * 3600:
        return False
    return now - seen <= config["SESSION_IDLE_MINUTES"] * 60


@bp.before_app_request
def load_user() -> None:
    g.user = None
    user_id = session.get("user_id")
    if user_id is None:
        return
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if not _session_valid(user):
        lang = session.get("lang")
        session.clear()
        if lang:
            session["lang"] = lang
        g.session_ended = True
        return
    if _now() - session.get("seen", 0) >= SEEN_RESOLUTION:
        session["seen"] = _now()
    g.user = user


def _to_sign_in():
    if g.get("session_ended"):
        flash(_("Your session has ended. Sign in again to continue."))
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def login_required(view):
    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.user is None:
            return _to_sign_in()
        return view(**kwargs)

    return wrapped


def consultant_required(view):
    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.user is None:
            return _to_sign_in()
        if g.user.role != "consultant":
            abort(403)
        return view(**kwargs)

    return wrapped


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default``.

    Parsed, not pattern-matched: anything with a scheme or host, a protocol-relative
    or backslash form, or a control character (which browsers drop, turning
    ``/\\t/evil.example`` into ``//evil.example``) falls back to ``default``.
    """
    if not target or len(target) > 2000:
        return default
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target) or "\\" in target:
        return default
    try:
        parts = urlsplit(target)
    except ValueError:
        return default
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return default
    if parts.path.startswith("//"):
        return default
    return urlunsplit(("", "", parts.path, parts.query, ""))


def _client() -> str | None:
    return request.remote_addr


def _throttled(pause: throttle.Blocked):
    message = _(
        "Too many attempts. For your safety, sign-in is paused for %(minutes)d min.: "
        "try again after that. If you have forgotten your password, reset it with the "
        "link below.",
        minutes=pause.minutes,
    )
    return message, {"Retry-After": str(pause.seconds)}


def _home_for_next() -> str:
    return safe_next(request.args.get("next"), url_for("admin.home"))


# Sign-in -------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error, headers, status = None, {}, 200
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        pause = throttle.blocked(email, _client())
        if pause is None:
            user = authenticate(email, form.password.data)
            if user is None:
                known = find_user(email)
                record(
                    "sign_in_failed",
                    actor=known.email if known else "unknown account",
                    organisation=known.organisation_id if known else None,
                    user=None,
                )
                pause = throttle.record_failure(email, _client())
                if pause is not None:
                    record("sign_in_throttled", actor=known.email if known else "unknown account")
                db.session.commit()
                if pause is None:
                    error = _(
                        "The e-mail address or password is not right. Check both and try again."
                    )
            elif user.totp_secret:
                lang = session.get("lang")
                session.clear()
                session["pending"] = {"user": user.id, "gen": user.session_generation, "at": _now()}
                if lang:
                    session["lang"] = lang
                return redirect(url_for("auth.two_step", next=_home_for_next()))
            else:
                return _signed_in(user)
        if pause is not None:
            error, headers = _throttled(pause)
            status = 429
    if status == 200 and (error or form.errors):
        status = 400
    return render_template("auth/login.html", form=form, error=error), status, headers


def _signed_in(user: User):
    throttle.record_success(user.email)
    record("sign_in", user=user)
    db.session.commit()
    _start_session(user)
    return redirect(_home_for_next())


@bp.route("/two-step", methods=["GET", "POST"])
def two_step():
    """The second step: a code from the authenticator app, after the password."""
    pending = session.get("pending")
    user = None
    if isinstance(pending, dict) and _now() - pending.get("at", 0) <= PENDING_SECONDS:
        user = (
            db.session.get(User, pending.get("user"))
            if isinstance(pending.get("user"), int)
            else None
        )
        if user is not None and (user.disabled or user.session_generation != pending.get("gen")):
            user = None
    if user is None or not user.totp_secret:
        session.pop("pending", None)
        flash(_("Sign in again: the second step must follow the password within five minutes."))
        return redirect(url_for("auth.login"))
    form = CodeForm()
    error, headers, status = None, {}, 200
    if form.validate_on_submit():
        pause = throttle.blocked(user.email, _client())
        if pause is None:
            if totp.verify(user, form.code.data):
                session.pop("pending", None)
                return _signed_in(user)
            record("two_factor_failed", user=user)
            pause = throttle.record_failure(user.email, _client())
            db.session.commit()
            if pause is None:
                error = _(
                    "That code is not right or was already used. Type the code your app shows now."
                )
        if pause is not None:
            error, headers = _throttled(pause)
            status = 429
    if status == 200 and (error or form.errors):
        status = 400
    return render_template("auth/two_step.html", form=form, error=error), status, headers


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out everywhere: every session of this user ends, on every device."""
    if g.user is not None:
        end_sessions(g.user)
        record("sign_out", user=g.user)
        db.session.commit()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You are signed out, on this and every other device."))
    return redirect(url_for("auth.login"))


# Account: password and two-step sign-in ---------------------------------------------


def password_problem(error: ServiceError) -> str:
    """A policy refusal in the reader's language."""
    kind = getattr(error, "kind", None)
    if kind == "short":
        return _(
            "The password must have at least %(n)d characters. A sentence or four unrelated "
            "words are easy to remember and hard to guess.",
            n=MIN_LENGTH,
        )
    if kind == "long":
        return _("The password can have at most 256 characters.")
    if kind == "spaces":
        return _("The password cannot start or end with a space or contain control characters.")
    if kind == "guessable":
        return _(
            "This password is too easy to guess. Avoid common passwords, your e-mail "
            "address, names, dates and keyboard patterns; four or more unrelated words "
            "work well."
        )
    if str(error).startswith("The current password"):
        return _("The current password is not right. Type it again.")
    return _("Choose a password different from the current one.")


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            change_password(g.user, form.current.data, form.password.data)
        except (WeakPassword, ServiceError) as exc:
            error = password_problem(exc)
        else:
            record("password_changed", user=g.user)
            db.session.commit()
            _start_session(g.user)
            flash(_("Your password is changed. Other devices have been signed out."))
            return redirect(url_for("auth.account"))
    status = 400 if error or form.errors else 200
    return render_template("auth/account.html", form=form, error=error), status


@bp.route("/two-step/setup", methods=["GET", "POST"])
@login_required
def two_step_setup():
    if g.user.totp_secret:
        return redirect(url_for("auth.account"))
    form = CodeForm()
    secret = session.get("totp_setup")
    if request.method == "GET" or not isinstance(secret, str):
        secret = totp.new_secret()
        session["totp_setup"] = secret
    error = None
    if form.validate_on_submit():
        try:
            totp.enable(g.user, secret, form.code.data)
        except ServiceError:
            error = _(
                "That code does not match. Check that the app shows the account you just "
                "added, and type the six digits it shows now."
            )
        else:
            session.pop("totp_setup", None)
            end_sessions(g.user)
            record("two_factor_enabled", user=g.user)
            db.session.commit()
            _start_session(g.user)
            flash(_("Two-step sign-in is on. From now on you will be asked for a code."))
            return redirect(url_for("auth.account"))
    uri = totp.provisioning_uri(secret, g.user.email)
    status = 400 if error or form.errors else 200
    return (
        render_template(
            "auth/two_step_setup.html",
            form=form,
            error=error,
            qr=totp.qr_svg(uri),
            secret=totp.grouped(secret),
        ),
        status,
    )


@bp.route("/two-step/off", methods=["GET", "POST"])
@login_required
def two_step_off():
    if not g.user.totp_secret:
        return redirect(url_for("auth.account"))
    form = DisableTwoStepForm()
    error = None
    if form.validate_on_submit():
        from werkzeug.security import check_password_hash

        if not check_password_hash(g.user.password_hash, form.password.data) or not totp.verify(
            g.user, form.code.data
        ):
            error = _("The password or the code is not right. Check both and try again.")
        else:
            totp.disable(g.user)
            record("two_factor_disabled", user=g.user)
            db.session.commit()
            flash(_("Two-step sign-in is off."))
            return redirect(url_for("auth.account"))
    status = 400 if error or form.errors else 200
    return render_template("auth/two_step_off.html", form=form, error=error), status


# Password reset ----------------------------------------------------------------------


def reset_link(secret: str) -> str:
    """The reset link, on the configured public address.

    Never built from the request's Host header: an attacker who asks for a reset of
    someone else's account with ``Host: evil.example`` must not get a link to evil.example
    mailed to them. Without ``BASE_URL`` only development falls back to the request.
    """
    base = current_app.config.get("BASE_URL")
    if not base:
        base = request.host_url
    return base.rstrip("/") + url_for("auth.reset", token=secret)


def _reset_possible() -> bool:
    config = current_app.config
    has_base = bool(config.get("BASE_URL")) or config.get("ENV_NAME") != "production"
    return mail_available(config) and has_base


@bp.route("/reset", methods=["GET", "POST"])
def reset_request():
    form = ResetRequestForm()
    if not _reset_possible():
        return render_template("auth/reset_request.html", form=None, possible=False)
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        # A counter of its own, so asking for links cannot lock anyone's sign-in.
        pause = throttle.blocked("reset:" + email, _client())
        if pause is not None:
            error, headers = _throttled(pause)
            return (
                render_template("auth/reset_request.html", form=form, possible=True, error=error),
                429,
                headers,
            )
        # Counted like a failed sign-in, so the form cannot flood a mailbox.
        throttle.record_failure("reset:" + email, _client())
        user = find_user(email)
        message = None
        if user is not None and not user.disabled:
            secret = issue_reset(user, current_app.config["PASSWORD_RESET_MINUTES"])
            record("password_reset_requested", user=user)
            message = build_message(
                current_app.config,
                user.email,
                _("Set a new password"),
                render_template(
                    "auth/reset_mail.txt",
                    link=reset_link(secret),
                    minutes=current_app.config["PASSWORD_RESET_MINUTES"],
                ),
            )
        db.session.commit()
        response = redirect(url_for("auth.reset_sent"))
        if message is not None:
            # Sent after the answer has gone out, so the answer's timing is the same
            # whether or not the address has an account.
            config = dict(current_app.config)
            logger = current_app.logger

            def deliver() -> None:
                try:
                    send(config, message)
                except Exception:  # noqa: BLE001 - logged; the person can ask again
                    logger.exception("password reset e-mail could not be sent")

            response.call_on_close(deliver)
        return response
    status = 400 if form.errors else 200
    return render_template("auth/reset_request.html", form=form, possible=True), status


@bp.route("/reset/sent")
def reset_sent():
    return render_template(
        "auth/reset_sent.html", minutes=current_app.config["PASSWORD_RESET_MINUTES"]
    )


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    pending = reset_for(token)
    if pending is None:
        return render_template("auth/reset_invalid.html"), 404
    form = NewPasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            user = complete_reset(pending, form.password.data)
        except (WeakPassword, ServiceError) as exc:
            error = password_problem(exc)
        else:
            record("password_reset", user=user)
            db.session.commit()
            session.clear()
            flash(_("Your new password is set. Sign in with it."))
            return redirect(url_for("auth.login"))
    status = 400 if error or form.errors else 200
    return (
        render_template("auth/reset.html", form=form, error=error, email=pending.user.email),
        status,
    )


@bp.route("/language/<lang>", methods=["POST"])
def set_language(lang: str):
    if lang in ("nl", "en"):
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next"), "/"))
