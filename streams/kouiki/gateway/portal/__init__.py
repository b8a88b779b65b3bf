"""The secretariat web portal: server-rendered pages on the gateway (login, templates, upload and
confirm, history, notices), Japanese by default with English selectable."""
