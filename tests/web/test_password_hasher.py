"""The web app signs people in with its own password hasher (``VSW_PASSWORD_HASHER``, production strength
unless given): the same one that made their hashes is kept, any other is replaced on sign-in."""

from __future__ import annotations

from argon2 import PasswordHasher, Type, extract_parameters
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from casework.users import User, production_hasher
from engine.db import unit_of_work
from tests.hashing import FAST_HASHER
from web import create_app

from .support import PASSWORD, login


def stored_hash(app: Flask, username: str) -> str:
    with app.extensions["vsw"].sessions() as session:
        return str(session.scalars(select(User.password_hash).where(User.username == username)).one())


def parameters(hasher: PasswordHasher) -> tuple[object, ...]:
    return hasher.type, hasher.time_cost, hasher.memory_cost, hasher.parallelism


def test_the_app_given_a_hasher_uses_it_and_one_given_none_uses_production_strength(app: Flask) -> None:
    assert app.extensions["vsw_password_hasher"] is FAST_HASHER
    plain = create_app({**app.config, "VSW_PASSWORD_HASHER": None})
    assert parameters(plain.extensions["vsw_password_hasher"]) == parameters(production_hasher())
    assert parameters(production_hasher()) == (Type.ID, 3, 65536, 4)
    plain.extensions["vsw"].engine.dispose()


def test_signing_in_keeps_a_hash_made_with_the_apps_hasher_and_rehashes_one_made_with_another(
    app: Flask, client: FlaskClient
) -> None:
    kept = stored_hash(app, "sam")
    assert login(client, "sam").status_code == 302
    assert stored_hash(app, "sam") == kept
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        val = session.scalars(select(User).where(User.username == "val")).one()
        val.password_hash = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(PASSWORD)
    assert login(app.test_client(), "val").status_code == 302
    assert extract_parameters(stored_hash(app, "val")) == extract_parameters(FAST_HASHER.hash(PASSWORD))
