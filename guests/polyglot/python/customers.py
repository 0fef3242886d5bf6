"""Example plugin in Python: customer rows normalized and validated by a trigger (world
example:customers@0.1.0), the same plugin as the Rust one in guests/examples/customers, with
the same results. Built into customers-py.wasm by ./build.sh (componentize-py)."""

import string

import wit_world
from componentize_py_types import Err
from wit_world import Customer

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def _email(raw: str) -> str:
    # Rust's str::trim and char::is_whitespace: Unicode White_Space.
    email = raw.strip().translate(_ASCII_LOWER)
    local, at, domain = email.partition("@")
    if at and local and "." in domain and "@" not in domain and not any(c.isspace() for c in email):
        return email
    raise ValueError(f'invalid email "{raw}"')


def _name(raw: str) -> str:
    words = [w[:1].upper() + w[1:].lower() for w in raw.split()]
    if not words:
        raise ValueError("empty name")
    return " ".join(words)


def _country(raw):
    if raw is None:
        return None
    code = raw.strip().translate(_ASCII_UPPER)
    if not code:
        return None
    if len(code) == 2 and all(c in string.ascii_uppercase for c in code):
        return code
    raise ValueError(f'invalid country code "{raw}"')


def _normalized(c: Customer) -> Customer:
    return Customer(email=_email(c.email), name=_name(c.name), country=_country(c.country))


class WitWorld(wit_world.WitWorld):
    def normalize(self, new: Customer) -> Customer:
        try:
            return _normalized(new)
        except ValueError as e:
            raise Err(str(e))

    def clean(self, new: Customer):
        try:
            return _normalized(new)
        except ValueError:
            return None
