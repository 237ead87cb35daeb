"""Staff accounts and sessions: setup links, argon2id passwords, login, rotation, idle expiry, logout, CSRF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from review_harness import PASSWORD, csrf_of, login, make_user
from sqlalchemy import select, update

pytestmark = pytest.mark.timeout(120)


def _user(email):
    from worksample.db import User, session_scope

    with session_scope() as db:
        return db.scalar(select(User).where(User.email == email))


def test_user_add_prints_a_one_time_setup_link(db, browser):
    from typer.testing import CliRunner

    from worksample.cli import app as cli

    result = CliRunner().invoke(cli, ["user", "add", "Rita@Example.com", "--role", "reviewer", "--name", "Rita R"])
    assert result.exit_code == 0, result.output
    link = result.output.strip().splitlines()[-1]
    assert "/account/setup/" in link
    path = link[link.index("/account/setup/"):]
    user = _user("rita@example.com")
    assert (user.name, user.role.value, user.password_hash) == ("Rita R", "reviewer", None)
    again = CliRunner().invoke(cli, ["user", "add", "rita@example.com", "--role", "admin"])
    assert again.exit_code != 0 and "already exists" in str(again.exception)  # main() prints it as one line

    client = browser()
    form = client.get(path)
    assert form.status_code == 200 and "rita@example.com" in form.text
    short = client.post(path, data={"password": "short", "confirm": "short", "csrf_token": csrf_of(form.text)})
    assert short.status_code == 422 and "at least 12 characters" in short.text
    assert _user("rita@example.com").password_hash is None  # nothing changed, the link still works
    ok = client.post(path, data={"password": PASSWORD, "confirm": PASSWORD, "csrf_token": csrf_of(form.text)},
                     follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/login?done=password"
    stored = _user("rita@example.com").password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    # The link is spent: a clear page, and no account change.
    reused = client.get(path)
    assert reused.status_code == 410 and "cannot be used" in reused.text
    again = client.post(path, data={"password": "another password!", "confirm": "another password!",
                                    "csrf_token": csrf_of(form.text)})
    assert again.status_code == 410 and _user("rita@example.com").password_hash == stored


def test_expired_or_replaced_setup_link_is_refused(db, browser):
    from worksample import accounts
    from worksample.db import session_scope
    from worksample.db.models import AccountSetupLink, Role, utcnow

    first = accounts.add_user("old@example.com", Role.reviewer)
    second = accounts.new_setup_link("old@example.com")  # replaces the first
    client = browser()
    assert client.get(first.path).status_code == 410
    with session_scope() as s:
        s.execute(update(AccountSetupLink).values(expires_at=utcnow() - timedelta(minutes=1)))
    page = client.get(second.path)
    assert page.status_code == 410 and "72 hours" in page.text
    assert _user("old@example.com").password_hash is None


def test_login_sets_a_hashed_server_side_session(db, browser):
    from worksample.db import session_scope
    from worksample.db.models import StaffSession

    make_user("ann@example.com", "admin", "Ann")
    client = browser()
    assert client.get("/account/password", follow_redirects=False).headers["location"] == "/login?next=/account/password"
    bad = login(client, "ann@example.com", "wrong password!!")
    assert bad.status_code == 401 and "Email or password is wrong" in bad.text
    ok = login(client, "ANN@example.com", next_path="https://evil.example/")
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    cookie = ok.headers["set-cookie"]
    assert cookie.startswith("ws_session=") and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # development over http
    raw = client.cookies["ws_session"]
    with session_scope() as s:
        stored = [row.id_hash for row in s.scalars(select(StaffSession))]
    assert len(stored) == 1 and raw not in stored[0] and len(stored[0]) == 64
    assert client.get("/account/password").status_code == 200


def test_session_cookie_is_secure_outside_development(db, browser, monkeypatch):
    from worksample.config import get_settings

    make_user("sec@example.com", "reviewer")
    monkeypatch.setenv("WORKSAMPLE_ENV", "production")
    monkeypatch.setenv("WORKSAMPLE_SECRET_KEY", "a-real-secret-for-this-test")
    get_settings.cache_clear()
    ok = login(browser("https://testserver"), "sec@example.com")
    assert ok.status_code == 303 and "secure" in ok.headers["set-cookie"].lower()


def test_login_rotates_the_session(db, browser):
    make_user("rot@example.com", "reviewer")
    client = browser()
    login(client, "rot@example.com")
    before = client.cookies["ws_session"]
    login(client, "rot@example.com")
    after = client.cookies["ws_session"]
    assert before != after
    planted = browser()
    planted.cookies.set("ws_session", before)
    assert planted.get("/account/password", follow_redirects=False).status_code == 303  # the old id is dead
    assert client.get("/account/password").status_code == 200


def test_idle_session_expires(db, browser):
    from worksample.db import session_scope
    from worksample.db.models import StaffSession, utcnow

    make_user("idle@example.com", "reviewer")
    client = browser()
    login(client, "idle@example.com")
    assert client.get("/account/password", follow_redirects=False).status_code == 200
    with session_scope() as s:
        s.execute(update(StaffSession).values(last_seen_at=utcnow() - timedelta(hours=11, minutes=50)))
    assert client.get("/account/password", follow_redirects=False).status_code == 200  # still within 12 h
    with session_scope() as s:
        s.execute(update(StaffSession).values(last_seen_at=utcnow() - timedelta(hours=12, minutes=1)))
    gone = client.get("/account/password", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
    with session_scope() as s:
        assert s.scalar(select(StaffSession)) is None  # the expired row is deleted


def test_logout_ends_the_session_and_needs_csrf(db, browser):
    make_user("out@example.com", "reviewer")
    client = browser()
    login(client, "out@example.com")
    page = client.get("/account/password")
    assert client.post("/logout", follow_redirects=False).status_code == 403  # no CSRF token
    done = client.post("/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert done.status_code == 303
    replay = browser()
    replay.cookies.set("ws_session", client.cookies.get("ws_session") or "")
    assert replay.get("/account/password", follow_redirects=False).status_code == 303


def test_password_change_ends_every_session(db, browser):
    from worksample import accounts

    uid = make_user("pw@example.com", "reviewer")
    laptop, phone = browser(), browser()
    login(laptop, "pw@example.com")
    login(phone, "pw@example.com")
    page = laptop.get("/account/password")
    wrong = laptop.post("/account/password", data={"current": "not it at all", "password": "brand new password",
                                                   "confirm": "brand new password", "csrf_token": csrf_of(page.text)})
    assert wrong.status_code == 422 and "current password is wrong" in wrong.text
    done = laptop.post("/account/password", data={"current": PASSWORD, "password": "brand new password",
                                                  "confirm": "brand new password", "csrf_token": csrf_of(page.text)},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login?done=changed"
    assert phone.get("/account/password", follow_redirects=False).status_code == 303
    assert accounts.authenticate("pw@example.com", "brand new password").id == uid
    assert accounts.authenticate("pw@example.com", PASSWORD) is None


def test_cross_origin_form_post_is_refused(db, browser):
    make_user("x@example.com", "reviewer")
    client = browser()
    login(client, "x@example.com")
    token = csrf_of(client.get("/account/password").text)
    evil = client.post("/logout", data={"csrf_token": token}, headers={"Origin": "https://evil.example"},
                       follow_redirects=False)
    assert evil.status_code == 403
    forged = client.post("/logout", data={"csrf_token": "0" * 64}, follow_redirects=False)
    assert forged.status_code == 403
    # Another session's token does not fit this session.
    other = browser()
    login(other, "x@example.com")
    assert client.post("/logout", data={"csrf_token": csrf_of(other.get("/account/password").text)},
                       follow_redirects=False).status_code == 403
    assert client.get("/account/password").status_code == 200  # still logged in


def test_login_form_needs_its_csrf_token(db, browser):
    make_user("lc@example.com", "reviewer")
    client = browser()
    client.get("/login")
    refused = client.post("/login", data={"email": "lc@example.com", "password": PASSWORD, "csrf_token": "nope"},
                          follow_redirects=False)
    assert refused.status_code == 403 and "ws_session" not in client.cookies


def test_failed_logins_are_slowed_then_refused_per_email(db, browser, monkeypatch):
    from worksample.web import throttle

    monkeypatch.setattr(throttle, "MAX_DELAY_S", 0.2)
    make_user("t@example.com", "reviewer")
    client = browser()
    for _ in range(throttle.EMAIL_LIMITS.slow_after):
        assert login(client, "t@example.com", "wrong password!!").status_code == 401
    slowed = throttle.check("t@example.com", "elsewhere")
    assert not slowed.refused and slowed.delay_s > 0
    for _ in range(throttle.EMAIL_LIMITS.refuse_after - throttle.EMAIL_LIMITS.slow_after):
        assert login(client, "t@example.com", "wrong password!!").status_code == 401
    refused = login(client, "t@example.com")  # even the right password: not checked at all
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "ws_session" not in client.cookies
    assert login(browser(), "t@example.com").status_code == 429  # per email, whatever the client
    # Another email from the same client is not blocked by this one's count.
    make_user("u@example.com", "reviewer")
    assert login(client, "u@example.com").status_code == 303


def test_failed_logins_are_refused_per_client(db, browser, monkeypatch):
    from worksample.web import throttle

    monkeypatch.setattr(throttle, "CLIENT_LIMITS", throttle.Limits(slow_after=100, refuse_after=4))
    make_user("v@example.com", "reviewer")
    client = browser()
    for i in range(4):
        assert login(client, f"guess{i}@example.com", "wrong password!!").status_code == 401
    assert login(client, "v@example.com").status_code == 429
    # A success does not reset the client's count (a guesser cannot launder it through their own account).
    assert throttle.check("other@example.com", "testclient").refused


def test_bearer_tokens_still_work_and_the_old_token_cookie_does_not(db, browser):
    from worksample.accounts import create_token
    from worksample.db.models import Role

    token = create_token(Role.reviewer, "script")
    client = browser()
    assert client.get("/api/v1/submissions/nope", headers={"Authorization": f"Bearer {token}"}).status_code == 404
    assert client.get("/api/v1/submissions/nope").status_code == 401
    client.cookies.set("ws_staff", token)
    assert client.get("/api/v1/submissions/nope").status_code == 401
    old_login = client.post("/login", data={"token": token}, follow_redirects=False)
    assert old_login.status_code == 403 and "ws_session" not in client.cookies


def test_reviewer_gets_403_on_admin_endpoints(db, browser):
    make_user("r@example.com", "reviewer")
    client = browser()
    login(client, "r@example.com")
    token = csrf_of(client.get("/account/password").text)
    resp = client.post("/api/v1/submissions/nope/regrade", headers={"X-CSRF-Token": token})
    assert resp.status_code == 403


def test_up_prints_a_setup_link_on_first_run_only(db):
    from worksample import accounts

    first = accounts.admin_login_lines("http://127.0.0.1:8000")
    assert "/account/setup/" in first[0] and "worksample user setup-link admin@localhost" in first[0]
    token = first[0].split("/account/setup/")[1].split()[0]
    accounts.use_setup_link(token, PASSWORD, PASSWORD)
    later = accounts.admin_login_lines("http://127.0.0.1:8000")
    assert "/account/setup/" not in later[0] and "admin@localhost" in later[0]
