"""gunicorn's access log with the same redaction as the app's own lines (clinic/logging.py).

Links in emails carry tokens in their paths (a confirmation key, a password
reset key, an unsubscribe token), and an access log keeps every path. Used
with `gunicorn --logger-class clinic.gunicorn_logging.RedactingLogger`
(Dockerfile, docker-compose.yml); gunicorn documents `logger_class` as the
way to change its logging. https://docs.gunicorn.org/en/stable/settings.html#logger-class
"""

from gunicorn.glogging import Logger

from clinic.logging import redact

REQUEST_ATOMS = ("r", "U", "q", "f")  # request line, path, query string, referer


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in REQUEST_ATOMS:
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        return atoms
