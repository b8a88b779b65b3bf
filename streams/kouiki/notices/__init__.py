"""Notices: what a secretariat must act on (a dead-lettered document, a quarterly report due soon or
overdue), derived from the lake and the registry when asked, and the daily e-mail digest of them."""
