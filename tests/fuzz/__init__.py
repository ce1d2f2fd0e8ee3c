"""Hypothesis fuzzing of every form and endpoint: never a 500, never a row from a bad post.

Each endpoint is driven into the state its page expects (a journey at that
step, a signed-in patient with a course, reception in the admin), then
hypothesis posts (and GETs) generated data to it: junk of every kind, and
valid values with a few fields broken, missing or repeated, so the success
paths run too. Each example runs inside a savepoint that is rolled back, so
every example starts from the same database and journey state.

After each request: the status is below 500, and the rows it may write are
checked per endpoint: none at all from a read, and from a write only rows
that are themselves valid (a course whose sessions are bookable, time off
that covers no booked session, a patient with a real phone number...).
"""
