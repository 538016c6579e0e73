"""What a run keeps beside the warehouse: discovery, the extract cache, the manifest, run history, the lock, recovery and publishing."""
