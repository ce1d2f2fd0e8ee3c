"""The waitlist: entries, the offers that hold freed time for one patient at a time.

- models: the clinic's waitlist settings, entries, offers and freed time.
- hooks: what the booking services tell the waitlist, inside their own
  transaction (time freed; sessions moved, cancelled or attended). Models
  only, so the services can import it.
- matching: which entry a freed time goes to, and at what time (a selector).
- services: join, change and leave; make, accept and decline an offer; the
  sweep that lapses holds, ends old entries and matches freed time.
- sending: the offer email's checks at the moment it is sent (quiet hours, the
  hold's clock), called by the reminder sender, whose claim-once dispatch
  carries the offer email (a Reminder of kind "offer" on the hold).

A hold is a row of the sessions table (Session.Status.HELD, with
`held_until`): the exclusion constraints that stop double booking cover it, and
the availability read sees it, so nobody else can book a held time.
"""
