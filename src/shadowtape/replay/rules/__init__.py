"""The replay's rules: where requests go, which may be sent, in what order, and when."""
