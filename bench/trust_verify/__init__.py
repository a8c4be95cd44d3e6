"""Cost of verifying signed device frames (Ed25519, ECDSA P-256) against decoding them."""
