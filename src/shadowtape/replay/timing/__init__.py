"""Keeping the event loop on time: its loop, precise waits, send slots, collection in gaps."""
