"""The course ledger: prices sold, payments, refunds, waivers and the policy's outcomes."""
