"""Webhooks on the wire: the signature receivers check, which targets are safe, and the HTTP sender."""
