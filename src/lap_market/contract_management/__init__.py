"""Contract management after signature: invoices and the 30-day payment clock, spend against
value, changes (with the Procurement Act 2023's 10 % test), termination, expiry and renewal."""
