"""The launch back-off, read and reset with Debian's python3-marathon (0.13).

The cluster's node runs tasks as processes (the exec runtime). An app
whose command exits 3 fails at once each time it is launched: its
relaunches wait backoffSeconds, then longer by backoffFactor up to
maxLaunchDelaySeconds; the queue shows the app and the time left; a reset
of the delay launches it at once.

Reads MARATHON_URL, MARATHON_USERNAME, MARATHON_PASSWORD; exits non-zero
on the first failed check.
"""

import threading

from marathon import MarathonApp, MarathonClient
from marathon.exceptions import MarathonHttpError

from scenario import AUTH, URL, check, until

c = MarathonClient(URL, username=AUTH[0], password=AUTH[1])
events = []


def listen():
    try:
        for ev in c.event_stream(event_types=["status_update_event", "event_stream_attached"]):
            events.append(ev)
    except Exception as e:  # the stream ends with the server
        events.append(e)


threading.Thread(target=listen, daemon=True).start()
until(lambda: events, "the event stream attached")


def failed_ids():
    return [e.task_id for e in events if getattr(e, "task_status", None) == "TASK_FAILED" and e.app_id == "/crash"]


c.create_app("crash", MarathonApp(cmd="exit 3", instances=1, cpus=0.01, mem=16,
                                  backoff_seconds=5, backoff_factor=2, max_launch_delay_seconds=30))
app = c.get_app("crash")
check((app.backoff_seconds, app.backoff_factor, app.max_launch_delay_seconds) == (5, 2, 30), "back-off fields kept")


def queued():
    for item in c.list_queue():
        if item.app.id == "/crash" and item.count == 1 and not item.delay.overdue:
            return item
    return None


# The first failure: a delay of backoffSeconds (5 s).
item = until(queued, "the failed task in the queue with a delay")
check(1 <= item.delay.time_left_seconds <= 5, "time left %s, want at most backoffSeconds" % item.delay.time_left_seconds)
check(item.app.backoff_seconds == 5, "the queued app's definition")
first = until(failed_ids, "the TASK_FAILED event")[0]
check(all(t.id != first for t in c.list_tasks("/crash")), "the failed task is not among the app's tasks")

# A reset launches it at once; it fails again, and the delay has started
# over from backoffSeconds (the reset forgot the growth).
c.reset_delay("crash")
item = until(lambda: (lambda i: i if i and i.delay.time_left_seconds >= 1 else None)(queued()), "the task failed again after the reset")
check(item.delay.time_left_seconds <= 5, "after a reset the delay starts over: %s" % item.delay.time_left_seconds)
ids = until(lambda: (lambda ids: ids if len(set(ids)) >= 2 else None)(failed_ids()), "a new task failed")
check(ids[0] == first and ids[-1] != first, "the relaunched task has a new id: %r" % ids)

# Unknown apps are not in the queue.
try:
    c.reset_delay("nothing")
    check(False, "reset of an app not in the queue succeeded")
except MarathonHttpError as e:
    check(e.status_code == 404 and "Application /nothing not found in tasks queue." in str(e), "404: %s" % e)

# Relaunched after the 5 s, it fails again: the delay grows to 10 s.
item = until(lambda: (lambda i: i if i and i.delay.time_left_seconds > 5 else None)(queued()), "the delay grown by backoffFactor")
check(item.delay.time_left_seconds <= 10, "grown delay %s, want at most 10" % item.delay.time_left_seconds)

c.delete_app("crash", force=True)
print("ok")
