"""What the python3-marathon scenarios share: the server's address and
credentials from the environment, and their checks.

MARATHON_URL, MARATHON_USERNAME and MARATHON_PASSWORD name the server;
the first check that fails ends the scenario with a message and a
non-zero exit.
"""
import os
import sys
import time

URL = os.environ["MARATHON_URL"]
AUTH = (os.environ["MARATHON_USERNAME"], os.environ["MARATHON_PASSWORD"])
DEADLINE = 40


def check(cond, what):
    if not cond:
        print("FAIL:", what, file=sys.stderr)
        sys.exit(1)


def until(cond, what, every=0.05):
    """Polls cond until it gives a true value, which it returns."""
    end = time.time() + DEADLINE
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(every)
    check(False, what + " (not within %ds)" % DEADLINE)
