"""Who gets which message when: per-queue engines, leases, timers, flow control, backoff."""
