"""The lean HTTP/1.1 client the replay sends with."""
