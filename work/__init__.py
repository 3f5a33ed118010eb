"""The kernel of reconciled work: leased rows, the one clock, claims, the fence, release,
the attempt log, the registry of kinds and the traces carried on the rows. Of the
project's packages it imports only core."""
