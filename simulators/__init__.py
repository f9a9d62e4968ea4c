"""Simulated device fleets: messages that follow the message contract, for demos, tests and
benchmarks, with the ground truth of what they simulated."""
