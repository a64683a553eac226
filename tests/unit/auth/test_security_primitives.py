"""Password hashing and policy, opaque tokens."""

from __future__ import annotations

from argon2 import PasswordHasher

from ecomvideo.security import passwords, tokens


def test_passwords_are_hashed_with_argon2id_and_verified():
    hashed = passwords.hash_password("a long enough password")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify_password(hashed, "a long enough password")
    assert not passwords.verify_password(hashed, "a long enough passwore")
    assert not passwords.verify_password("not-a-hash", "whatever")


def test_hashes_with_old_parameters_need_rehash():
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("x" * 12)
    assert passwords.needs_rehash(old)
    assert not passwords.needs_rehash(passwords.hash_password("x" * 12))


def test_password_policy():
    assert passwords.policy_violations("short") == ["must be at least 10 characters long"]
    assert "is too common" in passwords.policy_violations("Password123")
    assert "must not be the email address" in passwords.policy_violations(
        "ada@example.com", "Ada@Example.com"
    )
    assert passwords.policy_violations("x" * 257) == ["must be at most 256 characters long"]
    assert passwords.policy_violations("correct horse battery", "ada@example.com") == []


def test_tokens_have_256_bits_and_are_stored_as_sha256():
    token = tokens.new_token()
    assert len(token) >= 43 and token != tokens.new_token()
    digest = tokens.hash_token(token)
    assert len(digest) == 64 and token not in digest
    assert tokens.same_hash(digest, tokens.hash_token(token))


def test_dummy_hash_costs_the_same_as_a_real_one():
    # Unknown emails verify against DUMMY_HASH: its parameters must be the current ones.
    assert not passwords.needs_rehash(passwords.DUMMY_HASH)
    passwords.dummy_verify("anything at all")
