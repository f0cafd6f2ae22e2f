"""The password hasher every test that adds users passes (``UserService(..., FAST_HASHER)``, the web
app's ``VSW_PASSWORD_HASHER``, ``load_demo(..., hasher=FAST_HASHER)``).

argon2id at production strength costs about 0.2 s of CPU a hash, and as much again to verify one;
this one costs well under a millisecond. tests/casework/test_users.py keeps one test at production
strength.
"""

from __future__ import annotations

from argon2 import PasswordHasher

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
"""argon2id with the least work argon2 allows: one pass over 8 KiB in one lane."""
