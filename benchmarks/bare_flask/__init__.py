"""The survey path's floor: the same 30-request survey in bare Flask (see app.py)."""
