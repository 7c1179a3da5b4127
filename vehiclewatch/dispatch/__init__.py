"""Trip approvals (派车单) and holiday sealing (封存登记): entry, import, and the evidence
check that reports are scored with."""
