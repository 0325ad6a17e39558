"""What production (DEBUG off) refuses to start with. Pure functions: settings.py calls them."""

DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-never-use-in-production-0123456789abcdef"
# Words found in published or placeholder keys (Django's startproject, tutorials, this repository);
# a random key contains none of them.
PLACEHOLDER_WORDS = ("insecure", "changeme", "change-me", "change_me", "example", "dev-only", "never-use")
MINIMUM_KEY_LENGTH = 50
MINIMUM_DISTINCT_CHARACTERS = 10  # a hex key (16 symbols) passes; "aaaa…bbbb…" does not
GENERATE_KEY_HINT = "generate a key with: python -c \"import secrets; print(secrets.token_urlsafe(64))\""


def secret_key_problem(key: str) -> str | None:
    if not key:
        return "SECRET_KEY is not set"
    lowered = key.lower()
    if key == DEVELOPMENT_SECRET_KEY or any(word in lowered for word in PLACEHOLDER_WORDS):
        return "SECRET_KEY is a published development or placeholder value"
    if len(key) < MINIMUM_KEY_LENGTH:
        return f"SECRET_KEY is too short ({len(key)} characters; {MINIMUM_KEY_LENGTH}+ random characters needed)"
    distinct = len(set(key))
    if distinct < MINIMUM_DISTINCT_CHARACTERS:
        return f"SECRET_KEY has too few distinct characters ({distinct}; {MINIMUM_DISTINCT_CHARACTERS}+ needed)"
    if (key + key).find(key, 1) < len(key):  # found inside its own doubling: a repetition
        return "SECRET_KEY repeats a shorter pattern"
    return None


def production_problems(
    *, secret_key: str, allowed_hosts: list[str], session_cookie_secure: bool, csrf_cookie_secure: bool, plain_http: bool,
) -> list[str]:
    problems = []
    if key_problem := secret_key_problem(secret_key):
        problems.append(key_problem)
    if not allowed_hosts:
        problems.append("ALLOWED_HOSTS is empty (list the host names this hub answers to)")
    elif any("*" in host for host in allowed_hosts):
        problems.append(
            "ALLOWED_HOSTS contains a wildcard (list the host names this hub answers to; '.example.com' matches its subdomains)"
        )
    for name, secure in (("SESSION_COOKIE_SECURE", session_cookie_secure), ("CSRF_COOKIE_SECURE", csrf_cookie_secure)):
        if not secure and not plain_http:
            problems.append(
                f"{name}=0 sends the cookie over plain HTTP (set HUB_PLAIN_HTTP=1 only if browsers reach this hub "
                "over plain HTTP on a private network)"
            )
    return problems


def refusal_message(problems: list[str]) -> str:
    return (
        "Refusing to start in production mode (DEBUG is off unless DEBUG=1): "
        + "; ".join(problems)
        + f". Set the variables in the environment or in .env; {GENERATE_KEY_HINT}. For development, set DEBUG=1 (make run does)."
    )
