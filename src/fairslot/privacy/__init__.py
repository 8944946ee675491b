"""Personal data at rest: moving every ciphertext to the current data key."""
