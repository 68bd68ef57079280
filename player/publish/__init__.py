"""Publishing verified casts: upload to an asciinema server, and a static gallery site."""
