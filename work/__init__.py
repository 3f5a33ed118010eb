"""The kernel of reconciled work: leased rows, the one clock, claims, the fence, release,
the attempt log and the registry of kinds. Imports only Django and core."""
