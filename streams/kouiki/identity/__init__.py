"""Who may do what: users (secretariats, Cabinet Office, operators), machine keys bound to one
consortium, the store that keeps them, and what each principal may write."""
