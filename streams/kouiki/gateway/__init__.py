"""The REST gateway (``kouiki portal``): authenticated submissions over HTTP, checked with the same
contract code as ``kouiki submit``, authorized per principal, signed with the gateway's own key, and
tracked from sent to landed, published or dead-lettered."""
