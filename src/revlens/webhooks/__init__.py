"""revlens' own webhook endpoints at Stripe and the secrets that verify their deliveries."""
