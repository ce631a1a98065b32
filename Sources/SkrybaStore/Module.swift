// Catalog, audit log, device key, recovery; see docs/storage.md.
