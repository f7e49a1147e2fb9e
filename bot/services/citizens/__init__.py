"""Citizens: accounts, consent, linking and erasure; subscriptions; flood control; contact masking."""
