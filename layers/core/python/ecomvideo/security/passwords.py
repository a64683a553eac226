"""argon2id password hashing, the password policy and a dummy verify for unknown users.

Parameters are argon2-cffi's RFC 9106 "low memory" profile (t=3, m=64 MiB, p=4). When they
change, ``needs_rehash`` tells the login path to store a fresh hash.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ecomvideo.errors import ValidationFailed, field_error

MIN_LENGTH = 10
# Bounded so that a huge password cannot turn hashing into a denial of service.
MAX_LENGTH = 256

# A small list of the most common passwords of length >= 10 (breach corpora top entries);
# anything shorter already fails the length rule.
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "12345678910",
        "123456789a",
        "1q2w3e4r5t",
        "1qaz2wsx3edc",
        "0987654321",
        "1111111111",
        "0000000000",
        "9876543210",
        "qwertyuiop",
        "qwerty1234",
        "qwerty12345",
        "qwerty123456",
        "asdfghjkl1",
        "zxcvbnm123",
        "password12",
        "password123",
        "password1234",
        "passw0rd123",
        "p@ssw0rd123",
        "iloveyou12",
        "iloveyou123",
        "welcome123",
        "welcome1234",
        "letmein123",
        "abc1234567",
        "abcdefghij",
        "abcd123456",
        "admin12345",
        "administrator",
        "changeme123",
        "football123",
        "baseball123",
        "sunshine123",
        "princess123",
        "monkey12345",
        "dragon12345",
        "superman123",
        "trustno1234",
        "starwars123",
        "qazwsxedc123",
        "michael123",
        "charlie123",
        "computer123",
        "whatever123",
        "secret1234",
        "mypassword",
        "mypassword1",
        "password!",
        "passwordpassword",
    }
)

_hasher = PasswordHasher()  # argon2id by default


def hash_password(password: str) -> str:
    """An argon2id hash (PHC string with parameters and salt)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; False for a mismatch or an unreadable hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than the current ones."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


# A hash made with the current parameters (a test keeps it in step with them), so that the
# first unknown-email login of a container does not pay for hashing it.
DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$uVby7WkUWTHRlMq2l7llWA"
    "$IWw88HZMsBen1ez1DHIGiZUsAeuLCYLr8JkyuPlIQYQ"
)


def dummy_verify(password: str) -> None:
    """Spend the time of a real verification: unknown emails answer as slowly as wrong passwords."""
    verify_password(DUMMY_HASH, password)


def policy_violations(password: str, email: str | None = None) -> list[str]:
    """Why ``password`` is not acceptable (empty when it is)."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters long")
    if password.lower() in COMMON_PASSWORDS:
        problems.append("is too common")
    if email and password.strip().lower() == email.strip().lower():
        problems.append("must not be the email address")
    return problems


def check_policy(password: str, email: str | None, field: str = "password") -> None:
    """Raise ``ValidationFailed`` (422) naming ``field`` when the password is not acceptable."""
    problems = policy_violations(password, email)
    if problems:
        raise ValidationFailed(
            "The password does not meet the requirements.",
            errors=[
                field_error("/" + field, f"Password {p}.", "password_policy") for p in problems
            ],
        )
