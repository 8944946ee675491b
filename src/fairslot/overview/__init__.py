"""The *Today* overview for staff: a read-only view across domains (releases, draws,
scarce-slot fill, review and call queues, the last daily batch). It changes nothing."""
