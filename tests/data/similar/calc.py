"""A tiny module the sessions and commits of the similar tests change."""


def clamp(n):
    if n >= 10:
        return 10
    return n


def scale(items, factor):
    out = []
    for item in items[0:]:
        out.append(item * factor)
    return out


def label(n):
    return f"n={n}"
