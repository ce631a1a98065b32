// The configuration file; see docs/configuration.md.
