"""Training load, per user: dated thresholds (FTP, heart rates), each activity's load and
power, and the fitness / fatigue / form series, kept current by the loop as a kind of
reconciled work (the training book), beside records. The computations are core.training."""
