"""Operations plugins: features of a running server rather than of the API (the scheduler and its store,
the SIEM outbox with its syslog transport, anomaly alerts on this server's own calls)."""
