"""The booking journey on /book/, one module per part of it.

steps: what every step shares (the steps bar, the guard that sends a patient
to the first step not done); choose: treatment, course length, health
questions, practitioner; times: the first session's week and the course plan;
details: the patient's address and details; confirm: consent, confirming and
the booked page. Every step works without JavaScript; htmx only swaps the
week of free times. All state lives in the session (booking/journey.py),
never in a URL.
"""
