"""The producer side: read submitted files and sheets, check them against the contract, send them."""
