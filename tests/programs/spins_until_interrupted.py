"""Prints "ready", then loops on one line until it is interrupted."""
print("ready", flush=True)
acc = 0
while True: acc = (acc * 31 + 1) % 1000003  # line: spin
