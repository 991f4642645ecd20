"""Emulators of the FreshBooks and Infor APIs, served on loopback.

Production code never imports this package; it only knows the URLs and credentials the sandboxes write
to ``sandbox.json``.
"""
